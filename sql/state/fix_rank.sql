CREATE OR REPLACE FUNCTION state.fix_rank(fix_time timestamptz, received_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT least(fix_time, received_at + coalesce(
        (SELECT threshold FROM slo.targets WHERE metric = 'fix_clock_ahead_sec'), 300) * interval '1 second')
$$;
COMMENT ON FUNCTION state.fix_rank(timestamptz, timestamptz) IS
    'The time a fix counts as for "newest fix" ordering: its own, but never later than its arrival plus slo.targets fix_clock_ahead_sec.';
