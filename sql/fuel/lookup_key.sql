-- ---------------------------------------------------------------------------------------------
-- Normalisers: mapping table first (operators extend it without code), then general rules.
-- ---------------------------------------------------------------------------------------------
-- How a raw spelling is looked up in fuel.mappings: lower case, letters and digits only.
CREATE OR REPLACE FUNCTION fuel.lookup_key(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(lower(value), '[^a-z0-9]+', '', 'g'), '')
$$;
COMMENT ON FUNCTION fuel.lookup_key(text) IS 'The key of a raw spelling in fuel.mappings: "Diesel " and "DIESEL." are one key.';
