CREATE OR REPLACE FUNCTION serve.local_time(ts timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- (a cast, five times cheaper than to_char; the platform's connections use DateStyle ISO)
    SELECT date_trunc('second', ts AT TIME ZONE 'Africa/Nairobi')::text
$$;
COMMENT ON FUNCTION serve.local_time(timestamptz) IS 'A timestamp as the pages print it: EAT, "2026-11-24 14:05:09".';
