-- Polling, the contract checker and SLO measurement (issue 4).

-- Contract checks: one run a day, one row per vendor method checked.
CREATE TABLE ops.contract_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    target          text NOT NULL,
    outcome         text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'clean', 'drift', 'error')),
    methods_checked integer NOT NULL DEFAULT 0,
    problems        integer NOT NULL DEFAULT 0
);
COMMENT ON TABLE ops.contract_runs IS
    'Each run of the vendor contract check: clean (every method matched its typed contract), drift (a response broke it) or error (the vendor could not be asked).';
CREATE INDEX contract_runs_started_idx ON ops.contract_runs (started_at DESC);

CREATE TABLE ops.contract_results (
    run_id          bigint NOT NULL REFERENCES ops.contract_runs (run_id) ON DELETE CASCADE,
    method          text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'drift', 'error')),
    records         integer,
    problems        jsonb NOT NULL DEFAULT '[]'::jsonb,
    sample          jsonb,
    duration_ms     integer,
    PRIMARY KEY (run_id, method)
);
COMMENT ON TABLE ops.contract_results IS
    'Per run and vendor method: what was wrong with the response (field, expected, found) and one sample record to compare against the contract.';

-- Route requests, for route_p95_ms (the routing endpoint writes one row per request).
CREATE TABLE ops.route_requests (
    requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms     double precision NOT NULL CHECK (duration_ms >= 0),
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'no_route', 'error'))
) PARTITION BY RANGE (requested_at);
COMMENT ON TABLE ops.route_requests IS 'Every route request''s latency and outcome; route_p95_ms is measured from it.';
CREATE TABLE IF NOT EXISTS ops.route_requests_default PARTITION OF ops.route_requests DEFAULT;
INSERT INTO ops.partitioned_tables (parent, granularity, premake, retention)
VALUES ('ops.route_requests', 'month', 2, interval '90 days') ON CONFLICT DO NOTHING;
CREATE INDEX route_requests_time_idx ON ops.route_requests (requested_at);

-- When a trip was first reported to us, so trip_lag_p95_sec is the same after a replay.
ALTER TABLE state.trips ADD COLUMN reported_at timestamptz;
COMMENT ON COLUMN state.trips.reported_at IS 'When the first report of this trip reached events.raw (received_at); trip lag = reported_at - end_time.';
UPDATE state.trips t SET reported_at = r.received_at FROM events.raw r WHERE r.id = t.raw_id;
CREATE INDEX trips_reported_idx ON state.trips (reported_at);

-- Raw rows are appended in time order: a BRIN index makes "received in the last minutes"
-- cheap for the parser-lag SLO at almost no write cost.
CREATE INDEX raw_received_brin ON events.raw USING brin (received_at);

-- The SLO definitions in full, as the measurement job computes them.
UPDATE slo.targets SET description = 'Of the active devices (not suspended or decommissioned) whose latest fix reached us within the window, the share whose fix is younger than 60 s' WHERE metric = 'fix_freshness_pct_60s';
UPDATE slo.targets SET description = 'p95, over trips first reported within the window, of the delay from the trip''s end to its first report' WHERE metric = 'trip_lag_p95_sec';
UPDATE slo.targets SET description = 'p95 delay from a raw row''s arrival to its parse, over rows that arrived within the window and rows still waiting' WHERE metric = 'parser_lag_p95_sec';
UPDATE slo.targets SET description = 'Days since the vendor contract check last found every method drift-free (never verified counts from one window before the first check)' WHERE metric = 'contract_drift_days';
UPDATE slo.targets SET description = 'p95 latency of route requests within the window' WHERE metric = 'route_p95_ms';
