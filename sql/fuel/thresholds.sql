-- ---------------------------------------------------------------------------------------------
-- Normalisers: what the parser's reading leaves to the database.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION fuel.thresholds(OUT radius_m double precision, OUT window_s double precision,
                                OUT max_km_day double precision, OUT overfill_pct double precision,
                                OUT max_litres double precision, OUT gps_tol_pct double precision,
                                OUT consumption_tol_pct double precision, OUT ugx_per_kes double precision,
                                OUT min_kes_per_litre double precision, OUT max_kes_per_litre double precision,
                                OUT cost_per_km_ratio double precision)
LANGUAGE sql STABLE AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'fuel_match_radius_m'),
           max(threshold) FILTER (WHERE metric = 'fuel_match_window_sec'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_km_per_day'),
           max(threshold) FILTER (WHERE metric = 'fuel_tank_overfill_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_litres'),
           max(threshold) FILTER (WHERE metric = 'fuel_gps_odometer_tolerance_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_consumption_tolerance_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_ugx_per_kes'),
           max(threshold) FILTER (WHERE metric = 'fuel_min_kes_per_litre'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_kes_per_litre'),
           max(threshold) FILTER (WHERE metric = 'fuel_cost_per_km_outlier_ratio')
      FROM slo.targets WHERE kind = 'threshold'
$$;
COMMENT ON FUNCTION fuel.thresholds() IS 'The fuel module''s thresholds and settings, read once per query from slo.targets.';
