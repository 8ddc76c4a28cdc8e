-- OBD projector: the documented reading names (jimi-api.md §4 jimi.device.obd.list), whatever the
-- push calls the rest (kept in details).
INSERT INTO state.obd_readings (imei, reading_time, odometer_km, fuel_remaining, fuel_remaining_pct,
                                coolant_temp_c, battery_v, rpm, speed_kmh, vin, details, raw_id)
SELECT DISTINCT ON (imei, "time") imei, "time",
       (readings->>'odometerReading')::float8,
       (readings->>'remainingFuel')::float8,
       (readings->>'remainingFuelPercentage')::real,
       (readings->>'coolantTemperature')::real,
       (readings->>'vehicleBatterVoltage')::real,
       round((readings->>'currentRPM')::numeric)::integer,
       (readings->>'currentSpeed')::real,
       details->>'vin',
       coalesce(details, '{}'), raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, "time" timestamptz, readings jsonb, details jsonb, raw_id bigint)
 WHERE imei IS NOT NULL AND "time" IS NOT NULL
 ORDER BY imei, "time", raw_id
ON CONFLICT (imei, reading_time) DO UPDATE SET
    odometer_km = excluded.odometer_km, fuel_remaining = excluded.fuel_remaining, fuel_remaining_pct = excluded.fuel_remaining_pct, coolant_temp_c = excluded.coolant_temp_c, battery_v = excluded.battery_v, rpm = excluded.rpm, speed_kmh = excluded.speed_kmh, vin = excluded.vin, details = excluded.details, raw_id = excluded.raw_id
WHERE excluded.raw_id < state.obd_readings.raw_id
