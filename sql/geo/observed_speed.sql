-- The observed speed of a segment direction in an EAT day of week and hour, as routing takes it:
-- the band's median with at least band_min_samples traversals, else the segment's all-hours
-- median with as many, else nothing (the caller falls back to the limit or class speed).
CREATE OR REPLACE FUNCTION geo.observed_speed(p_segment bigint, p_forward boolean, p_dow int, p_hod int,
                                              OUT speed_kmh real, OUT basis text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(b.median_kmh, a.median_kmh),
           CASE WHEN b.median_kmh IS NOT NULL THEN 'band' WHEN a.median_kmh IS NOT NULL THEN 'all_hours' END
      FROM (SELECT coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_min_samples'), 5) AS least) t
      LEFT JOIN geo.segment_speed_band b
             ON b.segment_id = p_segment AND b.forward = p_forward AND b.dow = p_dow AND b.hod = p_hod
            AND b.samples >= t.least
      LEFT JOIN geo.segment_speed_band a
             ON a.segment_id = p_segment AND a.forward = p_forward AND a.dow = -1 AND a.hod = -1
            AND a.samples >= t.least
$$;
COMMENT ON FUNCTION geo.observed_speed(bigint, boolean, int, int) IS
    'Observed km/h of a segment direction at an EAT day of week and hour (band, else all hours, with band_min_samples), and which it was.';
