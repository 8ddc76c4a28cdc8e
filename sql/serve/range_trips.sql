-- ---------------------------------------------------------------------------------------------
-- Analytics (the current stack's views, in EAT days). Each takes the filters object.
-- ---------------------------------------------------------------------------------------------
-- Trips of the range per vehicle, attributed to the driver assigned at the trip's start (else
-- the driver the vendor names for the device).
CREATE OR REPLACE FUNCTION serve.range_trips(filters jsonb)
RETURNS TABLE (unit_key text, vehicle_number text, cost_centre text, imei text, driver text, day date,
               start_time timestamptz, end_time timestamptz, distance_m double precision,
               duration_s integer, max_speed_kmh real)
LANGUAGE sql STABLE AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during)
    SELECT u.unit_key, u.vehicle_number, u.cost_centre, u.imei,
           coalesce(dr.name, u.driver_name, 'Unassigned'), serve.local_day(t.start_time),
           t.start_time, t.end_time, t.distance_m, t.duration_s, t.max_speed_kmh
      FROM r
     CROSS JOIN serve.range_units(filters, r.during) u
      JOIN state.trips t ON t.imei = u.imei AND t.start_time >= lower(r.during) AND t.start_time < upper(r.during)
      LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> t.start_time
      LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
$$;
