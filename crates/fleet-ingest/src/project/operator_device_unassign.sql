-- Operator actions: a device moved to another vehicle (or taken off its vehicle) leaves the
-- vehicle it is on when the action arrived. Only an assignment that began before the action is
-- closed, so re-applying an older action never undoes a newer one.
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, serve.normalize_plate(x.vehicle_number) AS plate_key, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, vehicle_number text, received_at timestamptz, raw_id bigint)
     ORDER BY x.imei, x.raw_id DESC
)
UPDATE domain.device_assignments a
   SET during = tstzrange(lower(a.during), i.received_at)
  FROM input i
  LEFT JOIN domain.vehicles v ON v.plate_key = i.plate_key
 WHERE a.imei = i.imei AND upper_inf(a.during) AND lower(a.during) < i.received_at
   AND a.vehicle_id IS DISTINCT FROM v.vehicle_id
