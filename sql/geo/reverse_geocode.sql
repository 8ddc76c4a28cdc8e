-- The address of a position from the loaded OSM extract, the way Nominatim's reverse search
-- builds one: the house number nearest the point (within 40 m) with its street; else the
-- nearest named street within 600 m; then the suburb (nearest suburb, quarter, neighbourhood,
-- locality or hamlet within 2.5 km) and the town (the nearest city, town or village, each kind
-- within the distance such a place spans: 20, 10 and 4 km, nearest relative to its kind's
-- span); then the admin boundaries the point is in (geo.boundaries): the town falls back to
-- the deepest city or municipality boundary (admin_level 7-8) where no place node is near (a
-- place across the border of the point's region is not its town), and
-- the line ends with the region: the shallowest boundary below the country (admin_level >= 4:
-- Kenya's and Uganda's counties and districts, a state, an Andorran parish) unless it names the
-- town. parts has each part, every boundary the point is in (admin: level and name), the
-- distances, and what the address is made of; address is NULL when nothing is near.
CREATE OR REPLACE FUNCTION geo.reverse_geocode(p_lat double precision, p_lng double precision,
                                               OUT address text, OUT parts jsonb)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- distances are measured on the plane of the point's latitude (longitude scaled by its
    -- cosine, degrees × 111,320 m): within the few km an address looks, within 0.5 % of the
    -- spheroid's and a fraction of the cost of geography distances
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(p_lng, p_lat), 4326) AS g, cos(radians(p_lat)) AS c,
                       ST_MakePoint(p_lng * cos(radians(p_lat)), p_lat) AS flat),
    house AS (
        SELECT a.housenumber, coalesce(a.street, a.place) AS street, d
          FROM pt, LATERAL (SELECT * FROM geo.addresses x ORDER BY x.geom <-> pt.g LIMIT 4) a,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(a.geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd
         WHERE d <= 40 AND coalesce(a.street, a.place) IS NOT NULL
         ORDER BY d LIMIT 1),
    street AS (
        SELECT w.name, d
          FROM pt, LATERAL (SELECT name, the_geom FROM geo.ways x WHERE x.name IS NOT NULL
                             ORDER BY x.the_geom <-> pt.g LIMIT 8) w,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(w.the_geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd
         WHERE d <= 600
         ORDER BY d LIMIT 1),
    admin AS (
        SELECT DISTINCT ON (b.admin_level) b.admin_level, b.name, b.osm_id
          FROM pt, geo.boundaries b
         WHERE ST_Intersects(b.geom, pt.g)
         ORDER BY b.admin_level, b.osm_id),
    -- the region the point is in (the shallowest boundary below the country)
    region AS (SELECT osm_id, name FROM admin WHERE admin_level >= 4 ORDER BY admin_level LIMIT 1),
    near_places AS (
        SELECT p.place, p.name, p.region_osm_id, d
          FROM pt, LATERAL (SELECT * FROM geo.places x ORDER BY x.geom <-> pt.g LIMIT 32) p,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(p.geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd),
    suburb AS (
        SELECT name, d FROM near_places
         WHERE place IN ('suburb', 'quarter', 'neighbourhood', 'city_block', 'locality', 'hamlet', 'isolated_dwelling')
           AND d <= 2500
         ORDER BY d LIMIT 1),
    town AS (
        SELECT name, place, d FROM near_places
          JOIN (VALUES ('city', 20000.0), ('municipality', 15000.0), ('town', 10000.0), ('village', 4000.0)) s(kind, span)
            ON s.kind = near_places.place
         WHERE d <= span
           -- a town across a region's border is not the point's town
           AND (NOT EXISTS (SELECT 1 FROM region)
                OR near_places.region_osm_id = (SELECT osm_id FROM region))
         ORDER BY d / span LIMIT 1),
    parts AS (
        SELECT (SELECT housenumber FROM house) AS housenumber,
               coalesce((SELECT street FROM house), (SELECT name FROM street)) AS street,
               (SELECT name FROM suburb) AS suburb,
               coalesce((SELECT name FROM town),
                        (SELECT name FROM admin WHERE admin_level BETWEEN 7 AND 8 ORDER BY admin_level DESC LIMIT 1)) AS town,
               coalesce((SELECT place FROM town),
                        (SELECT 'boundary' FROM admin WHERE admin_level BETWEEN 7 AND 8 LIMIT 1)) AS town_kind,
               (SELECT name FROM region) AS region,
               (SELECT jsonb_agg(jsonb_build_object('level', admin_level, 'name', name) ORDER BY admin_level) FROM admin) AS admin,
               coalesce((SELECT d FROM house), (SELECT d FROM street)) AS street_m,
               (SELECT d FROM town) AS town_m)
    SELECT nullif(concat_ws(', ',
                  nullif(concat_ws(' ', p.housenumber, p.street), ''),
                  -- a suburb named like its town (or the street) is said once
                  CASE WHEN p.suburb IS DISTINCT FROM p.town AND p.suburb IS DISTINCT FROM p.street THEN p.suburb END,
                  p.town,
                  CASE WHEN p.region IS DISTINCT FROM p.town AND p.region IS DISTINCT FROM p.suburb THEN p.region END), ''),
           jsonb_strip_nulls(jsonb_build_object(
               'housenumber', p.housenumber, 'street', p.street, 'suburb', p.suburb, 'town', p.town,
               'town_kind', p.town_kind, 'region', p.region, 'admin', p.admin, 'street_m', round(p.street_m::numeric, 1), 'town_m', round(p.town_m::numeric),
               'source', 'osm'))
      FROM parts p
$$;
COMMENT ON FUNCTION geo.reverse_geocode(double precision, double precision) IS
    'The address of a position from the loaded extract: house number and street (40 m), else the nearest named street (600 m); suburb and town from place nodes (the town else from a city boundary); the region from the admin boundaries.';
