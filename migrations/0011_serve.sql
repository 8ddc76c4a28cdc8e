-- The serve layer (issue 5): the read contract of the API and the pages, and the rules of the
-- operator actions. Every business rule the pages show lives here once: the vehicle dedup
-- (serve.fleet_units), the operational state (serve.vehicle_state), the palette, plate tails,
-- local (EAT) times, the filters (serve.matches), and the legal lifecycle transitions.

-- A fix younger than this is fresh: the freshness SLO counts these and the live view badges the
-- vehicles whose fix is older (ARCHITECTURE §1 rule 7: no threshold in code).
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fresh_fix_sec', 'threshold', 60, '<=', 'seconds', NULL,
     'A fix younger than this is fresh; the freshness SLO counts fresh fixes and the live view badges vehicles with older ones')
ON CONFLICT (metric) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- Lifecycle rules
-- ---------------------------------------------------------------------------------------------
CREATE TABLE domain.lifecycle_transitions (
    from_state      text NOT NULL,
    to_state        text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
COMMENT ON TABLE domain.lifecycle_transitions IS
    'The legal device lifecycle transitions (ARCHITECTURE §1 rule 6). decommissioned is final.';
INSERT INTO domain.lifecycle_transitions VALUES
    ('provisioned', 'active'), ('provisioned', 'decommissioned'),
    ('active', 'suspended'), ('active', 'decommissioned'),
    ('suspended', 'active'), ('suspended', 'decommissioned');

CREATE INDEX device_lifecycle_events_raw_idx ON domain.device_lifecycle_events (raw_id);

-- Service-log entries and alarm acks come from operator action events: one row per raw row.
CREATE UNIQUE INDEX service_log_raw_idx ON ops.service_log (raw_id);

-- A filters object read once per query into arrays (normalised the way the columns are), so the
-- per-row test below is a plain expression the planner inlines.
CREATE TYPE serve.filter_set AS (cost_centres text[], cities text[], accounts text[], vehicles text[]);

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
