CREATE OR REPLACE FUNCTION serve.fn_fleet_km_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    days AS (SELECT d::date AS day
               FROM r, generate_series(serve.local_day(lower(r.during)), serve.local_day(upper(r.during) - interval '1 microsecond'), interval '1 day') d),
    t AS (SELECT day, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                 count(DISTINCT unit_key) AS vehicles
            FROM serve.range_trips(filters) GROUP BY day)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('days', count(*), 'km', round(coalesce(sum(t.km), 0)::numeric, 1),
                                      'trips', coalesce(sum(t.trips), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object('day', days.day, 'km', round(coalesce(t.km, 0)::numeric, 1),
                                                     'trips', coalesce(t.trips, 0), 'driving_s', coalesce(t.driving_s, 0),
                                                     'vehicles', coalesce(t.vehicles, 0)) ORDER BY days.day), '[]'::jsonb))
      FROM days LEFT JOIN t USING (day)
$$;
