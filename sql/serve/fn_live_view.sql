CREATE OR REPLACE FUNCTION serve.fn_live_view(filters jsonb, format text DEFAULT 'geojson') RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
    as_rows boolean := format = 'compact';
BEGIN
    IF format NOT IN ('geojson', 'compact') THEN
        RAISE EXCEPTION 'format is "geojson" (the default) or "compact" (rows of columns), not "%"', format
              USING ERRCODE = '22023';
    END IF;
    RETURN (WITH picked AS MATERIALIZED (
        SELECT f.sort_key, f.state, f.below_fresh, CASE WHEN as_rows THEN f.compact ELSE f.feature END AS item
          FROM serve.live_features(serve.check_filters(filters), NULL) f),
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
               coalesce((SELECT json_agg(p.item ORDER BY p.sort_key COLLATE "C") FROM picked p), '[]'::json) AS items,
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
    SELECT CASE WHEN as_rows
                THEN json_build_object('summary', x.summary, 'columns', serve.live_compact_columns(),
                                       'rows', x.items, 'slo_status', x.slo_status)
                ELSE json_build_object('summary', x.summary,
                                       'geojson', json_build_object('type', 'FeatureCollection', 'features', x.items),
                                       'slo_status', x.slo_status) END
      FROM parts x
    );
END $$;
COMMENT ON FUNCTION serve.fn_live_view(jsonb, text) IS
    'GET /api/views/live: one feature per vehicle (serve.live_features) with state, style_class, colour, plate tail, EAT times, seq; KPIs and SLO badges; format compact: columns and rows instead of GeoJSON.';
