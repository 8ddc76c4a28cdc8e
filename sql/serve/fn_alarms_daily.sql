CREATE OR REPLACE FUNCTION serve.fn_alarms_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    a AS (SELECT serve.local_day(a.alarm_time) AS day, coalesce(a.alarm_name, a.alarm_type) AS alarm,
                 serve.alarm_class(a.alarm_type, a.alarm_name) AS class, count(*) AS n,
                 count(ack.acked_at) AS acked
            FROM r CROSS JOIN serve.range_units(filters, r.during) u
            JOIN state.alarms a ON a.imei = u.imei AND a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)
            LEFT JOIN ops.alarm_acks ack ON (ack.imei, ack.alarm_type, ack.alarm_time) = (a.imei, a.alarm_type, a.alarm_time)
           GROUP BY 1, 2, 3)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('alarms', coalesce(sum(n), 0), 'acked', coalesce(sum(acked), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object('day', day, 'alarm', alarm, 'class', class, 'count', n, 'acked', acked)
                                   ORDER BY day DESC, n DESC, alarm), '[]'::jsonb))
      FROM a
$$;
