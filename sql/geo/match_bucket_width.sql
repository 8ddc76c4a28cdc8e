-- How long a map-matching bucket is (geo.match_bucket).
CREATE OR REPLACE FUNCTION geo.match_bucket_width() RETURNS interval LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT interval '5 minutes'
$$;
COMMENT ON FUNCTION geo.match_bucket_width() IS 'The length of a map-matching bucket.';
