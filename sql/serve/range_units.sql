-- The device that speaks for a vehicle over a time range (the one with the most fixes in it;
-- ties: the newest), so two trackers on one car never double its trips or km.
CREATE OR REPLACE FUNCTION serve.range_units(filters jsonb, span tstzrange)
RETURNS TABLE (unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text,
               city text, imei text, driver_name text)
LANGUAGE sql STABLE AS $$
    WITH fs AS MATERIALIZED (SELECT serve.filter_set(filters) AS fs),
    cand AS (
        SELECT serve.unit_key(a.vehicle_id, d.imei) AS unit_key, a.vehicle_id, d.imei,
               serve.unit_label(v.vehicle_number, sd.device_name, d.imei) AS vehicle_number,
               v.plate_key, v.cost_centre, v.assigned_city AS city, sd.driver_name
          FROM fs CROSS JOIN domain.devices d
          LEFT JOIN domain.device_assignments a ON a.imei = d.imei AND a.during && span
          LEFT JOIN domain.vehicles v ON v.vehicle_id = a.vehicle_id
          LEFT JOIN state.devices sd ON sd.imei = d.imei
         WHERE d.lifecycle <> 'decommissioned'
           AND serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, d.imei, coalesce(d.account, sd.account))
    )
    SELECT DISTINCT ON (c.unit_key) c.unit_key, c.vehicle_id, c.vehicle_number, c.plate_key, c.cost_centre, c.city, c.imei, c.driver_name
      FROM (SELECT cand.*, count(*) OVER (PARTITION BY cand.unit_key) AS candidates FROM cand) c
      LEFT JOIN state.live_positions l ON l.imei = c.imei
     ORDER BY c.unit_key,
              -- fixes are counted only to choose between several devices of one vehicle
              CASE WHEN c.candidates > 1 THEN
                  (SELECT count(*) FROM state.position_history h
                    WHERE h.imei = c.imei AND h.fix_time >= lower(span) AND h.fix_time < upper(span)) END DESC NULLS LAST,
              l.fix_time DESC NULLS LAST, c.imei
$$;
COMMENT ON FUNCTION serve.range_units(jsonb, tstzrange) IS
    'The dedup rule over a time range: per vehicle, the device with the most fixes in the range.';
