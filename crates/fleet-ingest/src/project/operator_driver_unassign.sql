-- Operator actions: a vehicle given another driver (or none) ends its current driver's
-- assignment when the action arrived; the new driver leaves any other vehicle they were on
-- (one vehicle per driver at a time). Only assignments that began before the action end.
WITH input AS (
    SELECT DISTINCT ON (serve.normalize_plate(x.vehicle_number))
           serve.normalize_plate(x.vehicle_number) AS plate_key, x.driver_id, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(vehicle_number text, driver_id bigint, received_at timestamptz, raw_id bigint)
     ORDER BY serve.normalize_plate(x.vehicle_number), x.raw_id DESC
), resolved AS (
    SELECT v.vehicle_id, i.driver_id, i.received_at
      FROM input i JOIN domain.vehicles v ON v.plate_key = i.plate_key
)
UPDATE domain.driver_assignments a
   SET during = tstzrange(lower(a.during), r.received_at)
  FROM resolved r
 WHERE upper_inf(a.during) AND lower(a.during) < r.received_at
   AND ((a.vehicle_id = r.vehicle_id AND a.driver_id IS DISTINCT FROM r.driver_id)
        OR (a.driver_id = r.driver_id AND a.vehicle_id <> r.vehicle_id))
