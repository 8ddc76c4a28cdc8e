-- Registry: vehicles by normalised plate (serve.normalize_plate, the one plate rule). Per field
-- the latest row that has a value wins (rows of one file in line order); an empty cell never
-- erases a known value. The plate keeps its latest spelling.
INSERT INTO domain.vehicles AS v (vehicle_number, plate_key, vehicle_name, make, model, cost_centre, assigned_city)
SELECT (array_agg(x.plate ORDER BY x.raw_id DESC, x.line DESC))[1],
       serve.normalize_plate(x.plate),
       (array_agg(x.vehicle_name ORDER BY x.raw_id DESC, x.line DESC) FILTER (WHERE x.vehicle_name IS NOT NULL))[1],
       (array_agg(x.make ORDER BY x.raw_id DESC, x.line DESC) FILTER (WHERE x.make IS NOT NULL))[1],
       (array_agg(x.vehicle_model ORDER BY x.raw_id DESC, x.line DESC) FILTER (WHERE x.vehicle_model IS NOT NULL))[1],
       (array_agg(x.cost_centre ORDER BY x.raw_id DESC, x.line DESC) FILTER (WHERE x.cost_centre IS NOT NULL))[1],
       (array_agg(initcap(x.city) ORDER BY x.raw_id DESC, x.line DESC) FILTER (WHERE x.city IS NOT NULL))[1]
  FROM jsonb_to_recordset($1::jsonb) AS x(plate text, vehicle_name text, make text, vehicle_model text,
                                          cost_centre text, city text, raw_id bigint, line integer)
 WHERE serve.normalize_plate(x.plate) IS NOT NULL
 GROUP BY serve.normalize_plate(x.plate)
 ORDER BY serve.normalize_plate(x.plate)
ON CONFLICT (plate_key) DO UPDATE SET
    vehicle_number = excluded.vehicle_number,
    vehicle_name = coalesce(excluded.vehicle_name, v.vehicle_name),
    make = coalesce(excluded.make, v.make),
    model = coalesce(excluded.model, v.model),
    cost_centre = coalesce(excluded.cost_centre, v.cost_centre),
    assigned_city = coalesce(excluded.assigned_city, v.assigned_city),
    updated_at = now()
