CREATE OR REPLACE FUNCTION serve.local_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (ts AT TIME ZONE 'Africa/Nairobi')::date
$$;
COMMENT ON FUNCTION serve.local_day(timestamptz) IS 'The EAT day a timestamp falls in.';
