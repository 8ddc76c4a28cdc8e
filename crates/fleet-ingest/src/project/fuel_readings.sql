-- Sensor readings projector: fuel-level (pushoil). The field list is not public: litres are the
-- first reading named like oil/fuel, a percentage one named like percent.
INSERT INTO state.fuel_readings (imei, reading_time, fuel_l, fuel_pct, details, raw_id)
SELECT DISTINCT ON (imei, "time") imei, "time",
       (SELECT (r.value #>> '{}')::float8 FROM jsonb_each(readings) r
         WHERE r.key ~* '(oil|fuel)' AND r.key !~* '(percent|pct|ratio)' ORDER BY r.key LIMIT 1),
       (SELECT (r.value #>> '{}')::real FROM jsonb_each(readings) r
         WHERE r.key ~* '(percent|pct|ratio)' ORDER BY r.key LIMIT 1),
       coalesce(details, '{}'), raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, "time" timestamptz, readings jsonb, details jsonb, raw_id bigint)
 WHERE imei IS NOT NULL AND "time" IS NOT NULL
 ORDER BY imei, "time", raw_id
ON CONFLICT (imei, reading_time) DO UPDATE SET
    fuel_l = excluded.fuel_l, fuel_pct = excluded.fuel_pct, details = excluded.details, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.fuel_readings.raw_id
