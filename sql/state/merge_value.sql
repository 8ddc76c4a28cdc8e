CREATE OR REPLACE FUNCTION state.merge_value(incoming_is_newer boolean, incoming anyelement, existing anyelement)
RETURNS anyelement LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN incoming_is_newer THEN coalesce(incoming, existing) ELSE coalesce(existing, incoming) END
$$;
COMMENT ON FUNCTION state.merge_value(boolean, anyelement, anyelement) IS
    'The newer report''s value wins, but a null never erases a known value: merging reports in any order gives the same row.';
