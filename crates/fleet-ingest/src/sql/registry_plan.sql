-- What importing registry rows ($1, a JSON array) would change, per row, against the registry
-- as it is now. NULL = no change of that kind; the keys let the caller count a vehicle or
-- driver named on several rows once.
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
        line integer, imei text, account text, plate text, vehicle_name text, make text, vehicle_model text,
        driver_name text, driver_phone text, employee_no text, cost_centre text, city text)
)
SELECT r.line, r.imei, serve.normalize_plate(r.plate) AS plate_key,
       coalesce('#' || r.employee_no, lower(r.driver_name) || '|' || coalesce(r.driver_phone, '')) AS driver_key,
       CASE WHEN d.imei IS NULL THEN 'new device in ' || r.account
            WHEN d.account <> r.account THEN 'account ' || d.account || ' -> ' || r.account END AS device,
       CASE WHEN r.plate IS NULL THEN NULL
            WHEN v.vehicle_id IS NULL THEN 'new vehicle ' || r.plate
            WHEN (r.vehicle_name IS NOT NULL AND r.vehicle_name IS DISTINCT FROM v.vehicle_name)
              OR (r.make IS NOT NULL AND r.make IS DISTINCT FROM v.make)
              OR (r.vehicle_model IS NOT NULL AND r.vehicle_model IS DISTINCT FROM v.model)
              OR (r.cost_centre IS NOT NULL AND r.cost_centre IS DISTINCT FROM v.cost_centre)
              OR (r.city IS NOT NULL AND initcap(r.city) IS DISTINCT FROM v.assigned_city)
            THEN 'vehicle ' || v.vehicle_number || ' updated' END AS vehicle,
       CASE WHEN r.plate IS NULL THEN NULL
            WHEN cur.imei IS NULL THEN 'fitted to ' || r.plate
            WHEN v.vehicle_id IS NULL OR cur.vehicle_id <> v.vehicle_id THEN 'moves from ' || curv.vehicle_number || ' to ' || r.plate END AS fitting,
       CASE WHEN r.driver_name IS NOT NULL
             AND domain.find_driver(r.driver_name, r.driver_phone, r.employee_no) IS NULL THEN 'new driver ' || r.driver_name END AS driver,
       CASE WHEN r.driver_name IS NULL THEN NULL
            WHEN da.driver_id IS NULL THEN r.driver_name || ' drives ' || r.plate
            WHEN da.driver_id IS DISTINCT FROM domain.find_driver(r.driver_name, r.driver_phone, r.employee_no)
            THEN 'driver of ' || r.plate || ': ' || curd.name || ' -> ' || r.driver_name END AS driving
  FROM r
  LEFT JOIN domain.devices d ON d.imei = r.imei
  LEFT JOIN domain.vehicles v ON v.plate_key = serve.normalize_plate(r.plate)
  LEFT JOIN domain.device_assignments cur ON cur.imei = r.imei AND upper_inf(cur.during)
  LEFT JOIN domain.vehicles curv ON curv.vehicle_id = cur.vehicle_id
  LEFT JOIN domain.driver_assignments da ON da.vehicle_id = v.vehicle_id AND upper_inf(da.during)
  LEFT JOIN domain.drivers curd ON curd.driver_id = da.driver_id
 ORDER BY r.line
