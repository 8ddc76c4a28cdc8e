-- From this map zoom up the live view answers one feature per vehicle; a view asked for a lower
-- zoom answers vehicle counts per grid cell instead (issue 20 item 2): a country-wide map of
-- 10,000 vehicles is a few hundred cells.
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('live_vehicles_from_zoom', 'threshold', 10, '>=', 'zoom', NULL,
     'The live view shows each vehicle from this map zoom up; below it, counts per grid cell of 64 screen pixels');
