CREATE OR REPLACE FUNCTION serve.plate_tail(plate_key text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT right(plate_key, 4)
$$;
COMMENT ON FUNCTION serve.plate_tail(text) IS 'The short label on a map dot: "KCA542Q" -> "542Q".';
