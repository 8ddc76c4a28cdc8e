-- ---------------------------------------------------------------------------------------------
-- The vehicle dedup rule: one row per vehicle (a plate with several devices shows once, the
-- freshest fix wins; a suspended device only when the vehicle has nothing else), devices on no
-- vehicle as their own unit, decommissioned devices never.
-- ---------------------------------------------------------------------------------------------
-- How a vehicle is keyed and named on every view: by its registry id, or, for a tracker on no
-- vehicle, by the tracker; named by its plate, else the tracker's name, else its IMEI.
CREATE OR REPLACE FUNCTION serve.unit_key(vehicle_id bigint, imei text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce('v' || vehicle_id::text, 'd' || imei)
$$;
