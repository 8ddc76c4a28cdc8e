-- One pass of the geocoder: up to $2 positions that are shown somewhere and have no cached
-- address yet — every vehicle's live position, and the trip starts and ends, stops, alarms and
-- fuel fills (state.fill_positions: filled or placed) since $1 — geocoded from the loaded extract and cached. Returns how many were written.
WITH shown AS (
    SELECT lat, lng FROM state.live_positions
    UNION ALL SELECT start_lat, start_lng FROM state.trips WHERE start_time >= $1
    UNION ALL SELECT end_lat, end_lng FROM state.trips WHERE start_time >= $1
    UNION ALL SELECT lat, lng FROM state.parking_events WHERE start_time >= $1
    UNION ALL SELECT lat, lng FROM state.alarms WHERE alarm_time >= $1
    UNION ALL SELECT lat, lng FROM state.fill_positions WHERE filled_at >= $1 OR placed_at >= $1
),
want AS (
    SELECT DISTINCT geo.geocode_key(lat) AS lat_e5, geo.geocode_key(lng) AS lng_e5
      FROM shown
     WHERE lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180
       AND NOT (lat = 0 AND lng = 0)
),
todo AS (
    SELECT w.* FROM want w
     WHERE NOT EXISTS (SELECT 1 FROM state.geocoded_positions g WHERE g.lat_e5 = w.lat_e5 AND g.lng_e5 = w.lng_e5)
     LIMIT $2
),
ins AS (
    INSERT INTO state.geocoded_positions (lat_e5, lng_e5, address, provider, parts)
    SELECT t.lat_e5, t.lng_e5, r.address, 'osm', r.parts
      FROM todo t, LATERAL geo.reverse_geocode(t.lat_e5 / 1e5, t.lng_e5 / 1e5) r
    ON CONFLICT (lat_e5, lng_e5) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins
