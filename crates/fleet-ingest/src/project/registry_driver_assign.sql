-- Registry: a vehicle listed with a driver is driven by them from the import's arrival, unless
-- it already is.
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
INSERT INTO domain.driver_assignments (driver_id, vehicle_id, during, assigned_by)
SELECT r.driver_id, r.vehicle_id, -- A vehicle's first driver reaches back: its earlier trips are theirs too.
       tstzrange(CASE WHEN EXISTS (SELECT 1 FROM domain.driver_assignments h WHERE h.vehicle_id = r.vehicle_id)
                      THEN r.received_at ELSE '-infinity' END, NULL), 'registry import'
  FROM resolved r
 WHERE r.driver_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM domain.driver_assignments a WHERE a.vehicle_id = r.vehicle_id AND upper_inf(a.during))
 ORDER BY r.vehicle_id
