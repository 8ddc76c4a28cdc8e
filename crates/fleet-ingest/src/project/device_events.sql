-- Device events projector (LOGIN / LOGOUT and other device-reported events).
INSERT INTO state.device_events (imei, event_time, event_type, details, raw_id)
SELECT DISTINCT ON (imei, event_time, event_type) imei, event_time, event_type, coalesce(details, '{}'), raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, event_time timestamptz, event_type text, details jsonb, raw_id bigint)
 WHERE imei IS NOT NULL AND event_time IS NOT NULL AND event_type IS NOT NULL
 ORDER BY imei, event_time, event_type, raw_id
ON CONFLICT (imei, event_time, event_type) DO UPDATE SET
    details = excluded.details, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.device_events.raw_id
