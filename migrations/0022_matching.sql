-- Map matching in the worker and observed speeds (issue 18 steps 3–4). The tables of 0005 for
-- observations and bands were never written (no matcher ran before this), so they are replaced
-- by their real shape rather than altered.

-- Work for the matcher: each (device, 5-minute bucket) that fixes arrived for. Written by the
-- positions projector in the batch's own transaction (so a fix and its queue row commit
-- together: no fix is ever missed, whatever order transactions commit in); consumed by the
-- matcher (fleet_geo::matching::project), which deletes the rows it has matched.
CREATE TABLE geo.match_queue (
    imei            text NOT NULL,
    bucket          timestamptz NOT NULL,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (imei, bucket)
);
COMMENT ON TABLE geo.match_queue IS
    'Device buckets (geo.match_bucket) with fixes not yet map-matched. Writer: the positions projector; the matcher deletes what it matched.';
CREATE INDEX match_queue_bucket_idx ON geo.match_queue (bucket);

DELETE FROM ops.partitioned_tables WHERE parent = 'geo.segment_observations'::regclass;
DROP TABLE geo.segment_observations;
CREATE TABLE geo.segment_observations (
    imei            text NOT NULL,
    segment_id      bigint NOT NULL,
    forward         boolean NOT NULL,
    entered_at      timestamptz NOT NULL,
    left_at         timestamptz NOT NULL CHECK (left_at >= entered_at),
    length_m        real NOT NULL CHECK (length_m > 0),
    speed_kmh       real NOT NULL CHECK (speed_kmh >= 0),
    -- EAT day of week (0 = Sunday) and hour of entered_at: the band it counts in
    dow             smallint NOT NULL CHECK (dow BETWEEN 0 AND 6),
    hod             smallint NOT NULL CHECK (hod BETWEEN 0 AND 23),
    -- the match bucket that wrote it (re-matching a bucket replaces exactly its rows)
    bucket          timestamptz NOT NULL,
    PRIMARY KEY (imei, entered_at, segment_id, forward)
) PARTITION BY RANGE (entered_at);
COMMENT ON TABLE geo.segment_observations IS
    'Whole traversals of a road segment (geo.ways.gid, stable across loads) by a device, times interpolated along the matched path. Writer: the map matcher.';
CREATE INDEX segment_observations_segment_idx ON geo.segment_observations (segment_id, forward, dow, hod);
CREATE TABLE geo.segment_observations_default PARTITION OF geo.segment_observations DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('geo.segment_observations', 'day', 7, interval '120 days');

CREATE TABLE geo.matched_tracks (
    imei            text NOT NULL,
    bucket          timestamptz NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL,
    fixes           integer NOT NULL CHECK (fixes >= 0),
    matched         integer NOT NULL CHECK (matched >= 0),
    breaks          integer NOT NULL DEFAULT 0,
    -- NULL when no fix of the bucket was on a road
    geom            geometry(MultiLineString, 4326),
    PRIMARY KEY (imei, bucket)
) PARTITION BY RANGE (bucket);
COMMENT ON TABLE geo.matched_tracks IS
    'The matched path of a device per 5-minute bucket (from the fix before the bucket to its last fix), for history ?track=matched. Writer: the map matcher.';
CREATE TABLE geo.matched_tracks_default PARTITION OF geo.matched_tracks DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('geo.matched_tracks', 'day', 7, NULL) ON CONFLICT DO NOTHING;

-- Segments whose observations changed since their bands were computed. Writer: the matcher;
-- the band refresh deletes what it recomputed.
CREATE TABLE geo.band_dirty (
    segment_id      bigint NOT NULL,
    forward         boolean NOT NULL,
    PRIMARY KEY (segment_id, forward)
);
COMMENT ON TABLE geo.band_dirty IS 'Segment directions whose speed bands are to be recomputed. Writer: the map matcher; consumed by the band refresh.';

DROP TABLE geo.segment_speed_band;
CREATE TABLE geo.segment_speed_band (
    segment_id      bigint NOT NULL,
    forward         boolean NOT NULL,
    -- EAT day of week (0 = Sunday) and hour; -1/-1 is the segment's all-hours figure
    dow             smallint NOT NULL CHECK (dow BETWEEN -1 AND 6),
    hod             smallint NOT NULL CHECK (hod BETWEEN -1 AND 23),
    samples         integer NOT NULL CHECK (samples > 0),
    mean_kmh        real NOT NULL CHECK (mean_kmh > 0),
    median_kmh      real NOT NULL CHECK (median_kmh > 0),
    p85_kmh         real NOT NULL CHECK (p85_kmh > 0),
    refreshed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (segment_id, forward, dow, hod),
    CHECK ((dow = -1) = (hod = -1))
);
COMMENT ON TABLE geo.segment_speed_band IS
    'Observed traversal speeds per segment, direction, EAT day of week and hour (dow = hod = -1: all hours) over the band window; plausible traversals only. Writer: the band refresh (fleet_geo::matching::project).';

INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('match_lag_sec', 'slo', 120, '<=', 'seconds', interval '5 minutes',
     'How long the oldest closed bucket of fixes has waited for the map matcher (0 when none waits); a bucket closes match_settle_sec after its 5 minutes end'),
    ('match_settle_sec', 'threshold', 30, '<=', 'seconds', NULL,
     'The map matcher matches a 5-minute bucket of fixes this long after it ends (later fixes re-match it)'),
    ('band_min_samples', 'threshold', 5, '>=', 'traversals', NULL,
     'A speed band (segment, direction, day, hour) is used for routing with at least this many traversals; below, the all-hours figure'),
    ('band_window_days', 'threshold', 56, '<=', 'days', NULL,
     'Speed bands are computed from the traversals of this many days'),
    ('band_min_kmh', 'threshold', 2, '>=', 'km/h', NULL,
     'Slower traversals (a vehicle standing on the segment) are left out of speed bands'),
    ('band_max_factor', 'threshold', 1.8, '<=', 'ratio', NULL,
     'Traversals faster than this times the segment''s speed limit (or class speed) are implausible and left out of speed bands')
ON CONFLICT (metric) DO NOTHING;
