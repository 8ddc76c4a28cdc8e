-- A record's problems once the database has had its say: the reading's own, a plate that is not
-- one, an unknown fuel type, a UGX amount with no rate. One place for the projector, the dry run
-- and the re-normalising after a mapping (single expressions, so the planner inlines them).
CREATE OR REPLACE FUNCTION fuel.checked_errors(read_errors text[], car text, plate_key text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(read_errors, '{}') || CASE WHEN car IS NOT NULL AND plate_key IS NULL
                                               THEN ARRAY[format('number plate %L not understood', car)] ELSE '{}' END
$$;
COMMENT ON FUNCTION fuel.checked_errors(text[], text, text) IS 'Why a record is unusable: the reading''s errors and a plate that is not one.';
