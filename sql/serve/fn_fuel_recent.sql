CREATE OR REPLACE FUNCTION serve.fn_fuel_recent(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object('rows', coalesce(jsonb_agg(serve.fuel_row(f) ORDER BY f.filled_at DESC, f.record_id), '[]'))
      FROM (SELECT * FROM serve.fuel_fills(filters) ORDER BY filled_at DESC, record_id LIMIT 50) f
$$;
