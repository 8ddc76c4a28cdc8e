-- The positions the product shows with an address, keyed as the geocoder caches them
-- (geo.geocode_key): every vehicle's live position, and the fuel fills (filled or placed), stops,
-- trip ends and starts and alarms since `since`. `rank` orders them by importance (1 = a fill …
-- 6 = a live position) and `at` is the newest time a key was shown. The offline geocoder's pass
-- and the Nominatim queue both read this one list.
CREATE OR REPLACE FUNCTION geo.shown_positions(since timestamptz)
RETURNS TABLE (lat_e5 integer, lng_e5 integer, rank integer, at timestamptz) LANGUAGE sql STABLE AS $$
    WITH shown AS (
        SELECT lat, lng, 1 AS rank, filled_at AS at FROM state.fill_positions WHERE filled_at >= since OR placed_at >= since
        UNION ALL SELECT lat, lng, 2, start_time FROM state.parking_events WHERE start_time >= since
        UNION ALL SELECT end_lat, end_lng, 3, start_time FROM state.trips WHERE start_time >= since
        UNION ALL SELECT start_lat, start_lng, 4, start_time FROM state.trips WHERE start_time >= since
        UNION ALL SELECT lat, lng, 5, alarm_time FROM state.alarms WHERE alarm_time >= since
        UNION ALL SELECT lat, lng, 6, fix_time FROM state.live_positions
    )
    SELECT geo.geocode_key(lat), geo.geocode_key(lng), min(rank), max(at)
      FROM shown
     WHERE lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180 AND NOT (lat = 0 AND lng = 0)
     GROUP BY 1, 2
$$;
COMMENT ON FUNCTION geo.shown_positions(timestamptz) IS
    'Positions shown with an address since a time (live positions, fills, stops, trip ends and starts, alarms), keyed as the geocode cache is, with their importance rank and newest time.';
