-- Registry: a vehicle listed with another driver than its current one: the current driver's
-- assignment ends when the import arrived.
WITH input AS (
    SELECT DISTINCT ON (serve.normalize_plate(x.plate))
           serve.normalize_plate(x.plate) AS plate_key, x.driver_name, x.driver_phone, x.employee_no, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(plate text, driver_name text, driver_phone text, employee_no text,
                                              received_at timestamptz, raw_id bigint, line integer)
     WHERE serve.normalize_plate(x.plate) IS NOT NULL AND x.driver_name IS NOT NULL
     ORDER BY serve.normalize_plate(x.plate), x.raw_id DESC, x.line DESC
), resolved AS (
    SELECT v.vehicle_id, i.received_at,
           domain.find_driver(i.driver_name, i.driver_phone, i.employee_no) AS driver_id
      FROM input i
      JOIN domain.vehicles v ON v.plate_key = i.plate_key
)
UPDATE domain.driver_assignments a
   SET during = tstzrange(lower(a.during), greatest(lower(a.during), r.received_at))
  FROM resolved r
 WHERE a.vehicle_id = r.vehicle_id AND upper_inf(a.during) AND a.driver_id IS DISTINCT FROM r.driver_id
