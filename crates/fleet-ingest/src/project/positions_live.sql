-- Positions projector, live: the newest valid fix per device. Monotonic guard: only a strictly
-- newer fix replaces the row, so late or duplicate fixes never move a vehicle backwards. "Newer" is
-- state.fix_rank: the fix time, but never later than arrival plus slo.targets fix_clock_ahead_sec,
-- so a fix stamped in the future cannot freeze the vehicle (migration 0018).
-- Rows are sorted by imei so concurrent workers lock in the same order (no deadlocks).
INSERT INTO state.live_positions
    (imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, pos_type, satellites,
     odometer_m, source, raw_id)
SELECT DISTINCT ON (imei)
       imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, pos_type, satellites,
       odometer_m, source, raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, fix_time timestamptz, received_at timestamptz, lat float8, lng float8,
       speed_kmh real, heading smallint, acc_on boolean, pos_type text, satellites smallint,
       odometer_m bigint, source text, raw_id bigint)
 WHERE imei IS NOT NULL AND fix_time IS NOT NULL
   AND lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180 AND NOT (lat = 0 AND lng = 0)
 ORDER BY imei, state.fix_rank(fix_time, received_at) DESC, fix_time DESC, raw_id
ON CONFLICT (imei) DO UPDATE SET
    fix_time = excluded.fix_time, received_at = excluded.received_at, lat = excluded.lat,
    lng = excluded.lng, speed_kmh = excluded.speed_kmh, heading = excluded.heading,
    acc_on = excluded.acc_on, pos_type = excluded.pos_type, satellites = excluded.satellites,
    odometer_m = excluded.odometer_m, source = excluded.source, raw_id = excluded.raw_id,
    updated_at = now()
-- the batch's own order: rank, then fix time, then the lowest raw id
WHERE (state.fix_rank(excluded.fix_time, excluded.received_at), excluded.fix_time, -excluded.raw_id)
    > (state.fix_rank(state.live_positions.fix_time, state.live_positions.received_at),
       state.live_positions.fix_time, -state.live_positions.raw_id)
