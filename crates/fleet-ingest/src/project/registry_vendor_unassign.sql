-- Registry: when the vendor reports a device on another plate than the one the vendor put it on
-- before, that assignment ends. Assignments made by an import or an operator are theirs to
-- change: the vendor never ends them.
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, serve.normalize_plate(x.vehicle_number) AS plate_key, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, vehicle_number text, received_at timestamptz, raw_id bigint)
     WHERE serve.normalize_plate(x.vehicle_number) IS NOT NULL
     ORDER BY x.imei, x.raw_id DESC
)
UPDATE domain.device_assignments a
   SET during = tstzrange(lower(a.during), i.received_at)
  FROM input i
  JOIN domain.vehicles v ON v.plate_key = i.plate_key
 WHERE a.imei = i.imei AND upper_inf(a.during) AND a.assigned_by = 'vendor device sync'
   AND lower(a.during) < i.received_at AND a.vehicle_id <> v.vehicle_id
