CREATE OR REPLACE FUNCTION serve.fn_driver_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    trips AS (SELECT driver, day, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                     max(max_speed_kmh) AS max_speed
                FROM serve.range_trips(filters) GROUP BY 1, 2),
    al AS (SELECT coalesce(dr.name, u.driver_name, 'Unassigned') AS driver, serve.local_day(a.alarm_time) AS day,
                  count(*) FILTER (WHERE serve.alarm_class(a.alarm_type, a.alarm_name) = 'harsh') AS harsh,
                  count(*) FILTER (WHERE serve.alarm_class(a.alarm_type, a.alarm_name) = 'speeding') AS speeding
             FROM r CROSS JOIN serve.range_units(filters, r.during) u
             JOIN state.alarms a ON a.imei = u.imei AND a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)
             LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> a.alarm_time
             LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
            GROUP BY 1, 2),
    j AS (SELECT coalesce(t.driver, a.driver) AS driver, coalesce(t.day, a.day) AS day,
                 coalesce(t.trips, 0) AS trips, coalesce(t.km, 0) AS km, coalesce(t.driving_s, 0) AS driving_s,
                 t.max_speed, coalesce(a.harsh, 0) AS harsh, coalesce(a.speeding, 0) AS speeding
            FROM trips t FULL JOIN al a ON a.driver = t.driver AND a.day = t.day)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('drivers', count(DISTINCT driver), 'harsh_events', coalesce(sum(harsh), 0),
                                      'speeding_events', coalesce(sum(speeding), 0),
                                      'driving_s', coalesce(sum(driving_s), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'day', day, 'driver', driver, 'trips', trips, 'km', round(km::numeric, 1), 'driving_s', driving_s,
            'max_speed_kmh', max_speed, 'harsh_events', harsh, 'speeding_events', speeding,
            -- events per 100 km: the aggression index of the current stack
            'events_per_100km', CASE WHEN km > 0 THEN round(((harsh + speeding) * 100 / km)::numeric, 2) END)
            ORDER BY day DESC, driver), '[]'::jsonb))
      FROM j
$$;
