-- Read replicas (issue 17): the replay lag past which the gateway stops reading from the hot
-- standby of DATABASE_READ_URL and reads from the primary instead, until the standby catches up.
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('replica_lag_sec', 'threshold', 30, '<=', 'seconds', NULL,
     'Views and analytics read from the replica (DATABASE_READ_URL) while its replay lag is at most this; beyond, from the primary')
ON CONFLICT (metric) DO NOTHING;
