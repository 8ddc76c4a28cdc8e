-- ---------------------------------------------------------------------------------------------
-- Read views
-- ---------------------------------------------------------------------------------------------
-- Fills joined to the fleet by normalised plate: one device per fill even when the plate has
-- several (the one fitted at the fill time, not suspended, with the newest fix). Voided fills are
-- here, marked: every total leaves them out.
CREATE OR REPLACE VIEW fuel.v_fills AS
SELECT r.record_id, r.filled_at, serve.local_time(r.filled_at) AS filled_local, serve.local_day(r.filled_at) AS day,
       r.car, r.plate_key, v.vehicle_id, coalesce(v.vehicle_number, r.car) AS vehicle_number,
       dev.imei, v.cost_centre, v.assigned_city AS city,
       coalesce(ds.canonical, r.department_spelling) AS department, r.department_spelling, r.driver, r.fuel_type,
       r.litres, r.amount_kes, r.amount, r.currency,
       CASE WHEN r.litres > 0 THEN round(r.amount_kes / r.litres, 2) END AS kes_per_litre,
       r.odometer_km, r.full_tank, r.missed_before, r.station, r.reported_lat, r.reported_lng,
       v.tank_litres, v.expected_l_per_100km, r.warnings,
       CASE WHEN r.litres > 0 AND r.amount_kes / r.litres > t.max_kes_per_litre
            THEN format('%s KES a litre is more than %s: a typo, or an amount in another currency?',
                        round(r.amount_kes / r.litres), t.max_kes_per_litre)
            WHEN r.litres > 0 AND r.amount_kes / r.litres < t.min_kes_per_litre
            THEN format('%s KES a litre is less than %s: a typo, or part of the amount?',
                        round(r.amount_kes / r.litres), t.min_kes_per_litre) END AS price_flag,
       coalesce(rv.state, 'open') AS review, rv.reason AS review_reason, rv.actor AS reviewed_by,
       rv.reviewed_at, coalesce(rv.state = 'voided', false) AS voided
  FROM fuel.records r
  CROSS JOIN fuel.thresholds() t
  LEFT JOIN fuel.department_spellings ds ON ds.spelling = r.department_spelling
  LEFT JOIN fuel.fill_reviews rv ON rv.record_id = r.record_id
  LEFT JOIN domain.vehicles v ON v.plate_key = r.plate_key
  LEFT JOIN LATERAL (
      SELECT a.imei
        FROM domain.device_assignments a
        JOIN domain.devices d ON d.imei = a.imei
        LEFT JOIN state.live_positions l ON l.imei = a.imei
       WHERE a.vehicle_id = v.vehicle_id AND d.lifecycle <> 'decommissioned'
       ORDER BY a.during @> r.filled_at DESC, d.lifecycle = 'suspended', l.fix_time DESC NULLS LAST, a.imei
       LIMIT 1) dev ON true
 WHERE r.deleted_at IS NULL AND r.normalise_errors = '{}';
COMMENT ON VIEW fuel.v_fills IS
    'Live, usable fills joined to the fleet by normalised plate, one device per fill (the one fitted at the fill time), with their canonical department, review state (voided fills stay, marked) and a price-per-litre flag.';
