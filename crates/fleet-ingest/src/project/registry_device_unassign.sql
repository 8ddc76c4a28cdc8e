-- Registry: a device listed on another vehicle than the one it is fitted to leaves that vehicle
-- when the import arrived (the history keeps the old assignment, closed).
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, serve.normalize_plate(x.plate) AS plate_key, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, plate text, received_at timestamptz, raw_id bigint, line integer)
     WHERE serve.normalize_plate(x.plate) IS NOT NULL
     ORDER BY x.imei, x.raw_id DESC, x.line DESC
)
UPDATE domain.device_assignments a
   SET during = tstzrange(lower(a.during), greatest(lower(a.during), i.received_at))
  FROM input i
  JOIN domain.vehicles v ON v.plate_key = i.plate_key
 WHERE a.imei = i.imei AND upper_inf(a.during) AND a.vehicle_id <> v.vehicle_id
