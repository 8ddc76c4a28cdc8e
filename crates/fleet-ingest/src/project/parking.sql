-- Parking projector: stops from the polled parking/idling report, one row per (imei, kind,
-- start_time); conflicts resolve to the lowest raw_id.
INSERT INTO state.parking_events (imei, kind, start_time, end_time, duration_s, lat, lng, address, source, raw_id)
SELECT DISTINCT ON (imei, kind, start_time)
       imei, kind, start_time, end_time, duration_s, lat, lng, address, source, raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, kind text, start_time timestamptz, end_time timestamptz, duration_s integer,
       lat float8, lng float8, address text, source text, raw_id bigint)
 WHERE imei IS NOT NULL AND start_time IS NOT NULL AND kind IN ('parking', 'idling')
 ORDER BY imei, kind, start_time, raw_id
ON CONFLICT (imei, kind, start_time) DO UPDATE SET
    end_time = excluded.end_time, duration_s = excluded.duration_s, lat = excluded.lat, lng = excluded.lng,
    address = excluded.address, source = excluded.source, raw_id = excluded.raw_id, updated_at = now()
WHERE excluded.raw_id < state.parking_events.raw_id
