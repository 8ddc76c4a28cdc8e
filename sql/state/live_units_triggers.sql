-- What keeps state.live_units current: every statement that changes a unit's sources (a tracker's
-- latest fix, the registry's devices and their fitting to vehicles) re-derives the units it
-- touched, inside the writer's own transaction, whoever the writer is (the projectors, replay,
-- an operator's SQL). TRUNCATE (replay --rebuild) re-derives every unit.
CREATE OR REPLACE FUNCTION state.live_units_for_trackers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.refresh_live_units(ARRAY(SELECT DISTINCT c.imei FROM changed c), NULL);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION state.live_units_for_fittings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.refresh_live_units(ARRAY(SELECT DISTINCT c.imei FROM changed c),
                                     ARRAY(SELECT DISTINCT c.vehicle_id FROM changed c));
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION state.live_units_for_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.refresh_live_units(NULL, NULL);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER live_units_fix_insert AFTER INSERT ON state.live_positions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_fix_update AFTER UPDATE ON state.live_positions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_fix_delete AFTER DELETE ON state.live_positions
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_fix_truncate AFTER TRUNCATE ON state.live_positions
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();

CREATE OR REPLACE TRIGGER live_units_device_insert AFTER INSERT ON domain.devices
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_device_update AFTER UPDATE ON domain.devices
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_device_delete AFTER DELETE ON domain.devices
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();
CREATE OR REPLACE TRIGGER live_units_device_truncate AFTER TRUNCATE ON domain.devices
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();

CREATE OR REPLACE TRIGGER live_units_fitting_insert AFTER INSERT ON domain.device_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();
-- an update may move a fitting: the units before and after are both re-derived
CREATE OR REPLACE TRIGGER live_units_fitting_update_old AFTER UPDATE ON domain.device_assignments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();
CREATE OR REPLACE TRIGGER live_units_fitting_update_new AFTER UPDATE ON domain.device_assignments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();
CREATE OR REPLACE TRIGGER live_units_fitting_delete AFTER DELETE ON domain.device_assignments
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();
CREATE OR REPLACE TRIGGER live_units_fitting_truncate AFTER TRUNCATE ON domain.device_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();
