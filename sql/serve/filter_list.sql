-- ---------------------------------------------------------------------------------------------
-- Filters: one JSON object. Adding a filter is a key in serve.check_filters and a line in
-- serve.matches (or serve.filter_range for time).
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.filter_list(filters jsonb, key text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(filters -> key)
        WHEN 'array' THEN (SELECT array_agg(e) FROM jsonb_array_elements_text(filters -> key) e WHERE e <> '')
        WHEN 'string' THEN CASE WHEN filters ->> key <> '' THEN ARRAY[filters ->> key] END
    END
$$;
