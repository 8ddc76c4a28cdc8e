-- What the pages (issue 7) read beyond the existing views: the offline basemap (Mapbox vector
-- tiles of the loaded OSM roads and POIs, straight from PostGIS, so the local demo shows streets
-- with no internet) and the contract-check panel of the operations page.

-- Which road classes a zoom level shows: main roads from afar, every street up close.
CREATE FUNCTION geo.road_min_zoom(highway text) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN highway IN ('motorway', 'trunk', 'motorway_link', 'trunk_link') THEN 5
        WHEN highway IN ('primary', 'primary_link') THEN 8
        WHEN highway IN ('secondary', 'secondary_link', 'tertiary', 'tertiary_link') THEN 10
        ELSE 13 END
$$;

-- One tile: layer "roads" (highway, name) and layer "pois" (kind, name; from zoom 12).
CREATE FUNCTION geo.tile(z int, x int, y int) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH b AS (SELECT ST_TileEnvelope(z, x, y) AS env, ST_Transform(ST_TileEnvelope(z, x, y, margin => 0.02), 4326) AS box),
    roads AS (
        SELECT ST_AsMVTGeom(ST_Transform(w.the_geom, 3857), b.env, 4096, 64, true) AS geom, w.highway, w.name
          FROM geo.ways w, b
         WHERE w.the_geom && b.box AND geo.road_min_zoom(w.highway) <= z
    ),
    pois AS (
        SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.env, 4096, 16, true) AS geom, p.kind, p.name
          FROM geo.pois p, b
         WHERE p.geom && b.box AND z >= 12
    )
    SELECT coalesce((SELECT ST_AsMVT(r, 'roads', 4096, 'geom') FROM roads r WHERE r.geom IS NOT NULL), ''::bytea)
        || coalesce((SELECT ST_AsMVT(p, 'pois', 4096, 'geom') FROM pois p WHERE p.geom IS NOT NULL), ''::bytea)
$$;
COMMENT ON FUNCTION geo.tile(int, int, int) IS
    'A Mapbox vector tile of geo.ways (layer roads: highway, name) and geo.pois (layer pois: kind, name) for GET /tiles/{z}/{x}/{y}.pbf.';

-- The operations page's contract-check panel: each target's latest run and, per vendor method,
-- what it found (fields that broke the typed contract), plus the recent runs.
CREATE FUNCTION serve.fn_contract_checks(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH f AS (SELECT serve.check_filters(filters) AS f),
    latest AS (
        SELECT DISTINCT ON (r.target) r.*
          FROM ops.contract_runs r
         WHERE r.outcome <> 'running'
         ORDER BY r.target, r.started_at DESC
    )
    SELECT jsonb_build_object(
        'latest', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', l.target, 'outcome', l.outcome, 'methods_checked', l.methods_checked,
                       'problems', l.problems, 'finished_local', serve.local_time(l.finished_at),
                       'methods', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                      'method', c.method, 'outcome', c.outcome, 'records', c.records,
                                      'problems', c.problems, 'duration_ms', c.duration_ms) ORDER BY c.outcome <> 'ok' DESC, c.method), '[]')
                                     FROM ops.contract_results c WHERE c.run_id = l.run_id))
                   ORDER BY l.target)
              FROM latest l), '[]'),
        'runs', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', r.target, 'outcome', r.outcome, 'methods_checked', r.methods_checked,
                       'problems', r.problems, 'started_local', serve.local_time(r.started_at),
                       'finished_local', serve.local_time(r.finished_at)) ORDER BY r.started_at DESC)
              FROM (SELECT * FROM ops.contract_runs ORDER BY started_at DESC LIMIT 20) r), '[]'))
      FROM f
$$;
COMMENT ON FUNCTION serve.fn_contract_checks(jsonb) IS
    'GET /api/analytics/contract-checks: per vendor target the latest contract check with each method''s problems, and the 20 newest runs.';
