-- Alarms projector, ends: an end closes every earlier alarm of its type (or of any type when
-- the device does not say which) that is open or was closed by a later end. Idempotent.
UPDATE state.alarms a
   SET ended_at = e.end_time, end_raw_id = e.raw_id, updated_at = now()
  FROM (SELECT DISTINCT ON (imei, alarm_type) imei, alarm_type, end_time, raw_id
          FROM jsonb_to_recordset($1::jsonb) AS x(imei text, alarm_type text, end_time timestamptz, raw_id bigint)
         WHERE imei IS NOT NULL AND end_time IS NOT NULL
         ORDER BY imei, alarm_type, end_time) e
 WHERE a.imei = e.imei
   AND (e.alarm_type IS NULL OR a.alarm_type = e.alarm_type)
   AND a.alarm_time <= e.end_time
   AND (a.ended_at IS NULL OR a.ended_at > e.end_time)
