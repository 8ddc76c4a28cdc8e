CREATE OR REPLACE FUNCTION serve.unit_label(vehicle_number text, device_name text, imei text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(vehicle_number, nullif(btrim(device_name), ''), imei)
$$;
