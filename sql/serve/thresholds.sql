CREATE OR REPLACE FUNCTION serve.thresholds(OUT moving_kmh double precision, OUT stale_s double precision,
                                 OUT offline_s double precision, OUT fresh_s double precision)
LANGUAGE sql STABLE AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'moving_speed_kmh'),
           max(threshold) FILTER (WHERE metric = 'stale_gps_sec'),
           max(threshold) FILTER (WHERE metric = 'offline_sec'),
           max(threshold) FILTER (WHERE metric = 'fresh_fix_sec')
      FROM slo.targets WHERE kind = 'threshold'
$$;
COMMENT ON FUNCTION serve.thresholds() IS 'The operational thresholds, read once per query from slo.targets.';
