CREATE OR REPLACE FUNCTION serve.fn_live_view(filters jsonb, format text DEFAULT 'geojson') RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
    as_rows boolean := serve.live_format(format);
    checked jsonb := serve.check_filters(filters);
    -- a map zoomed out below the threshold gets counts per cell of 64 screen pixels
    -- (360 / 2^zoom degrees a 256-pixel tile), not one feature per vehicle
    cell double precision := CASE WHEN (checked ->> 'zoom')::numeric
                                       < (SELECT t.threshold FROM slo.targets t
                                           WHERE t.metric = 'live_vehicles_from_zoom' AND t.kind = 'threshold')
                                  THEN 90.0 / 2 ^ (checked ->> 'zoom')::numeric END;
BEGIN
    RETURN (WITH picked AS MATERIALIZED (
        SELECT f.sort_key, f.state, f.below_fresh, f.lat, f.lng,
               CASE WHEN cell IS NOT NULL THEN NULL WHEN as_rows THEN f.compact ELSE f.feature END AS item
          FROM serve.live_features(checked, NULL) f),
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
    ),
    parts AS (
        SELECT (SELECT json_build_object(
                    'vehicles', c.vehicles, 'moving', c.moving, 'parked', c.parked, 'unknown', c.unknown,
                    'offline', c.offline, 'suspended', c.suspended, 'below_freshness', c.below_freshness,
                    'generated_at', now(),
                    'generated_at_local', serve.local_time(now()),
                    'time_zone', serve.local_tz(),
                    'thresholds', (SELECT row_to_json(t) FROM t)) FROM counts c) AS summary,
               CASE WHEN cell IS NULL THEN
                   coalesce((SELECT json_agg(p.item ORDER BY p.sort_key COLLATE "C") FROM picked p), '[]'::json) END AS items,
               CASE WHEN cell IS NOT NULL THEN coalesce((
                   SELECT json_agg(json_build_object(
                              'type', 'Feature',
                              'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(g.lng, g.lat)),
                              'properties', json_build_object(
                                  'count', g.n, 'moving', g.moving, 'parked', g.parked, 'unknown', g.unknown,
                                  'offline', g.offline, 'suspended', g.suspended, 'cell_deg', cell))
                          ORDER BY g.cy, g.cx)
                     FROM (SELECT floor(p.lat / cell) AS cy, floor(p.lng / cell) AS cx,
                                  -- where the cell's vehicles are, not the cell's corner
                                  avg(p.lat) AS lat, avg(p.lng) AS lng, count(*) AS n,
                                  count(*) FILTER (WHERE p.state = 'moving') AS moving,
                                  count(*) FILTER (WHERE p.state = 'parked') AS parked,
                                  count(*) FILTER (WHERE p.state = 'unknown') AS unknown,
                                  count(*) FILTER (WHERE p.state = 'offline') AS offline,
                                  count(*) FILTER (WHERE p.state = 'suspended') AS suspended
                             FROM picked p WHERE p.lat IS NOT NULL
                            GROUP BY 1, 2) g), '[]'::json) END AS cells,
               json_build_object(
                   'slos', serve.slo_status(),
                   'badges', (SELECT coalesce(json_agg(b), '[]'::json) FROM (
                       SELECT json_build_object('metric', 'fix_freshness_pct_60s', 'level', 'warning', 'count', c.below_freshness,
                                                 'text', c.below_freshness || CASE WHEN c.below_freshness = 1 THEN ' vehicle' ELSE ' vehicles' END
                                                         || ' below freshness SLO') AS b
                         FROM counts c WHERE c.below_freshness > 0
                       UNION ALL
                       SELECT json_build_object('metric', 'offline_sec', 'level', 'info', 'count', c.offline,
                                                 'text', c.offline || CASE WHEN c.offline = 1 THEN ' vehicle' ELSE ' vehicles' END || ' offline')
                         FROM counts c WHERE c.offline > 0) badges)) AS slo_status
    )
    SELECT CASE WHEN cell IS NOT NULL
                THEN json_build_object('summary', x.summary,
                                       'cells', json_build_object('type', 'FeatureCollection', 'features', x.cells),
                                       'slo_status', x.slo_status)
                WHEN as_rows
                THEN json_build_object('summary', x.summary, 'columns', serve.live_compact_columns(),
                                       'rows', x.items, 'slo_status', x.slo_status)
                ELSE json_build_object('summary', x.summary,
                                       'geojson', json_build_object('type', 'FeatureCollection', 'features', x.items),
                                       'slo_status', x.slo_status) END
      FROM parts x
    );
END $$;
COMMENT ON FUNCTION serve.fn_live_view(jsonb, text) IS
    'GET /api/views/live: one feature per vehicle (serve.live_features) with state, style_class, colour, plate tail, EAT times, seq; KPIs and SLO badges; format compact: columns and rows instead of GeoJSON; a zoom below the live_vehicles_from_zoom threshold: counts per grid cell (cells) instead.';
