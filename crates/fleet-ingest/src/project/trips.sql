-- Trips projector: one row per (imei, start_time); conflicts resolve to the lowest raw_id, and
-- reported_at keeps the first report's arrival (received_at), so trip lag survives a replay.
INSERT INTO state.trips AS t (imei, start_time, end_time, start_lat, start_lng, end_lat, end_lng, distance_m,
                         duration_s, avg_speed_kmh, max_speed_kmh, start_odometer_m, end_odometer_m, source, raw_id, reported_at)
SELECT DISTINCT ON (imei, start_time)
       imei, start_time, end_time, start_lat, start_lng, end_lat, end_lng, distance_m,
       duration_s, avg_speed_kmh, max_speed_kmh, start_odometer_m, end_odometer_m, source, raw_id, received_at
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, start_time timestamptz, end_time timestamptz, start_lat float8, start_lng float8,
       end_lat float8, end_lng float8, distance_m float8, duration_s integer, avg_speed_kmh real,
       max_speed_kmh real, start_odometer_m bigint, end_odometer_m bigint, source text, raw_id bigint,
       received_at timestamptz)
 WHERE imei IS NOT NULL AND start_time IS NOT NULL AND end_time >= start_time
 ORDER BY imei, start_time, raw_id
ON CONFLICT (imei, start_time) DO UPDATE SET
    end_time = excluded.end_time, start_lat = excluded.start_lat, start_lng = excluded.start_lng,
    end_lat = excluded.end_lat, end_lng = excluded.end_lng, distance_m = excluded.distance_m,
    duration_s = excluded.duration_s, avg_speed_kmh = excluded.avg_speed_kmh,
    max_speed_kmh = excluded.max_speed_kmh, start_odometer_m = excluded.start_odometer_m,
    end_odometer_m = excluded.end_odometer_m, source = excluded.source, raw_id = excluded.raw_id,
    reported_at = least(t.reported_at, excluded.reported_at), updated_at = now()
WHERE excluded.raw_id < t.raw_id
