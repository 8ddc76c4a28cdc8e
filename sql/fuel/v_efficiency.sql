-- Efficiency between consecutive full fills per vehicle (partial fills fold into the next full
-- fill; a missed fill restarts the chain), from the odometer and, independently, from GPS trips.
-- Voided fills are not in the chains; an approved fill's figures count despite its flags.
CREATE OR REPLACE VIEW fuel.v_efficiency AS
WITH t AS MATERIALIZED (SELECT * FROM fuel.thresholds()),
f AS (
    SELECT f.*, coalesce(f.vehicle_id::text, f.plate_key) AS vkey,
           -- chains: a partial fill belongs to the next full fill
           count(*) FILTER (WHERE f.full_tank) OVER (PARTITION BY coalesce(f.vehicle_id::text, f.plate_key)
                 ORDER BY f.filled_at, f.record_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chain
      FROM fuel.v_fills f
     WHERE NOT f.voided
), chained AS (
    SELECT f.*, sum(f.litres) OVER w AS chain_litres, sum(f.amount_kes) OVER w AS chain_kes,
           bool_or(f.missed_before) OVER w AS chain_missed
      FROM f WINDOW w AS (PARTITION BY f.vkey, f.chain)
), full_fills AS (
    SELECT c.*, lag(c.odometer_km) OVER p AS prev_odometer_km, lag(c.filled_at) OVER p AS prev_filled_at,
           lag(c.record_id) OVER p AS prev_record_id
      FROM chained c WHERE c.full_tank
    WINDOW p AS (PARTITION BY c.vkey ORDER BY c.filled_at, c.record_id)
), measured AS (
    SELECT ff.*, ff.odometer_km - ff.prev_odometer_km AS odometer_km_delta,
           extract(epoch FROM ff.filled_at - ff.prev_filled_at) / 86400.0 AS days,
           (SELECT (sum(tr.distance_m) / 1000.0)::numeric FROM state.trips tr
             WHERE tr.imei = ff.imei AND tr.start_time >= ff.prev_filled_at AND tr.start_time < ff.filled_at) AS gps_km
      FROM full_fills ff
), flagged AS (
    SELECT m.*, array_remove(ARRAY[
               CASE WHEN m.odometer_km_delta < 0 THEN 'odometer went backwards' END,
               CASE WHEN m.odometer_km_delta > t.max_km_day * greatest(m.days, 1.0 / 24) THEN
                    format('odometer step of %s km in %s days', m.odometer_km_delta, round(m.days::numeric, 1)) END,
               CASE WHEN m.litres > coalesce(m.tank_litres * (1 + t.overfill_pct / 100), t.max_litres) AND m.tank_litres IS NULL
                    THEN format('%s L is impossible for one fill', m.litres) END,
               CASE WHEN m.tank_litres IS NOT NULL AND m.litres > m.tank_litres * (1 + t.overfill_pct / 100)
                    THEN format('%s L overfills a %s L tank', m.litres, m.tank_litres) END,
               CASE WHEN m.chain_missed THEN 'a missed fill breaks the chain' END], NULL) AS outliers
      FROM measured m, t
), counted AS (
    SELECT fl.*, (fl.outliers = '{}' OR fl.review = 'approved') AND fl.odometer_km_delta > 0 AND fl.chain_litres > 0 AS counts
      FROM flagged fl
)
SELECT c.record_id, c.vehicle_id, c.vehicle_number, c.imei, c.department, c.filled_at, c.filled_local,
       c.prev_record_id, c.prev_filled_at, c.chain_litres AS litres, c.chain_kes AS amount_kes,
       c.odometer_km, c.odometer_km_delta, round(c.gps_km, 1) AS gps_km, c.outliers, c.review,
       CASE WHEN c.counts THEN round(c.odometer_km_delta / c.chain_litres, 2) END AS km_per_l,
       CASE WHEN c.counts THEN round(c.chain_litres * 100 / c.odometer_km_delta, 2) END AS l_per_100km,
       CASE WHEN c.counts THEN round(c.chain_kes / c.odometer_km_delta, 2) END AS kes_per_km,
       CASE WHEN c.gps_km > 0 AND c.chain_litres > 0 AND (NOT c.chain_missed OR c.review = 'approved')
            THEN round(c.gps_km / c.chain_litres, 2) END AS gps_km_per_l
  FROM counted c
 WHERE c.prev_filled_at IS NOT NULL;
COMMENT ON VIEW fuel.v_efficiency IS
    'Per full fill after the first (voided fills left out): km/L, L/100 km, KES/km from the odometer and km/L from GPS trips; outliers (odometer backwards or implausible, impossible or overfilled litres, a missed fill) are kept, flagged and left out of the figures unless the fill was approved.';
