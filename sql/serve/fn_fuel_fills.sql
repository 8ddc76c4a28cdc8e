CREATE OR REPLACE FUNCTION serve.fn_fuel_fills(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH all_f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    f AS MATERIALIZED (SELECT * FROM all_f WHERE NOT voided),
    e AS MATERIALIZED (SELECT e.* FROM fuel.v_efficiency e JOIN f USING (record_id)),
    veh AS (
        SELECT f.vehicle_number, min(f.department) AS department, count(*) AS fills, sum(f.litres) AS litres,
               sum(f.amount_kes) AS spend, sum(e.odometer_km_delta) FILTER (WHERE e.km_per_l IS NOT NULL) AS km,
               sum(e.litres) FILTER (WHERE e.km_per_l IS NOT NULL) AS eff_litres,
               sum(e.amount_kes) FILTER (WHERE e.km_per_l IS NOT NULL) AS eff_kes,
               sum(e.gps_km) AS gps_km, count(*) FILTER (WHERE e.outliers <> '{}') AS outliers
          FROM f LEFT JOIN e USING (record_id)
         GROUP BY f.vehicle_number)
    SELECT jsonb_build_object(
        'totals', (SELECT jsonb_build_object(
                       'fills', count(*), 'vehicles', count(DISTINCT vehicle_number),
                       'litres', coalesce(round(sum(litres), 1), 0), 'spend_kes', coalesce(round(sum(amount_kes)), 0),
                       'avg_kes_per_litre', round(sum(amount_kes) / nullif(sum(litres) FILTER (WHERE amount_kes IS NOT NULL), 0), 2),
                       'km_per_l', (SELECT round(sum(km) / nullif(sum(eff_litres), 0), 2) FROM veh),
                       'unmatched_fills', count(*) FILTER (WHERE vehicle_id IS NULL),
                       'without_amount', count(*) FILTER (WHERE amount_kes IS NULL),
                       'voided', (SELECT count(*) FROM all_f WHERE voided),
                       'from_local', (SELECT serve.local_time(min(filled_at)) FROM f),
                       'to_local', (SELECT serve.local_time(max(filled_at)) FROM f))
                     FROM f),
        'rows', (SELECT coalesce(jsonb_agg(serve.fuel_row(a) || jsonb_build_object('km_per_l', e.km_per_l, 'outliers', coalesce(to_jsonb(e.outliers), '[]'))
                                           ORDER BY a.filled_at DESC, a.record_id), '[]')
                   FROM all_f a LEFT JOIN e USING (record_id)),
        'by_department', (SELECT coalesce(jsonb_agg(jsonb_build_object('department', coalesce(department, 'Unknown'), 'fills', n,
                                                                       'litres', round(l, 1), 'spend_kes', round(s)) ORDER BY s DESC NULLS LAST), '[]')
                            FROM (SELECT department, count(*) AS n, sum(litres) AS l, sum(amount_kes) AS s FROM f GROUP BY department) d),
        'by_vehicle', (SELECT coalesce(jsonb_agg(jsonb_build_object('vehicle_number', vehicle_number, 'department', department,
                                   'fills', fills, 'litres', round(litres, 1), 'spend_kes', round(spend),
                                   'km', round(km, 1), 'gps_km', round(gps_km, 1),
                                   'km_per_l', round(km / nullif(eff_litres, 0), 2),
                                   'l_per_100km', round(eff_litres * 100 / nullif(km, 0), 2),
                                   'kes_per_km', round(eff_kes / nullif(km, 0), 2), 'outliers', outliers)
                                   ORDER BY spend DESC NULLS LAST, vehicle_number), '[]') FROM veh),
        'trend', (SELECT coalesce(jsonb_agg(jsonb_build_object('day', day, 'fills', n, 'litres', round(l, 1), 'spend_kes', round(s)) ORDER BY day), '[]')
                    FROM (SELECT day, count(*) AS n, sum(litres) AS l, sum(amount_kes) AS s FROM f GROUP BY day) t))
$$;
