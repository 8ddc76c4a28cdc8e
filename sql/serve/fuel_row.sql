CREATE OR REPLACE FUNCTION serve.fuel_row(f fuel.v_fills) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('record_id', f.record_id, 'filled_local', f.filled_local, 'day', f.day,
        'vehicle_number', f.vehicle_number, 'matched', f.vehicle_id IS NOT NULL, 'imei', f.imei,
        'department', f.department, 'cost_centre', f.cost_centre, 'driver', f.driver, 'fuel_type', f.fuel_type,
        'litres', f.litres, 'amount_kes', f.amount_kes, 'amount', f.amount, 'currency', coalesce(f.currency, 'KES'),
        'kes_per_litre', f.kes_per_litre, 'odometer_km', f.odometer_km, 'full_tank', f.full_tank,
        'station', f.station,
        -- where it happened (the nearest fix, else the reported place) and its address, once the geocoder has them
        'address', serve.fill_address(f.record_id),
        'warnings', to_jsonb(f.warnings), 'review', f.review, 'voided', f.voided)
$$;
