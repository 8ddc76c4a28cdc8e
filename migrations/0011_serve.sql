-- The serve layer (issue 5): the read contract of the API and the pages, and the rules of the
-- operator actions. Every business rule the pages show lives here once: the vehicle dedup
-- (serve.fleet_units), the operational state (serve.vehicle_state), the palette, plate tails,
-- local (EAT) times, the filters (serve.matches), and the legal lifecycle transitions.

-- A fix younger than this is fresh: the freshness SLO counts these and the live view badges the
-- vehicles whose fix is older (ARCHITECTURE §1 rule 7: no threshold in code).
INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fresh_fix_sec', 'threshold', 60, '<=', 'seconds', NULL,
     'A fix younger than this is fresh; the freshness SLO counts fresh fixes and the live view badges vehicles with older ones')
ON CONFLICT (metric) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- Lifecycle rules
-- ---------------------------------------------------------------------------------------------
CREATE TABLE domain.lifecycle_transitions (
    from_state      text NOT NULL,
    to_state        text NOT NULL,
    PRIMARY KEY (from_state, to_state)
);
COMMENT ON TABLE domain.lifecycle_transitions IS
    'The legal device lifecycle transitions (ARCHITECTURE §1 rule 6). decommissioned is final.';
INSERT INTO domain.lifecycle_transitions VALUES
    ('provisioned', 'active'), ('provisioned', 'decommissioned'),
    ('active', 'suspended'), ('active', 'decommissioned'),
    ('suspended', 'active'), ('suspended', 'decommissioned');

CREATE FUNCTION domain.allowed_transitions(from_state text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(t.to_state ORDER BY t.to_state), '{}')
      FROM domain.lifecycle_transitions t WHERE t.from_state = $1
$$;
COMMENT ON FUNCTION domain.allowed_transitions(text) IS 'The states a device in from_state may move to (none: final).';

CREATE INDEX device_lifecycle_events_raw_idx ON domain.device_lifecycle_events (raw_id);

-- Applies operator lifecycle transitions in log order. Idempotent: a transition already applied
-- (same raw row) is skipped; one that is not legal from the device's state at that point is
-- skipped too (the API refused it up front unless two admins raced).
CREATE FUNCTION domain.apply_lifecycle(transitions jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    cur text;
    n integer := 0;
BEGIN
    FOR t IN SELECT * FROM jsonb_to_recordset(transitions) AS e(
                 imei text, to_state text, actor text, reason text, raw_id bigint, received_at timestamptz)
             ORDER BY e.raw_id
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM domain.device_lifecycle_events
                               WHERE raw_id = t.raw_id AND imei = t.imei);
        SELECT lifecycle INTO cur FROM domain.devices WHERE imei = t.imei FOR UPDATE;
        CONTINUE WHEN NOT FOUND;
        CONTINUE WHEN NOT t.to_state = ANY (domain.allowed_transitions(cur));
        UPDATE domain.devices SET lifecycle = t.to_state, lifecycle_changed_at = t.received_at
         WHERE imei = t.imei;
        INSERT INTO domain.device_lifecycle_events (imei, from_state, to_state, changed_at, actor, reason, raw_id)
        VALUES (t.imei, cur, t.to_state, t.received_at, t.actor, t.reason, t.raw_id);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION domain.apply_lifecycle(jsonb) IS
    'Projector body for operator lifecycle transitions: legal ones only, in log order, each once.';

-- Service-log entries and alarm acks come from operator action events: one row per raw row.
CREATE UNIQUE INDEX service_log_raw_idx ON ops.service_log (raw_id);

-- ---------------------------------------------------------------------------------------------
-- Small shared rules
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION serve.local_tz() RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'Africa/Nairobi'::text
$$;
COMMENT ON FUNCTION serve.local_tz() IS 'The time zone every page shows and every "day" is cut in (EAT).';

CREATE FUNCTION serve.local_time(ts timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- (a cast, five times cheaper than to_char; the platform's connections use DateStyle ISO)
    SELECT date_trunc('second', ts AT TIME ZONE 'Africa/Nairobi')::text
$$;
COMMENT ON FUNCTION serve.local_time(timestamptz) IS 'A timestamp as the pages print it: EAT, "2026-11-24 14:05:09".';

CREATE FUNCTION serve.local_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (ts AT TIME ZONE 'Africa/Nairobi')::date
$$;
COMMENT ON FUNCTION serve.local_day(timestamptz) IS 'The EAT day a timestamp falls in.';

CREATE FUNCTION serve.plate_tail(plate_key text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT right(plate_key, 4)
$$;
COMMENT ON FUNCTION serve.plate_tail(text) IS 'The short label on a map dot: "KCA542Q" -> "542Q".';

CREATE FUNCTION serve.colour(code text, configured text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN configured IS NOT NULL THEN configured
        WHEN code IS NULL THEN '#9e9e9e'
        ELSE (ARRAY['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b',
                    '#e377c2','#17becf','#bcbd22','#393b79','#ad494a','#637939'])[1 + abs(hashtext(code)) % 12]
    END
$$;
COMMENT ON FUNCTION serve.colour(text, text) IS
    'A cost centre''s map colour: its configured colour, else a stable palette entry; grey for none.';

CREATE FUNCTION serve.vehicle_state(age_s double precision, speed_kmh real,
                                    moving_kmh double precision, stale_s double precision, offline_s double precision)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN age_s IS NULL OR age_s > offline_s THEN 'offline'
        WHEN age_s > stale_s THEN 'unknown'
        WHEN coalesce(speed_kmh, 0) >= moving_kmh THEN 'moving'
        ELSE 'parked'
    END
$$;
COMMENT ON FUNCTION serve.vehicle_state(double precision, real, double precision, double precision, double precision) IS
    'Operational state from the latest fix (never stored, ARCHITECTURE §1 rule 6); thresholds come from serve.thresholds().';

CREATE FUNCTION serve.thresholds(OUT moving_kmh double precision, OUT stale_s double precision,
                                 OUT offline_s double precision, OUT fresh_s double precision)
LANGUAGE sql STABLE AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'moving_speed_kmh'),
           max(threshold) FILTER (WHERE metric = 'stale_gps_sec'),
           max(threshold) FILTER (WHERE metric = 'offline_sec'),
           max(threshold) FILTER (WHERE metric = 'fresh_fix_sec')
      FROM slo.targets WHERE kind = 'threshold'
$$;
COMMENT ON FUNCTION serve.thresholds() IS 'The operational thresholds, read once per query from slo.targets.';

CREATE FUNCTION serve.alarm_class(alarm_type text, alarm_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN alarm_type IN ('41', '48', '43', '49') OR alarm_name ~* '(harsh|rapid|sharp|sudden)' THEN 'harsh'
        WHEN alarm_type IN ('6', 'overSpeed') OR alarm_name ~* 'over ?speed|speeding' THEN 'speeding'
        ELSE 'other'
    END
$$;
COMMENT ON FUNCTION serve.alarm_class(text, text) IS
    'Driver-behaviour class of an alarm: harsh (acceleration, braking, turns), speeding, other.';

CREATE FUNCTION serve.at_most(n bigint, max bigint, message text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n > max THEN
        RAISE EXCEPTION '%', message USING ERRCODE = '22023';
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION serve.at_most(bigint, bigint, text) IS 'n, or a 400-class error (SQLSTATE 22023) with message when n > max.';

-- ---------------------------------------------------------------------------------------------
-- Filters: one JSON object. Adding a filter is a key in serve.check_filters and a line in
-- serve.matches (or serve.filter_range for time).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION serve.filter_list(filters jsonb, key text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(filters -> key)
        WHEN 'array' THEN (SELECT array_agg(e) FROM jsonb_array_elements_text(filters -> key) e WHERE e <> '')
        WHEN 'string' THEN CASE WHEN filters ->> key <> '' THEN ARRAY[filters ->> key] END
    END
$$;

CREATE FUNCTION serve.check_filters(filters jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    known text[] := ARRAY['cost_centres', 'cities', 'vehicles', 'accounts', 'states', 'from', 'to', 'zoom', 'period_days'];
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
        IF k IN ('cost_centres', 'cities', 'vehicles', 'accounts', 'states')
           AND jsonb_typeof(filters -> k) NOT IN ('array', 'string', 'null') THEN
            RAISE EXCEPTION 'filter "%" must be a list of strings, e.g. {"%": ["A", "B"]}', k, k
                  USING ERRCODE = '22023';
        END IF;
        IF k = 'zoom' AND (jsonb_typeof(filters -> k) <> 'number' OR (filters ->> k)::numeric NOT BETWEEN 0 AND 22) THEN
            RAISE EXCEPTION 'filter "zoom" must be a map zoom level from 0 to 22, e.g. {"zoom": 13}' USING ERRCODE = '22023';
        END IF;
        IF k = 'period_days' AND (jsonb_typeof(filters -> k) <> 'number' OR (filters ->> k) !~ '^[0-9]+$'
                                  OR (filters ->> k)::numeric NOT BETWEEN 1 AND 3660) THEN
            RAISE EXCEPTION 'filter "period_days" must be a whole number of days from 1 to 3660, e.g. {"period_days": 30}'
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

-- A filters object read once per query into arrays (normalised the way the columns are), so the
-- per-row test below is a plain expression the planner inlines.
CREATE TYPE serve.filter_set AS (cost_centres text[], cities text[], accounts text[], vehicles text[]);

CREATE FUNCTION serve.filter_set(filters jsonb) RETURNS serve.filter_set
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ROW(
        (SELECT array_agg(upper(c)) FROM unnest(serve.filter_list(filters, 'cost_centres')) c),
        (SELECT array_agg(lower(c)) FROM unnest(serve.filter_list(filters, 'cities')) c),
        serve.filter_list(filters, 'accounts'),
        -- plates in any spelling, or IMEIs (which the plate rule leaves as they are)
        (SELECT array_agg(serve.normalize_plate(v)) FROM unnest(serve.filter_list(filters, 'vehicles')) v)
    )::serve.filter_set
$$;

CREATE FUNCTION serve.matches(fs serve.filter_set, cost_centre text, city text, plate_key text, imei text, account text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (fs.cost_centres IS NULL OR upper(cost_centre) = ANY (fs.cost_centres))
       AND (fs.cities IS NULL OR lower(city) = ANY (fs.cities))
       AND (fs.accounts IS NULL OR account = ANY (fs.accounts))
       AND (fs.vehicles IS NULL OR plate_key = ANY (fs.vehicles) OR upper(imei) = ANY (fs.vehicles))
$$;
COMMENT ON FUNCTION serve.matches(serve.filter_set, text, text, text, text, text) IS
    'Whether a vehicle passes the filters: cost centres, cities (any case), accounts, vehicles (plates in any spelling, or IMEIs).';

-- The time range of a filters object: "from"/"to" as EAT days ("2026-11-01", both inclusive) or
-- timestamps; the default is today (EAT) so far.
CREATE FUNCTION serve.filter_range(filters jsonb, max_days integer DEFAULT NULL) RETURNS tstzrange
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f text := filters ->> 'from';
    t text := filters ->> 'to';
    lo timestamptz;
    hi timestamptz;
    days integer;
BEGIN
    BEGIN
        IF f ~ '^\d{4}-\d{2}-\d{2}$' THEN
            lo := f::date::timestamp AT TIME ZONE 'Africa/Nairobi';
        ELSIF f IS NOT NULL THEN
            lo := f::timestamptz;
        END IF;
        IF t ~ '^\d{4}-\d{2}-\d{2}$' THEN
            hi := (t::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi';
        ELSIF t IS NOT NULL THEN
            hi := t::timestamptz;
        END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
        RAISE EXCEPTION 'filters "from"/"to" must be days (2026-11-01) or timestamps (2026-11-01T08:00:00+03:00)'
              USING ERRCODE = '22023';
    END;
    days := (filters ->> 'period_days')::integer;
    hi := coalesce(hi, now());
    lo := coalesce(lo,
                   CASE WHEN days IS NOT NULL
                        THEN (serve.local_day(hi) - (days - 1))::timestamp AT TIME ZONE 'Africa/Nairobi'
                        ELSE serve.local_day(hi)::timestamp AT TIME ZONE 'Africa/Nairobi' END);
    IF hi <= lo THEN
        RAISE EXCEPTION 'filters "to" (%) must be after "from" (%)', hi, lo USING ERRCODE = '22023';
    END IF;
    IF max_days IS NOT NULL AND hi - lo > make_interval(days => max_days) THEN
        RAISE EXCEPTION 'this view covers at most % days at a time; narrow "from"/"to"', max_days
              USING ERRCODE = '22023';
    END IF;
    RETURN tstzrange(lo, hi);
END $$;
COMMENT ON FUNCTION serve.filter_range(jsonb, integer) IS
    'The [from, to) range of a filters object: EAT days inclusive, timestamps, or period_days back from today; default today.';

-- ---------------------------------------------------------------------------------------------
-- The vehicle dedup rule: one row per vehicle (a plate with several devices shows once, the
-- freshest fix wins; a suspended device only when the vehicle has nothing else), devices on no
-- vehicle as their own unit, decommissioned devices never.
-- ---------------------------------------------------------------------------------------------
-- How a vehicle is keyed and named on every view: by its registry id, or, for a tracker on no
-- vehicle, by the tracker; named by its plate, else the tracker's name, else its IMEI.
CREATE FUNCTION serve.unit_key(vehicle_id bigint, imei text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce('v' || vehicle_id, 'd' || imei)
$$;
CREATE FUNCTION serve.unit_label(vehicle_number text, device_name text, imei text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(vehicle_number, nullif(btrim(device_name), ''), imei)
$$;

CREATE FUNCTION serve.fleet_units(filters jsonb)
RETURNS TABLE (unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text,
               cost_centre_name text, colour text, city text, account text, imei text, devices integer,
               lifecycle text, fix_time timestamptz, received_at timestamptz, lat double precision,
               lng double precision, speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint,
               driver_name text, driver_phone text, age_s double precision, state text, below_fresh boolean)
LANGUAGE sql STABLE AS $$
    WITH fs AS MATERIALIZED (SELECT serve.filter_set(filters) AS fs, serve.filter_list(filters, 'states') AS states),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    dev AS (
        SELECT d.imei, d.lifecycle, d.account, a.vehicle_id
          FROM domain.devices d
          LEFT JOIN domain.device_assignments a ON a.imei = d.imei AND upper_inf(a.during)
         WHERE d.lifecycle <> 'decommissioned'
        UNION ALL
        -- A device that reports before any registry knows it still shows.
        SELECT l.imei, 'active', NULL, NULL
          FROM state.live_positions l
         WHERE NOT EXISTS (SELECT 1 FROM domain.devices d WHERE d.imei = l.imei)
    ), unit AS (
        SELECT serve.unit_key(dev.vehicle_id, dev.imei) AS unit_key, dev.vehicle_id,
               serve.unit_label(v.vehicle_number, sd.device_name, dev.imei) AS vehicle_number,
               v.plate_key, v.cost_centre, cc.name AS cost_centre_name, serve.colour(v.cost_centre, cc.colour) AS colour,
               v.assigned_city AS city, coalesce(dev.account, sd.account) AS account, dev.imei,
               count(*) OVER (PARTITION BY dev.vehicle_id, CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END)::integer AS devices,
               CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END AS solo,
               dev.lifecycle, l.fix_time, l.received_at, l.lat, l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m,
               sd.driver_name AS vendor_driver, sd.driver_phone AS vendor_phone
          FROM fs CROSS JOIN dev
          LEFT JOIN domain.vehicles v ON v.vehicle_id = dev.vehicle_id
          LEFT JOIN domain.cost_centres cc ON cc.code = v.cost_centre
          LEFT JOIN state.devices sd ON sd.imei = dev.imei
          LEFT JOIN state.live_positions l ON l.imei = dev.imei
         WHERE serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, dev.imei, coalesce(dev.account, sd.account))
    ), picked AS (
        SELECT DISTINCT ON (u.vehicle_id, u.solo COLLATE "C")
               u.unit_key, u.vehicle_id, u.vehicle_number, u.plate_key, u.cost_centre, u.cost_centre_name, u.colour,
               u.city, u.account, u.imei, u.devices, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng,
               u.speed_kmh, u.heading, u.acc_on, u.odometer_m,
               coalesce(dr.name, u.vendor_driver) AS driver_name, coalesce(dr.phone, u.vendor_phone) AS driver_phone,
               extract(epoch FROM now() - u.fix_time)::double precision AS age_s
          FROM unit u
          LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND upper_inf(da.during)
          LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
         ORDER BY u.vehicle_id, u.solo COLLATE "C", (u.lifecycle = 'suspended'), u.fix_time DESC NULLS LAST, u.imei COLLATE "C"
    ), stated AS (
        -- The operational state (never stored, ARCHITECTURE §1 rule 6): suspended trackers show
        -- as such; otherwise from the fix's age and speed against the thresholds.
        SELECT p.*,
               CASE WHEN p.lifecycle = 'suspended' THEN 'suspended'
                    ELSE serve.vehicle_state(p.age_s, p.speed_kmh, t.moving_kmh, t.stale_s, t.offline_s) END AS state,
               p.age_s > t.fresh_s AS below_fresh
          FROM picked p, t
    )
    SELECT s.* FROM stated s, fs WHERE fs.states IS NULL OR s.state = ANY (fs.states)
$$;
COMMENT ON FUNCTION serve.fleet_units(jsonb) IS
    'The dedup rule: one row per vehicle with its freshest non-suspended device (devices on no vehicle are their own unit; decommissioned devices never show), with its operational state; every filter but the time range applied.';

-- ---------------------------------------------------------------------------------------------
-- Views (ARCHITECTURE §6): each answers {summary, geojson, slo_status} in one call.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION serve.slo_status() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'metric', metric, 'status', status, 'value', value, 'threshold', threshold,
               'comparator', comparator, 'unit', unit, 'description', description,
               'since_local', serve.local_time(since)) ORDER BY metric), '[]'::jsonb)
      FROM slo.v_current_status
$$;

CREATE FUNCTION serve.fn_live_view(filters jsonb) RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
BEGIN
    RETURN (WITH picked AS MATERIALIZED (SELECT * FROM serve.fleet_units(serve.check_filters(filters))),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    counts AS (
        SELECT count(*) AS vehicles,
               count(*) FILTER (WHERE state = 'moving') AS moving,
               count(*) FILTER (WHERE state = 'parked') AS parked,
               count(*) FILTER (WHERE state = 'unknown') AS unknown,
               count(*) FILTER (WHERE state = 'offline') AS offline,
               count(*) FILTER (WHERE state = 'suspended') AS suspended,
               count(*) FILTER (WHERE below_fresh AND state NOT IN ('offline', 'suspended')) AS below_freshness
          FROM picked
    )
    SELECT json_build_object(
        'summary', (SELECT json_build_object(
            'vehicles', c.vehicles, 'moving', c.moving, 'parked', c.parked, 'unknown', c.unknown,
            'offline', c.offline, 'suspended', c.suspended, 'below_freshness', c.below_freshness,
            'generated_at', now(),
            'generated_at_local', serve.local_time(now()),
            'time_zone', serve.local_tz(),
            'thresholds', (SELECT row_to_json(t) FROM t)) FROM counts c),
        'geojson', json_build_object(
            'type', 'FeatureCollection',
            'features', coalesce((
                SELECT json_agg(json_build_object(
                    'type', 'Feature',
                    'id', p.unit_key,
                    'geometry', CASE WHEN p.lat IS NOT NULL THEN json_build_object(
                                    'type', 'Point', 'coordinates', json_build_array(p.lng, p.lat)) END,
                    'properties', row_to_json(props))
                    ORDER BY p.vehicle_number COLLATE "C")
                  FROM picked p
                  CROSS JOIN LATERAL (SELECT
                        p.vehicle_number,
                        serve.plate_tail(coalesce(p.plate_key, serve.normalize_plate(p.vehicle_number))) AS plate_tail,
                        p.imei,
                        p.devices,
                        p.state,
                        'vehicle-' || p.state AS style_class,
                        p.lifecycle,
                        p.cost_centre,
                        p.colour,
                        p.city,
                        p.account,
                        p.driver_name,
                        p.driver_phone,
                        p.speed_kmh,
                        p.heading,
                        p.acc_on,
                        round(p.odometer_m / 1000.0, 1) AS odometer_km,
                        p.fix_time,
                        serve.local_time(p.fix_time) AS fix_time_local,
                        floor(p.age_s)::integer AS age_s,
                        coalesce(p.below_fresh, false) AS below_freshness,
                        p.vehicle_id IS NOT NULL AS assigned) props), '[]'::json)),
        'slo_status', json_build_object(
            'slos', serve.slo_status(),
            'badges', (SELECT coalesce(json_agg(b), '[]'::json) FROM (
                SELECT json_build_object('metric', 'fix_freshness_pct_60s', 'level', 'warning', 'count', c.below_freshness,
                                          'text', c.below_freshness || CASE WHEN c.below_freshness = 1 THEN ' vehicle' ELSE ' vehicles' END
                                                  || ' below freshness SLO') AS b
                  FROM counts c WHERE c.below_freshness > 0
                UNION ALL
                SELECT json_build_object('metric', 'offline_sec', 'level', 'info', 'count', c.offline,
                                          'text', c.offline || CASE WHEN c.offline = 1 THEN ' vehicle' ELSE ' vehicles' END || ' offline')
                  FROM counts c WHERE c.offline > 0) badges)))
    );
END $$;
COMMENT ON FUNCTION serve.fn_live_view(jsonb) IS
    'GET /api/views/live: one feature per vehicle (serve.fleet_units) with state, style_class, colour, plate tail, EAT times; KPIs and SLO badges.';

-- The device that speaks for a vehicle over a time range (the one with the most fixes in it;
-- ties: the newest), so two trackers on one car never double its trips or km.
CREATE FUNCTION serve.range_units(filters jsonb, span tstzrange)
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

CREATE FUNCTION serve.fn_history_view(filters jsonb) RETURNS json LANGUAGE plpgsql STABLE
-- plpgsql, not sql: its plan is cached across calls (a SQL function is planned on every call).
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
BEGIN
    RETURN (WITH f AS (SELECT serve.check_filters(filters) AS f),
    r AS (SELECT serve.filter_range(f.f, 31) AS during,
                 -- half a screen pixel at the requested zoom, in degrees
                 -- one screen pixel at the requested zoom, in degrees
                 360.0 / (256 * 2 ^ least(greatest(coalesce((f.f ->> 'zoom')::numeric, 12), 0), 22)) AS tol
            FROM f),
    u AS (SELECT ru.* FROM f, r, serve.range_units(f.f, r.during) ru),
    trips AS (
        SELECT u.unit_key, u.vehicle_number, t.*
          FROM u JOIN state.trips t ON t.imei = u.imei, r
         WHERE t.start_time >= lower(r.during) AND t.start_time < upper(r.during)),
    stops AS (
        SELECT u.unit_key, u.vehicle_number, p.*
          FROM u JOIN state.parking_events p ON p.imei = u.imei, r
         WHERE p.start_time >= lower(r.during) AND p.start_time < upper(r.during)),
    alarms AS (
        SELECT u.unit_key, u.vehicle_number, a.*, ack.acked_at, ack.actor AS acked_by
          FROM u JOIN state.alarms a ON a.imei = u.imei
          LEFT JOIN ops.alarm_acks ack ON (ack.imei, ack.alarm_type, ack.alarm_time) = (a.imei, a.alarm_type, a.alarm_time), r
         WHERE a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)),
    days AS (
        SELECT d::date AS day,
               greatest(lower(r.during), d::date::timestamp AT TIME ZONE serve.local_tz()) AS lo,
               least(upper(r.during), (d::date + 1)::timestamp AT TIME ZONE serve.local_tz()) AS hi
          FROM r, generate_series(serve.local_day(lower(r.during)),
                                  serve.local_day(upper(r.during) - interval '1 microsecond'), interval '1 day') d),
    -- One line per vehicle and EAT day, each read in index order (no sort of the whole range).
    tracks AS (
        SELECT u.unit_key, u.vehicle_number, days.day, t.*
          FROM u CROSS JOIN days
          CROSS JOIN LATERAL (
              SELECT count(*) AS fixes, min(s.fix_time) AS first_fix, max(s.fix_time) AS last_fix, ST_MakeLine(s.pt) AS line
                FROM (SELECT h.fix_time, ST_MakePoint(h.lng, h.lat) AS pt
                        FROM state.position_history h
                       WHERE h.imei = u.imei AND h.fix_time >= days.lo AND h.fix_time < days.hi
                       ORDER BY h.fix_time) s) t
         WHERE t.fixes > 0),
    lines AS (
        SELECT tr.*, ST_Simplify(tr.line, r.tol, true) AS simple,
               -- GPS distance on a local flat projection (within a fraction of a percent over a
               -- city, several times cheaper than geography on 8,640 points a day)
               ST_Length(ST_Scale(tr.line, cos(radians(ST_Y(ST_StartPoint(tr.line)))), 1)) * 111.195 AS track_km
          FROM tracks tr, r)
    SELECT json_build_object(
        'summary', json_build_object(
            'vehicles', serve.at_most((SELECT count(*) FROM u), 50,
                                      'history covers at most 50 vehicles at a time; narrow the filters (vehicles, cost_centres, cities)'),
            'from', lower(r.during), 'to', upper(r.during),
            'from_local', serve.local_time(lower(r.during)), 'to_local', serve.local_time(upper(r.during)),
            'trips', (SELECT count(*) FROM trips),
            'distance_km', (SELECT round(coalesce(sum(distance_m), 0)::numeric / 1000, 1) FROM trips),
            'track_km', (SELECT round(coalesce(sum(track_km), 0)::numeric, 1) FROM lines),
            'driving_s', (SELECT coalesce(sum(duration_s), 0) FROM trips),
            'max_speed_kmh', (SELECT max(max_speed_kmh) FROM trips),
            'parking_s', (SELECT coalesce(sum(duration_s), 0) FROM stops WHERE kind = 'parking'),
            'idling_s', (SELECT coalesce(sum(duration_s), 0) FROM stops WHERE kind = 'idling'),
            'stops', (SELECT count(*) FROM stops),
            'alarms', (SELECT count(*) FROM alarms),
            'fixes', (SELECT coalesce(sum(fixes), 0) FROM lines),
            'track_points', (SELECT coalesce(sum(ST_NPoints(simple)), 0) FROM lines),
            'vehicle_list', (SELECT coalesce(json_agg(json_build_object('vehicle_number', vehicle_number, 'imei', imei,
                                                                        'vehicle_id', vehicle_id, 'cost_centre', cost_centre)
                                                     ORDER BY vehicle_number), '[]'::json) FROM u),
            'time_zone', serve.local_tz()),
        'geojson', json_build_object('type', 'FeatureCollection', 'features',
            (SELECT coalesce(json_agg(feat ORDER BY t, ord), '[]'::json) FROM (
                SELECT l.first_fix AS t, 0 AS ord, json_build_object('type', 'Feature',
                    'geometry', ST_AsGeoJSON(l.simple, 6)::json,
                    'properties', json_build_object('kind', 'track', 'style_class', 'track',
                        'vehicle_number', l.vehicle_number, 'unit', l.unit_key, 'day', l.day, 'fixes', l.fixes,
                        'points', ST_NPoints(l.simple), 'track_km', round(l.track_km::numeric, 2),
                        'start_local', serve.local_time(l.first_fix), 'end_local', serve.local_time(l.last_fix))) AS feat
                  FROM lines l
                UNION ALL
                SELECT tr.start_time, 1, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN tr.start_lat IS NOT NULL AND tr.end_lat IS NOT NULL THEN json_build_object('type', 'LineString',
                        'coordinates', json_build_array(json_build_array(tr.start_lng, tr.start_lat), json_build_array(tr.end_lng, tr.end_lat))) END,
                    'properties', json_build_object('kind', 'trip', 'style_class', 'trip',
                        'vehicle_number', tr.vehicle_number, 'unit', tr.unit_key, 'imei', tr.imei,
                        'start_time', tr.start_time, 'end_time', tr.end_time,
                        'start_local', serve.local_time(tr.start_time), 'end_local', serve.local_time(tr.end_time),
                        'distance_km', round(tr.distance_m::numeric / 1000, 2), 'duration_s', tr.duration_s,
                        'avg_speed_kmh', tr.avg_speed_kmh, 'max_speed_kmh', tr.max_speed_kmh))
                  FROM trips tr
                UNION ALL
                SELECT s.start_time, 2, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN s.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(s.lng, s.lat)) END,
                    'properties', json_build_object('kind', s.kind, 'style_class', 'stop-' || s.kind,
                        'vehicle_number', s.vehicle_number, 'unit', s.unit_key, 'imei', s.imei,
                        'start_local', serve.local_time(s.start_time), 'end_local', serve.local_time(s.end_time),
                        'duration_s', s.duration_s, 'address', s.address))
                  FROM stops s
                UNION ALL
                SELECT a.alarm_time, 3, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN a.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(a.lng, a.lat)) END,
                    'properties', json_build_object('kind', 'alarm', 'style_class', 'alarm-' || serve.alarm_class(a.alarm_type, a.alarm_name),
                        'vehicle_number', a.vehicle_number, 'unit', a.unit_key, 'imei', a.imei,
                        'alarm_type', a.alarm_type, 'alarm_name', a.alarm_name, 'alarm_time', a.alarm_time,
                        'time_local', serve.local_time(a.alarm_time), 'speed_kmh', a.speed_kmh,
                        'ended_local', serve.local_time(a.ended_at), 'acked', a.acked_at IS NOT NULL,
                        'acked_by', a.acked_by))
                  FROM alarms a) feats)),
        'slo_status', json_build_object('slos', serve.slo_status(), 'badges', '[]'::json))
      FROM r
    );
END $$;
COMMENT ON FUNCTION serve.fn_history_view(jsonb) IS
    'GET /api/views/history: per vehicle (serve.range_units) the track per EAT day simplified for the zoom, trips, stops, alarms, and totals.';

-- ---------------------------------------------------------------------------------------------
-- Analytics (the current stack's views, in EAT days). Each takes the filters object.
-- ---------------------------------------------------------------------------------------------
-- Trips of the range per vehicle, attributed to the driver assigned at the trip's start (else
-- the driver the vendor names for the device).
CREATE FUNCTION serve.range_trips(filters jsonb)
RETURNS TABLE (unit_key text, vehicle_number text, cost_centre text, imei text, driver text, day date,
               start_time timestamptz, end_time timestamptz, distance_m double precision,
               duration_s integer, max_speed_kmh real)
LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during)
    SELECT u.unit_key, u.vehicle_number, u.cost_centre, u.imei,
           coalesce(dr.name, u.driver_name, 'Unassigned'), serve.local_day(t.start_time),
           t.start_time, t.end_time, t.distance_m, t.duration_s, t.max_speed_kmh
      FROM r
     CROSS JOIN serve.range_units(filters, r.during) u
      JOIN state.trips t ON t.imei = u.imei AND t.start_time >= lower(r.during) AND t.start_time < upper(r.during)
      LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> t.start_time
      LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
$$;

CREATE FUNCTION serve.fn_fleet_today(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH v AS (SELECT * FROM serve.fleet_units(serve.check_filters(filters))),
    t AS (SELECT unit_key, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                 min(start_time) AS first_start, max(end_time) AS last_end, max(max_speed_kmh) AS max_speed
            FROM serve.range_trips(filters - 'from' - 'to' - 'period_days') GROUP BY unit_key),
    rows AS (
        SELECT jsonb_build_object(
                   'vehicle_number', v.vehicle_number, 'cost_centre', v.cost_centre,
                   'state', v.state, 'driver_name', v.driver_name,
                   'trips', coalesce(t.trips, 0), 'km', round(coalesce(t.km, 0)::numeric, 1),
                   'driving_s', coalesce(t.driving_s, 0), 'max_speed_kmh', t.max_speed,
                   'first_start_local', serve.local_time(t.first_start), 'last_end_local', serve.local_time(t.last_end),
                   'last_fix_local', serve.local_time(v.fix_time)) AS j, coalesce(t.km, 0) AS km, coalesce(t.trips, 0) AS trips,
               coalesce(t.driving_s, 0) AS driving_s
          FROM v LEFT JOIN t ON t.unit_key = v.unit_key)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('day', serve.local_day(now()), 'vehicles', count(*),
                                      'moved', count(*) FILTER (WHERE trips > 0),
                                      'km', round(coalesce(sum(km), 0)::numeric, 1), 'trips', coalesce(sum(trips), 0),
                                      'driving_s', coalesce(sum(driving_s), 0)),
        'rows', coalesce(jsonb_agg(j ORDER BY km DESC, j ->> 'vehicle_number'), '[]'::jsonb))
      FROM rows
$$;

CREATE FUNCTION serve.fn_not_moved_today(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH today AS (SELECT serve.fn_fleet_today(filters) AS j),
    rows AS (SELECT r FROM today, jsonb_array_elements(today.j -> 'rows') r
              WHERE (r ->> 'trips')::int = 0 AND r ->> 'state' <> 'moving')
    SELECT jsonb_build_object('summary', jsonb_build_object('day', serve.local_day(now()), 'vehicles', count(*)),
                              'rows', coalesce(jsonb_agg(r ORDER BY r ->> 'vehicle_number'), '[]'::jsonb))
      FROM rows
$$;

CREATE FUNCTION serve.fn_currently_idle(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    -- Idling: ignition on while parked (stationary, fresh fix, not suspended).
    WITH idle AS (
        SELECT u.*, (SELECT max(p.start_time) FROM state.parking_events p
                      WHERE p.imei = u.imei AND p.kind = 'idling' AND p.end_time IS NULL) AS idle_since
          FROM serve.fleet_units(serve.check_filters(filters)) u
         WHERE u.state = 'parked' AND u.acc_on)
    SELECT jsonb_build_object('summary', jsonb_build_object('vehicles', count(*)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'vehicle_number', vehicle_number, 'cost_centre', cost_centre, 'driver_name', driver_name,
            'lat', lat, 'lng', lng, 'fix_time_local', serve.local_time(fix_time),
            'idle_since_local', serve.local_time(idle_since),
            'idle_s', round(extract(epoch FROM now() - idle_since)::numeric))
            ORDER BY idle_since NULLS LAST, vehicle_number), '[]'::jsonb))
      FROM idle
$$;

CREATE FUNCTION serve.fn_driver_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    trips AS (SELECT driver, day, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                     max(max_speed_kmh) AS max_speed
                FROM serve.range_trips(filters) GROUP BY 1, 2),
    al AS (SELECT coalesce(dr.name, u.driver_name, 'Unassigned') AS driver, serve.local_day(a.alarm_time) AS day,
                  count(*) FILTER (WHERE serve.alarm_class(a.alarm_type, a.alarm_name) = 'harsh') AS harsh,
                  count(*) FILTER (WHERE serve.alarm_class(a.alarm_type, a.alarm_name) = 'speeding') AS speeding
             FROM r CROSS JOIN serve.range_units(filters, r.during) u
             JOIN state.alarms a ON a.imei = u.imei AND a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)
             LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> a.alarm_time
             LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
            GROUP BY 1, 2),
    j AS (SELECT coalesce(t.driver, a.driver) AS driver, coalesce(t.day, a.day) AS day,
                 coalesce(t.trips, 0) AS trips, coalesce(t.km, 0) AS km, coalesce(t.driving_s, 0) AS driving_s,
                 t.max_speed, coalesce(a.harsh, 0) AS harsh, coalesce(a.speeding, 0) AS speeding
            FROM trips t FULL JOIN al a ON a.driver = t.driver AND a.day = t.day)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('drivers', count(DISTINCT driver), 'harsh_events', coalesce(sum(harsh), 0),
                                      'speeding_events', coalesce(sum(speeding), 0),
                                      'driving_s', coalesce(sum(driving_s), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'day', day, 'driver', driver, 'trips', trips, 'km', round(km::numeric, 1), 'driving_s', driving_s,
            'max_speed_kmh', max_speed, 'harsh_events', harsh, 'speeding_events', speeding,
            -- events per 100 km: the aggression index of the current stack
            'events_per_100km', CASE WHEN km > 0 THEN round(((harsh + speeding) * 100 / km)::numeric, 2) END)
            ORDER BY day DESC, driver), '[]'::jsonb))
      FROM j
$$;

CREATE FUNCTION serve.fn_fleet_km_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    days AS (SELECT d::date AS day
               FROM r, generate_series(serve.local_day(lower(r.during)), serve.local_day(upper(r.during) - interval '1 microsecond'), interval '1 day') d),
    t AS (SELECT day, count(*) AS trips, sum(distance_m) / 1000 AS km, sum(duration_s) AS driving_s,
                 count(DISTINCT unit_key) AS vehicles
            FROM serve.range_trips(filters) GROUP BY day)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('days', count(*), 'km', round(coalesce(sum(t.km), 0)::numeric, 1),
                                      'trips', coalesce(sum(t.trips), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object('day', days.day, 'km', round(coalesce(t.km, 0)::numeric, 1),
                                                     'trips', coalesce(t.trips, 0), 'driving_s', coalesce(t.driving_s, 0),
                                                     'vehicles', coalesce(t.vehicles, 0)) ORDER BY days.day), '[]'::jsonb))
      FROM days LEFT JOIN t USING (day)
$$;

CREATE FUNCTION serve.fn_alarms_daily(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    a AS (SELECT serve.local_day(a.alarm_time) AS day, coalesce(a.alarm_name, a.alarm_type) AS alarm,
                 serve.alarm_class(a.alarm_type, a.alarm_name) AS class, count(*) AS n,
                 count(ack.acked_at) AS acked
            FROM r CROSS JOIN serve.range_units(filters, r.during) u
            JOIN state.alarms a ON a.imei = u.imei AND a.alarm_time >= lower(r.during) AND a.alarm_time < upper(r.during)
            LEFT JOIN ops.alarm_acks ack ON (ack.imei, ack.alarm_type, ack.alarm_time) = (a.imei, a.alarm_type, a.alarm_time)
           GROUP BY 1, 2, 3)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('alarms', coalesce(sum(n), 0), 'acked', coalesce(sum(acked), 0)),
        'rows', coalesce(jsonb_agg(jsonb_build_object('day', day, 'alarm', alarm, 'class', class, 'count', n, 'acked', acked)
                                   ORDER BY day DESC, n DESC, alarm), '[]'::jsonb))
      FROM a
$$;

CREATE FUNCTION serve.fn_utilisation(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH r AS (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
    span AS (SELECT extract(epoch FROM upper(r.during) - lower(r.during)) AS secs,
                    serve.local_day(upper(r.during) - interval '1 microsecond') - serve.local_day(lower(r.during)) + 1 AS days
               FROM r),
    u AS (SELECT ru.* FROM r, serve.range_units(filters, r.during) ru),
    t AS (SELECT unit_key, count(DISTINCT day) AS active_days, sum(duration_s) AS driving_s, sum(distance_m) / 1000 AS km
            FROM serve.range_trips(filters) GROUP BY unit_key),
    rows AS (SELECT u.vehicle_number, u.cost_centre, coalesce(t.active_days, 0) AS active_days,
                    coalesce(t.driving_s, 0) AS driving_s, coalesce(t.km, 0) AS km, span.days, span.secs
               FROM u CROSS JOIN span LEFT JOIN t USING (unit_key))
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'vehicles', count(*), 'days', max(days),
            'active_day_pct', round(coalesce(100.0 * sum(active_days) / nullif(sum(days), 0), 0)::numeric, 1),
            'driving_pct', round(coalesce(100.0 * sum(driving_s) / nullif(sum(secs), 0), 0)::numeric, 2)),
        'rows', coalesce(jsonb_agg(jsonb_build_object(
            'vehicle_number', vehicle_number, 'cost_centre', cost_centre, 'active_days', active_days, 'days', days,
            'active_day_pct', round((100.0 * active_days / days)::numeric, 1),
            'driving_s', driving_s, 'driving_pct', round((100.0 * driving_s / nullif(secs, 0))::numeric, 2),
            'km', round(km::numeric, 1)) ORDER BY active_days DESC, driving_s DESC, vehicle_number), '[]'::jsonb))
      FROM rows
$$;

CREATE FUNCTION serve.fn_ingest_health(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH s AS (
        SELECT source, kind, max(received_at) AS last_received,
               count(*) FILTER (WHERE received_at > now() - interval '1 hour') AS last_hour,
               count(*) FILTER (WHERE parse_error IS NOT NULL AND received_at > now() - interval '1 hour') AS errors_last_hour,
               count(*) FILTER (WHERE parsed_at IS NULL) AS pending
          FROM events.raw
         WHERE received_at > now() - interval '1 day'
         GROUP BY source, kind),
    j AS (SELECT DISTINCT ON (job) job, outcome, started_at, finished_at, detail
            FROM ops.job_runs WHERE started_at > now() - interval '2 days'
           ORDER BY job, started_at DESC)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'raw_last_hour', (SELECT coalesce(sum(last_hour), 0) FROM s),
            'errors_last_hour', (SELECT coalesce(sum(errors_last_hour), 0) FROM s),
            'pending', (SELECT coalesce(sum(pending), 0) FROM s),
            'last_received_local', (SELECT serve.local_time(max(last_received)) FROM s),
            'failed_jobs', (SELECT count(*) FROM j WHERE outcome = 'error')),
        'sources', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'source', source, 'kind', kind, 'last_received_local', serve.local_time(last_received),
            'age_s', round(extract(epoch FROM now() - last_received)::numeric), 'last_hour', last_hour,
            'errors_last_hour', errors_last_hour, 'pending', pending) ORDER BY source, kind), '[]'::jsonb) FROM s),
        'jobs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'job', job, 'outcome', outcome, 'started_local', serve.local_time(started_at),
            'finished_local', serve.local_time(finished_at), 'detail', detail) ORDER BY job), '[]'::jsonb) FROM j),
        'slo_status', jsonb_build_object('slos', serve.slo_status()))
$$;

CREATE FUNCTION serve.fn_filters(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object(
        'cost_centres', (SELECT coalesce(jsonb_agg(jsonb_build_object('code', code, 'name', name,
                                                                    'colour', serve.colour(code, colour)) ORDER BY code), '[]')
                           FROM domain.cost_centres),
        'cities', (SELECT coalesce(jsonb_agg(jsonb_build_object('city', city, 'country_code', country_code) ORDER BY city), '[]')
                     FROM domain.assigned_cities),
        'accounts', (SELECT coalesce(jsonb_agg(account ORDER BY account), '[]') FROM domain.accounts),
        'departments', (SELECT coalesce(jsonb_agg(DISTINCT d.cost_centre), '[]') FROM domain.drivers d WHERE d.cost_centre IS NOT NULL),
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
