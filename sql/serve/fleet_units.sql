CREATE OR REPLACE FUNCTION serve.fleet_units(filters jsonb)
RETURNS TABLE (unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text,
               cost_centre_name text, colour text, city text, account text, imei text, devices integer,
               lifecycle text, fix_time timestamptz, received_at timestamptz, lat double precision,
               lng double precision, speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint,
               driver_name text, driver_phone text, age_s double precision, state text, below_fresh boolean)
LANGUAGE sql STABLE AS $$
    WITH fs AS MATERIALIZED (SELECT serve.filter_set(filters) AS fs, serve.filter_list(filters, 'states') AS states),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    dev AS (
        SELECT d.imei, d.lifecycle, d.account, a.vehicle_id
          FROM domain.devices d
          LEFT JOIN domain.device_assignments a ON a.imei = d.imei AND upper_inf(a.during)
         WHERE d.lifecycle <> 'decommissioned'
        UNION ALL
        -- A device that reports before any registry knows it still shows.
        SELECT l.imei, 'active', NULL, NULL
          FROM state.live_positions l
         WHERE NOT EXISTS (SELECT 1 FROM domain.devices d WHERE d.imei = l.imei)
    ), unit AS (
        SELECT serve.unit_key(dev.vehicle_id, dev.imei) AS unit_key, dev.vehicle_id,
               serve.unit_label(v.vehicle_number, sd.device_name, dev.imei) AS vehicle_number,
               v.plate_key, v.cost_centre, cc.name AS cost_centre_name, serve.colour(v.cost_centre, cc.colour) AS colour,
               v.assigned_city AS city, coalesce(dev.account, sd.account) AS account, dev.imei,
               count(*) OVER (PARTITION BY dev.vehicle_id, CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END)::integer AS devices,
               CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END AS solo,
               dev.lifecycle, l.fix_time, l.received_at, l.lat, l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m,
               sd.driver_name AS vendor_driver, sd.driver_phone AS vendor_phone
          FROM fs CROSS JOIN dev
          LEFT JOIN domain.vehicles v ON v.vehicle_id = dev.vehicle_id
          LEFT JOIN domain.cost_centres cc ON cc.code = v.cost_centre
          LEFT JOIN state.devices sd ON sd.imei = dev.imei
          LEFT JOIN state.live_positions l ON l.imei = dev.imei
         WHERE serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, dev.imei, coalesce(dev.account, sd.account))
    ), picked AS (
        SELECT DISTINCT ON (u.vehicle_id, u.solo COLLATE "C")
               u.unit_key, u.vehicle_id, u.vehicle_number, u.plate_key, u.cost_centre, u.cost_centre_name, u.colour,
               u.city, u.account, u.imei, u.devices, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng,
               u.speed_kmh, u.heading, u.acc_on, u.odometer_m,
               coalesce(dr.name, u.vendor_driver) AS driver_name, coalesce(dr.phone, u.vendor_phone) AS driver_phone,
               -- a fix is never fresher than its arrival (a clock running ahead, migration 0019)
               extract(epoch FROM now() - least(u.fix_time, u.received_at))::double precision AS age_s
          FROM unit u
          LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND upper_inf(da.during)
          LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
         ORDER BY u.vehicle_id, u.solo COLLATE "C", (u.lifecycle = 'suspended'), u.fix_time DESC NULLS LAST, u.imei COLLATE "C"
    ), stated AS (
        -- The operational state (never stored, ARCHITECTURE §1 rule 6): suspended trackers show
        -- as such; otherwise from the fix's age and speed against the thresholds.
        SELECT p.*,
               CASE WHEN p.lifecycle = 'suspended' THEN 'suspended'
                    ELSE serve.vehicle_state(p.age_s, p.speed_kmh, t.moving_kmh, t.stale_s, t.offline_s) END AS state,
               p.age_s > t.fresh_s AS below_fresh
          FROM picked p, t
    )
    SELECT s.* FROM stated s, fs WHERE fs.states IS NULL OR s.state = ANY (fs.states)
$$;
COMMENT ON FUNCTION serve.fleet_units(jsonb) IS
    'The dedup rule: one row per vehicle with its freshest non-suspended device (devices on no vehicle are their own unit; decommissioned devices never show), with its operational state; every filter but the time range applied.';
