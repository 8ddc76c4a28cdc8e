-- Road graph, map matching and POIs (ARCHITECTURE §6), and SLOs/thresholds (§1 rule 7).

CREATE TABLE geo.ways (
    gid             bigint PRIMARY KEY,
    osm_id          bigint,
    source          bigint,
    target          bigint,
    name            text,
    highway         text,
    length_m        double precision NOT NULL CHECK (length_m >= 0),
    maxspeed_kmh    real,
    one_way         boolean NOT NULL DEFAULT false,
    cost            double precision NOT NULL,
    reverse_cost    double precision NOT NULL,
    x1 double precision, y1 double precision, x2 double precision, y2 double precision,
    the_geom        geometry(LineString, 4326) NOT NULL
);
COMMENT ON TABLE geo.ways IS 'Routable road segments from the OSM extract (pgRouting edge table; cost in seconds, negative reverse_cost = one-way).';
CREATE INDEX ways_geom_idx ON geo.ways USING gist (the_geom);
CREATE INDEX ways_source_idx ON geo.ways (source);
CREATE INDEX ways_target_idx ON geo.ways (target);

CREATE TABLE geo.ways_vertices_pgr (
    id              bigint PRIMARY KEY,
    osm_node_id     bigint,
    cnt             integer,
    the_geom        geometry(Point, 4326) NOT NULL
);
COMMENT ON TABLE geo.ways_vertices_pgr IS 'Graph vertices of geo.ways (pgRouting topology).';
CREATE INDEX ways_vertices_geom_idx ON geo.ways_vertices_pgr USING gist (the_geom);

CREATE TABLE geo.segment_observations (
    way_gid         bigint NOT NULL,
    observed_at     timestamptz NOT NULL,
    imei            text NOT NULL,
    speed_kmh       real NOT NULL CHECK (speed_kmh >= 0),
    PRIMARY KEY (imei, observed_at)
) PARTITION BY RANGE (observed_at);
COMMENT ON TABLE geo.segment_observations IS 'Fixes map-matched to a road segment within 30 m. Writer: the map-matcher.';
CREATE INDEX segment_observations_way_idx ON geo.segment_observations (way_gid, observed_at);
CREATE TABLE IF NOT EXISTS geo.segment_observations_default PARTITION OF geo.segment_observations DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('geo.segment_observations', 'month', 2, interval '400 days') ON CONFLICT DO NOTHING;

CREATE TABLE geo.segment_speed_band (
    way_gid         bigint NOT NULL,
    dow             smallint NOT NULL CHECK (dow BETWEEN 0 AND 6),
    hod             smallint NOT NULL CHECK (hod BETWEEN 0 AND 23),
    speed_kmh       real NOT NULL CHECK (speed_kmh > 0),
    samples         integer NOT NULL CHECK (samples > 0),
    refreshed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (way_gid, dow, hod)
);
COMMENT ON TABLE geo.segment_speed_band IS 'Observed speed per segment, local day of week (0 = Sunday) and hour; routing cost source.';

CREATE TABLE geo.pois (
    poi_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    osm_id          bigint,
    osm_type        text,
    kind            text NOT NULL,
    name            text,
    brand           text,
    tags            jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom            geometry(Point, 4326) NOT NULL,
    UNIQUE (osm_type, osm_id)
);
COMMENT ON TABLE geo.pois IS 'Points of interest from OSM (fuel stations, depots, ...).';
CREATE INDEX pois_geom_idx ON geo.pois USING gist (geom);
CREATE INDEX pois_kind_idx ON geo.pois (kind);

CREATE TABLE slo.targets (
    metric          text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('slo', 'threshold')),
    threshold       double precision NOT NULL,
    comparator      text NOT NULL CHECK (comparator IN ('>=', '<=')),
    unit            text NOT NULL,
    window_interval interval,
    description     text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE slo.targets IS
    'Every SLO and operational threshold, one row each (ARCHITECTURE §1 rule 7). SQL, the API and pages read them from here; changing one is one UPDATE.';
COMMENT ON COLUMN slo.targets.comparator IS 'How a measured value meets the target: value >= threshold or value <= threshold.';

INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fix_freshness_pct_60s', 'slo', 95, '>=', 'percent', interval '5 minutes', 'Share of active devices whose latest fix is younger than 60 s'),
    ('trip_lag_p95_sec', 'slo', 600, '<=', 'seconds', interval '1 hour', 'p95 delay between a trip ending and its row in state.trips'),
    ('route_p95_ms', 'slo', 500, '<=', 'milliseconds', interval '5 minutes', 'p95 latency of route requests'),
    ('parser_lag_p95_sec', 'slo', 30, '<=', 'seconds', interval '5 minutes', 'p95 delay between a raw row arriving and being parsed'),
    ('contract_drift_days', 'slo', 1, '<=', 'days', interval '1 day', 'Days since the vendor contract check last found drift-free responses'),
    ('moving_speed_kmh', 'threshold', 3, '>=', 'km/h', NULL, 'A vehicle whose latest fresh fix is at least this fast is moving'),
    ('stale_gps_sec', 'threshold', 600, '<=', 'seconds', NULL, 'A fix older than this is stale: the vehicle shows as unknown'),
    ('offline_sec', 'threshold', 86400, '<=', 'seconds', NULL, 'A vehicle with no fix for longer than this is offline');

CREATE TABLE slo.measurements (
    metric          text NOT NULL REFERENCES slo.targets (metric) ON UPDATE CASCADE,
    measured_at     timestamptz NOT NULL,
    value           double precision,
    samples         integer NOT NULL DEFAULT 0,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (metric, measured_at)
) PARTITION BY RANGE (measured_at);
COMMENT ON TABLE slo.measurements IS 'One row per SLO per measurement run (every minute). value NULL = no data in the window.';
CREATE TABLE IF NOT EXISTS slo.measurements_default PARTITION OF slo.measurements DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('slo.measurements', 'month', 2, interval '400 days') ON CONFLICT DO NOTHING;

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
