-- Operator actions: a device put on a vehicle is fitted to it from the action's arrival, unless
-- it already is there or a newer assignment exists.
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, serve.normalize_plate(x.vehicle_number) AS plate_key, x.actor, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, vehicle_number text, actor text, received_at timestamptz, raw_id bigint)
     ORDER BY x.imei, x.raw_id DESC
)
INSERT INTO domain.device_assignments (imei, vehicle_id, during, assigned_by)
SELECT i.imei, v.vehicle_id, tstzrange(i.received_at, NULL), i.actor
  FROM input i
  JOIN domain.vehicles v ON v.plate_key = i.plate_key
  JOIN domain.devices d ON d.imei = i.imei
 WHERE NOT EXISTS (SELECT 1 FROM domain.device_assignments a
                    WHERE a.imei = i.imei AND (upper_inf(a.during) OR upper(a.during) > i.received_at))
 ORDER BY i.imei
