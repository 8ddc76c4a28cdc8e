-- One SLO measurement at $1: a row per SLO in slo.measurements (value NULL = no data in the
-- window). Every window and threshold is read from slo.targets (ARCHITECTURE §1 rule 7).
WITH w AS (
    SELECT metric, coalesce(window_interval, interval '5 minutes') AS span FROM slo.targets
),
freshness AS (
    -- a fix is never fresher than its arrival (a clock running ahead)
    SELECT count(*) FILTER (WHERE least(l.fix_time, l.received_at) > $1 - make_interval(secs => (SELECT threshold FROM slo.targets WHERE metric = 'fresh_fix_sec'))) AS fresh,
           count(*) AS active
      FROM state.live_positions l
     WHERE l.received_at > $1 - (SELECT span FROM w WHERE metric = 'fix_freshness_pct_60s')
       AND l.received_at <= $1
       AND NOT EXISTS (SELECT 1 FROM domain.devices d
                        WHERE d.imei = l.imei AND d.lifecycle IN ('suspended', 'decommissioned'))
),
parser AS (
    SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY lag_s) AS p95, count(*) AS n, max(lag_s) AS worst
      FROM (SELECT extract(epoch FROM coalesce(least(r.parsed_at, $1), $1) - r.received_at) AS lag_s
              FROM events.raw r
             WHERE r.received_at > $1 - (SELECT span FROM w WHERE metric = 'parser_lag_p95_sec')
               AND r.received_at <= $1
            UNION ALL
            -- Rows still waiting from before the window count with their age so far: a stopped
            -- worker shows as lag, not as "no data".
            SELECT extract(epoch FROM $1 - r.received_at)
              FROM events.raw r
             WHERE r.parsed_at IS NULL
               AND r.received_at <= $1 - (SELECT span FROM w WHERE metric = 'parser_lag_p95_sec')) x
),
trip AS (
    SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM t.reported_at - t.end_time)) AS p95,
           count(*) AS n
      FROM state.trips t
     WHERE t.reported_at > $1 - (SELECT span FROM w WHERE metric = 'trip_lag_p95_sec')
       AND t.reported_at <= $1
),
route AS (
    SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS p95, count(*) AS n
      FROM ops.route_requests r
     WHERE r.requested_at > $1 - (SELECT span FROM w WHERE metric = 'route_p95_ms')
       AND r.requested_at <= $1
),
matcher AS (
    -- the oldest closed bucket of fixes waiting for the map matcher (fleet_geo::matching::project)
    SELECT count(*) FILTER (WHERE q.bucket + geo.match_bucket_width() + st.settle <= $1) AS n,
           coalesce(max(extract(epoch FROM $1 - greatest(q.bucket + geo.match_bucket_width() + st.settle, q.queued_at)))
                        FILTER (WHERE q.bucket + geo.match_bucket_width() + st.settle <= $1), 0) AS lag_s
      FROM geo.match_queue q
     RIGHT JOIN (SELECT make_interval(secs => coalesce((SELECT threshold FROM slo.targets WHERE metric = 'match_settle_sec'), 30)) AS settle) st ON true
),
contract AS (
    SELECT count(*) AS n,
           max(finished_at) FILTER (WHERE outcome = 'clean') AS last_clean,
           min(started_at) AS first_run,
           (array_agg(outcome ORDER BY started_at DESC))[1] AS latest
      FROM ops.contract_runs
     WHERE outcome <> 'running' AND started_at <= $1
)
INSERT INTO slo.measurements (metric, measured_at, value, samples, details)
SELECT m.metric, $1, m.value, m.samples, m.details
  FROM (
    SELECT 'fix_freshness_pct_60s' AS metric,
           CASE WHEN f.active > 0 THEN 100.0 * f.fresh / f.active END AS value,
           f.active::int AS samples,
           jsonb_build_object('fresh', f.fresh, 'active', f.active) AS details
      FROM freshness f
    UNION ALL
    SELECT 'parser_lag_p95_sec', p.p95, p.n::int, jsonb_build_object('worst_s', p.worst) FROM parser p
    UNION ALL
    SELECT 'trip_lag_p95_sec', t.p95, t.n::int, '{}'::jsonb FROM trip t
    UNION ALL
    SELECT 'route_p95_ms', r.p95, r.n::int, '{}'::jsonb FROM route r
    UNION ALL
    -- nothing waiting is a lag of 0 while fixes arrive, no data while none do
    SELECT 'match_lag_sec',
           CASE WHEN mt.n > 0 OR EXISTS (SELECT 1 FROM state.live_positions l
                                          WHERE l.received_at > $1 - (SELECT span FROM w WHERE metric = 'match_lag_sec')
                                            AND l.received_at <= $1)
                THEN mt.lag_s END,
           mt.n::int, jsonb_build_object('waiting_buckets', mt.n) FROM matcher mt
    UNION ALL
    SELECT 'contract_drift_days',
           -- Never verified counts from one window before the first check, so a first check
           -- that finds drift is already out of target.
           CASE WHEN c.n > 0 THEN extract(epoch FROM $1 - coalesce(c.last_clean,
                     c.first_run - (SELECT span FROM w WHERE metric = 'contract_drift_days'))) / 86400.0 END,
           c.n::int,
           jsonb_build_object('last_clean', c.last_clean, 'latest_outcome', c.latest)
      FROM contract c
  ) m
 WHERE EXISTS (SELECT 1 FROM slo.targets t WHERE t.metric = m.metric)
ON CONFLICT (metric, measured_at) DO UPDATE SET value = excluded.value, samples = excluded.samples, details = excluded.details
