-- A fill's address: where it happened (state.fill_positions: the nearest fix, else the place the
-- feed reported) as the geocoder wrote it; NULL until both are known.
CREATE OR REPLACE FUNCTION serve.fill_address(record_id text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT serve.address_at(p.lat, p.lng) FROM state.fill_positions p WHERE p.record_id = fill_address.record_id
$$;
COMMENT ON FUNCTION serve.fill_address(text) IS 'A fuel fill''s address (its placed position, geocoded), NULL until both are known.';
