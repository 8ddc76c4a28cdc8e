-- Admin boundaries and turn restrictions (issue 19 items 2 and 6), from the OSM extract's
-- relations. Written by the OSM load, replaced with the roads.

-- boundary=administrative relations, cut into pieces of at most 256 points each (a point is
-- tested against a few small polygons, never against a county's whole outline)
CREATE TABLE geo.boundaries (
    osm_id          bigint NOT NULL,
    piece           integer NOT NULL,
    -- OSM's admin_level: 2 country, 4 state/region (Kenya: county), 6 county/district, 8 city/municipality, 10 ward
    admin_level     smallint NOT NULL,
    name            text NOT NULL,
    geom            geometry(Polygon, 4326) NOT NULL,
    PRIMARY KEY (osm_id, piece)
);
COMMENT ON TABLE geo.boundaries IS 'Administrative boundaries of the OSM extract (boundary=administrative relations), in pieces of at most 256 points. Writer: the OSM load.';
CREATE INDEX boundaries_geom_idx ON geo.boundaries USING gist (geom);

-- each named place's region (the shallowest boundary below the country it is in), set by the
-- load: an address takes no town from across its region's border
ALTER TABLE geo.places ADD COLUMN region_osm_id bigint;
COMMENT ON COLUMN geo.places.region_osm_id IS 'The region the place is in: osm_id of the shallowest geo.boundaries row with admin_level >= 4 containing it (NULL: none). Set by the OSM load.';

-- type=restriction relations with a via node: from way, via node, to way
CREATE TABLE geo.turn_restrictions (
    osm_id          bigint PRIMARY KEY,
    from_way        bigint NOT NULL,
    via_node        bigint NOT NULL,
    to_way          bigint NOT NULL,
    -- only_*: the only turn allowed from from_way at via_node; else (no_*) this turn is banned
    only_turn       boolean NOT NULL,
    -- restriction=* (or restriction:motorcar=*) as tagged
    kind            text NOT NULL
);
COMMENT ON TABLE geo.turn_restrictions IS 'Turn restrictions of the OSM extract with a via node (no_* bans the turn; only_* bans every other turn from that road). Writer: the OSM load. Reader: the router.';

-- Where each fuel fill happened, for its address: the vehicle's fix nearest the fill time
-- (within the reconciliation window), else the place the feed reported. Written by the
-- geocoder (asynchronous enrichment, made again when the fill's time or vehicle changes).
CREATE TABLE state.fill_positions (
    record_id       text PRIMARY KEY,
    filled_at       timestamptz NOT NULL,
    imei            text,
    lat             double precision NOT NULL,
    lng             double precision NOT NULL,
    fix_time        timestamptz,
    -- gps: the nearest fix; reported: the feed's own location
    source          text NOT NULL CHECK (source IN ('gps', 'reported')),
    placed_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE state.fill_positions IS 'Where each fuel fill happened (nearest fix, else the reported place), for its address. Writer: the geocoder (derived, replayable).';
CREATE INDEX fill_positions_filled_idx ON state.fill_positions (filled_at);
CREATE INDEX fill_positions_placed_idx ON state.fill_positions (placed_at);
-- the geocoder places the fills imported or changed since its last look, however old
CREATE INDEX fuel_records_updated_idx ON fuel.records (updated_at);

-- Search at a country's scale (GET /api/geo/search): bounded candidates by index however many
-- names a short query matches. Names by prefix (C collation: a btree range), each word of each
-- name by prefix, and the distinct words for typos (trigram similarity over words, not names).
-- Written by the OSM load with geo.search_names.
CREATE INDEX search_names_prefix_idx ON geo.search_names ((lower(name) COLLATE "C"));
CREATE TABLE geo.search_words (
    word            text COLLATE "C" NOT NULL,
    id              bigint NOT NULL
);
COMMENT ON TABLE geo.search_words IS 'Each word (lower case) of each geo.search_names name, for search by the start of a word. Writer: the OSM load.';
CREATE INDEX search_words_word_idx ON geo.search_words (word);
CREATE TABLE geo.search_vocabulary (
    word            text COLLATE "C" PRIMARY KEY,
    names           integer NOT NULL
);
COMMENT ON TABLE geo.search_vocabulary IS 'The distinct words of geo.search_words with how many names have each, for typos (trigram similarity). Writer: the OSM load.';
CREATE INDEX search_vocabulary_trgm_idx ON geo.search_vocabulary USING gin (word gin_trgm_ops);
