CREATE OR REPLACE FUNCTION serve.fn_not_moved_today(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH today AS (SELECT serve.fn_fleet_today(filters) AS j),
    rows AS (SELECT r FROM today, jsonb_array_elements(today.j -> 'rows') r
              WHERE (r ->> 'trips')::int = 0 AND r ->> 'state' <> 'moving')
    SELECT jsonb_build_object('summary', jsonb_build_object('day', serve.local_day(now()), 'vehicles', count(*)),
                              'rows', coalesce(jsonb_agg(r ORDER BY r ->> 'vehicle_number'), '[]'::jsonb))
      FROM rows
$$;
