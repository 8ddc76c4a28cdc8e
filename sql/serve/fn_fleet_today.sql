CREATE OR REPLACE FUNCTION serve.fn_fleet_today(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH v AS (SELECT * FROM serve.fleet_units(serve.check_filters(filters))),
    t AS (SELECT unit_key, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                 min(start_time) AS first_start, max(end_time) AS last_end, max(max_speed_kmh) AS max_speed
            FROM serve.range_trips(filters - 'from' - 'to' - 'period_days') GROUP BY unit_key),
    rows AS (
        SELECT jsonb_build_object(
                   'vehicle_number', v.vehicle_number, 'cost_centre', v.cost_centre,
                   'state', v.state, 'driver_name', v.driver_name,
                   'trips', coalesce(t.trips, 0), 'km', round(coalesce(t.km, 0)::numeric, 1),
                   'driving_s', coalesce(t.driving_s, 0), 'max_speed_kmh', t.max_speed,
                   'first_start_local', serve.local_time(t.first_start), 'last_end_local', serve.local_time(t.last_end),
                   'last_fix_local', serve.local_time(v.fix_time)) AS j, coalesce(t.km, 0) AS km, coalesce(t.trips, 0) AS trips,
               coalesce(t.driving_s, 0) AS driving_s
          FROM v LEFT JOIN t ON t.unit_key = v.unit_key)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('day', serve.local_day(now()), 'vehicles', count(*),
                                      'moved', count(*) FILTER (WHERE trips > 0),
                                      'km', round(coalesce(sum(km), 0)::numeric, 1), 'trips', coalesce(sum(trips), 0),
                                      'driving_s', coalesce(sum(driving_s), 0)),
        'rows', coalesce(jsonb_agg(j ORDER BY km DESC, j ->> 'vehicle_number'), '[]'::jsonb))
      FROM rows
$$;
