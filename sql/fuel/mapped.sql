CREATE OR REPLACE FUNCTION fuel.mapped(kind text, value text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT m.canonical FROM fuel.mappings m WHERE m.kind = $1 AND m.raw_value = fuel.lookup_key($2)
$$;
