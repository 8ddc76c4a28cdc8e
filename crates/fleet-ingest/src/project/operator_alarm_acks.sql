-- Operator actions: alarm acknowledgements, keyed like state.alarms; the first ack stands.
INSERT INTO ops.alarm_acks (imei, alarm_type, alarm_time, acked_at, actor, note, raw_id)
SELECT DISTINCT ON (x.imei, x.alarm_type, x.alarm_time)
       x.imei, x.alarm_type, x.alarm_time, x.received_at, x.actor, x.note, x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, alarm_type text, alarm_time timestamptz, actor text,
                                          note text, received_at timestamptz, raw_id bigint)
 ORDER BY x.imei, x.alarm_type, x.alarm_time, x.raw_id
ON CONFLICT (imei, alarm_type, alarm_time) DO NOTHING
