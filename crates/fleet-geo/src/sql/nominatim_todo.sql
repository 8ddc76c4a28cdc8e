-- The positions to ask Nominatim about next: up to $2 shown since $1 that it has not answered,
-- most important first (fuel fills, stops, trip ends, trip starts, alarms, then live
-- positions), newest first within each.
WITH shown AS (
    SELECT lat, lng, 1 AS rank, filled_at AS at FROM state.fill_positions WHERE filled_at >= $1 OR placed_at >= $1
    UNION ALL SELECT lat, lng, 2, start_time FROM state.parking_events WHERE start_time >= $1
    UNION ALL SELECT end_lat, end_lng, 3, start_time FROM state.trips WHERE start_time >= $1
    UNION ALL SELECT start_lat, start_lng, 4, start_time FROM state.trips WHERE start_time >= $1
    UNION ALL SELECT lat, lng, 5, alarm_time FROM state.alarms WHERE alarm_time >= $1
    UNION ALL SELECT lat, lng, 6, fix_time FROM state.live_positions
),
keys AS (
    SELECT geo.geocode_key(lat) AS lat_e5, geo.geocode_key(lng) AS lng_e5, min(rank) AS rank, max(at) AS at
      FROM shown
     WHERE lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180 AND NOT (lat = 0 AND lng = 0)
     GROUP BY 1, 2
)
SELECT k.lat_e5, k.lng_e5 FROM keys k
 WHERE NOT EXISTS (SELECT 1 FROM state.geocoded_positions g
                    WHERE g.lat_e5 = k.lat_e5 AND g.lng_e5 = k.lng_e5 AND g.provider = 'nominatim')
 ORDER BY k.rank, k.at DESC NULLS LAST
 LIMIT $2
