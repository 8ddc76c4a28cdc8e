CREATE OR REPLACE FUNCTION serve.matches(fs serve.filter_set, cost_centre text, city text, plate_key text, imei text, account text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (fs.cost_centres IS NULL OR upper(cost_centre) = ANY (fs.cost_centres))
       AND (fs.cities IS NULL OR lower(city) = ANY (fs.cities))
       AND (fs.accounts IS NULL OR account = ANY (fs.accounts))
       AND (fs.vehicles IS NULL OR plate_key = ANY (fs.vehicles) OR upper(imei) = ANY (fs.vehicles))
$$;
COMMENT ON FUNCTION serve.matches(serve.filter_set, text, text, text, text, text) IS
    'Whether a vehicle passes the filters: cost centres, cities (any case), accounts, vehicles (plates in any spelling, or IMEIs).';
