-- One tile: layer "roads" (highway, name) and layer "pois" (kind, name; from zoom 12).
CREATE OR REPLACE FUNCTION geo.tile(z int, x int, y int) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
