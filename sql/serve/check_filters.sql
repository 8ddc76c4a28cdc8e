-- ---------------------------------------------------------------------------------------------
-- The fuel API (GET /api/analytics/fuel-*): one serve.fn_* each, filters as every view takes them
-- plus "departments" (any spelling; canonicalised like the feed's). Default period: 90 days.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.check_filters(filters jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    known text[] := ARRAY['cost_centres', 'cities', 'vehicles', 'accounts', 'states', 'departments', 'from', 'to', 'zoom', 'period_days', 'track', 'bbox'];
    k text;
BEGIN
    IF filters IS NULL OR filters = 'null'::jsonb THEN
        RETURN '{}'::jsonb;
    END IF;
    IF jsonb_typeof(filters) <> 'object' THEN
        RAISE EXCEPTION 'filters must be a JSON object such as {"cost_centres":["OPS"],"from":"2026-11-01"}'
              USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(filters) LOOP
        IF NOT k = ANY (known) THEN
            RAISE EXCEPTION 'unknown filter "%"; the filters are: %', k, array_to_string(known, ', ')
                  USING ERRCODE = '22023';
        END IF;
        IF k IN ('cost_centres', 'cities', 'vehicles', 'accounts', 'states', 'departments')
           AND jsonb_typeof(filters -> k) NOT IN ('array', 'string', 'null') THEN
            RAISE EXCEPTION 'filter "%" must be a list of strings, e.g. {"%": ["A", "B"]}', k, k
                  USING ERRCODE = '22023';
        END IF;
        IF k = 'zoom' AND (jsonb_typeof(filters -> k) <> 'number' OR (filters ->> k)::numeric NOT BETWEEN 0 AND 22) THEN
            RAISE EXCEPTION 'filter "zoom" must be a map zoom level from 0 to 22, e.g. {"zoom": 13}' USING ERRCODE = '22023';
        END IF;
        IF k = 'bbox' AND NOT (jsonb_typeof(filters -> k) = 'array' AND jsonb_array_length(filters -> k) = 4
                               AND (SELECT bool_and(jsonb_typeof(e) = 'number') FROM jsonb_array_elements(filters -> k) e)
                               AND (filters -> k ->> 0)::float8 BETWEEN -180 AND 180
                               AND (filters -> k ->> 2)::float8 BETWEEN -180 AND 180
                               AND (filters -> k ->> 1)::float8 BETWEEN -90 AND 90
                               AND (filters -> k ->> 3)::float8 BETWEEN -90 AND 90
                               AND (filters -> k ->> 1)::float8 <= (filters -> k ->> 3)::float8) THEN
            RAISE EXCEPTION 'filter "bbox" is the map''s bounds as [west, south, east, north] in degrees (south <= north; west > east crosses the antimeridian), e.g. {"bbox": [36.6, -1.45, 37.1, -1.1]}'
                  USING ERRCODE = '22023';
        END IF;
        IF k = 'period_days' AND (jsonb_typeof(filters -> k) <> 'number' OR (filters ->> k) !~ '^[0-9]+$'
                                  OR (filters ->> k)::numeric NOT BETWEEN 1 AND 3660) THEN
            RAISE EXCEPTION 'filter "period_days" must be a whole number of days from 1 to 3660, e.g. {"period_days": 30}'
                  USING ERRCODE = '22023';
        END IF;
        IF k = 'track' AND coalesce(filters ->> k, '') NOT IN ('raw', 'matched') THEN
            RAISE EXCEPTION 'filter "track" is "raw" (the fixes as received) or "matched" (snapped to the roads), e.g. {"track": "matched"}'
                  USING ERRCODE = '22023';
        END IF;
        IF k IN ('from', 'to') AND jsonb_typeof(filters -> k) <> 'string' THEN
            RAISE EXCEPTION 'filter "%" must be a day ("2026-11-01") or a timestamp ("2026-11-01T08:00:00+03:00")', k
                  USING ERRCODE = '22023';
        END IF;
    END LOOP;
    RETURN filters;
END $$;
COMMENT ON FUNCTION serve.check_filters(jsonb) IS
    'Validates a filters object (a clear error naming the bad key) and returns it.';
