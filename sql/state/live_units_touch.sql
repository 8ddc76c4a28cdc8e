-- What a live feature shows beside the fix (the vehicle's names, cost centre and its colour, the
-- driver) lives in the registry, not in state.live_units; when it changes, the units of the
-- vehicles concerned get a new seq (and the NOTIFY) without a change of their columns, so the
-- live stream carries the new feature, and a filter the change affects (a cost centre, a city)
-- adds or drops the unit on open streams. Only rows that really changed count: a registry
-- import that rewrites every vehicle unchanged touches nothing.
CREATE OR REPLACE FUNCTION state.touch_live_units(vehicle_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    hi bigint;
    n integer;
BEGIN
    IF cardinality(vehicle_ids) = 0 THEN
        RETURN 0;
    END IF;
    WITH touched AS (
        UPDATE state.live_units u SET seq = nextval('state.live_units_seq')
         WHERE NOT u.removed
           -- every unit (NULL), or those of the vehicles (one arm each: the named ones use the index)
           AND u.unit_key IN (SELECT a.unit_key FROM state.live_units a WHERE vehicle_ids IS NULL
                              UNION ALL
                              SELECT a.unit_key FROM state.live_units a WHERE a.vehicle_id = ANY (vehicle_ids))
        RETURNING u.seq
    )
    SELECT min(t.seq), max(t.seq), count(*) INTO lo, hi, n FROM touched t;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION state.touch_live_units(bigint[]) IS
    'Bumps the seq of these vehicles'' live units (NULL: every unit) and NOTIFYs fleet_live, when what their features show changed without a change of their rows.';

CREATE OR REPLACE FUNCTION state.live_units_for_vehicles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT n.vehicle_id FROM new_rows n JOIN old_rows o USING (vehicle_id)
         WHERE (n.vehicle_number, n.plate_key, n.cost_centre, n.assigned_city)
               IS DISTINCT FROM (o.vehicle_number, o.plate_key, o.cost_centre, o.assigned_city)));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION state.live_units_for_cost_centres() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT v.vehicle_id FROM new_rows n JOIN old_rows o USING (code)
          JOIN domain.vehicles v ON v.cost_centre = n.code
         WHERE (n.name, n.colour) IS DISTINCT FROM (o.name, o.colour)));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION state.live_units_for_drivers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT DISTINCT a.vehicle_id FROM new_rows n JOIN old_rows o USING (driver_id)
          JOIN domain.driver_assignments a ON a.driver_id = n.driver_id AND upper_inf(a.during)
         WHERE (n.name, n.phone) IS DISTINCT FROM (o.name, o.phone)));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION state.live_units_for_driver_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(SELECT DISTINCT c.vehicle_id FROM changed c));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER live_units_vehicle_update AFTER UPDATE ON domain.vehicles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_vehicles();
CREATE OR REPLACE TRIGGER live_units_cost_centre_update AFTER UPDATE ON domain.cost_centres
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_cost_centres();
CREATE OR REPLACE TRIGGER live_units_driver_update AFTER UPDATE ON domain.drivers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_drivers();
CREATE OR REPLACE TRIGGER live_units_driving_insert AFTER INSERT ON domain.driver_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();
CREATE OR REPLACE TRIGGER live_units_driving_update AFTER UPDATE ON domain.driver_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();
CREATE OR REPLACE TRIGGER live_units_driving_delete AFTER DELETE ON domain.driver_assignments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();

-- The state thresholds (slo.targets, kind threshold) decide every unit's computed state: a change
-- of one touches every unit once, so open streams recompute what they show.
CREATE OR REPLACE FUNCTION state.live_units_for_thresholds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o USING (metric)
                WHERE n.kind = 'threshold' AND n.threshold IS DISTINCT FROM o.threshold) THEN
        PERFORM state.touch_live_units(NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER live_units_threshold_update AFTER UPDATE ON slo.targets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_thresholds();
