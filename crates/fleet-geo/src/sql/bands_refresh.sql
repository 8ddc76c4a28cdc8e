-- Speed bands of the segment directions $1/$2 as of $3: per EAT day of week and hour, and over
-- all hours (dow = hod = -1), from the traversals of the band window that are plausible for the
-- road: not slower than band_min_kmh (a vehicle standing on it), not faster than
-- band_max_factor times its free-flow speed (limit or class speed, from its cost).
WITH t AS (
    SELECT coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_window_days'), 56) AS days,
           coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_min_kmh'), 2) AS min_kmh,
           coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_max_factor'), 1.8) AS factor
),
obs AS (
    SELECT o.segment_id, o.forward, o.dow, o.hod, o.speed_kmh
      FROM unnest($1::int8[], $2::bool[]) AS k(segment_id, forward)
      JOIN geo.segment_observations o ON o.segment_id = k.segment_id AND o.forward = k.forward
      LEFT JOIN geo.ways w ON w.gid = o.segment_id
     CROSS JOIN t
     WHERE o.entered_at > $3 - make_interval(days => t.days::int) AND o.entered_at <= $3
       AND o.speed_kmh >= t.min_kmh
       AND o.speed_kmh <= t.factor * coalesce(
               w.length_m * 3.6 / nullif(greatest(CASE WHEN o.forward THEN w.cost ELSE w.reverse_cost END, 0), 0), 50)
)
INSERT INTO geo.segment_speed_band (segment_id, forward, dow, hod, samples, mean_kmh, median_kmh, p85_kmh, refreshed_at)
SELECT segment_id, forward, coalesce(dow, -1), coalesce(hod, -1), count(*), avg(speed_kmh),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY speed_kmh),
       percentile_cont(0.85) WITHIN GROUP (ORDER BY speed_kmh), $3
  FROM obs
 GROUP BY GROUPING SETS ((segment_id, forward, dow, hod), (segment_id, forward))
 ORDER BY 1, 2, 3, 4
