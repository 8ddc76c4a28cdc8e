-- Positions projector, history: every valid fix once per (imei, fix_time); re-applying is a no-op.
-- (0,0) and out-of-range coordinates are never projected (expired devices report 0,0).
INSERT INTO state.position_history
    (imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, pos_type, satellites,
     altitude_m, odometer_m, gps_mode, source, raw_id)
SELECT DISTINCT ON (imei, fix_time) imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, pos_type, satellites,
       altitude_m, odometer_m, gps_mode, source, raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, fix_time timestamptz, received_at timestamptz, lat float8, lng float8,
       speed_kmh real, heading smallint, acc_on boolean, pos_type text, satellites smallint,
       altitude_m real, odometer_m bigint, gps_mode smallint, source text, raw_id bigint)
 WHERE imei IS NOT NULL AND fix_time IS NOT NULL
   AND lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180 AND NOT (lat = 0 AND lng = 0)
 ORDER BY imei, fix_time, raw_id
ON CONFLICT (imei, fix_time) DO UPDATE SET
    received_at = excluded.received_at, lat = excluded.lat, lng = excluded.lng, speed_kmh = excluded.speed_kmh, heading = excluded.heading, acc_on = excluded.acc_on, pos_type = excluded.pos_type, satellites = excluded.satellites, altitude_m = excluded.altitude_m, odometer_m = excluded.odometer_m, gps_mode = excluded.gps_mode, source = excluded.source, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.position_history.raw_id
