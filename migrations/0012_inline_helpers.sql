-- Per-row helpers that the planner can inline again (issue 5, view performance).
--
-- A SQL function is inlined into the query that calls it only when its body is no more volatile
-- than its declaration. Two helpers declared IMMUTABLE had STABLE bodies (a timestamp -> text cast
-- depends on DateStyle; `text || bigint` goes through the generic, stable anytextcat), so every row
-- of every view called them as separate SQL statements. And a non-materialised one-row CTE holding
-- the checked filter range was pulled into per-row join conditions, re-checking the filters on
-- every trip and alarm. The plate normaliser was STRICT, which the planner cannot inline over a
-- body with NULLIF (it gives the same NULL for a NULL plate without the flag). The test `view_helpers_are_inlined` keeps both from coming back.

CREATE OR REPLACE FUNCTION serve.local_time(ts timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- (a cast, five times cheaper than to_char; the platform's connections use DateStyle ISO)
    SELECT date_trunc('second', ts AT TIME ZONE 'Africa/Nairobi')::text
$$;

CREATE OR REPLACE FUNCTION serve.normalize_plate(plate text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT AS $$
    SELECT nullif(regexp_replace(upper(plate), '[^A-Z0-9]', '', 'g'), '')
$$;

CREATE OR REPLACE FUNCTION serve.unit_key(vehicle_id bigint, imei text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce('v' || vehicle_id::text, 'd' || imei)
$$;

CREATE OR REPLACE FUNCTION serve.range_trips(filters jsonb)
RETURNS TABLE (unit_key text, vehicle_number text, cost_centre text, imei text, driver text, day date,
               start_time timestamptz, end_time timestamptz, distance_m double precision,
               duration_s integer, max_speed_kmh real)
LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during)
    SELECT u.unit_key, u.vehicle_number, u.cost_centre, u.imei,
           coalesce(dr.name, u.driver_name, 'Unassigned'), serve.local_day(t.start_time),
           t.start_time, t.end_time, t.distance_m, t.duration_s, t.max_speed_kmh
      FROM r
     CROSS JOIN serve.range_units(filters, r.during) u
      JOIN state.trips t ON t.imei = u.imei AND t.start_time >= lower(r.during) AND t.start_time < upper(r.during)
      LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> t.start_time
      LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
$$;

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
