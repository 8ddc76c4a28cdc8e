-- A fix stamped in the future (a device clock glitch, a year rollover, local time sent as UTC)
-- used to win the live position's "only a newer fix" guard until real time caught up with it: one
-- fix dated 2030 froze a vehicle on the live map for years. The live projector now ranks a fix by
-- its time, but never later than its arrival plus this tolerance: a glitch holds for at most the
-- tolerance, and a device whose clock runs ahead keeps moving. Fixes are stored as reported.
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fix_clock_ahead_sec', 'threshold', 300, '<=', 'seconds', NULL,
     'A fix time later than its arrival by more than this is not trusted for ordering: the live position ranks it at arrival plus this')
ON CONFLICT (metric) DO NOTHING;

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
