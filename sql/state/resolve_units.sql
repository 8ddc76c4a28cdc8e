-- ---------------------------------------------------------------------------------------------
-- The vehicle dedup rule: one row per vehicle (a plate with several devices shows once, the
-- freshest fix wins; a suspended device only when the vehicle has nothing else), devices on no
-- vehicle as their own unit, decommissioned devices never. `scope` names the trackers whose units
-- are wanted (NULL: every unit); it must hold every current tracker of each vehicle it touches
-- (state.refresh_live_units widens it so).
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION state.resolve_units(scope text[])
RETURNS TABLE (unit_key text, vehicle_id bigint, imei text, imeis text[], lifecycle text,
               fix_time timestamptz, received_at timestamptz, lat double precision, lng double precision,
               speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint)
LANGUAGE sql STABLE AS $$
    -- the trackers wanted, as a relation (an "x IS NULL OR imei = ANY (x)" filter would scan)
    WITH wanted AS (
        SELECT d.imei FROM domain.devices d WHERE scope IS NULL
        UNION SELECT l.imei FROM state.live_positions l WHERE scope IS NULL
        UNION SELECT unnest(scope)
    ), dev AS (
        SELECT w.imei, coalesce(d.lifecycle, 'active') AS lifecycle, a.vehicle_id
          FROM wanted w
          LEFT JOIN domain.devices d ON d.imei = w.imei
          LEFT JOIN domain.device_assignments a ON a.imei = w.imei AND upper_inf(a.during)
               -- a device that reports before any registry knows it still shows
         WHERE CASE WHEN d.imei IS NULL THEN EXISTS (SELECT 1 FROM state.live_positions l WHERE l.imei = w.imei)
                    ELSE d.lifecycle <> 'decommissioned' END
    ), unit AS (
        SELECT dev.vehicle_id, dev.imei, dev.lifecycle,
               CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END AS solo,
               array_agg(dev.imei) OVER (PARTITION BY dev.vehicle_id, CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END
                                         ORDER BY dev.imei COLLATE "C"
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS imeis,
               l.fix_time, l.received_at, l.lat, l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m
          FROM dev
          LEFT JOIN state.live_positions l ON l.imei = dev.imei
    )
    SELECT DISTINCT ON (u.vehicle_id, u.solo COLLATE "C")
           serve.unit_key(u.vehicle_id, u.imei), u.vehicle_id, u.imei, u.imeis, u.lifecycle,
           u.fix_time, u.received_at, u.lat, u.lng, u.speed_kmh, u.heading, u.acc_on, u.odometer_m
      FROM unit u
     ORDER BY u.vehicle_id, u.solo COLLATE "C", (u.lifecycle = 'suspended'), u.fix_time DESC NULLS LAST, u.imei COLLATE "C"
$$;
COMMENT ON FUNCTION state.resolve_units(text[]) IS
    'The dedup rule: one row per vehicle with its freshest non-suspended device (devices on no vehicle are their own unit; decommissioned devices never show), for the units of the trackers in scope (NULL: all).';
