CREATE OR REPLACE FUNCTION domain.allowed_transitions(from_state text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(t.to_state ORDER BY t.to_state), '{}')
      FROM domain.lifecycle_transitions t WHERE t.from_state = $1
$$;
COMMENT ON FUNCTION domain.allowed_transitions(text) IS 'The states a device in from_state may move to (none: final).';
