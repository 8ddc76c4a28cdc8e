-- What keeps state.live_units current: every statement that changes a unit's sources (a tracker's
-- latest fix, the registry's devices and their fitting to vehicles) re-derives the units it
-- touched, inside the writer's own transaction, whoever the writer is (the projectors, replay,
-- an operator's SQL). TRUNCATE (replay --rebuild) re-derives every unit.
CREATE OR REPLACE FUNCTION state.live_units_for_trackers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM state.refresh_live_units(ARRAY(SELECT DISTINCT c.imei FROM changed c), NULL);
    RETURN NULL;
END $$;
-- A fix (insert or update of live_positions) changes no unit's trackers, vehicle or lifecycles,
-- only which tracker a unit shows and that tracker's fix, so the units of the trackers that
-- reported are updated in one statement joined to the transition table: a tracker that is its
-- unit's only one gives the row directly; a vehicle with several trackers takes the one the
-- dedup rule picks among them (non-suspended first, freshest fix, then IMEI, as in
-- state.resolve_units). Only trackers no unit shows yet (new, unfitted, decommissioned) go
-- through the full re-derivation. The test walks both against state.resolve_units.
CREATE OR REPLACE FUNCTION state.live_units_for_fixes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    hi bigint;
    n integer;
    rest text[];
BEGIN
    WITH single AS MATERIALIZED (
        SELECT u.unit_key, c.imei, u.lifecycle, c.fix_time, c.received_at, c.lat, c.lng, c.speed_kmh,
               c.heading, c.acc_on, c.odometer_m
          FROM changed c
          JOIN state.live_units u ON u.imei = c.imei AND NOT u.removed AND u.imeis = ARRAY[c.imei]
    ), multi AS MATERIALIZED (
        SELECT DISTINCT u.unit_key, u.imeis
          FROM changed c
          JOIN domain.device_assignments a ON a.imei = c.imei AND upper_inf(a.during)
          JOIN state.live_units u ON u.vehicle_id = a.vehicle_id AND NOT u.removed
                                 AND cardinality(u.imeis) > 1 AND c.imei = ANY (u.imeis)
    ), target AS (
        SELECT * FROM single
        UNION ALL
        SELECT m.unit_key, w.*
          FROM multi m
         CROSS JOIN LATERAL (
            SELECT i.imei, coalesce(d.lifecycle, 'active') AS lifecycle, l.fix_time, l.received_at, l.lat,
                   l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m
              FROM unnest(m.imeis) i(imei)
              LEFT JOIN domain.devices d ON d.imei = i.imei
              LEFT JOIN state.live_positions l ON l.imei = i.imei
             ORDER BY (coalesce(d.lifecycle, 'active') = 'suspended'), l.fix_time DESC NULLS LAST, i.imei COLLATE "C"
             LIMIT 1) w
    ), written AS (
        UPDATE state.live_units u
           SET imei = t.imei, lifecycle = t.lifecycle, fix_time = t.fix_time, received_at = t.received_at,
               lat = t.lat, lng = t.lng, speed_kmh = t.speed_kmh, heading = t.heading, acc_on = t.acc_on,
               odometer_m = t.odometer_m, seq = nextval('state.live_units_seq')
          FROM target t
         WHERE u.unit_key = t.unit_key
           AND (u.imei, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng, u.speed_kmh, u.heading,
                u.acc_on, u.odometer_m)
               IS DISTINCT FROM
               (t.imei, t.lifecycle, t.fix_time, t.received_at, t.lat, t.lng, t.speed_kmh, t.heading,
                t.acc_on, t.odometer_m)
        RETURNING u.seq
    ), summary AS (
        SELECT min(w.seq) AS lo, max(w.seq) AS hi, count(*)::integer AS n FROM written w
    )
    SELECT s.lo, s.hi, s.n,
           -- (a join on the trackers covered, not "= ANY (imeis)" per row: that is a nested loop)
           ARRAY(SELECT DISTINCT c.imei FROM changed c
                  WHERE NOT EXISTS (SELECT 1 FROM (SELECT x.imei FROM single x
                                                   UNION ALL
                                                   SELECT unnest(m.imeis) FROM multi m) k
                                     WHERE k.imei = c.imei))
      INTO lo, hi, n, rest
      FROM summary s;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    IF cardinality(rest) > 0 THEN
        PERFORM state.refresh_live_units(rest, NULL);
    END IF;
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
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fixes();
CREATE OR REPLACE TRIGGER live_units_fix_update AFTER UPDATE ON state.live_positions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fixes();
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
