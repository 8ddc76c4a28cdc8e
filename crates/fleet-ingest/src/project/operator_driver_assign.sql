-- Operator actions: a vehicle given a driver is driven by them from the action's arrival, unless
-- it already is or a newer assignment exists.
WITH input AS (
    SELECT DISTINCT ON (serve.normalize_plate(x.vehicle_number))
           serve.normalize_plate(x.vehicle_number) AS plate_key, x.driver_id, x.actor, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(vehicle_number text, driver_id bigint, actor text, received_at timestamptz, raw_id bigint)
     ORDER BY serve.normalize_plate(x.vehicle_number), x.raw_id DESC
)
INSERT INTO domain.driver_assignments (driver_id, vehicle_id, during, assigned_by)
SELECT i.driver_id, v.vehicle_id, tstzrange(i.received_at, NULL), i.actor
  FROM input i
  JOIN domain.vehicles v ON v.plate_key = i.plate_key
  JOIN domain.drivers d ON d.driver_id = i.driver_id
 WHERE NOT EXISTS (SELECT 1 FROM domain.driver_assignments a
                    WHERE a.vehicle_id = v.vehicle_id AND (upper_inf(a.during) OR upper(a.during) > i.received_at))
 ORDER BY v.vehicle_id
