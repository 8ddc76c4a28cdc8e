CREATE OR REPLACE FUNCTION serve.fn_utilisation(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    span AS (SELECT extract(epoch FROM upper(r.during) - lower(r.during)) AS secs,
                    serve.local_day(upper(r.during) - interval '1 microsecond') - serve.local_day(lower(r.during)) + 1 AS days
               FROM r),
    u AS (SELECT ru.* FROM r, serve.range_units(filters, r.during) ru),
    t AS (SELECT unit_key, count(DISTINCT day) AS active_days, sum(duration_s) AS driving_s, sum(distance_m) / 1000 AS km
            FROM serve.range_trips(filters) GROUP BY unit_key),
    rows AS (SELECT u.vehicle_number, u.cost_centre, coalesce(t.active_days, 0) AS active_days,
                    coalesce(t.driving_s, 0) AS driving_s, coalesce(t.km, 0) AS km, span.days, span.secs
               FROM u CROSS JOIN span LEFT JOIN t USING (unit_key))
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'vehicles', count(*), 'days', max(days),
            'active_day_pct', round(coalesce(100.0 * sum(active_days) / nullif(sum(days), 0), 0)::numeric, 1),
            'driving_pct', round(coalesce(100.0 * sum(driving_s) / nullif(sum(secs), 0), 0)::numeric, 2)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'vehicle_number', vehicle_number, 'cost_centre', cost_centre, 'active_days', active_days, 'days', days,
            'active_day_pct', round((100.0 * active_days / days)::numeric, 1),
            'driving_s', driving_s, 'driving_pct', round((100.0 * driving_s / nullif(secs, 0))::numeric, 2),
            'km', round(km::numeric, 1)) ORDER BY active_days DESC, driving_s DESC, vehicle_number), '[]'::jsonb))
      FROM rows
$$;
