-- Registry: a plate the vendor reports for a device (device detail, FIX-M18) names a vehicle.
-- The vendor only adds plates not known yet: what an import or an operator says is never
-- overwritten by the vendor.
INSERT INTO domain.vehicles (vehicle_number, plate_key, vehicle_name)
SELECT DISTINCT ON (serve.normalize_plate(x.vehicle_number))
       btrim(x.vehicle_number), serve.normalize_plate(x.vehicle_number), nullif(btrim(x.vehicle_name), '')
  FROM jsonb_to_recordset($1::jsonb) AS x(vehicle_number text, vehicle_name text, raw_id bigint)
 WHERE serve.normalize_plate(x.vehicle_number) IS NOT NULL
 ORDER BY serve.normalize_plate(x.vehicle_number), x.raw_id DESC
ON CONFLICT (plate_key) DO NOTHING
