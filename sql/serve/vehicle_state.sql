CREATE OR REPLACE FUNCTION serve.vehicle_state(age_s double precision, speed_kmh real,
                                    moving_kmh double precision, stale_s double precision, offline_s double precision)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN age_s IS NULL OR age_s > offline_s THEN 'offline'
        WHEN age_s > stale_s THEN 'unknown'
        WHEN coalesce(speed_kmh, 0) >= moving_kmh THEN 'moving'
        ELSE 'parked'
    END
$$;
COMMENT ON FUNCTION serve.vehicle_state(double precision, real, double precision, double precision, double precision) IS
    'Operational state from the latest fix (never stored, ARCHITECTURE §1 rule 6); thresholds come from serve.thresholds().';
