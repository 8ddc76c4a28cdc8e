-- The positions to ask Nominatim about next: up to $2 shown since $1 that it has not answered,
-- most important first (fuel fills, stops, trip ends, trip starts, alarms, then live
-- positions: geo.shown_positions), newest first within each.
WITH keys AS (SELECT * FROM geo.shown_positions($1))
SELECT k.lat_e5, k.lng_e5 FROM keys k
 WHERE NOT EXISTS (SELECT 1 FROM state.geocoded_positions g
                    WHERE g.lat_e5 = k.lat_e5 AND g.lng_e5 = k.lng_e5 AND g.provider = 'nominatim')
 ORDER BY k.rank, k.at DESC NULLS LAST
 LIMIT $2
