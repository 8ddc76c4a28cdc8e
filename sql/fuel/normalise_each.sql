-- A batch of parser readings made into records' columns, with the plate and fuel type
-- canonicalised once per distinct spelling.
CREATE OR REPLACE FUNCTION fuel.normalise_each(record_ids text[], reads fuel.reading[])
RETURNS TABLE (record_id text, n fuel.normalised) LANGUAGE sql STABLE AS $$
    WITH batch AS MATERIALIZED (
        -- unnest spreads the reading's fields into columns of their own
        SELECT b.* FROM unnest(record_ids, reads) AS b(record_id)
    ),
    -- MATERIALIZED: otherwise the calls move above the joins and run once per record
    plates AS MATERIALIZED (SELECT v, fuel.norm_plate(nullif(v, '')) AS c FROM (SELECT DISTINCT coalesce(car, '') AS v FROM batch) d),
    types AS MATERIALIZED (SELECT v, fuel.canon_fuel_type(nullif(v, '')) AS c FROM (SELECT DISTINCT coalesce(fuel_type, '') AS v FROM batch) d),
    rate AS MATERIALIZED (SELECT ugx_per_kes FROM fuel.thresholds())
    SELECT b.record_id, ROW(
        b.car, pl.c, b.litres, b.amount, b.currency,
        CASE WHEN b.currency = 'UGX' THEN round(b.amount / nullif(rate.ugx_per_kes, 0)::numeric, 2) ELSE b.amount END,
        b.odometer_km, b.fuel_type, ty.c, b.driver, b.department, b.filled_at, b.created_at, b.updated_at,
        b.deleted_at, coalesce(b.deleted, false), coalesce(b.full_tank, true), coalesce(b.missed_before, false),
        b.station, b.lat, b.lng, coalesce(b.errors, '{}'), coalesce(b.warnings, '{}'),
        fuel.checked_errors(b.errors, b.car, pl.c),
        fuel.checked_warnings(b.warnings, b.fuel_type, ty.c, b.currency, rate.ugx_per_kes))::fuel.normalised
      FROM batch b
      JOIN plates pl ON pl.v = coalesce(b.car, '')
      JOIN types ty ON ty.v = coalesce(b.fuel_type, '')
      CROSS JOIN rate
$$;
COMMENT ON FUNCTION fuel.normalise_each(text[], fuel.reading[]) IS
    'Records'' columns from the parser''s readings: the plate against the fleet and fuel.mappings, the canonical fuel type, the KES amount, and every problem (errors make a record unusable, warnings leave it counting).';
