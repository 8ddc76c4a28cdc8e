CREATE OR REPLACE FUNCTION serve.fleet_units(filters jsonb, unit_keys text[] DEFAULT NULL)
RETURNS TABLE (unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text,
               cost_centre_name text, colour text, city text, account text, imei text, devices integer,
               lifecycle text, fix_time timestamptz, received_at timestamptz, lat double precision,
               lng double precision, speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint,
               driver_name text, driver_phone text, seq bigint, age_s double precision, state text, below_fresh boolean)
LANGUAGE sql STABLE AS $$
    WITH fs AS MATERIALIZED (SELECT serve.filter_set(filters) AS fs, serve.filter_list(filters, 'states') AS states,
                                    (filters -> 'bbox' ->> 0)::float8 AS bw, (filters -> 'bbox' ->> 1)::float8 AS bs,
                                    (filters -> 'bbox' ->> 2)::float8 AS be, (filters -> 'bbox' ->> 3)::float8 AS bn),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    picked AS (
        -- the dedup rule has been applied when the units were written (state.resolve_units)
        SELECT lu.unit_key, lu.vehicle_id,
               serve.unit_label(v.vehicle_number, sd.device_name, lu.imei) AS vehicle_number,
               v.plate_key, v.cost_centre, cc.name AS cost_centre_name, serve.colour(v.cost_centre, cc.colour) AS colour,
               v.assigned_city AS city, coalesce(d.account, sd.account) AS account, lu.imei,
               cardinality(lu.imeis) AS devices,
               lu.lifecycle, lu.fix_time, lu.received_at, lu.lat, lu.lng, lu.speed_kmh, lu.heading, lu.acc_on, lu.odometer_m,
               coalesce(dr.name, sd.driver_name) AS driver_name, coalesce(dr.phone, sd.driver_phone) AS driver_phone,
               lu.seq,
               -- a fix is never fresher than its arrival (a clock running ahead, migration 0019)
               extract(epoch FROM now() - least(lu.fix_time, lu.received_at))::double precision AS age_s
          FROM fs CROSS JOIN (
                -- every unit, or those named (one arm each, so that the named ones use the key)
                SELECT * FROM state.live_units WHERE unit_keys IS NULL
                UNION ALL
                SELECT * FROM state.live_units WHERE unit_key = ANY (unit_keys)) lu
          LEFT JOIN domain.devices d ON d.imei = lu.imei
          LEFT JOIN domain.vehicles v ON v.vehicle_id = lu.vehicle_id
          LEFT JOIN domain.cost_centres cc ON cc.code = v.cost_centre
          LEFT JOIN state.devices sd ON sd.imei = lu.imei
          LEFT JOIN domain.driver_assignments da ON da.vehicle_id = lu.vehicle_id AND upper_inf(da.during)
          LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
         WHERE NOT lu.removed
           -- the map's bounds (west > east: across the antimeridian); a unit with no fix is nowhere
           AND (fs.bw IS NULL
                OR (lu.lat BETWEEN fs.bs AND fs.bn
                    AND CASE WHEN fs.bw <= fs.be THEN lu.lng BETWEEN fs.bw AND fs.be
                             ELSE lu.lng >= fs.bw OR lu.lng <= fs.be END))
           AND (serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, lu.imei, coalesce(d.account, sd.account))
                -- a vehicle is found by the IMEI of any of its trackers
                OR ((fs.fs).vehicles IS NOT NULL AND cardinality(lu.imeis) > 1
                    AND EXISTS (SELECT 1 FROM unnest(lu.imeis) i
                                 WHERE serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, i, coalesce(d.account, sd.account)))))
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
COMMENT ON FUNCTION serve.fleet_units(jsonb, text[]) IS
    'One row per unit of state.live_units (the dedup rule, state.resolve_units) with its names, driver, seq and operational state; every filter but the time range applied (bbox: the map''s bounds); unit_keys (NULL: all) names the units wanted.';
