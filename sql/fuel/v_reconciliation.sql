-- Reconciliation with telematics: where the vehicle was at the fill time.
CREATE OR REPLACE VIEW fuel.v_reconciliation AS
WITH t AS MATERIALIZED (SELECT * FROM fuel.thresholds(), serve.thresholds() st)
SELECT f.record_id, f.vehicle_number, f.imei, f.department, f.filled_at, f.filled_local, f.litres, f.amount_kes,
       fix.fix_time AS nearest_fix_time, fix.lat, fix.lng,
       round(extract(epoch FROM fix.fix_time - f.filled_at)::numeric) AS fix_offset_s,
       fix.max_speed_kmh, fix.moved_m, poi.name AS station_name, round(poi.distance_m::numeric) AS station_distance_m,
       round(reported.distance_m::numeric) AS reported_distance_m,
       e.gps_km, e.odometer_km_delta, e.litres AS chain_litres,
       (fix.fix_time IS NOT NULL AND fix.max_speed_kmh < t.moving_kmh AND fix.moved_m <= t.radius_m
        AND least(poi.distance_m, reported.distance_m) <= t.radius_m) AS verified,
       array_remove(ARRAY[
           CASE WHEN f.imei IS NULL THEN 'no tracker on this plate' END,
           CASE WHEN f.imei IS NOT NULL AND fix.fix_time IS NULL THEN 'no GPS fix near the fill time' END,
           CASE WHEN fix.max_speed_kmh >= t.moving_kmh OR fix.moved_m > t.radius_m THEN 'vehicle was moving at the fill time' END,
           CASE WHEN fix.fix_time IS NOT NULL AND coalesce(least(poi.distance_m, reported.distance_m), 1e9) > t.radius_m
                THEN 'not at a fuel station' END,
           CASE WHEN e.gps_km > 0 AND e.odometer_km_delta > 0
                 AND abs(e.odometer_km_delta - e.gps_km) > e.gps_km * t.gps_tol_pct / 100
                THEN format('odometer says %s km since the last fill, GPS %s km', e.odometer_km_delta, e.gps_km) END,
           CASE WHEN e.gps_km > 0 AND f.expected_l_per_100km IS NOT NULL
                 AND e.litres > e.gps_km * f.expected_l_per_100km / 100 * (1 + t.consumption_tol_pct / 100)
                THEN format('%s L for %s GPS km; about %s L expected', e.litres, e.gps_km,
                            round(e.gps_km * f.expected_l_per_100km / 100, 1)) END,
           f.price_flag], NULL) AS reasons
  FROM fuel.v_fills f
  CROSS JOIN t
  LEFT JOIN fuel.v_efficiency e ON e.record_id = f.record_id
  LEFT JOIN LATERAL (
      SELECT h.fix_time, h.lat, h.lng, w.max_speed_kmh, w.moved_m
        FROM state.position_history h,
             LATERAL (SELECT max(h2.speed_kmh) AS max_speed_kmh,
                             max(ST_Distance(ST_MakePoint(h.lng, h.lat)::geography, ST_MakePoint(h2.lng, h2.lat)::geography)) AS moved_m
                        FROM state.position_history h2
                       WHERE h2.imei = f.imei
                         AND h2.fix_time BETWEEN h.fix_time - make_interval(secs => t.window_s / 2)
                                             AND h.fix_time + make_interval(secs => t.window_s / 2)) w
       WHERE h.imei = f.imei
         AND h.fix_time BETWEEN f.filled_at - make_interval(secs => t.window_s) AND f.filled_at + make_interval(secs => t.window_s)
       ORDER BY abs(extract(epoch FROM h.fix_time - f.filled_at))
       LIMIT 1) fix ON true
  LEFT JOIN LATERAL (
      SELECT p.name, ST_Distance(p.geom::geography, ST_MakePoint(fix.lng, fix.lat)::geography) AS distance_m
        FROM geo.pois p
       WHERE p.kind = 'fuel' AND fix.fix_time IS NOT NULL
       ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint(fix.lng, fix.lat), 4326)
       LIMIT 1) poi ON true
  LEFT JOIN LATERAL (
      SELECT ST_Distance(ST_MakePoint(f.reported_lng, f.reported_lat)::geography,
                         ST_MakePoint(fix.lng, fix.lat)::geography) AS distance_m
       WHERE f.reported_lat IS NOT NULL AND fix.fix_time IS NOT NULL) reported ON true;
COMMENT ON VIEW fuel.v_reconciliation IS
    'Each fill against telematics: the nearest fix within the window, whether the vehicle stood still, the nearest fuel station, GPS km vs odometer, litres vs expected, price per litre; verified when it stood within the radius of a station or the reported place; reasons otherwise.';
