-- One pass of the geocoder: up to $2 positions that are shown somewhere and have no cached
-- address yet — every vehicle's live position, and the trip starts and ends, stops, alarms and
-- fuel fills (state.fill_positions: filled or placed) since $1 (geo.shown_positions) — geocoded from the loaded extract and cached. Returns how many were written.
WITH want AS (
    SELECT lat_e5, lng_e5 FROM geo.shown_positions($1)
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
