-- Operator actions: service-log entries, one per action (keyed by its raw row).
INSERT INTO ops.service_log (vehicle_id, serviced_at, odometer_km, description, cost_kes, actor, raw_id)
SELECT v.vehicle_id, x.serviced_at, x.odometer_km, x.description, x.cost_kes, x.actor, x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(vehicle_number text, serviced_at timestamptz, odometer_km numeric,
                                          description text, cost_kes numeric, actor text, raw_id bigint)
  JOIN domain.vehicles v ON v.plate_key = serve.normalize_plate(x.vehicle_number)
 ORDER BY x.raw_id
ON CONFLICT (raw_id) DO NOTHING
