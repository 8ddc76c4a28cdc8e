-- Offline reverse geocoding (issue 19 item 6): the parts of the OSM extract an address is made
-- of, beside the roads of geo.ways (whose names give the street). Written by the OSM load
-- (replaced in the load's transaction, with the roads).

CREATE TABLE geo.places (
    osm_type        text NOT NULL,
    osm_id          bigint NOT NULL,
    -- OSM's place=*: city, town, village, hamlet, suburb, quarter, neighbourhood, locality, ...
    place           text NOT NULL,
    name            text NOT NULL,
    geom            geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (osm_type, osm_id)
);
COMMENT ON TABLE geo.places IS 'Named places of the OSM extract (place=* nodes and areas as points). Writer: the OSM load.';
CREATE INDEX places_geom_idx ON geo.places USING gist (geom);

CREATE TABLE geo.addresses (
    osm_type        text NOT NULL,
    osm_id          bigint NOT NULL,
    housenumber     text NOT NULL,
    street          text,
    -- addr:place where a house has no street (villages numbered by place)
    place           text,
    geom            geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (osm_type, osm_id)
);
COMMENT ON TABLE geo.addresses IS 'House numbers of the OSM extract (addr:housenumber on nodes and buildings, as points). Writer: the OSM load.';
CREATE INDEX addresses_geom_idx ON geo.addresses USING gist (geom);

-- The cache: the parts as well as the line, and which extract answered.
ALTER TABLE state.geocoded_positions ADD COLUMN parts jsonb NOT NULL DEFAULT '{}'::jsonb;
COMMENT ON TABLE state.geocoded_positions IS
    'Reverse-geocoded addresses keyed by position rounded to 1e-4 degrees (about 11 m), stored in units of 1e-5. Writer: the geocoder (asynchronous enrichment, replayable).';
