-- Heartbeats projector.
INSERT INTO state.heartbeats (imei, gate_time, power_level, gsm_signal, acc_on, power_status, details, raw_id)
SELECT DISTINCT ON (imei, gate_time) imei, gate_time, power_level, gsm_signal, acc_on, power_status, coalesce(details, '{}'), raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, gate_time timestamptz, power_level smallint, gsm_signal smallint, acc_on boolean,
       power_status text, details jsonb, raw_id bigint)
 WHERE imei IS NOT NULL AND gate_time IS NOT NULL
 ORDER BY imei, gate_time, raw_id
ON CONFLICT (imei, gate_time) DO UPDATE SET
    power_level = excluded.power_level, gsm_signal = excluded.gsm_signal, acc_on = excluded.acc_on, power_status = excluded.power_status, details = excluded.details, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.heartbeats.raw_id
