CREATE OR REPLACE FUNCTION serve.fn_history_view(filters jsonb) RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
BEGIN
    RETURN (WITH f AS (SELECT serve.check_filters(filters) AS f),
    r AS (SELECT serve.filter_range(f.f, 31) AS during,
                 -- half a screen pixel at the requested zoom, in degrees
                 -- one screen pixel at the requested zoom, in degrees
                 360.0 / (256 * 2 ^ least(greatest(coalesce((f.f ->> 'zoom')::numeric, 12), 0), 22)) AS tol
            FROM f),
    u AS (SELECT ru.* FROM f, r, serve.range_units(f.f, r.during) ru),
    trips AS (
        SELECT u.unit_key, u.vehicle_number, t.*
          FROM u JOIN state.trips t ON t.imei = u.imei, r
         WHERE t.start_time >= lower(r.during) AND t.start_time < upper(r.during)),
    stops AS (
        SELECT u.unit_key, u.vehicle_number, p.*
          FROM u JOIN state.parking_events p ON p.imei = u.imei, r
         WHERE p.start_time >= lower(r.during) AND p.start_time < upper(r.during)),
    alarms AS (
        SELECT u.unit_key, u.vehicle_number, a.*, ack.acked_at, ack.actor AS acked_by
          FROM u JOIN state.alarms a ON a.imei = u.imei
          LEFT JOIN ops.alarm_acks ack ON (ack.imei, ack.alarm_type, ack.alarm_time) = (a.imei, a.alarm_type, a.alarm_time), r
         WHERE a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)),
    days AS (
        SELECT d::date AS day,
               greatest(lower(r.during), d::date::timestamp AT TIME ZONE serve.local_tz()) AS lo,
               least(upper(r.during), (d::date + 1)::timestamp AT TIME ZONE serve.local_tz()) AS hi
          FROM r, generate_series(serve.local_day(lower(r.during)),
                                  serve.local_day(upper(r.during) - interval '1 microsecond'), interval '1 day') d),
    -- One line per vehicle and EAT day, each read in index order (no sort of the whole range).
    -- With "track": "matched", the map-matched path of each 5-minute bucket the matcher has
    -- done (geo.matched_tracks) and the raw fixes from the last fix it matched on (not matched
    -- yet: the current bucket, or fixes that came late).
    tracks AS (
        SELECT u.unit_key, u.vehicle_number, days.day, t.*, mt.mline, mt.matched_fixes, tail.tline
          FROM u CROSS JOIN days
          CROSS JOIN LATERAL (
              SELECT count(*) AS fixes, min(s.fix_time) AS first_fix, max(s.fix_time) AS last_fix, ST_MakeLine(s.pt) AS line
                FROM (SELECT h.fix_time, ST_MakePoint(h.lng, h.lat) AS pt
                        FROM state.position_history h
                       WHERE h.imei = u.imei AND h.fix_time >= days.lo AND h.fix_time < days.hi
                       ORDER BY h.fix_time) s) t
          LEFT JOIN LATERAL (
              -- SRID 0 like the raw lines it joins
              SELECT ST_SetSRID(ST_Collect(d.geom ORDER BY m.bucket, d.path), 0) AS mline,
                     sum(m.matched) AS matched_fixes, max(m.ended_at) AS covered_to
                FROM geo.matched_tracks m CROSS JOIN LATERAL ST_Dump(m.geom) d
               WHERE m.imei = u.imei AND m.bucket >= days.lo AND m.bucket < days.hi) mt
            ON (SELECT f.f ->> 'track' FROM f) = 'matched'
          LEFT JOIN LATERAL (
              SELECT CASE WHEN count(*) >= 2 THEN ST_MakeLine(s.pt) END AS tline
                FROM (SELECT ST_MakePoint(h.lng, h.lat) AS pt
                        FROM state.position_history h
                       WHERE h.imei = u.imei AND h.fix_time >= greatest(days.lo, mt.covered_to) AND h.fix_time < days.hi
                       ORDER BY h.fix_time) s) tail ON mt.mline IS NOT NULL
         WHERE t.fixes > 0),
    drawn AS (
        SELECT tr.*, CASE WHEN tr.mline IS NULL THEN tr.line
                          WHEN tr.tline IS NULL THEN tr.mline
                          ELSE ST_CollectionExtract(ST_Collect(tr.mline, tr.tline), 2) END AS path
          FROM tracks tr),
    lines AS (
        SELECT tr.*, ST_Simplify(tr.path, r.tol, true) AS simple,
               -- GPS distance on a local flat projection (within a fraction of a percent over a
               -- city, several times cheaper than geography on 8,640 points a day)
               ST_Length(ST_Scale(tr.path, cos(radians(ST_Y(ST_StartPoint(tr.line)))), 1)) * 111.195 AS track_km
          FROM drawn tr, r)
    SELECT json_build_object(
        'summary', json_build_object(
            'vehicles', serve.at_most((SELECT count(*) FROM u), 50,
                                      'history covers at most 50 vehicles at a time; narrow the filters (vehicles, cost_centres, cities)'),
            'from', lower(r.during), 'to', upper(r.during),
            'from_local', serve.local_time(lower(r.during)), 'to_local', serve.local_time(upper(r.during)),
            'trips', (SELECT count(*) FROM trips),
            'distance_km', (SELECT round(coalesce(sum(distance_m), 0)::numeric / 1000, 1) FROM trips),
            'track_km', (SELECT round(coalesce(sum(track_km), 0)::numeric, 1) FROM lines),
            'driving_s', (SELECT coalesce(sum(duration_s), 0) FROM trips),
            'max_speed_kmh', (SELECT max(max_speed_kmh) FROM trips),
            'parking_s', (SELECT coalesce(sum(duration_s), 0) FROM stops WHERE kind = 'parking'),
            'idling_s', (SELECT coalesce(sum(duration_s), 0) FROM stops WHERE kind = 'idling'),
            'stops', (SELECT count(*) FROM stops),
            'alarms', (SELECT count(*) FROM alarms),
            'fixes', (SELECT coalesce(sum(fixes), 0) FROM lines),
            'track_points', (SELECT coalesce(sum(ST_NPoints(simple)), 0) FROM lines),
            'vehicle_list', (SELECT coalesce(json_agg(json_build_object('vehicle_number', vehicle_number, 'imei', imei,
                                                                        'vehicle_id', vehicle_id, 'cost_centre', cost_centre)
                                                     ORDER BY vehicle_number), '[]'::json) FROM u),
            'time_zone', serve.local_tz()),
        'geojson', json_build_object('type', 'FeatureCollection', 'features',
            (SELECT coalesce(json_agg(feat ORDER BY t, ord), '[]'::json) FROM (
                SELECT l.first_fix AS t, 0 AS ord, json_build_object('type', 'Feature',
                    'geometry', ST_AsGeoJSON(l.simple, 6)::json,
                    'properties', json_build_object('kind', 'track', 'style_class', 'track',
                        'vehicle_number', l.vehicle_number, 'unit', l.unit_key, 'day', l.day, 'fixes', l.fixes,
                        'points', ST_NPoints(l.simple), 'track_km', round(l.track_km::numeric, 2),
                        'matched', l.mline IS NOT NULL, 'matched_fixes', coalesce(l.matched_fixes, 0),
                        'start_local', serve.local_time(l.first_fix), 'end_local', serve.local_time(l.last_fix))) AS feat
                  FROM lines l
                UNION ALL
                SELECT tr.start_time, 1, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN tr.start_lat IS NOT NULL AND tr.end_lat IS NOT NULL THEN json_build_object('type', 'LineString',
                        'coordinates', json_build_array(json_build_array(tr.start_lng, tr.start_lat), json_build_array(tr.end_lng, tr.end_lat))) END,
                    'properties', json_build_object('kind', 'trip', 'style_class', 'trip',
                        'vehicle_number', tr.vehicle_number, 'unit', tr.unit_key, 'imei', tr.imei,
                        'start_time', tr.start_time, 'end_time', tr.end_time,
                        'start_local', serve.local_time(tr.start_time), 'end_local', serve.local_time(tr.end_time),
                        'distance_km', round(tr.distance_m::numeric / 1000, 2), 'duration_s', tr.duration_s,
                        'avg_speed_kmh', tr.avg_speed_kmh, 'max_speed_kmh', tr.max_speed_kmh,
                        'start_address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(tr.start_lat) AND g.lng_e5 = geo.geocode_key(tr.start_lng)),
                        'end_address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(tr.end_lat) AND g.lng_e5 = geo.geocode_key(tr.end_lng))))
                  FROM trips tr
                UNION ALL
                SELECT s.start_time, 2, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN s.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(s.lng, s.lat)) END,
                    'properties', json_build_object('kind', s.kind, 'style_class', 'stop-' || s.kind,
                        'vehicle_number', s.vehicle_number, 'unit', s.unit_key, 'imei', s.imei,
                        'start_local', serve.local_time(s.start_time), 'end_local', serve.local_time(s.end_time),
                        'duration_s', s.duration_s, 'address', coalesce(s.address, (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(s.lat) AND g.lng_e5 = geo.geocode_key(s.lng)))))
                  FROM stops s
                UNION ALL
                SELECT a.alarm_time, 3, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN a.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(a.lng, a.lat)) END,
                    'properties', json_build_object('kind', 'alarm', 'style_class', 'alarm-' || serve.alarm_class(a.alarm_type, a.alarm_name),
                        'vehicle_number', a.vehicle_number, 'unit', a.unit_key, 'imei', a.imei,
                        'alarm_type', a.alarm_type, 'alarm_name', a.alarm_name, 'alarm_time', a.alarm_time,
                        'time_local', serve.local_time(a.alarm_time), 'speed_kmh', a.speed_kmh,
                        'ended_local', serve.local_time(a.ended_at), 'acked', a.acked_at IS NOT NULL,
                        'acked_by', a.acked_by, 'address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(a.lat) AND g.lng_e5 = geo.geocode_key(a.lng))))
                  FROM alarms a) feats)),
        'slo_status', json_build_object('slos', serve.slo_status(), 'badges', '[]'::json))
      FROM r
    );
END $$;
COMMENT ON FUNCTION serve.fn_history_view(jsonb) IS
    'GET /api/views/history: per vehicle (serve.range_units) the track per EAT day simplified for the zoom (raw fixes, or with "track": "matched" the map-matched path), trips, stops, alarms, and totals.';
