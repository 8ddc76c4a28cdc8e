-- Registry: a device the vendor reports on a plate is fitted to that vehicle from the report's
-- arrival, when it is on no vehicle (an import's or operator's assignment stands).
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, serve.normalize_plate(x.vehicle_number) AS plate_key, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, vehicle_number text, received_at timestamptz, raw_id bigint)
     WHERE serve.normalize_plate(x.vehicle_number) IS NOT NULL
     ORDER BY x.imei, x.raw_id DESC
)
INSERT INTO domain.device_assignments (imei, vehicle_id, during, assigned_by)
SELECT i.imei, v.vehicle_id, -- A device's first fitting reaches back: what it reported before the registry knew it
       -- belongs to this vehicle too.
       tstzrange(CASE WHEN EXISTS (SELECT 1 FROM domain.device_assignments h WHERE h.imei = i.imei)
                      THEN i.received_at ELSE '-infinity' END, NULL), 'vendor device sync'
  FROM input i
  JOIN domain.vehicles v ON v.plate_key = i.plate_key
  JOIN domain.devices d ON d.imei = i.imei
 WHERE NOT EXISTS (SELECT 1 FROM domain.device_assignments a
                    WHERE a.imei = i.imei AND (upper_inf(a.during) OR upper(a.during) > i.received_at))
 ORDER BY i.imei
