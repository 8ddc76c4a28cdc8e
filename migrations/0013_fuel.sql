-- The fuel module (issue 6, ARCHITECTURE §5): normalisers, the fills / efficiency /
-- reconciliation / data-quality views, and the thresholds they read.
--
-- fuel.records keeps the seed's shape: the record verbatim in `raw`, derived columns computed in
-- one place (fuel.normalise, called only by the fuel projector), `deleted_at` for soft deletes.

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

ALTER TABLE fuel.records
    ADD COLUMN full_tank     boolean NOT NULL DEFAULT true,
    ADD COLUMN missed_before boolean NOT NULL DEFAULT false,
    ADD COLUMN station       text,
    ADD COLUMN reported_lat  double precision,
    ADD COLUMN reported_lng  double precision,
    ADD COLUMN delete_reason text,
    ADD COLUMN raw_md5       text;
COMMENT ON COLUMN fuel.records.full_tank IS 'False when the record says the tank was not filled up (a partial fill folds into the next full one).';
COMMENT ON COLUMN fuel.records.missed_before IS 'The record says a fill before it went unrecorded: the efficiency chain restarts here.';
COMMENT ON COLUMN fuel.records.delete_reason IS '"deleted in the feed" (the source soft-deleted it) or "absent from snapshot" (a full snapshot no longer lists it).';
COMMENT ON COLUMN fuel.records.raw_md5 IS 'md5 of raw::text: how an import tells an edited record from an unchanged one.';
CREATE INDEX fuel_records_errors_idx ON fuel.records (record_id) WHERE normalise_errors <> '{}';

INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fuel_match_radius_m', 'threshold', 100, '<=', 'metres', NULL,
     'A fill is verified when the vehicle stood within this distance of a fuel station (or the reported place)'),
    ('fuel_match_window_sec', 'threshold', 600, '<=', 'seconds', NULL,
     'How far from the reported fill time a fix may be to place the vehicle'),
    ('fuel_max_km_per_day', 'threshold', 4800, '<=', 'km', NULL,
     'An odometer step implying more than this per day is voided from efficiency'),
    ('fuel_tank_overfill_pct', 'threshold', 5, '<=', 'percent', NULL,
     'Litres above the tank capacity by more than this are an overfill'),
    ('fuel_max_litres', 'threshold', 400, '<=', 'litres', NULL,
     'Litres per fill above this are impossible for a vehicle with no tank size on record'),
    ('fuel_gps_odometer_tolerance_pct', 'threshold', 20, '<=', 'percent', NULL,
     'GPS km and odometer km between fills may differ by this much before the fill is flagged'),
    ('fuel_consumption_tolerance_pct', 'threshold', 30, '<=', 'percent', NULL,
     'Litres above the expected consumption for the GPS km by more than this are flagged')
ON CONFLICT (metric) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- Normalisers: mapping table first (operators extend it without code), then general rules.
-- ---------------------------------------------------------------------------------------------
-- How a raw spelling is looked up in fuel.mappings: lower case, letters and digits only.
CREATE FUNCTION fuel.lookup_key(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(regexp_replace(lower(value), '[^a-z0-9]+', '', 'g'), '')
$$;
COMMENT ON FUNCTION fuel.lookup_key(text) IS 'The key of a raw spelling in fuel.mappings: "Diesel " and "DIESEL." are one key.';

CREATE FUNCTION fuel.mapped(kind text, value text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT m.canonical FROM fuel.mappings m WHERE m.kind = $1 AND m.raw_value = fuel.lookup_key($2)
$$;

-- Plates: the fleet's one plate rule (serve.normalize_plate), after the mapping table, with the
-- letter O / I typed for 0 / 1 in the digit block of a Kenyan plate ("KCA 5O2Q") put right.
CREATE FUNCTION fuel.norm_plate(car text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    k text := serve.normalize_plate(car);
    mapped text;
    m text[];
BEGIN
    IF k IS NULL THEN RETURN NULL; END IF;
    mapped := fuel.mapped('plate', car);
    IF mapped IS NOT NULL THEN RETURN serve.normalize_plate(mapped); END IF;
    -- Kenyan (KCA 542Q, GKB 123A) and Ugandan (UAB 123C) plates: three digits between letters.
    m := regexp_match(k, '^(K[A-Z]{2}|GK[A-Z]|U[A-Z]{2})([0-9OI]{3})([A-Z])$');
    IF m IS NOT NULL AND m[2] ~ '[0-9]' THEN
        RETURN m[1] || translate(m[2], 'OI', '01') || m[3];
    END IF;
    RETURN k;
END $$;
COMMENT ON FUNCTION fuel.norm_plate(text) IS
    'The plate key of a fill: fuel.mappings (kind plate) first, else serve.normalize_plate with O/I typed for 0/1 in a plate''s digit block put right.';

CREATE FUNCTION fuel.canon_fuel_type(fuel_type text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH k AS (SELECT fuel.lookup_key(fuel_type) AS k, regexp_replace(lower(fuel_type), '[^a-z]+', '', 'g') AS letters)
    SELECT coalesce(fuel.mapped('fuel_type', fuel_type), CASE
        WHEN k.k IS NULL THEN NULL
        -- AGO (automotive gas oil), gasoil and the common misspellings of diesel
        WHEN k.letters ~ '(diesel|diesl|disel|disiel|deisel|desel|dizel|gasoil|^ago$|^dsl$|^ads$)' THEN 'diesel'
        -- PMS (premium motor spirit), super, unleaded, V-Power
        WHEN k.letters ~ '(petrol|petro|petrl|^pms$|super|unleaded|gasoline|^gas$|vpower|premium|^ulp$)' THEN 'petrol'
        WHEN k.letters ~ '(kerosene|kerosine|paraffin|^dpk$|^ik$)' THEN 'kerosene'
        WHEN k.letters ~ '(^lpg$|autogas)' THEN 'lpg'
        WHEN k.letters ~ '^(adblue|def)$' THEN 'adblue'
        WHEN levenshtein(k.letters, 'diesel') <= 2 THEN 'diesel'
        WHEN levenshtein(k.letters, 'petrol') <= 2 THEN 'petrol'
        WHEN levenshtein(k.letters, 'kerosene') <= 2 THEN 'kerosene'
    END)
      FROM k
$$;
COMMENT ON FUNCTION fuel.canon_fuel_type(text) IS
    'diesel | petrol | kerosene | lpg | adblue from any spelling (DISIEL, "diesel ", AGO, PMS, V-Power, ...); fuel.mappings first; NULL when unrecognised.';

-- Departments: the mapping table, else the cleaned name with abbreviations spelled out, matched
-- to a known department (a canonical value in the table or a cost centre's name) when it is one
-- typo away; else the cleaned name itself (a department the table does not know yet).
CREATE FUNCTION fuel.department_words(department text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
               ' ' || regexp_replace(upper(department), '[^A-Z0-9&]+', ' ', 'g') || ' ',
               ' (DEPT|DEPARTMENT|DEP|DPT|DEPARTMENTS|SECTION|UNIT) ', ' ', 'g'),
               ' (OPS|OPERATION|OPRNS|OPNS) ', ' OPERATIONS ', 'g'),
               ' (LOG|LOGS|LOGISTIC|LOGISTICTS) ', ' LOGISTICS ', 'g'),
               ' (ADMIN|ADMN) ', ' ADMINISTRATION ', 'g'),
               '\s+', ' ', 'g')), '')
$$;

CREATE FUNCTION fuel.canon_department(department text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH w AS (SELECT fuel.department_words(replace(upper(department), '&', ' AND ')) AS words),
    known AS (
        SELECT DISTINCT canonical AS name FROM fuel.mappings WHERE kind = 'department'
        UNION SELECT name FROM domain.cost_centres WHERE name IS NOT NULL
    )
    SELECT coalesce(
        fuel.mapped('department', department),
        (SELECT k.name FROM known k, w
          WHERE fuel.lookup_key(k.name) = fuel.lookup_key(w.words)
             OR (length(w.words) >= 5 AND levenshtein(fuel.lookup_key(k.name), fuel.lookup_key(w.words)) <= 2)
          ORDER BY levenshtein(fuel.lookup_key(k.name), fuel.lookup_key(w.words)), k.name LIMIT 1),
        (SELECT initcap(lower(w.words)) FROM w))
$$;
COMMENT ON FUNCTION fuel.canon_department(text) IS
    'A department from any spelling: fuel.mappings, else abbreviations spelled out and matched to a known department within two typos, else the cleaned name.';

-- Numbers as the feed writes them: "1,234.50", "KES 4,500", "45 L", "4500/=", "12,5".
CREATE FUNCTION fuel.parse_number(value text) RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := btrim(regexp_replace(coalesce(value, ''), '/=|[^0-9.,-]', '', 'g'), '.,');
BEGIN
    IF s ~ ',' AND s ~ '\.' THEN
        s := replace(s, ',', '');                         -- 1,234.50
    ELSIF s ~ '^-?[0-9]{1,3}(,[0-9]{3})+$' THEN
        s := replace(s, ',', '');                         -- 4,500
    ELSE
        s := replace(s, ',', '.');                        -- 12,5
    END IF;
    -- validated, not caught: an exception block would cost a subtransaction per call
    IF s ~ '^-?[0-9]{1,12}(\.[0-9]{1,6})?$' THEN RETURN s::numeric; END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION fuel.parse_number(text) IS 'A number from feed text with currency, units, thousands commas or a decimal comma; NULL when none.';

-- Times: with a zone as given; without one (the feed's usual), Africa/Nairobi wall time.
CREATE FUNCTION fuel.parse_time(value text) RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    s text := btrim(value);
    m text[];
    y int; mo int; d int; h int := 0; mi int := 0; sec numeric := 0;
    local timestamp;
BEGIN
    IF s IS NULL OR s = '' THEN RETURN NULL; END IF;
    -- the common exact form "2026-11-02T05:15:00Z", checked without capturing (4x cheaper)
    IF s ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|30|31)T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$'
       AND (substr(s, 9, 2)::int <= 28
            OR substr(s, 9, 2)::int <= extract(day FROM make_date(left(s, 4)::int, substr(s, 6, 2)::int, 1)
                                                    + interval '1 month - 1 day')) THEN
        RETURN s::timestamptz;
    END IF;
    IF s ~ '^[0-9]{9,13}(\.[0-9]+)?$' THEN                -- epoch seconds or milliseconds
        RETURN to_timestamp(CASE WHEN s::numeric > 1e11 THEN s::numeric / 1000 ELSE s::numeric END);
    END IF;
    -- YYYY-MM-DD or DD/MM/YYYY (day first, as Kenya writes dates), then an optional time and zone
    m := regexp_match(s, '^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T,]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?)?\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$');
    IF m IS NOT NULL THEN
        y := m[1]::int; mo := m[2]::int; d := m[3]::int;
    ELSE
        m := regexp_match(s, '^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})(?:[ T,]+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?)?\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$');
        IF m IS NULL THEN RETURN NULL; END IF;
        y := m[3]::int; mo := m[2]::int; d := m[1]::int;
    END IF;
    h := coalesce(m[4]::int, 0); mi := coalesce(m[5]::int, 0); sec := coalesce(m[6]::numeric, 0);
    -- checked, not caught: an exception block would cost a subtransaction per call
    IF y NOT BETWEEN 1900 AND 2200 OR mo NOT BETWEEN 1 AND 12 OR d < 1
       OR d > extract(day FROM make_date(y, mo, 1) + interval '1 month - 1 day')
       OR h > 23 OR mi > 59 OR sec >= 60 THEN
        RETURN NULL;
    END IF;
    local := make_timestamp(y, mo, d, h, mi, sec::double precision);
    IF m[7] IS NULL THEN RETURN local AT TIME ZONE 'Africa/Nairobi'; END IF;
    IF m[7] = 'Z' THEN RETURN local AT TIME ZONE 'UTC'; END IF;
    RETURN (local AT TIME ZONE 'UTC')
         - (CASE WHEN left(m[7], 1) = '-' THEN -1 ELSE 1 END)
           * make_interval(hours => substr(m[7], 2, 2)::int,
                           mins => coalesce(nullif(substr(replace(m[7], ':', ''), 4, 2), ''), '0')::int);
END $$;
COMMENT ON FUNCTION fuel.parse_time(text) IS 'A feed timestamp: ISO with zone as is; no zone = EAT wall time; DD/MM/YYYY day first; epoch s or ms.';

CREATE FUNCTION fuel.parse_flag(value text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN lower(btrim(value)) IN ('true', 't', 'yes', 'y', '1', 'full') THEN true
                WHEN lower(btrim(value)) IN ('false', 'f', 'no', 'n', '0', 'partial') THEN false END
$$;

-- The first non-empty of several spellings of a field (inlined by the planner: no loop, no call).
CREATE FUNCTION fuel.field(raw jsonb, a text, b text DEFAULT NULL, c text DEFAULT NULL, d text DEFAULT NULL,
                           e text DEFAULT NULL, f text DEFAULT NULL, g text DEFAULT NULL)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(btrim(raw ->> a), ''), nullif(btrim(raw ->> b), ''), nullif(btrim(raw ->> c), ''),
                    nullif(btrim(raw ->> d), ''), nullif(btrim(raw ->> e), ''), nullif(btrim(raw ->> f), ''),
                    nullif(btrim(raw ->> g), ''))
$$;

-- Whether the feed marks a record deleted ("deleted_at": a time, or "deleted": true).
CREATE FUNCTION fuel.is_deleted(raw jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(raw) = 'object'
                THEN coalesce(fuel.parse_flag(fuel.field(raw, 'deleted_at', 'deleted', 'is_deleted')),
                              fuel.field(raw, 'deleted_at', 'deleted', 'is_deleted') IS NOT NULL)
                ELSE false END
$$;

-- The one place a record's derived columns come from.
CREATE TYPE fuel.normalised AS (
    car text, plate_key text, litres numeric, amount_kes numeric, odometer_km numeric, fuel_type text,
    driver text, department text, filled_at timestamptz, source_created_at timestamptz,
    source_updated_at timestamptz, source_deleted_at timestamptz, full_tank boolean, missed_before boolean,
    station text, reported_lat double precision, reported_lng double precision, errors text[]);

-- The fields the canonicalisers read, in all their spellings.
CREATE FUNCTION fuel.raw_car(raw jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT fuel.field(raw, 'car', 'plate', 'vehicle', 'vehicle_number', 'reg_no', 'registration')
$$;
CREATE FUNCTION fuel.raw_fuel_type(raw jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT fuel.field(raw, 'fuel_type', 'fuel', 'type', 'product')
$$;
CREATE FUNCTION fuel.raw_department(raw jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT fuel.field(raw, 'department', 'dept', 'division', 'cost_centre')
$$;

-- Everything but the three canonicalised values, which batch callers compute once per distinct
-- spelling (fuel.normalise below is the same for one record).
CREATE FUNCTION fuel.normalise_with(raw jsonb, plate_key text, fuel_type text, department text)
RETURNS fuel.normalised LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    n fuel.normalised;
    v text;
    errs text[] := '{}';
BEGIN
    IF jsonb_typeof(raw) IS DISTINCT FROM 'object' THEN
        n.errors := ARRAY['the record is not a JSON object'];
        n.full_tank := true; n.missed_before := false;
        RETURN n;
    END IF;
    n.car := fuel.raw_car(raw);
    n.plate_key := plate_key;
    IF n.plate_key IS NULL THEN errs := errs || 'no number plate'::text; END IF;

    v := fuel.field(raw, 'litres', 'liters', 'litre', 'quantity', 'qty', 'volume');
    n.litres := fuel.parse_number(v);
    IF v IS NULL THEN errs := errs || 'no litres'::text;
    ELSIF n.litres IS NULL THEN errs := errs || format('litres %L is not a number', v);
    ELSIF n.litres <= 0 THEN errs := errs || format('litres %s is not positive', n.litres); END IF;

    v := fuel.field(raw, 'amount', 'amount_kes', 'kes', 'cost', 'price', 'total');
    n.amount_kes := fuel.parse_number(v);
    IF v IS NOT NULL AND n.amount_kes IS NULL THEN errs := errs || format('amount %L is not a number', v); END IF;

    v := fuel.field(raw, 'odometer', 'odometer_km', 'mileage', 'odo', 'km');
    n.odometer_km := fuel.parse_number(v);
    IF v IS NOT NULL AND n.odometer_km IS NULL THEN errs := errs || format('odometer %L is not a number', v); END IF;

    v := fuel.raw_fuel_type(raw);
    n.fuel_type := fuel_type;
    IF v IS NOT NULL AND n.fuel_type IS NULL THEN errs := errs || format('fuel type %L not recognised (add it to fuel.mappings)', v); END IF;

    n.driver := initcap(lower(regexp_replace(fuel.field(raw, 'driver', 'driver_name', 'staff'), '\s+', ' ', 'g')));
    n.department := department;

    v := fuel.field(raw, 'record_datetime', 'record_time', 'filled_at', 'datetime', 'date_time', 'timestamp', 'date');
    n.filled_at := fuel.parse_time(v);
    n.source_created_at := fuel.parse_time(fuel.field(raw, 'created_at', 'created'));
    n.source_updated_at := fuel.parse_time(fuel.field(raw, 'updated_at', 'updated', 'modified_at'));
    n.source_deleted_at := fuel.parse_time(fuel.field(raw, 'deleted_at', 'deleted'));
    IF n.filled_at IS NULL THEN
        n.filled_at := n.source_created_at;
        errs := errs || CASE WHEN v IS NULL THEN 'no fill time' ELSE format('fill time %L not understood', v) END;
    END IF;

    n.full_tank := coalesce(fuel.parse_flag(fuel.field(raw, 'full_tank', 'full', 'fill_type')), true);
    n.missed_before := coalesce(fuel.parse_flag(fuel.field(raw, 'missed_fill', 'missed_previous', 'missed')), false);
    n.station := fuel.field(raw, 'station', 'location', 'place', 'site');
    n.reported_lat := fuel.parse_number(fuel.field(raw, 'lat', 'latitude'));
    n.reported_lng := fuel.parse_number(fuel.field(raw, 'lng', 'lon', 'longitude'));
    IF n.reported_lat NOT BETWEEN -90 AND 90 OR n.reported_lng NOT BETWEEN -180 AND 180 THEN
        n.reported_lat := NULL; n.reported_lng := NULL;
    END IF;
    n.errors := errs;
    RETURN n;
END $$;
COMMENT ON FUNCTION fuel.normalise_with(jsonb, text, text, text) IS
    'Every derived column of a fuel record from its raw JSON (field-name variants included), given its canonical plate, fuel type and department; and why any essential field could not be read.';

CREATE FUNCTION fuel.normalise(raw jsonb) RETURNS fuel.normalised LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT fuel.normalise_with(raw, fuel.norm_plate(fuel.raw_car(raw)), fuel.canon_fuel_type(fuel.raw_fuel_type(raw)),
                               fuel.canon_department(fuel.raw_department(raw)))
$$;

-- A batch of records, the same as fuel.normalise on each, but with the plate, fuel type and
-- department canonicalised once per distinct spelling (a batch has few), not once per record.
CREATE FUNCTION fuel.normalise_each(record_ids text[], records jsonb[])
RETURNS TABLE (record_id text, n fuel.normalised) LANGUAGE sql STABLE AS $$
    WITH batch AS MATERIALIZED (
        SELECT b.record_id, b.record, coalesce(fuel.raw_car(b.record), '') AS car,
               coalesce(fuel.raw_fuel_type(b.record), '') AS ft, coalesce(fuel.raw_department(b.record), '') AS dep
          FROM unnest(record_ids, records) AS b(record_id, record)
    ), plates AS (SELECT v, fuel.norm_plate(nullif(v, '')) AS c FROM (SELECT DISTINCT car AS v FROM batch) d),
    types AS (SELECT v, fuel.canon_fuel_type(nullif(v, '')) AS c FROM (SELECT DISTINCT ft AS v FROM batch) d),
    depts AS (SELECT v, fuel.canon_department(nullif(v, '')) AS c FROM (SELECT DISTINCT dep AS v FROM batch) d)
    SELECT b.record_id, fuel.normalise_with(b.record, pl.c, ty.c, de.c)
      FROM batch b
      JOIN plates pl ON pl.v = b.car
      JOIN types ty ON ty.v = b.ft
      JOIN depts de ON de.v = b.dep
$$;
COMMENT ON FUNCTION fuel.normalise(jsonb) IS
    'Every derived column of a fuel record, from its raw JSON (field-name variants included), and why any essential field could not be read.';

-- ---------------------------------------------------------------------------------------------
-- Imports: what a batch of records would change (dry run and apply share it).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean)
RETURNS TABLE (record_id text, action text, errors text[])
LANGUAGE sql STABLE AS $$
    WITH inc AS MATERIALIZED (
        SELECT x.record_id, x.record, md5(x.record::text) AS h, fuel.is_deleted(x.record) AS gone
          FROM jsonb_to_recordset(records) AS x(record_id text, record jsonb)
    ), planned AS MATERIALIZED (
        SELECT i.record_id, i.record, i.gone, c.deleted_at IS NOT NULL AS was_deleted, c.normalise_errors AS stored_errors,
               CASE WHEN c.record_id IS NULL THEN CASE WHEN i.gone THEN 'insert_deleted' ELSE 'insert' END
                    WHEN c.raw_md5 = i.h AND c.delete_reason IS DISTINCT FROM 'absent from snapshot' THEN 'unchanged'
                    WHEN i.gone AND c.deleted_at IS NULL THEN 'delete'
                    ELSE 'update' END AS action
          FROM inc i LEFT JOIN fuel.records c ON c.record_id = i.record_id
    ), todo AS MATERIALIZED (
        SELECT p.record_id, p.record FROM planned p WHERE with_errors AND p.action <> 'unchanged'
    ), checked AS (
        SELECT e.record_id, (e.n).errors AS errors
          FROM fuel.normalise_each((SELECT array_agg(record_id) FROM todo), (SELECT array_agg(record) FROM todo)) e
    )
    SELECT p.record_id, p.action,
           -- a deleted record is not a reject: nothing reads it
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_errors END
                WHEN p.gone THEN '{}' ELSE ch.errors END
      FROM planned p LEFT JOIN checked ch ON ch.record_id = p.record_id
    UNION ALL
    -- A full snapshot that no longer lists a live record removes it.
    SELECT c.record_id, 'vanish', '{}'::text[]
      FROM fuel.records c
     WHERE snapshot AND c.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM inc WHERE inc.record_id = c.record_id)
$$;
COMMENT ON FUNCTION fuel.plan(jsonb, boolean, boolean) IS
    'Per record of a feed batch ([{record_id, record}]): insert | insert_deleted | update | delete | unchanged, with its normalisation errors (stored ones for unchanged records; for the others only when with_errors); for a snapshot also vanish (live records it no longer lists).';

-- ---------------------------------------------------------------------------------------------
-- Read views
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION fuel.thresholds(OUT radius_m double precision, OUT window_s double precision,
                                OUT max_km_day double precision, OUT overfill_pct double precision,
                                OUT max_litres double precision, OUT gps_tol_pct double precision,
                                OUT consumption_tol_pct double precision)
LANGUAGE sql STABLE AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'fuel_match_radius_m'),
           max(threshold) FILTER (WHERE metric = 'fuel_match_window_sec'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_km_per_day'),
           max(threshold) FILTER (WHERE metric = 'fuel_tank_overfill_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_litres'),
           max(threshold) FILTER (WHERE metric = 'fuel_gps_odometer_tolerance_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_consumption_tolerance_pct')
      FROM slo.targets WHERE kind = 'threshold'
$$;

-- Fills joined to the fleet by normalised plate: one device per fill even when the plate has
-- several (the one fitted at the fill time, not suspended, with the newest fix).
CREATE VIEW fuel.v_fills AS
SELECT r.record_id, r.filled_at, serve.local_time(r.filled_at) AS filled_local, serve.local_day(r.filled_at) AS day,
       r.car, r.plate_key, v.vehicle_id, coalesce(v.vehicle_number, r.car) AS vehicle_number,
       dev.imei, v.cost_centre, v.assigned_city AS city, r.department, r.driver, r.fuel_type,
       r.litres, r.amount_kes, CASE WHEN r.litres > 0 THEN round(r.amount_kes / r.litres, 2) END AS kes_per_litre,
       r.odometer_km, r.full_tank, r.missed_before, r.station, r.reported_lat, r.reported_lng,
       v.tank_litres, v.expected_l_per_100km
  FROM fuel.records r
  LEFT JOIN domain.vehicles v ON v.plate_key = r.plate_key
  LEFT JOIN LATERAL (
      SELECT a.imei
        FROM domain.device_assignments a
        JOIN domain.devices d ON d.imei = a.imei
        LEFT JOIN state.live_positions l ON l.imei = a.imei
       WHERE a.vehicle_id = v.vehicle_id AND d.lifecycle <> 'decommissioned'
       ORDER BY a.during @> r.filled_at DESC, d.lifecycle = 'suspended', l.fix_time DESC NULLS LAST, a.imei
       LIMIT 1) dev ON true
 WHERE r.deleted_at IS NULL AND r.normalise_errors = '{}';
COMMENT ON VIEW fuel.v_fills IS
    'Live, readable fills joined to the fleet by normalised plate, one device per fill (the one fitted at the fill time).';

-- Records that could not be normalised: kept, listed here with the reasons.
CREATE VIEW fuel.v_data_quality AS
SELECT r.record_id, r.raw, r.normalise_errors AS reasons, r.car, r.filled_at, r.imported_at, r.raw_id
  FROM fuel.records r
 WHERE r.deleted_at IS NULL AND r.normalise_errors <> '{}';
COMMENT ON VIEW fuel.v_data_quality IS 'Fuel records kept but not usable, with why (the fix is in the feed or in fuel.mappings).';

-- Efficiency between consecutive full fills per vehicle (partial fills fold into the next full
-- fill; a missed fill restarts the chain), from the odometer and, independently, from GPS trips.
CREATE VIEW fuel.v_efficiency AS
WITH t AS MATERIALIZED (SELECT * FROM fuel.thresholds()),
f AS (
    SELECT f.*, coalesce(f.vehicle_id::text, f.plate_key) AS vkey,
           -- chains: a partial fill belongs to the next full fill
           count(*) FILTER (WHERE f.full_tank) OVER (PARTITION BY coalesce(f.vehicle_id::text, f.plate_key)
                 ORDER BY f.filled_at, f.record_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chain
      FROM fuel.v_fills f
), chained AS (
    SELECT f.*, sum(f.litres) OVER w AS chain_litres, sum(f.amount_kes) OVER w AS chain_kes,
           bool_or(f.missed_before) OVER w AS chain_missed
      FROM f WINDOW w AS (PARTITION BY f.vkey, f.chain)
), full_fills AS (
    SELECT c.*, lag(c.odometer_km) OVER p AS prev_odometer_km, lag(c.filled_at) OVER p AS prev_filled_at,
           lag(c.record_id) OVER p AS prev_record_id
      FROM chained c WHERE c.full_tank
    WINDOW p AS (PARTITION BY c.vkey ORDER BY c.filled_at, c.record_id)
), measured AS (
    SELECT ff.*, ff.odometer_km - ff.prev_odometer_km AS odometer_km_delta,
           extract(epoch FROM ff.filled_at - ff.prev_filled_at) / 86400.0 AS days,
           (SELECT (sum(tr.distance_m) / 1000.0)::numeric FROM state.trips tr
             WHERE tr.imei = ff.imei AND tr.start_time >= ff.prev_filled_at AND tr.start_time < ff.filled_at) AS gps_km
      FROM full_fills ff
), flagged AS (
    SELECT m.*, array_remove(ARRAY[
               CASE WHEN m.odometer_km_delta < 0 THEN 'odometer went backwards' END,
               CASE WHEN m.odometer_km_delta > t.max_km_day * greatest(m.days, 1.0 / 24) THEN
                    format('odometer step of %s km in %s days', m.odometer_km_delta, round(m.days::numeric, 1)) END,
               CASE WHEN m.litres > coalesce(m.tank_litres * (1 + t.overfill_pct / 100), t.max_litres) AND m.tank_litres IS NULL
                    THEN format('%s L is impossible for one fill', m.litres) END,
               CASE WHEN m.tank_litres IS NOT NULL AND m.litres > m.tank_litres * (1 + t.overfill_pct / 100)
                    THEN format('%s L overfills a %s L tank', m.litres, m.tank_litres) END,
               CASE WHEN m.chain_missed THEN 'a missed fill breaks the chain' END], NULL) AS outliers
      FROM measured m, t
)
SELECT fl.record_id, fl.vehicle_id, fl.vehicle_number, fl.imei, fl.department, fl.filled_at, fl.filled_local,
       fl.prev_record_id, fl.prev_filled_at, fl.chain_litres AS litres, fl.chain_kes AS amount_kes,
       fl.odometer_km, fl.odometer_km_delta, round(fl.gps_km, 1) AS gps_km, fl.outliers,
       CASE WHEN fl.outliers = '{}' AND fl.odometer_km_delta > 0 AND fl.chain_litres > 0
            THEN round(fl.odometer_km_delta / fl.chain_litres, 2) END AS km_per_l,
       CASE WHEN fl.outliers = '{}' AND fl.odometer_km_delta > 0 AND fl.chain_litres > 0
            THEN round(fl.chain_litres * 100 / fl.odometer_km_delta, 2) END AS l_per_100km,
       CASE WHEN fl.outliers = '{}' AND fl.odometer_km_delta > 0
            THEN round(fl.chain_kes / fl.odometer_km_delta, 2) END AS kes_per_km,
       CASE WHEN fl.gps_km > 0 AND fl.chain_litres > 0 AND NOT fl.chain_missed
            THEN round(fl.gps_km / fl.chain_litres, 2) END AS gps_km_per_l
  FROM flagged fl
 WHERE fl.prev_filled_at IS NOT NULL;
COMMENT ON VIEW fuel.v_efficiency IS
    'Per full fill after the first: km/L, L/100 km, KES/km from the odometer and km/L from GPS trips; outliers (odometer backwards or implausible, impossible or overfilled litres, a missed fill) are kept, flagged and left out of the figures.';

-- Reconciliation with telematics: where the vehicle was at the fill time.
CREATE VIEW fuel.v_reconciliation AS
WITH t AS MATERIALIZED (SELECT * FROM fuel.thresholds(), serve.thresholds() st)
SELECT f.record_id, f.vehicle_number, f.imei, f.department, f.filled_at, f.filled_local, f.litres, f.amount_kes,
       fix.fix_time AS nearest_fix_time, fix.lat, fix.lng,
       round(extract(epoch FROM fix.fix_time - f.filled_at)::numeric) AS fix_offset_s,
       fix.max_speed_kmh, fix.moved_m, poi.name AS station_name, round(poi.distance_m::numeric) AS station_distance_m,
       round(reported.distance_m::numeric) AS reported_distance_m,
       e.gps_km, e.odometer_km_delta, e.litres AS chain_litres,
       (fix.fix_time IS NOT NULL AND fix.max_speed_kmh < t.moving_kmh AND fix.moved_m <= t.radius_m
        AND least(poi.distance_m, reported.distance_m) <= t.radius_m) AS verified,
       array_remove(ARRAY[
           CASE WHEN f.imei IS NULL THEN 'no tracker on this plate' END,
           CASE WHEN f.imei IS NOT NULL AND fix.fix_time IS NULL THEN 'no GPS fix near the fill time' END,
           CASE WHEN fix.max_speed_kmh >= t.moving_kmh OR fix.moved_m > t.radius_m THEN 'vehicle was moving at the fill time' END,
           CASE WHEN fix.fix_time IS NOT NULL AND coalesce(least(poi.distance_m, reported.distance_m), 1e9) > t.radius_m
                THEN 'not at a fuel station' END,
           CASE WHEN e.gps_km > 0 AND e.odometer_km_delta > 0
                 AND abs(e.odometer_km_delta - e.gps_km) > e.gps_km * t.gps_tol_pct / 100
                THEN format('odometer says %s km since the last fill, GPS %s km', e.odometer_km_delta, e.gps_km) END,
           CASE WHEN e.gps_km > 0 AND f.expected_l_per_100km IS NOT NULL
                 AND e.litres > e.gps_km * f.expected_l_per_100km / 100 * (1 + t.consumption_tol_pct / 100)
                THEN format('%s L for %s GPS km; about %s L expected', e.litres, e.gps_km,
                            round(e.gps_km * f.expected_l_per_100km / 100, 1)) END], NULL) AS reasons
  FROM fuel.v_fills f
  CROSS JOIN t
  LEFT JOIN fuel.v_efficiency e ON e.record_id = f.record_id
  LEFT JOIN LATERAL (
      SELECT h.fix_time, h.lat, h.lng, w.max_speed_kmh, w.moved_m
        FROM state.position_history h,
             LATERAL (SELECT max(h2.speed_kmh) AS max_speed_kmh,
                             max(ST_Distance(ST_MakePoint(h.lng, h.lat)::geography, ST_MakePoint(h2.lng, h2.lat)::geography)) AS moved_m
                        FROM state.position_history h2
                       WHERE h2.imei = f.imei
                         AND h2.fix_time BETWEEN h.fix_time - make_interval(secs => t.window_s / 2)
                                             AND h.fix_time + make_interval(secs => t.window_s / 2)) w
       WHERE h.imei = f.imei
         AND h.fix_time BETWEEN f.filled_at - make_interval(secs => t.window_s) AND f.filled_at + make_interval(secs => t.window_s)
       ORDER BY abs(extract(epoch FROM h.fix_time - f.filled_at))
       LIMIT 1) fix ON true
  LEFT JOIN LATERAL (
      SELECT p.name, ST_Distance(p.geom::geography, ST_MakePoint(fix.lng, fix.lat)::geography) AS distance_m
        FROM geo.pois p
       WHERE p.kind = 'fuel' AND fix.fix_time IS NOT NULL
       ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint(fix.lng, fix.lat), 4326)
       LIMIT 1) poi ON true
  LEFT JOIN LATERAL (
      SELECT ST_Distance(ST_MakePoint(f.reported_lng, f.reported_lat)::geography,
                         ST_MakePoint(fix.lng, fix.lat)::geography) AS distance_m
       WHERE f.reported_lat IS NOT NULL AND fix.fix_time IS NOT NULL) reported ON true;
COMMENT ON VIEW fuel.v_reconciliation IS
    'Each fill against telematics: the nearest fix within the window, whether the vehicle stood still, the nearest fuel station, GPS km vs odometer, litres vs expected; verified when it stood within the radius of a station or the reported place; reasons otherwise.';

-- ---------------------------------------------------------------------------------------------
-- The fuel API (GET /api/analytics/fuel-*): one serve.fn_* each, filters as every view takes them
-- plus "departments" (any spelling; canonicalised like the feed's). Default period: 90 days.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.check_filters(filters jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    known text[] := ARRAY['cost_centres', 'cities', 'vehicles', 'accounts', 'states', 'departments', 'from', 'to', 'zoom', 'period_days'];
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
                          FROM (SELECT department AS d FROM fuel.records WHERE deleted_at IS NULL AND department IS NOT NULL
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

CREATE FUNCTION serve.fuel_fills(filters jsonb)
RETURNS SETOF fuel.v_fills LANGUAGE sql STABLE AS $$
    WITH f AS MATERIALIZED (
        SELECT serve.filter_set(c) AS fs,
               serve.filter_range(CASE WHEN c ? 'from' OR c ? 'period_days' THEN c ELSE c || '{"period_days": 90}' END, 3660) AS during,
               (SELECT array_agg(fuel.canon_department(d)) FROM unnest(serve.filter_list(c, 'departments')) d) AS departments
          FROM serve.check_filters(filters) c)
    SELECT v.* FROM f, fuel.v_fills v
     WHERE v.filled_at >= lower(f.during) AND v.filled_at < upper(f.during)
       AND serve.matches(f.fs, v.cost_centre, v.city, v.plate_key, v.imei, NULL)
       AND (f.departments IS NULL OR v.department = ANY (f.departments))
$$;
COMMENT ON FUNCTION serve.fuel_fills(jsonb) IS 'The fills a fuel endpoint covers: its period (default 90 days) and filters.';

CREATE FUNCTION serve.fuel_row(f fuel.v_fills) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('record_id', f.record_id, 'filled_local', f.filled_local, 'day', f.day,
        'vehicle_number', f.vehicle_number, 'matched', f.vehicle_id IS NOT NULL, 'imei', f.imei,
        'department', f.department, 'cost_centre', f.cost_centre, 'driver', f.driver, 'fuel_type', f.fuel_type,
        'litres', f.litres, 'amount_kes', f.amount_kes, 'kes_per_litre', f.kes_per_litre,
        'odometer_km', f.odometer_km, 'full_tank', f.full_tank, 'station', f.station)
$$;

CREATE FUNCTION serve.fn_fuel_fills(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    e AS MATERIALIZED (SELECT e.* FROM fuel.v_efficiency e JOIN f USING (record_id)),
    veh AS (
        SELECT f.vehicle_number, min(f.department) AS department, count(*) AS fills, sum(f.litres) AS litres,
               sum(f.amount_kes) AS spend, sum(e.odometer_km_delta) FILTER (WHERE e.km_per_l IS NOT NULL) AS km,
               sum(e.litres) FILTER (WHERE e.km_per_l IS NOT NULL) AS eff_litres,
               sum(e.amount_kes) FILTER (WHERE e.km_per_l IS NOT NULL) AS eff_kes,
               sum(e.gps_km) AS gps_km, count(*) FILTER (WHERE e.outliers <> '{}') AS outliers
          FROM f LEFT JOIN e USING (record_id)
         GROUP BY f.vehicle_number)
    SELECT jsonb_build_object(
        'totals', (SELECT jsonb_build_object(
                       'fills', count(*), 'vehicles', count(DISTINCT vehicle_number),
                       'litres', coalesce(round(sum(litres), 1), 0), 'spend_kes', coalesce(round(sum(amount_kes)), 0),
                       'avg_kes_per_litre', round(sum(amount_kes) / nullif(sum(litres) FILTER (WHERE amount_kes IS NOT NULL), 0), 2),
                       'km_per_l', (SELECT round(sum(km) / nullif(sum(eff_litres), 0), 2) FROM veh),
                       'unmatched_fills', count(*) FILTER (WHERE vehicle_id IS NULL),
                       'from_local', (SELECT serve.local_time(min(filled_at)) FROM f),
                       'to_local', (SELECT serve.local_time(max(filled_at)) FROM f))
                     FROM f),
        'rows', (SELECT coalesce(jsonb_agg(serve.fuel_row(f) || jsonb_build_object('km_per_l', e.km_per_l, 'outliers', coalesce(to_jsonb(e.outliers), '[]'))
                                           ORDER BY f.filled_at DESC, f.record_id), '[]')
                   FROM f LEFT JOIN e USING (record_id)),
        'by_department', (SELECT coalesce(jsonb_agg(jsonb_build_object('department', coalesce(department, 'Unknown'), 'fills', n,
                                                                       'litres', round(l, 1), 'spend_kes', round(s)) ORDER BY s DESC NULLS LAST), '[]')
                            FROM (SELECT department, count(*) AS n, sum(litres) AS l, sum(amount_kes) AS s FROM f GROUP BY department) d),
        'by_vehicle', (SELECT coalesce(jsonb_agg(jsonb_build_object('vehicle_number', vehicle_number, 'department', department,
                                   'fills', fills, 'litres', round(litres, 1), 'spend_kes', round(spend),
                                   'km', round(km, 1), 'gps_km', round(gps_km, 1),
                                   'km_per_l', round(km / nullif(eff_litres, 0), 2),
                                   'l_per_100km', round(eff_litres * 100 / nullif(km, 0), 2),
                                   'kes_per_km', round(eff_kes / nullif(km, 0), 2), 'outliers', outliers)
                                   ORDER BY spend DESC NULLS LAST, vehicle_number), '[]') FROM veh),
        'trend', (SELECT coalesce(jsonb_agg(jsonb_build_object('day', day, 'fills', n, 'litres', round(l, 1), 'spend_kes', round(s)) ORDER BY day), '[]')
                    FROM (SELECT day, count(*) AS n, sum(litres) AS l, sum(amount_kes) AS s FROM f GROUP BY day) t))
$$;

CREATE FUNCTION serve.fn_fuel_recent(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object('rows', coalesce(jsonb_agg(serve.fuel_row(f) ORDER BY f.filled_at DESC, f.record_id), '[]'))
      FROM (SELECT * FROM serve.fuel_fills(filters) ORDER BY filled_at DESC, record_id LIMIT 50) f
$$;

CREATE FUNCTION serve.fn_fuel_efficiency(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    SELECT jsonb_build_object('rows', coalesce(jsonb_agg(jsonb_build_object(
               'record_id', e.record_id, 'vehicle_number', e.vehicle_number, 'department', e.department,
               'filled_local', e.filled_local, 'previous_record_id', e.prev_record_id,
               'previous_local', serve.local_time(e.prev_filled_at), 'litres', e.litres, 'amount_kes', e.amount_kes,
               'odometer_km', e.odometer_km, 'odometer_km_delta', e.odometer_km_delta, 'gps_km', e.gps_km,
               'km_per_l', e.km_per_l, 'l_per_100km', e.l_per_100km, 'kes_per_km', e.kes_per_km,
               'gps_km_per_l', e.gps_km_per_l, 'outliers', to_jsonb(e.outliers))
               ORDER BY e.vehicle_number, e.filled_at), '[]'))
      FROM fuel.v_efficiency e JOIN serve.fuel_fills(filters) f USING (record_id)
$$;

CREATE FUNCTION serve.fn_fuel_flagged(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    r AS (SELECT r.*, e.outliers FROM fuel.v_reconciliation r JOIN f USING (record_id)
            LEFT JOIN fuel.v_efficiency e USING (record_id))
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('fills', (SELECT count(*) FROM r),
                                      'verified', (SELECT count(*) FROM r WHERE verified),
                                      'flagged', (SELECT count(*) FROM r WHERE reasons <> '{}' OR coalesce(outliers, '{}') <> '{}'),
                                      'unreadable', (SELECT count(*) FROM fuel.v_data_quality)),
        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                     'record_id', record_id, 'vehicle_number', vehicle_number, 'department', department,
                     'filled_local', filled_local, 'litres', litres, 'amount_kes', amount_kes, 'verified', verified,
                     'station_name', station_name, 'station_distance_m', station_distance_m,
                     'nearest_fix_offset_s', fix_offset_s, 'gps_km', gps_km, 'odometer_km_delta', odometer_km_delta,
                     'reasons', to_jsonb(reasons || coalesce(outliers, '{}')))
                     ORDER BY filled_at DESC, record_id), '[]')
                   FROM r WHERE reasons <> '{}' OR coalesce(outliers, '{}') <> '{}'),
        'unreadable', (SELECT coalesce(jsonb_agg(jsonb_build_object('record_id', record_id, 'reasons', to_jsonb(reasons),
                                                                  'car', car, 'raw', raw) ORDER BY record_id), '[]')
                         FROM (SELECT * FROM fuel.v_data_quality ORDER BY record_id LIMIT 500) q))
$$;
