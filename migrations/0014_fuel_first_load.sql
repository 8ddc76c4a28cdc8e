-- Fuel first load, faster (issue 6 benchmark: a 100,000-record snapshot into an empty database
-- took 40 s against a target of 10 s).
--
-- 1. fuel.normalise_each canonicalised each distinct plate / fuel type / department once only on
--    paper: the planner pulled the canonicaliser calls above the joins, so they ran per record
--    (100,000 canon_department calls, 20 s). The three lookups are now MATERIALIZED.
-- 2. fuel.parse_time used a capturing regexp_match, which costs ~100 µs a call in PostgreSQL's
--    regex engine on these patterns. fuel.parse_time_general checks the shape with a plain
--    match and splits on the separators (~9 µs); fuel.parse_time is now an inlinable SQL
--    expression that casts the common ISO forms directly and hands the rest to it. Same answers,
--    except that a zone right after a bare date ("2026-11-02-05") is rejected as ambiguous.
-- 3. fuel.parse_number likewise: a plain decimal is cast inline, anything else goes to
--    fuel.parse_number_general (the old body).
-- 4. fuel.normalise_each computes every column set-based (field lookups inlined, one parse call
--    per field) instead of a plpgsql function per record; fuel.normalise is the same for one
--    record, and fuel.normalise_with is gone: normalise_each is the one place.
-- 5. fuel.department_words spells out more abbreviations (maint., Dist, Proc, Fin, Trans).

ALTER FUNCTION fuel.parse_number(text) RENAME TO parse_number_general;
COMMENT ON FUNCTION fuel.parse_number_general(text) IS
    'fuel.parse_number for anything but a plain decimal: currency, units, thousands commas or a decimal comma; NULL when none.';

-- Inlined into the caller's query (a SQL expression, no call per row for the common case).
CREATE FUNCTION fuel.parse_number(value text) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value ~ '^-?[0-9]{1,12}(\.[0-9]{1,6})?$' THEN value::numeric
                ELSE fuel.parse_number_general(value) END
$$;
COMMENT ON FUNCTION fuel.parse_number(text) IS 'A number from feed text with currency, units, thousands commas or a decimal comma; NULL when none.';

CREATE FUNCTION fuel.parse_time_general(value text) RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    s text := btrim(value);
    zone text;
    p text[];
    y int; mo int; d int; h int; mi int; sec numeric;
    local timestamp;
BEGIN
    IF s IS NULL OR s = '' THEN RETURN NULL; END IF;
    IF s ~ '^[0-9]{9,13}(\.[0-9]+)?$' THEN                -- epoch seconds or milliseconds
        RETURN to_timestamp(CASE WHEN s::numeric > 1e11 THEN s::numeric / 1000 ELSE s::numeric END);
    END IF;
    -- Validated by shape with a plain match, then split on the separators (a capturing
    -- regexp_match costs ~100 µs a call on these patterns).
    -- YYYY-MM-DD or DD/MM/YYYY (day first, as Kenya writes dates), an optional time, and a zone
    -- only after a time of day.
    IF s ~ '^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4})([ T,]+[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?))?)?$' IS NOT TRUE THEN
        RETURN NULL;
    END IF;
    IF right(s, 1) = 'Z' THEN
        zone := 'Z';
    ELSIF s ~ ':[0-9]{2}(\.[0-9]+)?\s*[+-][0-9:]+$' THEN
        zone := substring(s FROM '[+-][0-9:]+$');
    END IF;
    p := array_remove(string_to_array(translate(left(s, length(s) - coalesce(length(zone), 0)), '-/.:T, ', '       '), ' '), '');
    IF length(p[1]) = 4 THEN
        y := p[1]::int; mo := p[2]::int; d := p[3]::int;
    ELSE
        y := p[3]::int; mo := p[2]::int; d := p[1]::int;
    END IF;
    h := coalesce(p[4]::int, 0); mi := coalesce(p[5]::int, 0);
    sec := coalesce((p[6] || coalesce('.' || p[7], ''))::numeric, 0);
    -- checked, not caught: an exception block would cost a subtransaction per call
    IF y NOT BETWEEN 1900 AND 2200 OR mo NOT BETWEEN 1 AND 12 OR d < 1
       OR d > extract(day FROM make_date(y, mo, 1) + interval '1 month - 1 day')
       OR h > 23 OR mi > 59 OR sec >= 60 THEN
        RETURN NULL;
    END IF;
    local := make_timestamp(y, mo, d, h, mi, sec::double precision);
    IF zone IS NULL THEN RETURN local AT TIME ZONE 'Africa/Nairobi'; END IF;
    IF zone = 'Z' THEN RETURN local AT TIME ZONE 'UTC'; END IF;
    zone := replace(zone, ':', '');
    RETURN (local AT TIME ZONE 'UTC')
         - (CASE WHEN left(zone, 1) = '-' THEN -1 ELSE 1 END)
           * make_interval(hours => substr(zone, 2, 2)::int, mins => coalesce(nullif(substr(zone, 4, 2), ''), '0')::int);
END $$;
COMMENT ON FUNCTION fuel.parse_time_general(text) IS 'fuel.parse_time for anything but the common ISO forms.';

-- Inlined into the caller's query. The first pattern admits only valid calendar days (29 February
-- goes the general way), so the casts cannot fail.
CREATE OR REPLACE FUNCTION fuel.parse_time(value text) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value !~ '^[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
            THEN fuel.parse_time_general(btrim(value))
        WHEN value ~ '[0-9](Z|[+-][0-9]{2}(:?[0-9]{2})?)$' THEN value::timestamptz
        ELSE value::timestamp AT TIME ZONE 'Africa/Nairobi' END
$$;
COMMENT ON FUNCTION fuel.parse_time(text) IS 'A feed timestamp: ISO with zone as is; no zone = EAT wall time; DD/MM/YYYY day first; epoch s or ms.';

CREATE OR REPLACE FUNCTION fuel.normalise_each(record_ids text[], records jsonb[])
RETURNS TABLE (record_id text, n fuel.normalised) LANGUAGE sql STABLE AS $$
    WITH batch AS MATERIALIZED (
        SELECT b.record_id, b.record, jsonb_typeof(b.record) = 'object' AS is_object,
               coalesce(fuel.raw_car(b.record), '') AS car,
               coalesce(fuel.raw_fuel_type(b.record), '') AS ft, coalesce(fuel.raw_department(b.record), '') AS dep,
               fuel.field(b.record, 'litres', 'liters', 'litre', 'quantity', 'qty', 'volume') AS litres,
               fuel.field(b.record, 'amount', 'amount_kes', 'kes', 'cost', 'price', 'total') AS amount,
               fuel.field(b.record, 'odometer', 'odometer_km', 'mileage', 'odo', 'km') AS odometer,
               fuel.field(b.record, 'driver', 'driver_name', 'staff') AS driver,
               fuel.field(b.record, 'record_datetime', 'record_time', 'filled_at', 'datetime', 'date_time', 'timestamp', 'date') AS filled,
               fuel.field(b.record, 'created_at', 'created') AS created,
               fuel.field(b.record, 'updated_at', 'updated', 'modified_at') AS updated,
               fuel.field(b.record, 'deleted_at', 'deleted') AS deleted,
               fuel.field(b.record, 'full_tank', 'full', 'fill_type') AS full_tank,
               fuel.field(b.record, 'missed_fill', 'missed_previous', 'missed') AS missed,
               fuel.field(b.record, 'station', 'location', 'place', 'site') AS station,
               fuel.field(b.record, 'lat', 'latitude') AS lat,
               fuel.field(b.record, 'lng', 'lon', 'longitude') AS lng
          FROM unnest(record_ids, records) AS b(record_id, record)
    ),
    -- MATERIALIZED: otherwise the calls move above the joins and run once per record
    plates AS MATERIALIZED (SELECT v, fuel.norm_plate(nullif(v, '')) AS c FROM (SELECT DISTINCT car AS v FROM batch) d),
    types AS MATERIALIZED (SELECT v, fuel.canon_fuel_type(nullif(v, '')) AS c FROM (SELECT DISTINCT ft AS v FROM batch) d),
    depts AS MATERIALIZED (SELECT v, fuel.canon_department(nullif(v, '')) AS c FROM (SELECT DISTINCT dep AS v FROM batch) d),
    parsed AS MATERIALIZED (
        SELECT b.*, pl.c AS plate_key, ty.c AS fuel_type, de.c AS department,
               fuel.parse_number(b.litres) AS litres_n, fuel.parse_number(b.amount) AS amount_n,
               fuel.parse_number(b.odometer) AS odometer_n,
               fuel.parse_time(b.filled) AS filled_t, fuel.parse_time(b.created) AS created_t,
               fuel.parse_time(b.updated) AS updated_t, fuel.parse_time(b.deleted) AS deleted_t,
               fuel.parse_number(b.lat)::double precision AS lat_n, fuel.parse_number(b.lng)::double precision AS lng_n
          FROM batch b
          JOIN plates pl ON pl.v = b.car
          JOIN types ty ON ty.v = b.ft
          JOIN depts de ON de.v = b.dep
    )
    SELECT p.record_id, CASE WHEN NOT p.is_object THEN
        ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, false, NULL, NULL, NULL,
            ARRAY['the record is not a JSON object'])::fuel.normalised
    ELSE ROW(
        nullif(p.car, ''), p.plate_key, p.litres_n, p.amount_n, p.odometer_n, p.fuel_type,
        initcap(lower(regexp_replace(p.driver, '\s+', ' ', 'g'))), p.department,
        coalesce(p.filled_t, p.created_t), p.created_t, p.updated_t, p.deleted_t,
        coalesce(fuel.parse_flag(p.full_tank), true), coalesce(fuel.parse_flag(p.missed), false), p.station,
        CASE WHEN p.lat_n BETWEEN -90 AND 90 AND p.lng_n BETWEEN -180 AND 180 THEN p.lat_n END,
        CASE WHEN p.lat_n BETWEEN -90 AND 90 AND p.lng_n BETWEEN -180 AND 180 THEN p.lng_n END,
        array_remove(ARRAY[
            CASE WHEN p.plate_key IS NULL THEN 'no number plate' END,
            CASE WHEN p.litres IS NULL THEN 'no litres'
                 WHEN p.litres_n IS NULL THEN format('litres %L is not a number', p.litres)
                 WHEN p.litres_n <= 0 THEN format('litres %s is not positive', p.litres_n) END,
            CASE WHEN p.amount IS NOT NULL AND p.amount_n IS NULL THEN format('amount %L is not a number', p.amount) END,
            CASE WHEN p.odometer IS NOT NULL AND p.odometer_n IS NULL THEN format('odometer %L is not a number', p.odometer) END,
            CASE WHEN p.ft <> '' AND p.fuel_type IS NULL
                 THEN format('fuel type %L not recognised (add it to fuel.mappings)', p.ft) END,
            CASE WHEN p.filled_t IS NOT NULL THEN NULL
                 WHEN p.filled IS NULL THEN 'no fill time' ELSE format('fill time %L not understood', p.filled) END
        ], NULL))::fuel.normalised
    END
      FROM parsed p
$$;
COMMENT ON FUNCTION fuel.normalise_each(text[], jsonb[]) IS
    'fuel.normalise for a batch of records; the plate, fuel type and department are canonicalised once per distinct spelling.';

CREATE OR REPLACE FUNCTION fuel.normalise(raw jsonb) RETURNS fuel.normalised LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT e.n FROM fuel.normalise_each(ARRAY['']::text[], ARRAY[raw]) e
$$;
COMMENT ON FUNCTION fuel.normalise(jsonb) IS
    'Every derived column of a fuel record, from its raw JSON (field-name variants included), and why any essential field could not be read.';

DROP FUNCTION fuel.normalise_with(jsonb, text, text, text);

-- 5. More abbreviations people type for departments ("maint.", "Dist", "Proc", "Fin", "Trans").
CREATE OR REPLACE FUNCTION fuel.department_words(department text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
               regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
               ' ' || regexp_replace(upper(department), '[^A-Z0-9&]+', ' ', 'g') || ' ',
               ' (DEPT|DEPARTMENT|DEP|DPT|DEPARTMENTS|SECTION|UNIT) ', ' ', 'g'),
               ' (OPS|OPERATION|OPRNS|OPNS) ', ' OPERATIONS ', 'g'),
               ' (LOG|LOGS|LOGISTIC|LOGISTICTS) ', ' LOGISTICS ', 'g'),
               ' (ADMIN|ADMN) ', ' ADMINISTRATION ', 'g'),
               ' (MAINT|MAINTCE|MNTC|MTCE) ', ' MAINTENANCE ', 'g'),
               ' (DIST|DISTR|DISTRIB) ', ' DISTRIBUTION ', 'g'),
               ' (PROC|PROCUREMT|PROCMT) ', ' PROCUREMENT ', 'g'),
               ' (FIN|FINCE) ', ' FINANCE ', 'g'),
               ' (TRANS|TRANSP|TRNSP) ', ' TRANSPORT ', 'g'),
               '\s+', ' ', 'g')), '')
$$;
