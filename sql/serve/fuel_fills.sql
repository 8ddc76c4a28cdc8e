-- ---------------------------------------------------------------------------------------------
-- The fuel API (GET /api/analytics/fuel-*): one serve.fn_* each, filters as every view takes them
-- plus "departments" (any spelling the feed uses). Default period: 90 days.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.fuel_fills(filters jsonb)
RETURNS SETOF fuel.v_fills LANGUAGE sql STABLE AS $$
    WITH f AS MATERIALIZED (
        SELECT serve.filter_set(c) AS fs,
               serve.filter_range(CASE WHEN c ? 'from' OR c ? 'period_days' THEN c ELSE c || '{"period_days": 90}' END, 3660) AS during,
               (SELECT array_agg(fuel.department_of(d)) FROM unnest(serve.filter_list(c, 'departments')) d) AS departments
          FROM serve.check_filters(filters) c)
    SELECT v.* FROM f, fuel.v_fills v
     WHERE v.filled_at >= lower(f.during) AND v.filled_at < upper(f.during)
       AND serve.matches(f.fs, v.cost_centre, v.city, v.plate_key, v.imei, NULL)
       AND (f.departments IS NULL OR v.department = ANY (f.departments))
$$;
COMMENT ON FUNCTION serve.fuel_fills(jsonb) IS 'The fills a fuel endpoint covers (voided ones included, marked): its period (default 90 days) and filters.';
