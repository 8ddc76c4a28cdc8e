-- ---------------------------------------------------------------------------------------------
-- Small shared rules
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.local_tz() RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'Africa/Nairobi'::text
$$;
COMMENT ON FUNCTION serve.local_tz() IS 'The time zone every page shows and every "day" is cut in (EAT).';
