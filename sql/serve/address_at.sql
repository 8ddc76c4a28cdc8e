-- The cached address of a position (state.geocoded_positions, written by the geocoder), NULL
-- until the geocoder has been there. (The views join the cache themselves: a function that reads a
-- table is not inlined, and they must not call one per row.) The key is the position rounded to 1e-4 degrees (about
-- 11 m), in units of 1e-5 (geo.geocode_key).
CREATE OR REPLACE FUNCTION serve.address_at(p_lat double precision, p_lng double precision)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.address FROM state.geocoded_positions g
     WHERE g.lat_e5 = geo.geocode_key(p_lat) AND g.lng_e5 = geo.geocode_key(p_lng)
$$;
COMMENT ON FUNCTION serve.address_at(double precision, double precision) IS
    'The geocoder''s cached address of a position (rounded to about 11 m), or NULL.';
