-- The map matcher's unit of work: a device's fixes in one 5-minute bucket (UTC-aligned, so EAT
-- days are whole buckets). A bucket is matched with the fix before it as its lead-in.
CREATE OR REPLACE FUNCTION geo.match_bucket(t timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT date_bin(geo.match_bucket_width(), t, timestamptz '2000-01-01 00:00:00+00')
$$;
COMMENT ON FUNCTION geo.match_bucket(timestamptz) IS 'The start of the 5-minute map-matching bucket holding t.';
