-- Places the fills since $1 — filled since then, or imported or changed in the feed since then
-- however old (a month's import, a corrected time) — that have no place yet, or whose time or
-- vehicle changed, or that were placed by the feed's location and may have a fix now: the
-- vehicle's fix nearest the fill time within the reconciliation window (the last before and the
-- first after, by index), else the location the feed reported. Returns how many were placed.
WITH t AS MATERIALIZED (SELECT make_interval(secs => window_s) AS w FROM fuel.thresholds()),
todo AS (
    SELECT f.record_id, f.filled_at, f.imei, f.reported_lat, f.reported_lng
      FROM fuel.v_fills f
     WHERE f.record_id IN (SELECT record_id FROM fuel.records WHERE filled_at >= $1
                           UNION SELECT record_id FROM fuel.records WHERE updated_at >= $1)
       AND NOT EXISTS (SELECT 1 FROM state.fill_positions p
                        WHERE p.record_id = f.record_id AND p.filled_at = f.filled_at
                          AND p.imei IS NOT DISTINCT FROM f.imei AND p.source = 'gps')),
placed AS (
    SELECT d.record_id, d.filled_at, d.imei, coalesce(fix.lat, d.reported_lat) AS lat,
           coalesce(fix.lng, d.reported_lng) AS lng, fix.fix_time,
           CASE WHEN fix.fix_time IS NOT NULL THEN 'gps' ELSE 'reported' END AS source
      FROM todo d CROSS JOIN t
      LEFT JOIN LATERAL (
          SELECT h.lat, h.lng, h.fix_time
            FROM ((SELECT lat, lng, fix_time FROM state.position_history
                    WHERE imei = d.imei AND fix_time <= d.filled_at AND fix_time >= d.filled_at - t.w
                    ORDER BY fix_time DESC LIMIT 1)
                  UNION ALL
                  (SELECT lat, lng, fix_time FROM state.position_history
                    WHERE imei = d.imei AND fix_time > d.filled_at AND fix_time <= d.filled_at + t.w
                    ORDER BY fix_time LIMIT 1)) h
           ORDER BY abs(extract(epoch FROM h.fix_time - d.filled_at))
           LIMIT 1) fix ON d.imei IS NOT NULL
     WHERE coalesce(fix.lat, d.reported_lat) IS NOT NULL AND coalesce(fix.lng, d.reported_lng) IS NOT NULL),
ins AS (
    INSERT INTO state.fill_positions AS p (record_id, filled_at, imei, lat, lng, fix_time, source)
    SELECT record_id, filled_at, imei, lat, lng, fix_time, source FROM placed
    ON CONFLICT (record_id) DO UPDATE
       SET filled_at = excluded.filled_at, imei = excluded.imei, lat = excluded.lat, lng = excluded.lng,
           fix_time = excluded.fix_time, source = excluded.source, placed_at = now()
     WHERE (p.lat, p.lng, p.source, p.filled_at, p.imei) IS DISTINCT FROM
           (excluded.lat, excluded.lng, excluded.source, excluded.filled_at, excluded.imei)
    RETURNING 1)
SELECT count(*) FROM ins
