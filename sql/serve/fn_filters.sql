-- The fuel log's departments come from the spellings' canonical names.
CREATE OR REPLACE FUNCTION serve.fn_filters(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object(
        'cost_centres', (SELECT coalesce(jsonb_agg(jsonb_build_object('code', code, 'name', name,
                                                                    'colour', serve.colour(code, colour)) ORDER BY code), '[]')
                           FROM domain.cost_centres),
        'cities', (SELECT coalesce(jsonb_agg(jsonb_build_object('city', city, 'country_code', country_code) ORDER BY city), '[]')
                     FROM domain.assigned_cities),
        'accounts', (SELECT coalesce(jsonb_agg(account ORDER BY account), '[]') FROM domain.accounts),
        -- the fuel log's departments (canonical names) and the drivers' cost centres
        'departments', (SELECT coalesce(jsonb_agg(DISTINCT d ORDER BY d), '[]')
                          FROM (SELECT canonical AS d FROM fuel.department_spellings WHERE records > 0
                                UNION SELECT cost_centre FROM domain.drivers WHERE cost_centre IS NOT NULL) x),
        'vehicles', (SELECT coalesce(jsonb_agg(jsonb_build_object('vehicle_number', vehicle_number, 'plate_key', plate_key,
                                                                'cost_centre', cost_centre, 'city', assigned_city) ORDER BY vehicle_number), '[]')
                       FROM domain.vehicles,
                            (SELECT serve.filter_set(serve.check_filters(filters) - 'vehicles' - 'accounts') AS fs OFFSET 0) f
                      WHERE serve.matches(f.fs, cost_centre, assigned_city, plate_key, NULL, NULL)),
        'states', '["moving", "parked", "unknown", "offline", "suspended"]'::jsonb,
        'no_cost_centre_colour', serve.colour(NULL, NULL),
        'time_zone', serve.local_tz())
$$;
COMMENT ON FUNCTION serve.fn_filters(jsonb) IS
    'GET /api/filters: the values each filter can take (vehicles narrowed by the other filters), and the palette.';
