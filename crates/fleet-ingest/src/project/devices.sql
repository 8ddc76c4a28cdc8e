-- Device registry projector: what the vendor says about each device (device list and detail).
-- The newest report wins, but a null never erases a known value (the list returns null plates
-- that the detail has, FIX-M18), so the result does not depend on the order reports are applied.
WITH batch AS (
    SELECT x.* FROM jsonb_to_recordset($1::jsonb) AS x(
       imei text, account text, device_name text, model text, sim text, iccid text, vehicle_name text,
       vehicle_number text, driver_name text, driver_phone text, enabled boolean, activated_at timestamptz,
       expires_at timestamptz, current_mileage_km numeric, details jsonb, received_at timestamptz, raw_id bigint)
     WHERE x.imei IS NOT NULL)
INSERT INTO state.devices AS d (imei, account, device_name, model, sim, iccid, vehicle_name, vehicle_number, driver_name, driver_phone, enabled, activated_at, expires_at, current_mileage_km,
                           details, source_time, raw_id)
-- Several reports of one device in a batch are merged with the same rule first: per field, the
-- newest non-null value; per details key, the newest report that has it.
SELECT imei,
       (array_agg(account ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE account IS NOT NULL))[1],
       (array_agg(device_name ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE device_name IS NOT NULL))[1],
       (array_agg(model ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE model IS NOT NULL))[1],
       (array_agg(sim ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE sim IS NOT NULL))[1],
       (array_agg(iccid ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE iccid IS NOT NULL))[1],
       (array_agg(vehicle_name ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE vehicle_name IS NOT NULL))[1],
       (array_agg(vehicle_number ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE vehicle_number IS NOT NULL))[1],
       (array_agg(driver_name ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE driver_name IS NOT NULL))[1],
       (array_agg(driver_phone ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE driver_phone IS NOT NULL))[1],
       (array_agg(enabled ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE enabled IS NOT NULL))[1],
       (array_agg(activated_at ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE activated_at IS NOT NULL))[1],
       (array_agg(expires_at ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE expires_at IS NOT NULL))[1],
       (array_agg(current_mileage_km ORDER BY received_at DESC, raw_id DESC) FILTER (WHERE current_mileage_km IS NOT NULL))[1],
       coalesce((SELECT jsonb_object_agg(k, v) FROM (
                   SELECT DISTINCT ON (e.key) e.key AS k, e.value AS v
                     FROM batch b CROSS JOIN LATERAL jsonb_each(coalesce(b.details, '{}')) e
                    WHERE b.imei = g.imei
                    ORDER BY e.key, b.received_at DESC, b.raw_id DESC) kv), '{}'),
       max(received_at), max(raw_id)
  FROM batch g
 GROUP BY imei
 ORDER BY imei
ON CONFLICT (imei) DO UPDATE SET
    account = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.account, d.account),
    device_name = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.device_name, d.device_name),
    model = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.model, d.model),
    sim = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.sim, d.sim),
    iccid = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.iccid, d.iccid),
    vehicle_name = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.vehicle_name, d.vehicle_name),
    vehicle_number = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.vehicle_number, d.vehicle_number),
    driver_name = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.driver_name, d.driver_name),
    driver_phone = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.driver_phone, d.driver_phone),
    enabled = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.enabled, d.enabled),
    activated_at = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.activated_at, d.activated_at),
    expires_at = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.expires_at, d.expires_at),
    current_mileage_km = state.merge_value((excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id), excluded.current_mileage_km, d.current_mileage_km),
    details = CASE WHEN (excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id) THEN d.details || excluded.details ELSE excluded.details || d.details END,
    source_time = greatest(d.source_time, excluded.source_time),
    raw_id = CASE WHEN (excluded.source_time, excluded.raw_id) > (d.source_time, d.raw_id) THEN excluded.raw_id ELSE d.raw_id END,
    updated_at = now()
