-- The one writer of state.live_units: re-derives the units of the given trackers and vehicles
-- (both NULL: every unit) with state.resolve_units, writes the rows that changed with a new seq,
-- marks units that no longer exist as removed, and NOTIFYs fleet_live with the seq range it
-- wrote ("lo,hi"), delivered at commit, in commit order, which is what lets the live stream read
-- every change exactly where it is without a gap-prone "last seq seen" (ARCHITECTURE rule 5).
CREATE OR REPLACE FUNCTION state.refresh_live_units(imeis text[], vehicle_ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    scope text[];
    vehicles bigint[];
    lo bigint;
    hi bigint;
    n integer;
BEGIN
    IF imeis IS NOT NULL OR vehicle_ids IS NOT NULL THEN
        -- the vehicles touched, then every current tracker of theirs (a unit is re-derived whole)
        SELECT array_agg(DISTINCT v) INTO vehicles FROM (
            SELECT unnest(vehicle_ids) AS v
            UNION ALL
            SELECT a.vehicle_id FROM domain.device_assignments a
             WHERE a.imei = ANY (imeis) AND upper_inf(a.during)) s
         WHERE v IS NOT NULL;
        SELECT array_agg(DISTINCT i) INTO scope FROM (
            SELECT unnest(imeis) AS i
            UNION ALL
            SELECT a.imei FROM domain.device_assignments a
             WHERE a.vehicle_id = ANY (vehicles) AND upper_inf(a.during)) s
         WHERE i IS NOT NULL;
        IF scope IS NULL AND vehicles IS NULL THEN
            RETURN 0;
        END IF;
        scope := coalesce(scope, '{}');
    END IF;
    WITH fresh AS MATERIALIZED (SELECT * FROM state.resolve_units(scope)),
    candidates AS (
        -- the rows that may have to go: every one, or those showing a tracker in scope (a solo
        -- tracker's unit shows that tracker) or of a vehicle in scope; one arm each, so that each
        -- uses its index (an OR of them scans the table)
        SELECT u.unit_key FROM state.live_units u WHERE scope IS NULL AND NOT u.removed
        UNION
        SELECT u.unit_key FROM state.live_units u WHERE u.imei = ANY (scope) AND NOT u.removed
        UNION
        SELECT u.unit_key FROM state.live_units u WHERE u.vehicle_id = ANY (vehicles) AND NOT u.removed
    ),
    written AS (
        INSERT INTO state.live_units AS u
            (unit_key, vehicle_id, imei, imeis, lifecycle, fix_time, received_at, lat, lng,
             speed_kmh, heading, acc_on, odometer_m, removed, seq)
        SELECT f.unit_key, f.vehicle_id, f.imei, f.imeis, f.lifecycle, f.fix_time, f.received_at, f.lat, f.lng,
               f.speed_kmh, f.heading, f.acc_on, f.odometer_m, false, nextval('state.live_units_seq')
          FROM fresh f
         ORDER BY f.unit_key COLLATE "C"
        ON CONFLICT (unit_key) DO UPDATE SET
            vehicle_id = excluded.vehicle_id, imei = excluded.imei, imeis = excluded.imeis,
            lifecycle = excluded.lifecycle, fix_time = excluded.fix_time, received_at = excluded.received_at,
            lat = excluded.lat, lng = excluded.lng, speed_kmh = excluded.speed_kmh, heading = excluded.heading,
            acc_on = excluded.acc_on, odometer_m = excluded.odometer_m, removed = false, seq = excluded.seq
        WHERE (u.vehicle_id, u.imei, u.imeis, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng,
               u.speed_kmh, u.heading, u.acc_on, u.odometer_m, u.removed)
              IS DISTINCT FROM
              (excluded.vehicle_id, excluded.imei, excluded.imeis, excluded.lifecycle, excluded.fix_time,
               excluded.received_at, excluded.lat, excluded.lng, excluded.speed_kmh, excluded.heading,
               excluded.acc_on, excluded.odometer_m, false)
        RETURNING u.seq
    ),
    gone AS (
        UPDATE state.live_units u SET removed = true, seq = nextval('state.live_units_seq')
         WHERE u.unit_key IN (SELECT c.unit_key FROM candidates c)
           AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.unit_key = u.unit_key)
        RETURNING u.seq
    )
    SELECT min(s), max(s), count(*) INTO lo, hi, n
      FROM (SELECT seq AS s FROM written UNION ALL SELECT seq FROM gone) w;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION state.refresh_live_units(text[], bigint[]) IS
    'Writer of state.live_units: re-derives the units of these trackers and vehicles (NULL, NULL: all), bumps seq on the rows that changed, tombstones units that no longer exist, NOTIFYs fleet_live "lo,hi". Returns the rows written.';
