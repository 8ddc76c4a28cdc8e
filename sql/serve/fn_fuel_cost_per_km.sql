-- Cost per km per vehicle and per department and EAT month: spend over GPS km (trips of the
-- vehicle's device, by the dedup rule of serve.range_units) and over odometer km where the
-- odometer is trusted (efficiency rows that count). A department's GPS km are its vehicles'
-- km, shared by the litres each department put in each vehicle that month. Flagged: no GPS km
-- with spend, a KES/km more than the outlier ratio off the month's median, odometer and GPS
-- apart by more than their tolerance.
CREATE OR REPLACE FUNCTION serve.fn_fuel_cost_per_km(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH c AS MATERIALIZED (SELECT serve.check_filters(filters) AS c),
    t AS MATERIALIZED (SELECT * FROM fuel.thresholds()),
    f AS MATERIALIZED (
        SELECT f.*, date_trunc('month', f.filled_at AT TIME ZONE 'Africa/Nairobi') AS m
          FROM serve.fuel_fills(filters) f WHERE NOT f.voided),
    spans AS MATERIALIZED (
        SELECT DISTINCT f.m, tstzrange(f.m AT TIME ZONE 'Africa/Nairobi', (f.m + interval '1 month') AT TIME ZONE 'Africa/Nairobi') AS during
          FROM f),
    units AS MATERIALIZED (
        SELECT s.m, s.during, u.vehicle_id, u.imei
          FROM spans s, c, serve.range_units(c.c - 'from' - 'to' - 'period_days' - 'departments', s.during) u
         WHERE u.vehicle_id IS NOT NULL),
    gps AS MATERIALIZED (
        SELECT u.m, u.vehicle_id, (sum(tr.distance_m) / 1000.0)::numeric AS gps_km
          FROM units u JOIN state.trips tr ON tr.imei = u.imei AND tr.start_time >= lower(u.during) AND tr.start_time < upper(u.during)
         GROUP BY u.m, u.vehicle_id),
    odo AS MATERIALIZED (
        SELECT f.m, f.vehicle_id, sum(e.odometer_km_delta) AS odometer_km
          FROM fuel.v_efficiency e JOIN f USING (record_id)
         WHERE e.km_per_l IS NOT NULL AND f.vehicle_id IS NOT NULL
         GROUP BY f.m, f.vehicle_id),
    vm AS MATERIALIZED (
        SELECT f.m, f.vehicle_id, min(f.vehicle_number) AS vehicle_number, count(*) AS fills, sum(f.litres) AS litres,
               sum(f.amount_kes) AS spend, array_agg(DISTINCT f.department) FILTER (WHERE f.department IS NOT NULL) AS departments
          FROM f WHERE f.vehicle_id IS NOT NULL GROUP BY f.m, f.vehicle_id),
    v AS MATERIALIZED (
        SELECT vm.*, g.gps_km, o.odometer_km,
               vm.spend / nullif(g.gps_km, 0) AS kes_per_gps_km, vm.spend / nullif(o.odometer_km, 0) AS kes_per_odometer_km
          FROM vm LEFT JOIN gps g USING (m, vehicle_id) LEFT JOIN odo o USING (m, vehicle_id)),
    vmed AS (SELECT m, percentile_cont(0.5) WITHIN GROUP (ORDER BY kes_per_gps_km)::numeric AS median
               FROM v WHERE kes_per_gps_km IS NOT NULL GROUP BY m),
    shares AS (
        SELECT f.m, f.vehicle_id, coalesce(f.department, 'Unknown') AS department, sum(f.litres) AS litres, sum(f.amount_kes) AS spend
          FROM f GROUP BY f.m, f.vehicle_id, coalesce(f.department, 'Unknown')),
    d AS MATERIALIZED (
        SELECT s.m, s.department, sum(s.spend) AS spend,
               sum(s.spend) FILTER (WHERE s.vehicle_id IS NULL) AS unmatched_spend,
               sum(s.spend) FILTER (WHERE v.gps_km > 0) AS tracked_spend,
               sum(v.gps_km * s.litres / nullif(v.litres, 0)) AS gps_km
          FROM shares s LEFT JOIN v ON v.m = s.m AND v.vehicle_id = s.vehicle_id
         GROUP BY s.m, s.department),
    dk AS (SELECT d.*, d.tracked_spend / nullif(d.gps_km, 0) AS kes_per_gps_km FROM d),
    dmed AS (SELECT m, percentile_cont(0.5) WITHIN GROUP (ORDER BY kes_per_gps_km)::numeric AS median
               FROM dk WHERE kes_per_gps_km IS NOT NULL GROUP BY m),
    flags AS (
        SELECT v.*, vmed.median, array_remove(ARRAY[
                   CASE WHEN coalesce(v.gps_km, 0) = 0 THEN 'fuel bought but no GPS km this month (no tracker trips)' END,
                   CASE WHEN v.kes_per_gps_km > vmed.median * t.cost_per_km_ratio
                        THEN format('%s KES/km is more than %s times the month''s median of %s', round(v.kes_per_gps_km, 1), t.cost_per_km_ratio, round(vmed.median, 1)) END,
                   CASE WHEN v.kes_per_gps_km < vmed.median / t.cost_per_km_ratio
                        THEN format('%s KES/km is less than 1/%s of the month''s median of %s', round(v.kes_per_gps_km, 1), t.cost_per_km_ratio, round(vmed.median, 1)) END,
                   CASE WHEN v.odometer_km > 0 AND v.gps_km > 0 AND abs(v.odometer_km - v.gps_km) > v.gps_km * t.gps_tol_pct / 100
                        THEN format('odometer says %s km, GPS %s km', round(v.odometer_km), round(v.gps_km)) END], NULL) AS flags
          FROM v LEFT JOIN vmed USING (m) CROSS JOIN t)
    SELECT jsonb_build_object(
        'totals', (SELECT jsonb_build_object('spend_kes', round(coalesce(sum(spend), 0)), 'gps_km', round(coalesce(sum(gps_km), 0), 1),
                                             'kes_per_gps_km', round(sum(spend) FILTER (WHERE gps_km > 0) / nullif(sum(gps_km), 0), 2),
                                             'vehicle_months', count(*), 'flagged', count(*) FILTER (WHERE flags <> '{}'))
                     FROM flags),
        'by_vehicle', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'month', to_char(m, 'YYYY-MM'), 'vehicle_number', vehicle_number, 'departments', to_jsonb(departments),
                           'fills', fills, 'litres', round(litres, 1), 'spend_kes', round(spend),
                           'gps_km', round(gps_km, 1), 'odometer_km', round(odometer_km, 1),
                           'kes_per_gps_km', round(kes_per_gps_km, 2), 'kes_per_odometer_km', round(kes_per_odometer_km, 2),
                           'month_median_kes_per_gps_km', round(median, 2), 'flags', to_jsonb(flags))
                           ORDER BY m DESC, flags = '{}', spend DESC, vehicle_number), '[]') FROM flags),
        'by_department', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                              'month', to_char(dk.m, 'YYYY-MM'), 'department', dk.department, 'spend_kes', round(dk.spend),
                              'unmatched_spend_kes', round(coalesce(dk.unmatched_spend, 0)), 'gps_km', round(dk.gps_km, 1),
                              'kes_per_gps_km', round(dk.kes_per_gps_km, 2), 'month_median_kes_per_gps_km', round(dmed.median, 2),
                              'flags', to_jsonb(array_remove(ARRAY[
                                  CASE WHEN coalesce(dk.gps_km, 0) = 0 THEN 'no GPS km for this department''s vehicles this month' END,
                                  CASE WHEN dk.kes_per_gps_km > dmed.median * t.cost_per_km_ratio
                                       THEN format('%s KES/km is more than %s times the month''s median of %s', round(dk.kes_per_gps_km, 1), t.cost_per_km_ratio, round(dmed.median, 1)) END,
                                  CASE WHEN dk.kes_per_gps_km < dmed.median / t.cost_per_km_ratio
                                       THEN format('%s KES/km is less than 1/%s of the month''s median of %s', round(dk.kes_per_gps_km, 1), t.cost_per_km_ratio, round(dmed.median, 1)) END], NULL)))
                              ORDER BY dk.m DESC, dk.spend DESC, dk.department), '[]')
                            FROM dk LEFT JOIN dmed USING (m) CROSS JOIN t))
$$;
