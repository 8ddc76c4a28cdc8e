-- A coordinate as the geocoder's cache key: rounded to 1e-4 degrees (about 11 m: an address
-- does not change within it), in units of 1e-5 (state.geocoded_positions.lat_e5 / lng_e5).
CREATE OR REPLACE FUNCTION geo.geocode_key(x double precision)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (round(x * 1e4) * 10)::integer
$$;
COMMENT ON FUNCTION geo.geocode_key(double precision) IS
    'A coordinate rounded to 1e-4 degrees, in units of 1e-5: the geocoder''s cache key.';
