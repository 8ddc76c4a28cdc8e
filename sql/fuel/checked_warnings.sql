CREATE OR REPLACE FUNCTION fuel.checked_warnings(read_warnings text[], fuel_type_spelling text, fuel_type text, currency text,
                                      ugx_per_kes double precision) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(read_warnings, '{}')
             || CASE WHEN fuel_type_spelling IS NOT NULL AND fuel_type IS NULL
                     THEN ARRAY[format('fuel type %L not recognised (map it on the fuel page or with POST /api/fuel/mappings)', fuel_type_spelling)]
                     ELSE '{}' END
             || CASE WHEN currency = 'UGX' AND coalesce(ugx_per_kes, 0) <= 0
                     THEN ARRAY['the amount is in UGX but fuel_ugx_per_kes is not set: no KES figure'] ELSE '{}' END
$$;
COMMENT ON FUNCTION fuel.checked_warnings(text[], text, text, text, double precision) IS 'What a usable record lacks: the reading''s warnings, an unknown fuel type, a UGX amount with no exchange rate.';
