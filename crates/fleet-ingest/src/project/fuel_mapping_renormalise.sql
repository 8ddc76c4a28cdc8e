-- The fuel feed after a plate or fuel-type mapping (POST /api/fuel/mappings): the records whose
-- spelling it names take its canonical value, and their problems are checked again. (Department
-- mappings need no row here: a record's department is its spelling's row in
-- fuel.department_spellings, refreshed after every batch.)
WITH keys AS (
    SELECT DISTINCT x.kind, fuel.lookup_key(x.raw_value) AS key
      FROM jsonb_to_recordset($1::jsonb) AS x(kind text, raw_value text)
     WHERE x.kind IN ('plate', 'fuel_type')
), hit AS MATERIALIZED (
    SELECT r.record_id, fuel.norm_plate(r.car) AS plate_key, fuel.canon_fuel_type(r.fuel_type_spelling) AS fuel_type,
           r.read_errors, r.read_warnings, r.car, r.fuel_type_spelling, r.currency
      FROM fuel.records r
     WHERE EXISTS (SELECT 1 FROM keys k
                    WHERE (k.kind = 'plate' AND fuel.lookup_key(r.car) = k.key)
                       OR (k.kind = 'fuel_type' AND fuel.lookup_key(r.fuel_type_spelling) = k.key))
), checked AS (
    SELECT h.record_id, h.plate_key, h.fuel_type, fuel.checked_errors(h.read_errors, h.car, h.plate_key) AS errors,
           fuel.checked_warnings(h.read_warnings, h.fuel_type_spelling, h.fuel_type, h.currency, t.ugx_per_kes) AS warnings
      FROM hit h CROSS JOIN fuel.thresholds() t
)
UPDATE fuel.records r
   SET plate_key = c.plate_key, fuel_type = c.fuel_type, normalise_errors = c.errors, warnings = c.warnings,
       updated_at = now()
  FROM checked c
 WHERE r.record_id = c.record_id
   AND (r.plate_key, r.fuel_type, r.normalise_errors, r.warnings) IS DISTINCT FROM (c.plate_key, c.fuel_type, c.errors, c.warnings)
