-- A fix stamped in the future (a device clock glitch, a year rollover, local time sent as UTC)
-- used to win the live position's "only a newer fix" guard until real time caught up with it: one
-- fix dated 2030 froze a vehicle on the live map for years. The live projector now ranks a fix by
-- its time, but never later than its arrival plus this tolerance: a glitch holds for at most the
-- tolerance, and a device whose clock runs ahead keeps moving. Fixes are stored as reported.
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fix_clock_ahead_sec', 'threshold', 300, '<=', 'seconds', NULL,
     'A fix time later than its arrival by more than this is not trusted for ordering: the live position ranks it at arrival plus this')
ON CONFLICT (metric) DO NOTHING;

CREATE FUNCTION state.fix_rank(fix_time timestamptz, received_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT least(fix_time, received_at + coalesce(
        (SELECT threshold FROM slo.targets WHERE metric = 'fix_clock_ahead_sec'), 300) * interval '1 second')
$$;
COMMENT ON FUNCTION state.fix_rank(timestamptz, timestamptz) IS
    'The time a fix counts as for "newest fix" ordering: its own, but never later than its arrival plus slo.targets fix_clock_ahead_sec.';
