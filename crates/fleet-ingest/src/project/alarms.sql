-- Alarms projector: one row per (imei, alarm_type, alarm_time). An alarm whose end was seen
-- before it (out-of-order delivery) is closed at once from the parsed log, so the result does
-- not depend on arrival order.
INSERT INTO state.alarms (imei, alarm_type, alarm_time, alarm_name, lat, lng, speed_kmh, alert_value,
                          ended_at, end_raw_id, source, raw_id)
SELECT DISTINCT ON (x.imei, x.alarm_type, x.alarm_time)
       x.imei, x.alarm_type, x.alarm_time, x.alarm_name, x.lat, x.lng, x.speed_kmh, x.alert_value,
       e.end_time, e.raw_id, x.source, x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, alarm_type text, alarm_time timestamptz, alarm_name text, lat float8, lng float8,
       speed_kmh real, alert_value text, source text, raw_id bigint)
  LEFT JOIN LATERAL (
       SELECT p.event_time AS end_time, p.raw_id
         FROM events.parsed p
        WHERE p.kind = 'alarm_end' AND p.imei = x.imei AND p.event_time >= x.alarm_time
          AND (p.body->>'alarm_type' IS NULL OR p.body->>'alarm_type' = x.alarm_type)
        ORDER BY p.event_time, p.raw_id
        LIMIT 1) e ON true
 WHERE x.imei IS NOT NULL AND x.alarm_type IS NOT NULL AND x.alarm_time IS NOT NULL
 ORDER BY x.imei, x.alarm_type, x.alarm_time, x.raw_id
ON CONFLICT (imei, alarm_type, alarm_time) DO UPDATE SET
    alarm_name = coalesce(state.alarms.alarm_name, excluded.alarm_name),
    lat = coalesce(state.alarms.lat, excluded.lat),
    lng = coalesce(state.alarms.lng, excluded.lng),
    speed_kmh = coalesce(state.alarms.speed_kmh, excluded.speed_kmh),
    alert_value = coalesce(state.alarms.alert_value, excluded.alert_value),
    source = CASE WHEN excluded.raw_id < state.alarms.raw_id THEN excluded.source ELSE state.alarms.source END,
    raw_id = least(state.alarms.raw_id, excluded.raw_id),
    updated_at = now()
WHERE excluded.raw_id < state.alarms.raw_id OR (state.alarms.alarm_name IS NULL AND excluded.alarm_name IS NOT NULL)
   OR (state.alarms.lat IS NULL AND excluded.lat IS NOT NULL)
   OR (state.alarms.speed_kmh IS NULL AND excluded.speed_kmh IS NOT NULL)
   OR (state.alarms.alert_value IS NULL AND excluded.alert_value IS NOT NULL)
