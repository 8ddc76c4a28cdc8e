-- Search (issue 19 item 7): the names of the loaded extract to search by prefix and by
-- similarity (pg_trgm). Written by the OSM load, replaced with the roads.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE geo.search_names (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- poi, place, street
    kind            text NOT NULL CHECK (kind IN ('poi', 'place', 'street')),
    name            text NOT NULL,
    -- what it is (the POI's kind, the place's place=*, the street's town)
    detail          text,
    -- what POST /api/routes takes for it: "poi:ID" for a POI, else NULL (use the point)
    ref             text,
    geom            geometry(Point, 4326) NOT NULL
);
COMMENT ON TABLE geo.search_names IS 'Names of the loaded extract for GET /api/geo/search: POIs, places, and streets (one row per name and area). Writer: the OSM load.';
CREATE INDEX search_names_trgm_idx ON geo.search_names USING gin (lower(name) gin_trgm_ops);
