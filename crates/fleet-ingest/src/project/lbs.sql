-- Sensor readings projector: cell-tower (LBS) reports.
INSERT INTO state.lbs_readings (imei, gate_time, mcc, mnc, cells, raw_id)
SELECT DISTINCT ON (imei, gate_time) imei, gate_time, mcc, mnc, coalesce(cells, '[]'), raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, gate_time timestamptz, mcc integer, mnc integer, cells jsonb, raw_id bigint)
 WHERE imei IS NOT NULL AND gate_time IS NOT NULL
 ORDER BY imei, gate_time, raw_id
ON CONFLICT (imei, gate_time) DO UPDATE SET
    mcc = excluded.mcc, mnc = excluded.mnc, cells = excluded.cells, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.lbs_readings.raw_id
