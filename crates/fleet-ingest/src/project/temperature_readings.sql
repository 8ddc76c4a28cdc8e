-- Sensor readings projector: temperature (pushtem); every reading whose name mentions temp.
INSERT INTO state.temperature_readings (imei, reading_time, temperature_c, sensor, details, raw_id)
SELECT DISTINCT ON (x.imei, x."time", r.key) x.imei, x."time", (r.value #>> '{}')::real, r.key, coalesce(x.details, '{}'), x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, "time" timestamptz, readings jsonb, details jsonb, raw_id bigint)
  CROSS JOIN LATERAL jsonb_each(coalesce(x.readings, '{}')) r
 WHERE x.imei IS NOT NULL AND x."time" IS NOT NULL AND r.key ~* 'tem'
   AND (r.value #>> '{}')::float8 BETWEEN -100 AND 300
 ORDER BY x.imei, x."time", r.key, x.raw_id
ON CONFLICT (imei, reading_time, sensor) DO UPDATE SET
    temperature_c = excluded.temperature_c, details = excluded.details, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.temperature_readings.raw_id
