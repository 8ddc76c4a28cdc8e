CREATE OR REPLACE FUNCTION serve.fn_currently_idle(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    -- Idling: ignition on while parked (stationary, fresh fix, not suspended).
    WITH idle AS (
        SELECT u.*, (SELECT max(p.start_time) FROM state.parking_events p
                      WHERE p.imei = u.imei AND p.kind = 'idling' AND p.end_time IS NULL) AS idle_since
          FROM serve.fleet_units(serve.check_filters(filters)) u
         WHERE u.state = 'parked' AND u.acc_on)
    SELECT jsonb_build_object('summary', jsonb_build_object('vehicles', count(*)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'vehicle_number', vehicle_number, 'cost_centre', cost_centre, 'driver_name', driver_name,
            'lat', lat, 'lng', lng, 'fix_time_local', serve.local_time(fix_time),
            'idle_since_local', serve.local_time(idle_since),
            'idle_s', round(extract(epoch FROM now() - idle_since)::numeric))
            ORDER BY idle_since NULLS LAST, vehicle_number), '[]'::jsonb))
      FROM idle
$$;
