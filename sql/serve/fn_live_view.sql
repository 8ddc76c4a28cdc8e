CREATE OR REPLACE FUNCTION serve.fn_live_view(filters jsonb) RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
BEGIN
    RETURN (WITH picked AS MATERIALIZED (SELECT * FROM serve.fleet_units(serve.check_filters(filters))),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    counts AS (
        SELECT count(*) AS vehicles,
               count(*) FILTER (WHERE state = 'moving') AS moving,
               count(*) FILTER (WHERE state = 'parked') AS parked,
               count(*) FILTER (WHERE state = 'unknown') AS unknown,
               count(*) FILTER (WHERE state = 'offline') AS offline,
               count(*) FILTER (WHERE state = 'suspended') AS suspended,
               count(*) FILTER (WHERE below_fresh AND state NOT IN ('offline', 'suspended')) AS below_freshness
          FROM picked
    )
    SELECT json_build_object(
        'summary', (SELECT json_build_object(
            'vehicles', c.vehicles, 'moving', c.moving, 'parked', c.parked, 'unknown', c.unknown,
            'offline', c.offline, 'suspended', c.suspended, 'below_freshness', c.below_freshness,
            'generated_at', now(),
            'generated_at_local', serve.local_time(now()),
            'time_zone', serve.local_tz(),
            'thresholds', (SELECT row_to_json(t) FROM t)) FROM counts c),
        'geojson', json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce((
                SELECT json_agg(json_build_object(
                    'type', 'Feature',
                    'id', p.unit_key,
                    'geometry', CASE WHEN p.lat IS NOT NULL THEN json_build_object(
                                    'type', 'Point', 'coordinates', json_build_array(p.lng, p.lat)) END,
                    'properties', row_to_json(props))
                    ORDER BY p.vehicle_number COLLATE "C")
                  FROM picked p
                  CROSS JOIN LATERAL (SELECT
                        p.vehicle_number,
                        serve.plate_tail(coalesce(p.plate_key, serve.normalize_plate(p.vehicle_number))) AS plate_tail,
                        p.imei,
                        p.devices,
                        p.state,
                        'vehicle-' || p.state AS style_class,
                        p.lifecycle,
                        p.cost_centre,
                        p.colour,
                        p.city,
                        p.account,
                        p.driver_name,
                        p.driver_phone,
                        p.speed_kmh,
                        p.heading,
                        p.acc_on,
                        round(p.odometer_m / 1000.0, 1) AS odometer_km,
                        p.fix_time,
                        serve.local_time(p.fix_time) AS fix_time_local,
                        floor(p.age_s)::integer AS age_s,
                        coalesce(p.below_fresh, false) AS below_freshness,
                        (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(p.lat) AND g.lng_e5 = geo.geocode_key(p.lng)) AS address,
                        p.vehicle_id IS NOT NULL AS assigned) props), '[]'::json)),
        'slo_status', json_build_object(
            'slos', serve.slo_status(),
            'badges', (SELECT coalesce(json_agg(b), '[]'::json) FROM (
                SELECT json_build_object('metric', 'fix_freshness_pct_60s', 'level', 'warning', 'count', c.below_freshness,
                                          'text', c.below_freshness || CASE WHEN c.below_freshness = 1 THEN ' vehicle' ELSE ' vehicles' END
                                                  || ' below freshness SLO') AS b
                  FROM counts c WHERE c.below_freshness > 0
                UNION ALL
                SELECT json_build_object('metric', 'offline_sec', 'level', 'info', 'count', c.offline,
                                          'text', c.offline || CASE WHEN c.offline = 1 THEN ' vehicle' ELSE ' vehicles' END || ' offline')
                  FROM counts c WHERE c.offline > 0) badges)))
    );
END $$;
COMMENT ON FUNCTION serve.fn_live_view(jsonb) IS
    'GET /api/views/live: one feature per vehicle (serve.fleet_units) with state, style_class, colour, plate tail, EAT times; KPIs and SLO badges.';
