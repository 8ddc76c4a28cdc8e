CREATE OR REPLACE FUNCTION serve.fn_fuel_efficiency(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object('rows', coalesce(jsonb_agg(jsonb_build_object(
               'record_id', e.record_id, 'vehicle_number', e.vehicle_number, 'department', e.department,
               'filled_local', e.filled_local, 'previous_record_id', e.prev_record_id,
               'previous_local', serve.local_time(e.prev_filled_at), 'litres', e.litres, 'amount_kes', e.amount_kes,
               'odometer_km', e.odometer_km, 'odometer_km_delta', e.odometer_km_delta, 'gps_km', e.gps_km,
               'km_per_l', e.km_per_l, 'l_per_100km', e.l_per_100km, 'kes_per_km', e.kes_per_km,
               'gps_km_per_l', e.gps_km_per_l, 'outliers', to_jsonb(e.outliers), 'review', e.review)
               ORDER BY e.vehicle_number, e.filled_at), '[]'))
      FROM fuel.v_efficiency e JOIN serve.fuel_fills(filters) f USING (record_id)
$$;
