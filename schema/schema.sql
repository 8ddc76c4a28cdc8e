--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: auth; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA auth;


--
-- Name: SCHEMA auth; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA auth IS 'Users and service accounts, refresh tokens, audit log.';


--
-- Name: domain; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA domain;


--
-- Name: SCHEMA domain; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA domain IS 'Master data: accounts, vehicles, devices (lifecycle), drivers, cost centres, cities.';


--
-- Name: events; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA events;


--
-- Name: SCHEMA events; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA events IS 'The immutable event log: raw inbound signals and their parsed form (ARCHITECTURE §1.1).';


--
-- Name: fuel; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA fuel;


--
-- Name: SCHEMA fuel; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA fuel IS 'The fuel module: fills from the WhatsApp feed, normalisation mappings, import runs.';


--
-- Name: geo; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA geo;


--
-- Name: SCHEMA geo; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA geo IS 'OSM road graph (pgRouting), map-matched observations, speed bands, POIs.';


--
-- Name: ops; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA ops;


--
-- Name: SCHEMA ops; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA ops IS 'Operations: job runs, ingestion log, tickets, service log, alarm acknowledgements, partition registry.';


--
-- Name: serve; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA serve;


--
-- Name: SCHEMA serve; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA serve IS 'The read contract: functions and views the API serves.';


--
-- Name: slo; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA slo;


--
-- Name: SCHEMA slo; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA slo IS 'Service-level objectives and operational thresholds, and their measurements.';


--
-- Name: state; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA state;


--
-- Name: SCHEMA state; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA state IS 'Derived state written only by projectors; any table can be rebuilt from events.';


--
-- Name: btree_gist; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;


--
-- Name: EXTENSION btree_gist; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION btree_gist IS 'support for indexing common datatypes in GiST';


--
-- Name: fuzzystrmatch; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA public;


--
-- Name: EXTENSION fuzzystrmatch; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION fuzzystrmatch IS 'determine similarities and distance between strings';


--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';


--
-- Name: postgis; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;


--
-- Name: EXTENSION postgis; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION postgis IS 'PostGIS geometry and geography spatial types and functions';


--
-- Name: pgrouting; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgrouting WITH SCHEMA public;


--
-- Name: EXTENSION pgrouting; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON EXTENSION pgrouting IS 'pgRouting Extension';


--
-- Name: normalised; Type: TYPE; Schema: fuel; Owner: -
--

CREATE TYPE fuel.normalised AS (
	car text,
	plate_key text,
	litres numeric,
	amount numeric,
	currency text,
	amount_kes numeric,
	odometer_km numeric,
	fuel_type_spelling text,
	fuel_type text,
	driver text,
	department_spelling text,
	filled_at timestamp with time zone,
	source_created_at timestamp with time zone,
	source_updated_at timestamp with time zone,
	source_deleted_at timestamp with time zone,
	deleted boolean,
	full_tank boolean,
	missed_before boolean,
	station text,
	reported_lat double precision,
	reported_lng double precision,
	read_errors text[],
	read_warnings text[],
	errors text[],
	warnings text[]
);


--
-- Name: reading; Type: TYPE; Schema: fuel; Owner: -
--

CREATE TYPE fuel.reading AS (
	car text,
	fuel_type text,
	department text,
	litres numeric,
	amount numeric,
	currency text,
	odometer_km numeric,
	driver text,
	filled_at timestamp with time zone,
	created_at timestamp with time zone,
	updated_at timestamp with time zone,
	deleted_at timestamp with time zone,
	deleted boolean,
	full_tank boolean,
	missed_before boolean,
	station text,
	lat double precision,
	lng double precision,
	errors text[],
	warnings text[]
);


--
-- Name: TYPE reading; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TYPE fuel.reading IS 'The parser''s reading of a fuel record (fleet_core::fuel::record::Read); absent fields are NULL.';


--
-- Name: filter_set; Type: TYPE; Schema: serve; Owner: -
--

CREATE TYPE serve.filter_set AS (
	cost_centres text[],
	cities text[],
	accounts text[],
	vehicles text[]
);


--
-- Name: allowed_transitions(text); Type: FUNCTION; Schema: domain; Owner: -
--

CREATE FUNCTION domain.allowed_transitions(from_state text) RETURNS text[]
    LANGUAGE sql STABLE
    AS $_$
    SELECT coalesce(array_agg(t.to_state ORDER BY t.to_state), '{}')
      FROM domain.lifecycle_transitions t WHERE t.from_state = $1
$_$;


--
-- Name: FUNCTION allowed_transitions(from_state text); Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON FUNCTION domain.allowed_transitions(from_state text) IS 'The states a device in from_state may move to (none: final).';


--
-- Name: apply_lifecycle(jsonb); Type: FUNCTION; Schema: domain; Owner: -
--

CREATE FUNCTION domain.apply_lifecycle(transitions jsonb) RETURNS integer
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: FUNCTION apply_lifecycle(transitions jsonb); Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON FUNCTION domain.apply_lifecycle(transitions jsonb) IS 'Projector body for operator lifecycle transitions: legal ones only, in log order, each once.';


--
-- Name: find_driver(text, text, text); Type: FUNCTION; Schema: domain; Owner: -
--

CREATE FUNCTION domain.find_driver(driver_name text, driver_phone text, employee_no text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $_$
    SELECT d.driver_id
      FROM domain.drivers d
     WHERE ($3 IS NOT NULL AND d.employee_no = $3)
        OR ($3 IS NULL AND d.employee_no IS NULL AND lower(d.name) = lower($1) AND d.phone IS NOT DISTINCT FROM $2)
     ORDER BY d.driver_id
     LIMIT 1
$_$;


--
-- Name: FUNCTION find_driver(driver_name text, driver_phone text, employee_no text); Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON FUNCTION domain.find_driver(driver_name text, driver_phone text, employee_no text) IS 'The driver a registry row means: by employee number when it has one, else by name (any case) and phone.';


--
-- Name: raw_guard(); Type: FUNCTION; Schema: events; Owner: -
--

CREATE FUNCTION events.raw_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('fleet.partition_move', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'events.raw is append-only: rows are never deleted (retention drops whole partitions)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.received_at, NEW.source, NEW.kind, NEW.content_type, NEW.body, NEW.remote_addr,
        NEW.verified, NEW.verification, NEW.meta)
       IS DISTINCT FROM
       (OLD.id, OLD.received_at, OLD.source, OLD.kind, OLD.content_type, OLD.body, OLD.remote_addr,
        OLD.verified, OLD.verification, OLD.meta) THEN
        RAISE EXCEPTION 'events.raw is append-only: only parsed_at, parser_version and parse_error may change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;


--
-- Name: canon_fuel_type(text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.canon_fuel_type(fuel_type text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $_$
    WITH k AS (SELECT fuel.lookup_key(fuel_type) AS k, regexp_replace(lower(fuel_type), '[^a-z]+', '', 'g') AS letters)
    SELECT coalesce(fuel.mapped('fuel_type', fuel_type), CASE
        WHEN k.k IS NULL THEN NULL
        -- AGO (automotive gas oil), gasoil, dizeli (Swahili) and the common misspellings of diesel
        WHEN k.letters ~ '(diesel|diesl|disel|disiel|deisel|desel|dizel|gasoil|^ago$|^dsl$|^ads$)' THEN 'diesel'
        -- PMS (premium motor spirit), super, unleaded, V-Power, petroli (Swahili)
        WHEN k.letters ~ '(petrol|petro|petrl|^pms$|super|unleaded|gasoline|^gas$|vpower|premium|^ulp$)' THEN 'petrol'
        -- mafuta ya taa (Swahili: lamp oil)
        WHEN k.letters ~ '(kerosene|kerosine|paraffin|^dpk$|^ik$|mafutayataa)' THEN 'kerosene'
        WHEN k.letters ~ '(^lpg$|autogas)' THEN 'lpg'
        WHEN k.letters ~ '^(adblue|def)$' THEN 'adblue'
        WHEN levenshtein(k.letters, 'diesel') <= 2 THEN 'diesel'
        WHEN levenshtein(k.letters, 'petrol') <= 2 THEN 'petrol'
        WHEN levenshtein(k.letters, 'kerosene') <= 2 THEN 'kerosene'
    END)
      FROM k
$_$;


--
-- Name: FUNCTION canon_fuel_type(fuel_type text); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.canon_fuel_type(fuel_type text) IS 'diesel | petrol | kerosene | lpg | adblue from any spelling (DISIEL, "diesel ", AGO, PMS, V-Power, ...); fuel.mappings first; NULL when unrecognised.';


--
-- Name: checked_errors(text[], text, text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.checked_errors(read_errors text[], car text, plate_key text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(read_errors, '{}') || CASE WHEN car IS NOT NULL AND plate_key IS NULL
                                               THEN ARRAY[format('number plate %L not understood', car)] ELSE '{}' END
$$;


--
-- Name: FUNCTION checked_errors(read_errors text[], car text, plate_key text); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.checked_errors(read_errors text[], car text, plate_key text) IS 'Why a record is unusable: the reading''s errors and a plate that is not one.';


--
-- Name: checked_warnings(text[], text, text, text, double precision); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.checked_warnings(read_warnings text[], fuel_type_spelling text, fuel_type text, currency text, ugx_per_kes double precision) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(read_warnings, '{}')
             || CASE WHEN fuel_type_spelling IS NOT NULL AND fuel_type IS NULL
                     THEN ARRAY[format('fuel type %L not recognised (map it on the fuel page or with POST /api/fuel/mappings)', fuel_type_spelling)]
                     ELSE '{}' END
             || CASE WHEN currency = 'UGX' AND coalesce(ugx_per_kes, 0) <= 0
                     THEN ARRAY['the amount is in UGX but fuel_ugx_per_kes is not set: no KES figure'] ELSE '{}' END
$$;


--
-- Name: FUNCTION checked_warnings(read_warnings text[], fuel_type_spelling text, fuel_type text, currency text, ugx_per_kes double precision); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.checked_warnings(read_warnings text[], fuel_type_spelling text, fuel_type text, currency text, ugx_per_kes double precision) IS 'What a usable record lacks: the reading''s warnings, an unknown fuel type, a UGX amount with no exchange rate.';


--
-- Name: department_of(text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.department_of(spelling text) RETURNS text
    LANGUAGE sql STABLE
    AS $_$
    SELECT coalesce(
        (SELECT d.canonical FROM fuel.department_spellings d WHERE d.spelling = btrim($1)),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.canonical) = fuel.lookup_key($1) LIMIT 1),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.spelling) = fuel.lookup_key($1)
          ORDER BY d.records DESC, d.spelling LIMIT 1),
        btrim($1))
$_$;


--
-- Name: FUNCTION department_of(spelling text); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.department_of(spelling text) IS 'The canonical department of a spelling the feed uses, or of a canonical name in any case.';


--
-- Name: lookup_key(text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.lookup_key(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT nullif(regexp_replace(lower(value), '[^a-z0-9]+', '', 'g'), '')
$$;


--
-- Name: FUNCTION lookup_key(value text); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.lookup_key(value text) IS 'The key of a raw spelling in fuel.mappings: "Diesel " and "DIESEL." are one key.';


--
-- Name: mapped(text, text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.mapped(kind text, value text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $_$
    SELECT m.canonical FROM fuel.mappings m WHERE m.kind = $1 AND m.raw_value = fuel.lookup_key($2)
$_$;


--
-- Name: norm_plate(text); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.norm_plate(car text) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $_$
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
END $_$;


--
-- Name: FUNCTION norm_plate(car text); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.norm_plate(car text) IS 'The plate key of a fill: fuel.mappings (kind plate) first, else serve.normalize_plate with O/I typed for 0/1 in a plate''s digit block put right.';


--
-- Name: normalise_each(text[], fuel.reading[]); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.normalise_each(record_ids text[], reads fuel.reading[]) RETURNS TABLE(record_id text, n fuel.normalised)
    LANGUAGE sql STABLE
    AS $$
    WITH batch AS MATERIALIZED (
        -- unnest spreads the reading's fields into columns of their own
        SELECT b.* FROM unnest(record_ids, reads) AS b(record_id)
    ),
    -- MATERIALIZED: otherwise the calls move above the joins and run once per record
    plates AS MATERIALIZED (SELECT v, fuel.norm_plate(nullif(v, '')) AS c FROM (SELECT DISTINCT coalesce(car, '') AS v FROM batch) d),
    types AS MATERIALIZED (SELECT v, fuel.canon_fuel_type(nullif(v, '')) AS c FROM (SELECT DISTINCT coalesce(fuel_type, '') AS v FROM batch) d),
    rate AS MATERIALIZED (SELECT ugx_per_kes FROM fuel.thresholds())
    SELECT b.record_id, ROW(
        b.car, pl.c, b.litres, b.amount, b.currency,
        CASE WHEN b.currency = 'UGX' THEN round(b.amount / nullif(rate.ugx_per_kes, 0)::numeric, 2) ELSE b.amount END,
        b.odometer_km, b.fuel_type, ty.c, b.driver, b.department, b.filled_at, b.created_at, b.updated_at,
        b.deleted_at, coalesce(b.deleted, false), coalesce(b.full_tank, true), coalesce(b.missed_before, false),
        b.station, b.lat, b.lng, coalesce(b.errors, '{}'), coalesce(b.warnings, '{}'),
        fuel.checked_errors(b.errors, b.car, pl.c),
        fuel.checked_warnings(b.warnings, b.fuel_type, ty.c, b.currency, rate.ugx_per_kes))::fuel.normalised
      FROM batch b
      JOIN plates pl ON pl.v = coalesce(b.car, '')
      JOIN types ty ON ty.v = coalesce(b.fuel_type, '')
      CROSS JOIN rate
$$;


--
-- Name: FUNCTION normalise_each(record_ids text[], reads fuel.reading[]); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.normalise_each(record_ids text[], reads fuel.reading[]) IS 'Records'' columns from the parser''s readings: the plate against the fleet and fuel.mappings, the canonical fuel type, the KES amount, and every problem (errors make a record unusable, warnings leave it counting).';


--
-- Name: plan(jsonb, boolean, boolean); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean) RETURNS TABLE(record_id text, action text, errors text[], warnings text[])
    LANGUAGE sql STABLE
    AS $$
    SELECT p.record_id, p.action, p.errors, p.warnings FROM fuel.plan_records(records, with_errors) p
    UNION ALL
    SELECT v.record_id, 'vanish', '{}'::text[], '{}'::text[]
      FROM fuel.vanished((SELECT array_agg(x.record_id) FROM jsonb_to_recordset(records) AS x(record_id text))) v
     WHERE snapshot
$$;


--
-- Name: FUNCTION plan(records jsonb, snapshot boolean, with_errors boolean); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean) IS 'fuel.plan_records and, for a full snapshot, fuel.vanished (vanish): what a batch changes.';


--
-- Name: plan_records(jsonb, boolean); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.plan_records(records jsonb, with_errors boolean) RETURNS TABLE(record_id text, action text, errors text[], warnings text[])
    LANGUAGE sql STABLE
    AS $$
    WITH planned AS MATERIALIZED (
        SELECT x.record_id, x.gone, c.deleted_at IS NOT NULL AS was_deleted, c.normalise_errors AS stored_errors,
               c.warnings AS stored_warnings,
               CASE WHEN c.record_id IS NULL THEN CASE WHEN x.gone THEN 'insert_deleted' ELSE 'insert' END
                    WHEN c.raw_md5 = md5(x.record::text) AND c.delete_reason IS DISTINCT FROM 'absent from snapshot' THEN 'unchanged'
                    WHEN x.gone AND c.deleted_at IS NULL THEN 'delete'
                    ELSE 'update' END AS action
          FROM (SELECT r.record_id, r.record, coalesce(r.deleted, false) AS gone
                  FROM jsonb_to_recordset(records) AS r(record_id text, record jsonb, deleted boolean)) x
          LEFT JOIN fuel.records c ON c.record_id = x.record_id
    ), todo AS MATERIALIZED (
        -- the readings are read again rather than carried through the plan (a dry run only)
        SELECT r.record_id, r.read
          FROM jsonb_to_recordset(records) AS r(record_id text, read fuel.reading)
          JOIN planned p ON p.record_id = r.record_id
         WHERE with_errors AND p.action <> 'unchanged'
    ), checked AS (
        SELECT e.record_id, (e.n).errors AS errors, (e.n).warnings AS warnings
          -- the arrays beside the call, not subqueries in it, so the function inlines
          FROM (SELECT array_agg(record_id) AS ids, array_agg(read) AS reads FROM todo) t
         CROSS JOIN LATERAL fuel.normalise_each(t.ids, t.reads) e
    )
    SELECT p.record_id, p.action,
           -- a deleted record is not a reject: nothing reads it
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_errors END
                WHEN p.gone THEN '{}' ELSE ch.errors END,
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_warnings END
                WHEN p.gone THEN '{}' ELSE ch.warnings END
      FROM planned p LEFT JOIN checked ch ON ch.record_id = p.record_id
$$;


--
-- Name: FUNCTION plan_records(records jsonb, with_errors boolean); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.plan_records(records jsonb, with_errors boolean) IS 'Per record of a feed batch ([{record_id, record, deleted, read}], read = the parser''s reading, needed only with_errors): insert | insert_deleted | update | delete | unchanged, with its errors and warnings (stored ones for unchanged records; for the others only when with_errors).';


--
-- Name: thresholds(); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.thresholds(OUT radius_m double precision, OUT window_s double precision, OUT max_km_day double precision, OUT overfill_pct double precision, OUT max_litres double precision, OUT gps_tol_pct double precision, OUT consumption_tol_pct double precision, OUT ugx_per_kes double precision, OUT min_kes_per_litre double precision, OUT max_kes_per_litre double precision, OUT cost_per_km_ratio double precision) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'fuel_match_radius_m'),
           max(threshold) FILTER (WHERE metric = 'fuel_match_window_sec'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_km_per_day'),
           max(threshold) FILTER (WHERE metric = 'fuel_tank_overfill_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_litres'),
           max(threshold) FILTER (WHERE metric = 'fuel_gps_odometer_tolerance_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_consumption_tolerance_pct'),
           max(threshold) FILTER (WHERE metric = 'fuel_ugx_per_kes'),
           max(threshold) FILTER (WHERE metric = 'fuel_min_kes_per_litre'),
           max(threshold) FILTER (WHERE metric = 'fuel_max_kes_per_litre'),
           max(threshold) FILTER (WHERE metric = 'fuel_cost_per_km_outlier_ratio')
      FROM slo.targets WHERE kind = 'threshold'
$$;


--
-- Name: FUNCTION thresholds(OUT radius_m double precision, OUT window_s double precision, OUT max_km_day double precision, OUT overfill_pct double precision, OUT max_litres double precision, OUT gps_tol_pct double precision, OUT consumption_tol_pct double precision, OUT ugx_per_kes double precision, OUT min_kes_per_litre double precision, OUT max_kes_per_litre double precision, OUT cost_per_km_ratio double precision); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.thresholds(OUT radius_m double precision, OUT window_s double precision, OUT max_km_day double precision, OUT overfill_pct double precision, OUT max_litres double precision, OUT gps_tol_pct double precision, OUT consumption_tol_pct double precision, OUT ugx_per_kes double precision, OUT min_kes_per_litre double precision, OUT max_kes_per_litre double precision, OUT cost_per_km_ratio double precision) IS 'The fuel module''s thresholds and settings, read once per query from slo.targets.';


--
-- Name: vanished(text[]); Type: FUNCTION; Schema: fuel; Owner: -
--

CREATE FUNCTION fuel.vanished(record_ids text[]) RETURNS TABLE(record_id text)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.record_id
      FROM fuel.records c
     WHERE c.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(record_ids) AS i(id) WHERE i.id = c.record_id)
$$;


--
-- Name: FUNCTION vanished(record_ids text[]); Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON FUNCTION fuel.vanished(record_ids text[]) IS 'The live records a full snapshot listing these record ids no longer lists (the snapshot removes them).';


--
-- Name: geocode_key(double precision); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.geocode_key(x double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (round(x * 1e4) * 10)::integer
$$;


--
-- Name: FUNCTION geocode_key(x double precision); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.geocode_key(x double precision) IS 'A coordinate rounded to 1e-4 degrees, in units of 1e-5: the geocoder''s cache key.';


--
-- Name: match_bucket(timestamp with time zone); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.match_bucket(t timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT date_bin(geo.match_bucket_width(), t, timestamptz '2000-01-01 00:00:00+00')
$$;


--
-- Name: FUNCTION match_bucket(t timestamp with time zone); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.match_bucket(t timestamp with time zone) IS 'The start of the 5-minute map-matching bucket holding t.';


--
-- Name: match_bucket_width(); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.match_bucket_width() RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT interval '5 minutes'
$$;


--
-- Name: FUNCTION match_bucket_width(); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.match_bucket_width() IS 'The length of a map-matching bucket.';


--
-- Name: observed_speed(bigint, boolean, integer, integer); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.observed_speed(p_segment bigint, p_forward boolean, p_dow integer, p_hod integer, OUT speed_kmh real, OUT basis text) RETURNS record
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(b.median_kmh, a.median_kmh),
           CASE WHEN b.median_kmh IS NOT NULL THEN 'band' WHEN a.median_kmh IS NOT NULL THEN 'all_hours' END
      FROM (SELECT coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_min_samples'), 5) AS least) t
      LEFT JOIN geo.segment_speed_band b
             ON b.segment_id = p_segment AND b.forward = p_forward AND b.dow = p_dow AND b.hod = p_hod
            AND b.samples >= t.least
      LEFT JOIN geo.segment_speed_band a
             ON a.segment_id = p_segment AND a.forward = p_forward AND a.dow = -1 AND a.hod = -1
            AND a.samples >= t.least
$$;


--
-- Name: FUNCTION observed_speed(p_segment bigint, p_forward boolean, p_dow integer, p_hod integer, OUT speed_kmh real, OUT basis text); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.observed_speed(p_segment bigint, p_forward boolean, p_dow integer, p_hod integer, OUT speed_kmh real, OUT basis text) IS 'Observed km/h of a segment direction at an EAT day of week and hour (band, else all hours, with band_min_samples), and which it was.';


--
-- Name: reverse_geocode(double precision, double precision); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.reverse_geocode(p_lat double precision, p_lng double precision, OUT address text, OUT parts jsonb) RETURNS record
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    -- distances are measured on the plane of the point's latitude (longitude scaled by its
    -- cosine, degrees × 111,320 m): within the few km an address looks, within 0.5 % of the
    -- spheroid's and a fraction of the cost of geography distances
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(p_lng, p_lat), 4326) AS g, cos(radians(p_lat)) AS c,
                       ST_MakePoint(p_lng * cos(radians(p_lat)), p_lat) AS flat),
    house AS (
        SELECT a.housenumber, coalesce(a.street, a.place) AS street, d
          FROM pt, LATERAL (SELECT * FROM geo.addresses x ORDER BY x.geom <-> pt.g LIMIT 4) a,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(a.geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd
         WHERE d <= 40 AND coalesce(a.street, a.place) IS NOT NULL
         ORDER BY d LIMIT 1),
    street AS (
        SELECT w.name, d
          FROM pt, LATERAL (SELECT name, the_geom FROM geo.ways x WHERE x.name IS NOT NULL
                             ORDER BY x.the_geom <-> pt.g LIMIT 8) w,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(w.the_geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd
         WHERE d <= 600
         ORDER BY d LIMIT 1),
    admin AS (
        SELECT DISTINCT ON (b.admin_level) b.admin_level, b.name, b.osm_id
          FROM pt, geo.boundaries b
         WHERE ST_Intersects(b.geom, pt.g)
         ORDER BY b.admin_level, b.osm_id),
    -- the region the point is in (the shallowest boundary below the country)
    region AS (SELECT osm_id, name FROM admin WHERE admin_level >= 4 ORDER BY admin_level LIMIT 1),
    near_places AS (
        SELECT p.place, p.name, p.region_osm_id, d
          FROM pt, LATERAL (SELECT * FROM geo.places x ORDER BY x.geom <-> pt.g LIMIT 32) p,
               LATERAL (SELECT ST_Distance(ST_Scale(ST_SetSRID(p.geom, 0), pt.c, 1), pt.flat) * 111320 AS d) dd),
    suburb AS (
        SELECT name, d FROM near_places
         WHERE place IN ('suburb', 'quarter', 'neighbourhood', 'city_block', 'locality', 'hamlet', 'isolated_dwelling')
           AND d <= 2500
         ORDER BY d LIMIT 1),
    town AS (
        SELECT name, place, d FROM near_places
          JOIN (VALUES ('city', 20000.0), ('municipality', 15000.0), ('town', 10000.0), ('village', 4000.0)) s(kind, span)
            ON s.kind = near_places.place
         WHERE d <= span
           -- a town across a region's border is not the point's town
           AND (NOT EXISTS (SELECT 1 FROM region)
                OR near_places.region_osm_id = (SELECT osm_id FROM region))
         ORDER BY d / span LIMIT 1),
    parts AS (
        SELECT (SELECT housenumber FROM house) AS housenumber,
               coalesce((SELECT street FROM house), (SELECT name FROM street)) AS street,
               (SELECT name FROM suburb) AS suburb,
               coalesce((SELECT name FROM town),
                        (SELECT name FROM admin WHERE admin_level BETWEEN 7 AND 8 ORDER BY admin_level DESC LIMIT 1)) AS town,
               coalesce((SELECT place FROM town),
                        (SELECT 'boundary' FROM admin WHERE admin_level BETWEEN 7 AND 8 LIMIT 1)) AS town_kind,
               (SELECT name FROM region) AS region,
               (SELECT jsonb_agg(jsonb_build_object('level', admin_level, 'name', name) ORDER BY admin_level) FROM admin) AS admin,
               coalesce((SELECT d FROM house), (SELECT d FROM street)) AS street_m,
               (SELECT d FROM town) AS town_m)
    SELECT nullif(concat_ws(', ',
                  nullif(concat_ws(' ', p.housenumber, p.street), ''),
                  -- a suburb named like its town (or the street) is said once
                  CASE WHEN p.suburb IS DISTINCT FROM p.town AND p.suburb IS DISTINCT FROM p.street THEN p.suburb END,
                  p.town,
                  CASE WHEN p.region IS DISTINCT FROM p.town AND p.region IS DISTINCT FROM p.suburb THEN p.region END), ''),
           jsonb_strip_nulls(jsonb_build_object(
               'housenumber', p.housenumber, 'street', p.street, 'suburb', p.suburb, 'town', p.town,
               'town_kind', p.town_kind, 'region', p.region, 'admin', p.admin, 'street_m', round(p.street_m::numeric, 1), 'town_m', round(p.town_m::numeric),
               'source', 'osm'))
      FROM parts p
$$;


--
-- Name: FUNCTION reverse_geocode(p_lat double precision, p_lng double precision, OUT address text, OUT parts jsonb); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.reverse_geocode(p_lat double precision, p_lng double precision, OUT address text, OUT parts jsonb) IS 'The address of a position from the loaded extract: house number and street (40 m), else the nearest named street (600 m); suburb and town from place nodes (the town else from a city boundary); the region from the admin boundaries.';


--
-- Name: road_min_zoom(text); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.road_min_zoom(highway text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN highway IN ('motorway', 'trunk', 'motorway_link', 'trunk_link') THEN 5
        WHEN highway IN ('primary', 'primary_link') THEN 8
        WHEN highway IN ('secondary', 'secondary_link', 'tertiary', 'tertiary_link') THEN 10
        ELSE 13 END
$$;


--
-- Name: search(text, integer, public.geometry); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.search(p_q text, p_limit integer, p_near public.geometry DEFAULT NULL::public.geometry) RETURNS TABLE(kind text, name text, detail text, ref text, lng double precision, lat double precision, score real)
    LANGUAGE sql STABLE
    AS $$
    WITH q AS (SELECT lower(btrim(p_q)) AS q, serve.normalize_plate(p_q) AS plate,
                      coalesce(nullif(split_part(regexp_replace(lower(btrim(p_q)), '[^[:alnum:]]+', ' ', 'g'), ' ', 1), ''),
                               lower(btrim(p_q))) AS first),
    found AS (
        SELECT 'vehicle'::text AS kind, v.vehicle_number AS name, v.assigned_city AS detail, v.vehicle_number AS ref,
               NULL::float8 AS lng, NULL::float8 AS lat,
               (CASE WHEN v.plate_key = q.plate THEN 3.0 WHEN v.plate_key LIKE q.plate || '%' THEN 2.5 ELSE 2.0 END)::real AS score,
               0 AS rank, NULL::geometry AS geom
          FROM q, domain.vehicles v
         WHERE length(q.plate) >= 2 AND v.plate_key LIKE '%' || q.plate || '%'
        UNION ALL
        SELECT s.kind, s.name, s.detail, s.ref, ST_X(s.geom), ST_Y(s.geom),
               (CASE WHEN lower(s.name) = q.q THEN 1.5
                     WHEN lower(s.name) LIKE q.q || '%' THEN 1.2
                     WHEN lower(s.name) LIKE '% ' || q.q || '%' THEN 1.0
                     WHEN lower(s.name) LIKE '%' || q.q || '%' THEN 0.6
                     ELSE 0 END + greatest(similarity(lower(s.name), q.q), word_similarity(q.q, lower(s.name))))::real,
               CASE s.kind WHEN 'place' THEN 1 WHEN 'poi' THEN 2 ELSE 3 END, s.geom
          FROM q, geo.search_names s
         WHERE s.id IN (
             -- names that start so, in order (a range of the C-collated index: from the query to
             -- the query followed by the last code point)
             (SELECT x.id FROM geo.search_names x
               WHERE (lower(x.name) COLLATE "C") >= (SELECT q FROM q)
                 AND (lower(x.name) COLLATE "C") < (SELECT q || chr(1114111) FROM q)
               ORDER BY lower(x.name) COLLATE "C" LIMIT 100)
             UNION ALL
             -- names with a word that starts so (the query's first word)
             (SELECT w.id FROM geo.search_words w
               WHERE w.word >= (SELECT first FROM q) AND w.word < (SELECT first || chr(1114111) FROM q) LIMIT 200)
             UNION ALL
             -- names with a word like it (a typo): the most similar distinct words first
             (SELECT w.id FROM (SELECT v.word FROM geo.search_vocabulary v
                                 WHERE v.word % (SELECT first FROM q)
                                 ORDER BY similarity(v.word, (SELECT first FROM q)) DESC, v.names DESC LIMIT 20) v
                 JOIN geo.search_words w ON w.word = v.word LIMIT 200))
           AND (lower(s.name) LIKE '%' || q.q || '%' OR lower(s.name) % q.q OR word_similarity(q.q, lower(s.name)) >= 0.3)
    )
    SELECT f.kind, f.name, f.detail, f.ref, f.lng, f.lat, f.score
      FROM found f
     ORDER BY f.score DESC, f.rank, CASE WHEN p_near IS NOT NULL AND f.geom IS NOT NULL THEN f.geom <-> p_near END NULLS LAST, f.name
     LIMIT p_limit
$$;


--
-- Name: FUNCTION search(p_q text, p_limit integer, p_near public.geometry); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.search(p_q text, p_limit integer, p_near public.geometry) IS 'GET /api/geo/search: plates, places, POIs and streets of the extract by prefix, word and trigram similarity, best first.';


--
-- Name: shown_positions(timestamp with time zone); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.shown_positions(since timestamp with time zone) RETURNS TABLE(lat_e5 integer, lng_e5 integer, rank integer, at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
    WITH shown AS (
        SELECT lat, lng, 1 AS rank, filled_at AS at FROM state.fill_positions WHERE filled_at >= since OR placed_at >= since
        UNION ALL SELECT lat, lng, 2, start_time FROM state.parking_events WHERE start_time >= since
        UNION ALL SELECT end_lat, end_lng, 3, start_time FROM state.trips WHERE start_time >= since
        UNION ALL SELECT start_lat, start_lng, 4, start_time FROM state.trips WHERE start_time >= since
        UNION ALL SELECT lat, lng, 5, alarm_time FROM state.alarms WHERE alarm_time >= since
        UNION ALL SELECT lat, lng, 6, fix_time FROM state.live_positions
    )
    SELECT geo.geocode_key(lat), geo.geocode_key(lng), min(rank), max(at)
      FROM shown
     WHERE lat BETWEEN -90 AND 90 AND lng BETWEEN -180 AND 180 AND NOT (lat = 0 AND lng = 0)
     GROUP BY 1, 2
$$;


--
-- Name: FUNCTION shown_positions(since timestamp with time zone); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.shown_positions(since timestamp with time zone) IS 'Positions shown with an address since a time (live positions, fills, stops, trip ends and starts, alarms), keyed as the geocode cache is, with their importance rank and newest time.';


--
-- Name: tile(integer, integer, integer); Type: FUNCTION; Schema: geo; Owner: -
--

CREATE FUNCTION geo.tile(z integer, x integer, y integer) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    WITH b AS (SELECT ST_TileEnvelope(z, x, y) AS env, ST_Transform(ST_TileEnvelope(z, x, y, margin => 0.02), 4326) AS box),
    roads AS (
        SELECT ST_AsMVTGeom(ST_Transform(w.the_geom, 3857), b.env, 4096, 64, true) AS geom, w.highway, w.name
          FROM geo.ways w, b
         WHERE w.the_geom && b.box AND geo.road_min_zoom(w.highway) <= z
    ),
    pois AS (
        SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), b.env, 4096, 16, true) AS geom, p.kind, p.name
          FROM geo.pois p, b
         WHERE p.geom && b.box AND z >= 12
    )
    SELECT coalesce((SELECT ST_AsMVT(r, 'roads', 4096, 'geom') FROM roads r WHERE r.geom IS NOT NULL), ''::bytea)
        || coalesce((SELECT ST_AsMVT(p, 'pois', 4096, 'geom') FROM pois p WHERE p.geom IS NOT NULL), ''::bytea)
$$;


--
-- Name: FUNCTION tile(z integer, x integer, y integer); Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON FUNCTION geo.tile(z integer, x integer, y integer) IS 'A Mapbox vector tile of geo.ways (layer roads: highway, name) and geo.pois (layer pois: kind, name) for GET /tiles/{z}/{x}/{y}.pbf.';


--
-- Name: ensure_partition(regclass, text, timestamp with time zone); Type: FUNCTION; Schema: ops; Owner: -
--

CREATE FUNCTION ops.ensure_partition(p_parent regclass, p_granularity text, lo timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql
    AS $_$
DECLARE
    step      interval := CASE p_granularity WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END;
    hi        timestamptz := lo + step;
    part      text := ops.partition_name(p_parent, p_granularity, lo);
    def       text := p_parent::text || '_default';
    keycol    text;
    moved     bigint;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT a.attname INTO keycol
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = p_parent;
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)', part, p_parent);
    IF to_regclass(def) IS NOT NULL THEN
        PERFORM set_config('fleet.partition_move', 'on', true);
        EXECUTE format('WITH m AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %s SELECT * FROM m',
                       def, keycol, keycol, part) USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
        PERFORM set_config('fleet.partition_move', 'off', true);
        IF moved > 0 THEN
            RAISE NOTICE 'moved % rows of % from the default partition into %', moved, p_parent, part;
        END IF;
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', p_parent, part, lo, hi);
    RETURN true;
END $_$;


--
-- Name: expired_partitions(timestamp with time zone); Type: FUNCTION; Schema: ops; Owner: -
--

CREATE FUNCTION ops.expired_partitions(at timestamp with time zone DEFAULT now()) RETURNS TABLE(parent_table text, partition_table text, upper_bound timestamp with time zone, retention interval, bytes bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT t.parent::text, c.oid::regclass::text, b.upper_bound, t.retention, pg_total_relation_size(c.oid)
      FROM ops.partitioned_tables t
      JOIN pg_inherits i ON i.inhparent = t.parent
      JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (
           SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
     ) b
     WHERE t.retention IS NOT NULL
       AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
       AND b.upper_bound <= at - t.retention
     ORDER BY t.parent::text, b.upper_bound
$$;


--
-- Name: FUNCTION expired_partitions(at timestamp with time zone); Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON FUNCTION ops.expired_partitions(at timestamp with time zone) IS 'Partitions past their table''s retention at the given time (what ops.maintain_partitions drops), with their size.';


--
-- Name: maintain_partitions(timestamp with time zone); Type: FUNCTION; Schema: ops; Owner: -
--

CREATE FUNCTION ops.maintain_partitions(at timestamp with time zone DEFAULT now()) RETURNS TABLE(parent_table text, partition_table text, action text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t       ops.partitioned_tables;
    step    interval;
    first   timestamptz;
    b       timestamptz;
    r       record;
BEGIN
    -- One maintenance at a time: concurrent runs would race to create the same partition.
    PERFORM pg_advisory_xact_lock(hashtext('ops.maintain_partitions'));
    FOR t IN SELECT * FROM ops.partitioned_tables pt ORDER BY pt.parent::text LOOP
        step  := CASE t.granularity WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END;
        first := date_trunc(t.granularity, at, 'UTC') - step;
        FOR i IN 0 .. t.premake + 1 LOOP
            b := first + step * i;
            IF ops.ensure_partition(t.parent, t.granularity, b) THEN
                parent_table := t.parent::text; partition_table := ops.partition_name(t.parent, t.granularity, b); action := 'created';
                RETURN NEXT;
            END IF;
        END LOOP;
        FOR r IN SELECT e.partition_table AS part FROM ops.expired_partitions(at) e WHERE e.parent_table = t.parent::text LOOP
            EXECUTE format('DROP TABLE %s', r.part);
            parent_table := t.parent::text; partition_table := r.part; action := 'dropped';
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $$;


--
-- Name: FUNCTION maintain_partitions(at timestamp with time zone); Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON FUNCTION ops.maintain_partitions(at timestamp with time zone) IS 'Partition maintenance: creates upcoming partitions of every table in ops.partitioned_tables and applies retention. Idempotent; run daily by cron and after migrations.';


--
-- Name: partition_name(regclass, text, timestamp with time zone); Type: FUNCTION; Schema: ops; Owner: -
--

CREATE FUNCTION ops.partition_name(parent regclass, granularity text, bound timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT parent::text || '_p' || to_char(bound AT TIME ZONE 'UTC',
        CASE granularity WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END)
$$;


--
-- Name: address_at(double precision, double precision); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.address_at(p_lat double precision, p_lng double precision) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT g.address FROM state.geocoded_positions g
     WHERE g.lat_e5 = geo.geocode_key(p_lat) AND g.lng_e5 = geo.geocode_key(p_lng)
$$;


--
-- Name: FUNCTION address_at(p_lat double precision, p_lng double precision); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.address_at(p_lat double precision, p_lng double precision) IS 'The geocoder''s cached address of a position (rounded to about 11 m), or NULL.';


--
-- Name: alarm_class(text, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.alarm_class(alarm_type text, alarm_name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN alarm_type IN ('41', '48', '43', '49') OR alarm_name ~* '(harsh|rapid|sharp|sudden)' THEN 'harsh'
        WHEN alarm_type IN ('6', 'overSpeed') OR alarm_name ~* 'over ?speed|speeding' THEN 'speeding'
        ELSE 'other'
    END
$$;


--
-- Name: FUNCTION alarm_class(alarm_type text, alarm_name text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.alarm_class(alarm_type text, alarm_name text) IS 'Driver-behaviour class of an alarm: harsh (acceleration, braking, turns), speeding, other.';


--
-- Name: at_most(bigint, bigint, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.at_most(n bigint, max bigint, message text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF n > max THEN
        RAISE EXCEPTION '%', message USING ERRCODE = '22023';
    END IF;
    RETURN n;
END $$;


--
-- Name: FUNCTION at_most(n bigint, max bigint, message text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.at_most(n bigint, max bigint, message text) IS 'n, or a 400-class error (SQLSTATE 22023) with message when n > max.';


--
-- Name: check_filters(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.check_filters(filters jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
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
END $_$;


--
-- Name: FUNCTION check_filters(filters jsonb); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.check_filters(filters jsonb) IS 'Validates a filters object (a clear error naming the bad key) and returns it.';


--
-- Name: colour(text, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.colour(code text, configured text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN configured IS NOT NULL THEN configured
        WHEN code IS NULL THEN '#9e9e9e'
        ELSE (ARRAY['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b',
                    '#e377c2','#17becf','#bcbd22','#393b79','#ad494a','#637939'])[1 + abs(hashtext(code)) % 12]
    END
$$;


--
-- Name: FUNCTION colour(code text, configured text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.colour(code text, configured text) IS 'A cost centre''s map colour: its configured colour, else a stable palette entry; grey for none.';


--
-- Name: fill_address(text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fill_address(record_id text) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT serve.address_at(p.lat, p.lng) FROM state.fill_positions p WHERE p.record_id = fill_address.record_id
$$;


--
-- Name: FUNCTION fill_address(record_id text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fill_address(record_id text) IS 'A fuel fill''s address (its placed position, geocoded), NULL until both are known.';


--
-- Name: filter_list(jsonb, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.filter_list(filters jsonb, key text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE jsonb_typeof(filters -> key)
        WHEN 'array' THEN (SELECT array_agg(e) FROM jsonb_array_elements_text(filters -> key) e WHERE e <> '')
        WHEN 'string' THEN CASE WHEN filters ->> key <> '' THEN ARRAY[filters ->> key] END
    END
$$;


--
-- Name: filter_range(jsonb, integer); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.filter_range(filters jsonb, max_days integer DEFAULT NULL::integer) RETURNS tstzrange
    LANGUAGE plpgsql STABLE
    AS $_$
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
END $_$;


--
-- Name: FUNCTION filter_range(filters jsonb, max_days integer); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.filter_range(filters jsonb, max_days integer) IS 'The [from, to) range of a filters object: EAT days inclusive, timestamps, or period_days back from today; default today.';


--
-- Name: filter_set(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.filter_set(filters jsonb) RETURNS serve.filter_set
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ROW(
        (SELECT array_agg(upper(c)) FROM unnest(serve.filter_list(filters, 'cost_centres')) c),
        (SELECT array_agg(lower(c)) FROM unnest(serve.filter_list(filters, 'cities')) c),
        serve.filter_list(filters, 'accounts'),
        -- plates in any spelling, or IMEIs (which the plate rule leaves as they are)
        (SELECT array_agg(serve.normalize_plate(v)) FROM unnest(serve.filter_list(filters, 'vehicles')) v)
    )::serve.filter_set
$$;


--
-- Name: fleet_units(jsonb, text[]); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fleet_units(filters jsonb, unit_keys text[] DEFAULT NULL::text[]) RETURNS TABLE(unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text, cost_centre_name text, colour text, city text, account text, imei text, devices integer, lifecycle text, fix_time timestamp with time zone, received_at timestamp with time zone, lat double precision, lng double precision, speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint, driver_name text, driver_phone text, seq bigint, age_s double precision, state text, below_fresh boolean)
    LANGUAGE sql STABLE
    AS $$
    WITH fs AS MATERIALIZED (SELECT serve.filter_set(filters) AS fs, serve.filter_list(filters, 'states') AS states,
                                    (filters -> 'bbox' ->> 0)::float8 AS bw, (filters -> 'bbox' ->> 1)::float8 AS bs,
                                    (filters -> 'bbox' ->> 2)::float8 AS be, (filters -> 'bbox' ->> 3)::float8 AS bn),
    t AS MATERIALIZED (SELECT * FROM serve.thresholds()),
    picked AS (
        -- the dedup rule has been applied when the units were written (state.resolve_units)
        SELECT lu.unit_key, lu.vehicle_id,
               serve.unit_label(v.vehicle_number, sd.device_name, lu.imei) AS vehicle_number,
               v.plate_key, v.cost_centre, cc.name AS cost_centre_name, serve.colour(v.cost_centre, cc.colour) AS colour,
               v.assigned_city AS city, coalesce(d.account, sd.account) AS account, lu.imei,
               cardinality(lu.imeis) AS devices,
               lu.lifecycle, lu.fix_time, lu.received_at, lu.lat, lu.lng, lu.speed_kmh, lu.heading, lu.acc_on, lu.odometer_m,
               coalesce(dr.name, sd.driver_name) AS driver_name, coalesce(dr.phone, sd.driver_phone) AS driver_phone,
               lu.seq,
               -- a fix is never fresher than its arrival (a clock running ahead, migration 0019)
               extract(epoch FROM now() - least(lu.fix_time, lu.received_at))::double precision AS age_s
          FROM fs CROSS JOIN (
                -- every unit, or those named (one arm each, so that the named ones use the key)
                SELECT * FROM state.live_units WHERE unit_keys IS NULL
                UNION ALL
                SELECT * FROM state.live_units WHERE unit_key = ANY (unit_keys)) lu
          LEFT JOIN domain.devices d ON d.imei = lu.imei
          LEFT JOIN domain.vehicles v ON v.vehicle_id = lu.vehicle_id
          LEFT JOIN domain.cost_centres cc ON cc.code = v.cost_centre
          LEFT JOIN state.devices sd ON sd.imei = lu.imei
          LEFT JOIN domain.driver_assignments da ON da.vehicle_id = lu.vehicle_id AND upper_inf(da.during)
          LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
         WHERE NOT lu.removed
           -- the map's bounds (west > east: across the antimeridian); a unit with no fix is nowhere
           AND (fs.bw IS NULL
                OR (lu.lat BETWEEN fs.bs AND fs.bn
                    AND CASE WHEN fs.bw <= fs.be THEN lu.lng BETWEEN fs.bw AND fs.be
                             ELSE lu.lng >= fs.bw OR lu.lng <= fs.be END))
           AND (serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, lu.imei, coalesce(d.account, sd.account))
                -- a vehicle is found by the IMEI of any of its trackers
                OR ((fs.fs).vehicles IS NOT NULL AND cardinality(lu.imeis) > 1
                    AND EXISTS (SELECT 1 FROM unnest(lu.imeis) i
                                 WHERE serve.matches(fs.fs, v.cost_centre, v.assigned_city, v.plate_key, i, coalesce(d.account, sd.account)))))
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


--
-- Name: FUNCTION fleet_units(filters jsonb, unit_keys text[]); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fleet_units(filters jsonb, unit_keys text[]) IS 'One row per unit of state.live_units (the dedup rule, state.resolve_units) with its names, driver, seq and operational state; every filter but the time range applied (bbox: the map''s bounds); unit_keys (NULL: all) names the units wanted.';


--
-- Name: fn_alarms_daily(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_alarms_daily(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
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


--
-- Name: fn_contract_checks(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_contract_checks(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH f AS (SELECT serve.check_filters(filters) AS f),
    latest AS (
        SELECT DISTINCT ON (r.target) r.*
          FROM ops.contract_runs r
         WHERE r.outcome <> 'running'
         ORDER BY r.target, r.started_at DESC
    )
    SELECT jsonb_build_object(
        'latest', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', l.target, 'outcome', l.outcome, 'methods_checked', l.methods_checked,
                       'problems', l.problems, 'finished_local', serve.local_time(l.finished_at),
                       'methods', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                      'method', c.method, 'outcome', c.outcome, 'records', c.records,
                                      'problems', c.problems, 'duration_ms', c.duration_ms) ORDER BY c.outcome <> 'ok' DESC, c.method), '[]')
                                     FROM ops.contract_results c WHERE c.run_id = l.run_id))
                   ORDER BY l.target)
              FROM latest l), '[]'),
        'runs', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', r.target, 'outcome', r.outcome, 'methods_checked', r.methods_checked,
                       'problems', r.problems, 'started_local', serve.local_time(r.started_at),
                       'finished_local', serve.local_time(r.finished_at)) ORDER BY r.started_at DESC)
              FROM (SELECT * FROM ops.contract_runs ORDER BY started_at DESC LIMIT 20) r), '[]'))
      FROM f
$$;


--
-- Name: FUNCTION fn_contract_checks(filters jsonb); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fn_contract_checks(filters jsonb) IS 'GET /api/analytics/contract-checks: per vendor target the latest contract check with each method''s problems, and the 20 newest runs.';


--
-- Name: fn_currently_idle(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_currently_idle(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: fn_driver_daily(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_driver_daily(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during),
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


--
-- Name: fn_filters(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_filters(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: FUNCTION fn_filters(filters jsonb); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fn_filters(filters jsonb) IS 'GET /api/filters: the values each filter can take (vehicles narrowed by the other filters), and the palette.';


--
-- Name: fn_fleet_km_daily(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fleet_km_daily(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: fn_fleet_today(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fleet_today(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: fn_fuel_cost_per_km(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_cost_per_km(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH c AS MATERIALIZED (SELECT serve.check_filters(filters) AS c),
    t AS MATERIALIZED (SELECT * FROM fuel.thresholds()),
    f AS MATERIALIZED (
        SELECT f.*, date_trunc('month', f.filled_at AT TIME ZONE 'Africa/Nairobi') AS m
          FROM serve.fuel_fills(filters) f WHERE NOT f.voided),
    spans AS MATERIALIZED (
        SELECT DISTINCT f.m, tstzrange(f.m AT TIME ZONE 'Africa/Nairobi', (f.m + interval '1 month') AT TIME ZONE 'Africa/Nairobi') AS during
          FROM f),
    units AS MATERIALIZED (
        SELECT s.m, s.during, u.vehicle_id, u.imei
          FROM spans s, c, serve.range_units(c.c - 'from' - 'to' - 'period_days' - 'departments', s.during) u
         WHERE u.vehicle_id IS NOT NULL),
    gps AS MATERIALIZED (
        SELECT u.m, u.vehicle_id, (sum(tr.distance_m) / 1000.0)::numeric AS gps_km
          FROM units u JOIN state.trips tr ON tr.imei = u.imei AND tr.start_time >= lower(u.during) AND tr.start_time < upper(u.during)
         GROUP BY u.m, u.vehicle_id),
    odo AS MATERIALIZED (
        SELECT f.m, f.vehicle_id, sum(e.odometer_km_delta) AS odometer_km
          FROM fuel.v_efficiency e JOIN f USING (record_id)
         WHERE e.km_per_l IS NOT NULL AND f.vehicle_id IS NOT NULL
         GROUP BY f.m, f.vehicle_id),
    vm AS MATERIALIZED (
        SELECT f.m, f.vehicle_id, min(f.vehicle_number) AS vehicle_number, count(*) AS fills, sum(f.litres) AS litres,
               sum(f.amount_kes) AS spend, array_agg(DISTINCT f.department) FILTER (WHERE f.department IS NOT NULL) AS departments
          FROM f WHERE f.vehicle_id IS NOT NULL GROUP BY f.m, f.vehicle_id),
    v AS MATERIALIZED (
        SELECT vm.*, g.gps_km, o.odometer_km,
               vm.spend / nullif(g.gps_km, 0) AS kes_per_gps_km, vm.spend / nullif(o.odometer_km, 0) AS kes_per_odometer_km
          FROM vm LEFT JOIN gps g USING (m, vehicle_id) LEFT JOIN odo o USING (m, vehicle_id)),
    vmed AS (SELECT m, percentile_cont(0.5) WITHIN GROUP (ORDER BY kes_per_gps_km)::numeric AS median
               FROM v WHERE kes_per_gps_km IS NOT NULL GROUP BY m),
    shares AS (
        SELECT f.m, f.vehicle_id, coalesce(f.department, 'Unknown') AS department, sum(f.litres) AS litres, sum(f.amount_kes) AS spend
          FROM f GROUP BY f.m, f.vehicle_id, coalesce(f.department, 'Unknown')),
    d AS MATERIALIZED (
        SELECT s.m, s.department, sum(s.spend) AS spend,
               sum(s.spend) FILTER (WHERE s.vehicle_id IS NULL) AS unmatched_spend,
               sum(s.spend) FILTER (WHERE v.gps_km > 0) AS tracked_spend,
               sum(v.gps_km * s.litres / nullif(v.litres, 0)) AS gps_km
          FROM shares s LEFT JOIN v ON v.m = s.m AND v.vehicle_id = s.vehicle_id
         GROUP BY s.m, s.department),
    dk AS (SELECT d.*, d.tracked_spend / nullif(d.gps_km, 0) AS kes_per_gps_km FROM d),
    dmed AS (SELECT m, percentile_cont(0.5) WITHIN GROUP (ORDER BY kes_per_gps_km)::numeric AS median
               FROM dk WHERE kes_per_gps_km IS NOT NULL GROUP BY m),
    flags AS (
        SELECT v.*, vmed.median, array_remove(ARRAY[
                   CASE WHEN coalesce(v.gps_km, 0) = 0 THEN 'fuel bought but no GPS km this month (no tracker trips)' END,
                   CASE WHEN v.kes_per_gps_km > vmed.median * t.cost_per_km_ratio
                        THEN format('%s KES/km is more than %s times the month''s median of %s', round(v.kes_per_gps_km, 1), t.cost_per_km_ratio, round(vmed.median, 1)) END,
                   CASE WHEN v.kes_per_gps_km < vmed.median / t.cost_per_km_ratio
                        THEN format('%s KES/km is less than 1/%s of the month''s median of %s', round(v.kes_per_gps_km, 1), t.cost_per_km_ratio, round(vmed.median, 1)) END,
                   CASE WHEN v.odometer_km > 0 AND v.gps_km > 0 AND abs(v.odometer_km - v.gps_km) > v.gps_km * t.gps_tol_pct / 100
                        THEN format('odometer says %s km, GPS %s km', round(v.odometer_km), round(v.gps_km)) END], NULL) AS flags
          FROM v LEFT JOIN vmed USING (m) CROSS JOIN t)
    SELECT jsonb_build_object(
        'totals', (SELECT jsonb_build_object('spend_kes', round(coalesce(sum(spend), 0)), 'gps_km', round(coalesce(sum(gps_km), 0), 1),
                                             'kes_per_gps_km', round(sum(spend) FILTER (WHERE gps_km > 0) / nullif(sum(gps_km), 0), 2),
                                             'vehicle_months', count(*), 'flagged', count(*) FILTER (WHERE flags <> '{}'))
                     FROM flags),
        'by_vehicle', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'month', to_char(m, 'YYYY-MM'), 'vehicle_number', vehicle_number, 'departments', to_jsonb(departments),
                           'fills', fills, 'litres', round(litres, 1), 'spend_kes', round(spend),
                           'gps_km', round(gps_km, 1), 'odometer_km', round(odometer_km, 1),
                           'kes_per_gps_km', round(kes_per_gps_km, 2), 'kes_per_odometer_km', round(kes_per_odometer_km, 2),
                           'month_median_kes_per_gps_km', round(median, 2), 'flags', to_jsonb(flags))
                           ORDER BY m DESC, flags = '{}', spend DESC, vehicle_number), '[]') FROM flags),
        'by_department', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                              'month', to_char(dk.m, 'YYYY-MM'), 'department', dk.department, 'spend_kes', round(dk.spend),
                              'unmatched_spend_kes', round(coalesce(dk.unmatched_spend, 0)), 'gps_km', round(dk.gps_km, 1),
                              'kes_per_gps_km', round(dk.kes_per_gps_km, 2), 'month_median_kes_per_gps_km', round(dmed.median, 2),
                              'flags', to_jsonb(array_remove(ARRAY[
                                  CASE WHEN coalesce(dk.gps_km, 0) = 0 THEN 'no GPS km for this department''s vehicles this month' END,
                                  CASE WHEN dk.kes_per_gps_km > dmed.median * t.cost_per_km_ratio
                                       THEN format('%s KES/km is more than %s times the month''s median of %s', round(dk.kes_per_gps_km, 1), t.cost_per_km_ratio, round(dmed.median, 1)) END,
                                  CASE WHEN dk.kes_per_gps_km < dmed.median / t.cost_per_km_ratio
                                       THEN format('%s KES/km is less than 1/%s of the month''s median of %s', round(dk.kes_per_gps_km, 1), t.cost_per_km_ratio, round(dmed.median, 1)) END], NULL)))
                              ORDER BY dk.m DESC, dk.spend DESC, dk.department), '[]')
                            FROM dk LEFT JOIN dmed USING (m) CROSS JOIN t))
$$;


--
-- Name: fn_fuel_department_spellings(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_department_spellings(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH s AS MATERIALIZED (SELECT d.* FROM fuel.department_spellings d, serve.check_filters(filters) c)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'spellings', (SELECT count(*) FROM s), 'departments', (SELECT count(DISTINCT canonical) FROM s),
            'suggestions', (SELECT count(*) FROM s WHERE decided_by = 'suggestion'),
            'refreshed_local', (SELECT serve.local_time(max(refreshed_at)) FROM s)),
        'departments', (SELECT coalesce(jsonb_agg(jsonb_build_object('department', canonical, 'records', n, 'spellings', k)
                                                  ORDER BY n DESC, canonical), '[]')
                          FROM (SELECT canonical, sum(records) AS n, count(*) AS k FROM s GROUP BY canonical) d),
        'suggestions', (SELECT coalesce(jsonb_agg(jsonb_build_object('spelling', spelling, 'records', records, 'canonical', canonical,
                                                                   'suggestion', suggestion, 'reason', reason)
                                                  ORDER BY records DESC, spelling), '[]')
                          FROM s WHERE decided_by = 'suggestion'),
        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object('spelling', spelling, 'records', records, 'canonical', canonical,
                                                            'decided_by', decided_by, 'suggestion', suggestion, 'reason', reason)
                                           ORDER BY canonical, records DESC, spelling), '[]')
                   FROM s))
$$;


--
-- Name: fn_fuel_efficiency(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_efficiency(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: fn_fuel_fills(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_fills(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH all_f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    f AS MATERIALIZED (SELECT * FROM all_f WHERE NOT voided),
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
                       'without_amount', count(*) FILTER (WHERE amount_kes IS NULL),
                       'voided', (SELECT count(*) FROM all_f WHERE voided),
                       'from_local', (SELECT serve.local_time(min(filled_at)) FROM f),
                       'to_local', (SELECT serve.local_time(max(filled_at)) FROM f))
                     FROM f),
        'rows', (SELECT coalesce(jsonb_agg(serve.fuel_row(a) || jsonb_build_object('km_per_l', e.km_per_l, 'outliers', coalesce(to_jsonb(e.outliers), '[]'))
                                           ORDER BY a.filled_at DESC, a.record_id), '[]')
                   FROM all_f a LEFT JOIN e USING (record_id)),
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


--
-- Name: fn_fuel_flagged(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_flagged(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH f AS MATERIALIZED (SELECT * FROM serve.fuel_fills(filters)),
    r AS MATERIALIZED (
        SELECT r.*, f.review, f.review_reason, f.reviewed_by, f.reviewed_at, f.voided,
               r.reasons || coalesce(e.outliers, '{}') AS why
          FROM fuel.v_reconciliation r JOIN f USING (record_id)
          LEFT JOIN fuel.v_efficiency e USING (record_id)),
    flagged AS MATERIALIZED (SELECT * FROM r WHERE why <> '{}' OR review <> 'open'),
    incomplete AS MATERIALIZED (
        SELECT c.record_id, c.warnings, c.car, c.filled_at
          FROM fuel.records c
         WHERE c.deleted_at IS NULL AND c.normalise_errors = '{}' AND c.warnings <> '{}'
           AND c.filled_at >= (SELECT min(filled_at) FROM f) AND c.filled_at <= (SELECT max(filled_at) FROM f))
    SELECT jsonb_build_object(
        'summary', jsonb_build_object('fills', (SELECT count(*) FROM r),
                                      'verified', (SELECT count(*) FROM r WHERE verified),
                                      'flagged', (SELECT count(*) FROM flagged WHERE why <> '{}'),
                                      'to_review', (SELECT count(*) FROM flagged WHERE why <> '{}' AND review = 'open'),
                                      'approved', (SELECT count(*) FROM flagged WHERE review = 'approved'),
                                      'voided', (SELECT count(*) FROM flagged WHERE review = 'voided'),
                                      'unreadable', (SELECT count(*) FROM fuel.v_data_quality),
                                      'incomplete', (SELECT count(*) FROM incomplete)),
        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                     'record_id', record_id, 'vehicle_number', vehicle_number, 'department', department,
                     'filled_local', filled_local, 'litres', litres, 'amount_kes', amount_kes, 'verified', verified,
                     'station_name', station_name, 'station_distance_m', station_distance_m,
                     'address', serve.fill_address(flagged.record_id),
                     'nearest_fix_offset_s', fix_offset_s, 'gps_km', gps_km, 'odometer_km_delta', odometer_km_delta,
                     'reasons', to_jsonb(why), 'review', review, 'review_reason', review_reason,
                     'reviewed_by', reviewed_by, 'reviewed_local', serve.local_time(reviewed_at), 'voided', voided)
                     ORDER BY review = 'open' DESC, filled_at DESC, record_id), '[]')
                   FROM flagged),
        'unreadable', (SELECT coalesce(jsonb_agg(jsonb_build_object('record_id', record_id, 'reasons', to_jsonb(reasons),
                                                                  'car', car, 'raw', raw) ORDER BY record_id), '[]')
                         FROM (SELECT * FROM fuel.v_data_quality ORDER BY record_id LIMIT 500) q),
        'incomplete', (SELECT coalesce(jsonb_agg(jsonb_build_object('record_id', record_id, 'warnings', to_jsonb(warnings),
                                                                  'car', car, 'filled_local', serve.local_time(filled_at))
                                                 ORDER BY filled_at DESC, record_id), '[]')
                         FROM (SELECT * FROM incomplete ORDER BY filled_at DESC, record_id LIMIT 500) q))
$$;


--
-- Name: fn_fuel_recent(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_fuel_recent(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    SELECT jsonb_build_object('rows', coalesce(jsonb_agg(serve.fuel_row(f) ORDER BY f.filled_at DESC, f.record_id), '[]'))
      FROM (SELECT * FROM serve.fuel_fills(filters) ORDER BY filled_at DESC, record_id LIMIT 50) f
$$;


--
-- Name: fn_history_view(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_history_view(filters jsonb) RETURNS json
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET jit TO 'off'
    AS $$
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
    -- With "track": "matched", the map-matched path of each 5-minute bucket the matcher has
    -- done (geo.matched_tracks) and the raw fixes from the last fix it matched on (not matched
    -- yet: the current bucket, or fixes that came late).
    tracks AS (
        SELECT u.unit_key, u.vehicle_number, days.day, t.*, mt.mline, mt.matched_fixes, tail.tline
          FROM u CROSS JOIN days
          CROSS JOIN LATERAL (
              SELECT count(*) AS fixes, min(s.fix_time) AS first_fix, max(s.fix_time) AS last_fix, ST_MakeLine(s.pt) AS line
                FROM (SELECT h.fix_time, ST_MakePoint(h.lng, h.lat) AS pt
                        FROM state.position_history h
                       WHERE h.imei = u.imei AND h.fix_time >= days.lo AND h.fix_time < days.hi
                       ORDER BY h.fix_time) s) t
          LEFT JOIN LATERAL (
              -- SRID 0 like the raw lines it joins
              SELECT ST_SetSRID(ST_Collect(d.geom ORDER BY m.bucket, d.path), 0) AS mline,
                     sum(m.matched) AS matched_fixes, max(m.ended_at) AS covered_to
                FROM geo.matched_tracks m CROSS JOIN LATERAL ST_Dump(m.geom) d
               WHERE m.imei = u.imei AND m.bucket >= days.lo AND m.bucket < days.hi) mt
            ON (SELECT f.f ->> 'track' FROM f) = 'matched'
          LEFT JOIN LATERAL (
              SELECT CASE WHEN count(*) >= 2 THEN ST_MakeLine(s.pt) END AS tline
                FROM (SELECT ST_MakePoint(h.lng, h.lat) AS pt
                        FROM state.position_history h
                       WHERE h.imei = u.imei AND h.fix_time >= greatest(days.lo, mt.covered_to) AND h.fix_time < days.hi
                       ORDER BY h.fix_time) s) tail ON mt.mline IS NOT NULL
         WHERE t.fixes > 0),
    drawn AS (
        SELECT tr.*, CASE WHEN tr.mline IS NULL THEN tr.line
                          WHEN tr.tline IS NULL THEN tr.mline
                          ELSE ST_CollectionExtract(ST_Collect(tr.mline, tr.tline), 2) END AS path
          FROM tracks tr),
    lines AS (
        SELECT tr.*, ST_Simplify(tr.path, r.tol, true) AS simple,
               -- GPS distance on a local flat projection (within a fraction of a percent over a
               -- city, several times cheaper than geography on 8,640 points a day)
               ST_Length(ST_Scale(tr.path, cos(radians(ST_Y(ST_StartPoint(tr.line)))), 1)) * 111.195 AS track_km
          FROM drawn tr, r)
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
                        'matched', l.mline IS NOT NULL, 'matched_fixes', coalesce(l.matched_fixes, 0),
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
                        'avg_speed_kmh', tr.avg_speed_kmh, 'max_speed_kmh', tr.max_speed_kmh,
                        'start_address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(tr.start_lat) AND g.lng_e5 = geo.geocode_key(tr.start_lng)),
                        'end_address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(tr.end_lat) AND g.lng_e5 = geo.geocode_key(tr.end_lng))))
                  FROM trips tr
                UNION ALL
                SELECT s.start_time, 2, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN s.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(s.lng, s.lat)) END,
                    'properties', json_build_object('kind', s.kind, 'style_class', 'stop-' || s.kind,
                        'vehicle_number', s.vehicle_number, 'unit', s.unit_key, 'imei', s.imei,
                        'start_local', serve.local_time(s.start_time), 'end_local', serve.local_time(s.end_time),
                        'duration_s', s.duration_s, 'address', coalesce(s.address, (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(s.lat) AND g.lng_e5 = geo.geocode_key(s.lng)))))
                  FROM stops s
                UNION ALL
                SELECT a.alarm_time, 3, json_build_object('type', 'Feature',
                    'geometry', CASE WHEN a.lat IS NOT NULL THEN json_build_object('type', 'Point', 'coordinates', json_build_array(a.lng, a.lat)) END,
                    'properties', json_build_object('kind', 'alarm', 'style_class', 'alarm-' || serve.alarm_class(a.alarm_type, a.alarm_name),
                        'vehicle_number', a.vehicle_number, 'unit', a.unit_key, 'imei', a.imei,
                        'alarm_type', a.alarm_type, 'alarm_name', a.alarm_name, 'alarm_time', a.alarm_time,
                        'time_local', serve.local_time(a.alarm_time), 'speed_kmh', a.speed_kmh,
                        'ended_local', serve.local_time(a.ended_at), 'acked', a.acked_at IS NOT NULL,
                        'acked_by', a.acked_by, 'address', (SELECT g.address FROM state.geocoded_positions g WHERE g.lat_e5 = geo.geocode_key(a.lat) AND g.lng_e5 = geo.geocode_key(a.lng))))
                  FROM alarms a) feats)),
        'slo_status', json_build_object('slos', serve.slo_status(), 'badges', '[]'::json))
      FROM r
    );
END $$;


--
-- Name: FUNCTION fn_history_view(filters jsonb); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fn_history_view(filters jsonb) IS 'GET /api/views/history: per vehicle (serve.range_units) the track per EAT day simplified for the zoom (raw fixes, or with "track": "matched" the map-matched path), trips, stops, alarms, and totals.';


--
-- Name: fn_ingest_health(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_ingest_health(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: fn_live_changes(jsonb, bigint[], bigint[], timestamp with time zone, timestamp with time zone, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_live_changes(filters jsonb, lo bigint[], hi bigint[], since timestamp with time zone, until timestamp with time zone, format text DEFAULT 'geojson'::text) RETURNS json
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET jit TO 'off'
    AS $$
DECLARE
    keys text[];
    as_rows boolean := serve.live_format(format);
BEGIN
    keys := ARRAY(
        SELECT u.unit_key FROM unnest(lo, hi) r(lo, hi)
          JOIN state.live_units u ON u.seq BETWEEN r.lo AND r.hi
        UNION
        SELECT u.unit_key
          FROM serve.thresholds() t
         CROSS JOIN LATERAL unnest(ARRAY[t.fresh_s, t.stale_s, t.offline_s]) th(s)
          JOIN state.live_units u
            ON least(u.fix_time, u.received_at) >= since - make_interval(secs => th.s)
           AND least(u.fix_time, u.received_at) < until - make_interval(secs => th.s)
           AND NOT u.removed);
    RETURN (WITH picked AS MATERIALIZED (
                -- one of the two encodings built, never both (the function is inlined)
                SELECT f.unit_key, f.sort_key, CASE WHEN as_rows THEN f.compact ELSE f.feature END AS item
                  FROM serve.live_features(serve.check_filters(filters), keys) f),
            items AS (SELECT coalesce(json_agg(p.item ORDER BY p.sort_key COLLATE "C"), '[]'::json) AS j FROM picked p),
            gone AS (
                SELECT coalesce(json_agg(json_build_object('id', u.unit_key, 'seq', u.seq) ORDER BY u.unit_key COLLATE "C"),
                                '[]'::json) AS j
                  FROM state.live_units u
                 WHERE u.unit_key = ANY (keys)
                   AND NOT EXISTS (SELECT 1 FROM picked p WHERE p.unit_key = u.unit_key))
        SELECT CASE WHEN as_rows
                    THEN json_build_object('generated_at', now(), 'columns', serve.live_compact_columns(),
                                           'rows', i.j, 'removed', g.j)
                    ELSE json_build_object('generated_at', now(), 'features', i.j, 'removed', g.j) END
          FROM items i, gone g);
END $$;


--
-- Name: FUNCTION fn_live_changes(filters jsonb, lo bigint[], hi bigint[], since timestamp with time zone, until timestamp with time zone, format text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fn_live_changes(filters jsonb, lo bigint[], hi bigint[], since timestamp with time zone, until timestamp with time zone, format text) IS 'A live-stream tick: the features (format compact: rows of serve.live_compact_columns) written in the seq ranges lo..hi or whose state changed with time between since and until, and the units that went or left the filters (removed: id, seq).';


--
-- Name: fn_live_view(jsonb, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_live_view(filters jsonb, format text DEFAULT 'geojson'::text) RETURNS json
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET jit TO 'off'
    AS $$
DECLARE
    as_rows boolean := serve.live_format(format);
    checked jsonb := serve.check_filters(filters);
    -- a map zoomed out below the threshold gets counts per cell of 64 screen pixels
    -- (360 / 2^zoom degrees a 256-pixel tile), not one feature per vehicle
    cell double precision := CASE WHEN (checked ->> 'zoom')::numeric
                                       < (SELECT t.threshold FROM slo.targets t
                                           WHERE t.metric = 'live_vehicles_from_zoom' AND t.kind = 'threshold')
                                  THEN 90.0 / 2 ^ (checked ->> 'zoom')::numeric END;
BEGIN
    RETURN (WITH picked AS MATERIALIZED (
        SELECT f.sort_key, f.state, f.below_fresh, f.lat, f.lng,
               CASE WHEN cell IS NOT NULL THEN NULL WHEN as_rows THEN f.compact ELSE f.feature END AS item
          FROM serve.live_features(checked, NULL) f),
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
    ),
    parts AS (
        SELECT (SELECT json_build_object(
                    'vehicles', c.vehicles, 'moving', c.moving, 'parked', c.parked, 'unknown', c.unknown,
                    'offline', c.offline, 'suspended', c.suspended, 'below_freshness', c.below_freshness,
                    'generated_at', now(),
                    'generated_at_local', serve.local_time(now()),
                    'time_zone', serve.local_tz(),
                    'thresholds', (SELECT row_to_json(t) FROM t)) FROM counts c) AS summary,
               CASE WHEN cell IS NULL THEN
                   coalesce((SELECT json_agg(p.item ORDER BY p.sort_key COLLATE "C") FROM picked p), '[]'::json) END AS items,
               CASE WHEN cell IS NOT NULL THEN coalesce((
                   SELECT json_agg(json_build_object(
                              'type', 'Feature',
                              'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(g.lng, g.lat)),
                              'properties', json_build_object(
                                  'count', g.n, 'moving', g.moving, 'parked', g.parked, 'unknown', g.unknown,
                                  'offline', g.offline, 'suspended', g.suspended, 'cell_deg', cell))
                          ORDER BY g.cy, g.cx)
                     FROM (SELECT floor(p.lat / cell) AS cy, floor(p.lng / cell) AS cx,
                                  -- where the cell's vehicles are, not the cell's corner
                                  avg(p.lat) AS lat, avg(p.lng) AS lng, count(*) AS n,
                                  count(*) FILTER (WHERE p.state = 'moving') AS moving,
                                  count(*) FILTER (WHERE p.state = 'parked') AS parked,
                                  count(*) FILTER (WHERE p.state = 'unknown') AS unknown,
                                  count(*) FILTER (WHERE p.state = 'offline') AS offline,
                                  count(*) FILTER (WHERE p.state = 'suspended') AS suspended
                             FROM picked p WHERE p.lat IS NOT NULL
                            GROUP BY 1, 2) g), '[]'::json) END AS cells,
               json_build_object(
                   'slos', serve.slo_status(),
                   'badges', (SELECT coalesce(json_agg(b), '[]'::json) FROM (
                       SELECT json_build_object('metric', 'fix_freshness_pct_60s', 'level', 'warning', 'count', c.below_freshness,
                                                 'text', c.below_freshness || CASE WHEN c.below_freshness = 1 THEN ' vehicle' ELSE ' vehicles' END
                                                         || ' below freshness SLO') AS b
                         FROM counts c WHERE c.below_freshness > 0
                       UNION ALL
                       SELECT json_build_object('metric', 'offline_sec', 'level', 'info', 'count', c.offline,
                                                 'text', c.offline || CASE WHEN c.offline = 1 THEN ' vehicle' ELSE ' vehicles' END || ' offline')
                         FROM counts c WHERE c.offline > 0) badges)) AS slo_status
    )
    SELECT CASE WHEN cell IS NOT NULL
                THEN json_build_object('summary', x.summary,
                                       'cells', json_build_object('type', 'FeatureCollection', 'features', x.cells),
                                       'slo_status', x.slo_status)
                WHEN as_rows
                THEN json_build_object('summary', x.summary, 'columns', serve.live_compact_columns(),
                                       'rows', x.items, 'slo_status', x.slo_status)
                ELSE json_build_object('summary', x.summary,
                                       'geojson', json_build_object('type', 'FeatureCollection', 'features', x.items),
                                       'slo_status', x.slo_status) END
      FROM parts x
    );
END $$;


--
-- Name: FUNCTION fn_live_view(filters jsonb, format text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fn_live_view(filters jsonb, format text) IS 'GET /api/views/live: one feature per vehicle (serve.live_features) with state, style_class, colour, plate tail, EAT times, seq; KPIs and SLO badges; format compact: columns and rows instead of GeoJSON; a zoom below the live_vehicles_from_zoom threshold: counts per grid cell (cells) instead.';


--
-- Name: fn_not_moved_today(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_not_moved_today(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
    WITH today AS (SELECT serve.fn_fleet_today(filters) AS j),
    rows AS (SELECT r FROM today, jsonb_array_elements(today.j -> 'rows') r
              WHERE (r ->> 'trips')::int = 0 AND r ->> 'state' <> 'moving')
    SELECT jsonb_build_object('summary', jsonb_build_object('day', serve.local_day(now()), 'vehicles', count(*)),
                              'rows', coalesce(jsonb_agg(r ORDER BY r ->> 'vehicle_number'), '[]'::jsonb))
      FROM rows
$$;


--
-- Name: fn_utilisation(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fn_utilisation(filters jsonb) RETURNS jsonb
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
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


--
-- Name: local_day(timestamp with time zone); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.local_day(ts timestamp with time zone) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (ts AT TIME ZONE 'Africa/Nairobi')::date
$$;


--
-- Name: FUNCTION local_day(ts timestamp with time zone); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.local_day(ts timestamp with time zone) IS 'The EAT day a timestamp falls in.';


--
-- Name: local_time(timestamp with time zone); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.local_time(ts timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    -- (a cast, five times cheaper than to_char; the platform's connections use DateStyle ISO)
    SELECT date_trunc('second', ts AT TIME ZONE 'Africa/Nairobi')::text
$$;


--
-- Name: FUNCTION local_time(ts timestamp with time zone); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.local_time(ts timestamp with time zone) IS 'A timestamp as the pages print it: EAT, "2026-11-24 14:05:09".';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: device_assignments; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.device_assignments (
    imei text NOT NULL,
    vehicle_id bigint NOT NULL,
    during tstzrange DEFAULT tstzrange(now(), NULL::timestamp with time zone) NOT NULL,
    assigned_by text
);


--
-- Name: TABLE device_assignments; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.device_assignments IS 'Which vehicle a device is fitted to, over time. A device is on one vehicle at a time; a vehicle may carry several devices.';


--
-- Name: devices; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.devices (
    imei text NOT NULL,
    account text NOT NULL,
    model text,
    sim text,
    lifecycle text DEFAULT 'provisioned'::text NOT NULL,
    lifecycle_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT devices_imei_check CHECK ((imei ~ '^[0-9A-Za-z]{6,20}$'::text)),
    CONSTRAINT devices_lifecycle_check CHECK ((lifecycle = ANY (ARRAY['provisioned'::text, 'active'::text, 'suspended'::text, 'decommissioned'::text])))
);


--
-- Name: TABLE devices; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.devices IS 'Trackers. lifecycle changes only by explicit admin transitions (audited in domain.device_lifecycle_events).';


--
-- Name: vehicles; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.vehicles (
    vehicle_id bigint NOT NULL,
    vehicle_number text NOT NULL,
    plate_key text NOT NULL,
    vehicle_name text,
    make text,
    model text,
    vehicle_type text,
    fuel_type text,
    tank_litres numeric(7,1),
    expected_l_per_100km numeric(5,2),
    cost_centre text,
    assigned_city text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT vehicles_expected_l_per_100km_check CHECK ((expected_l_per_100km > (0)::numeric)),
    CONSTRAINT vehicles_tank_litres_check CHECK ((tank_litres > (0)::numeric))
);


--
-- Name: TABLE vehicles; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.vehicles IS 'Vehicles, identified by plate. plate_key is the normalised plate (serve.normalize_plate) used for every join.';


--
-- Name: COLUMN vehicles.vehicle_number; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON COLUMN domain.vehicles.vehicle_number IS 'The plate as written by the fleet (e.g. "KCA 542Q").';


--
-- Name: department_spellings; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.department_spellings (
    spelling text NOT NULL,
    words text NOT NULL,
    records integer NOT NULL,
    canonical text NOT NULL,
    decided_by text NOT NULL,
    suggestion text,
    reason text NOT NULL,
    refreshed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT department_spellings_decided_by_check CHECK ((decided_by = ANY (ARRAY['mapping'::text, 'cost_centre'::text, 'vocabulary'::text, 'learned'::text, 'own'::text, 'suggestion'::text])))
);


--
-- Name: TABLE department_spellings; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.department_spellings IS 'Every department spelling of the live fuel records with its canonical name and how it was decided (fleet_core::fuel::departments); refreshed by the projectors whenever records, mappings or cost centres change, so it is never edited by hand: map a spelling with POST /api/fuel/mappings.';


--
-- Name: COLUMN department_spellings.words; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.department_spellings.words IS 'The spelling''s words as the rule compares them (case, punctuation, filler words, plurals, US/UK folded): a new spelling with the words of a decided one joins its department at once.';


--
-- Name: COLUMN department_spellings.records; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.department_spellings.records IS 'Live records with this spelling, as of the last full decision (the end of the latest import).';


--
-- Name: COLUMN department_spellings.suggestion; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.department_spellings.suggestion IS 'For a spelling kept apart (decided_by suggestion): the department it may belong to; confirm or reject it with a mapping.';


--
-- Name: fill_reviews; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.fill_reviews (
    record_id text NOT NULL,
    state text NOT NULL,
    reason text,
    actor text NOT NULL,
    reviewed_at timestamp with time zone NOT NULL,
    raw_id bigint NOT NULL,
    CONSTRAINT fill_reviews_state_check CHECK ((state = ANY (ARRAY['approved'::text, 'voided'::text, 'open'::text])))
);


--
-- Name: TABLE fill_reviews; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.fill_reviews IS 'The review of a flagged fill (POST /api/fuel/fills/{id}/review): approved (keeps its flags, counts), voided (listed, marked, left out of totals and efficiency) or open again; the newest review wins.';


--
-- Name: records; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.records (
    record_id text NOT NULL,
    raw jsonb NOT NULL,
    raw_id bigint,
    source_created_at timestamp with time zone,
    source_updated_at timestamp with time zone,
    deleted_at timestamp with time zone,
    car text,
    plate_key text,
    litres numeric(12,3),
    amount_kes numeric(12,2),
    odometer_km numeric(10,1),
    fuel_type text,
    driver text,
    filled_at timestamp with time zone,
    normalise_errors text[] DEFAULT '{}'::text[] NOT NULL,
    imported_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    full_tank boolean DEFAULT true NOT NULL,
    missed_before boolean DEFAULT false NOT NULL,
    station text,
    reported_lat double precision,
    reported_lng double precision,
    delete_reason text,
    raw_md5 text,
    department_spelling text,
    fuel_type_spelling text,
    amount numeric(14,2),
    currency text,
    read_errors text[] DEFAULT '{}'::text[] NOT NULL,
    read_warnings text[] DEFAULT '{}'::text[] NOT NULL,
    warnings text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT records_currency_check CHECK ((currency = ANY (ARRAY['KES'::text, 'UGX'::text])))
);


--
-- Name: TABLE records; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.records IS 'One row per fill from the WhatsApp feed: the raw record verbatim plus normalised columns derived in one place; soft-deleted rows keep deleted_at.';


--
-- Name: COLUMN records.amount_kes; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.amount_kes IS 'The amount in KES: as written, or a UGX amount divided by fuel_ugx_per_kes.';


--
-- Name: COLUMN records.normalise_errors; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.normalise_errors IS 'Why the record is unusable (the reading''s errors, or a plate that is not one); such records are kept, listed in fuel.v_data_quality, never counted.';


--
-- Name: COLUMN records.full_tank; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.full_tank IS 'False when the record says the tank was not filled up (a partial fill folds into the next full one).';


--
-- Name: COLUMN records.missed_before; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.missed_before IS 'The record says a fill before it went unrecorded: the efficiency chain restarts here.';


--
-- Name: COLUMN records.delete_reason; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.delete_reason IS '"deleted in the feed" (the source soft-deleted it) or "absent from snapshot" (a full snapshot no longer lists it).';


--
-- Name: COLUMN records.raw_md5; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.raw_md5 IS 'md5 of raw::text: how an import tells an edited record from an unchanged one.';


--
-- Name: COLUMN records.department_spelling; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.department_spelling IS 'The department as the record writes it (spaces collapsed); its canonical name is in fuel.department_spellings.';


--
-- Name: COLUMN records.fuel_type_spelling; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.fuel_type_spelling IS 'The fuel type as the record writes it; fuel_type is its canonical form.';


--
-- Name: COLUMN records.amount; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.amount IS 'The amount in the currency it was written in.';


--
-- Name: COLUMN records.currency; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.currency IS 'KES or UGX as the amount names it; NULL when it names no country (the log''s currency, KES).';


--
-- Name: COLUMN records.read_errors; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.read_errors IS 'What the parser could not read that makes the record unusable (fleet_core::fuel::record).';


--
-- Name: COLUMN records.read_warnings; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.read_warnings IS 'What the parser could not read while the record still counts.';


--
-- Name: COLUMN records.warnings; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.records.warnings IS 'Values the record lacks while it still counts (an unreadable amount or odometer, an unknown fuel type): listed as incomplete.';


--
-- Name: live_positions; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.live_positions (
    imei text NOT NULL,
    fix_time timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    lat double precision NOT NULL,
    lng double precision NOT NULL,
    geom public.geometry(Point,4326) GENERATED ALWAYS AS (public.st_setsrid(public.st_makepoint(lng, lat), 4326)) STORED,
    speed_kmh real,
    heading smallint,
    acc_on boolean,
    pos_type text,
    satellites smallint,
    odometer_m bigint,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT live_positions_check CHECK ((NOT ((lat = (0)::double precision) AND (lng = (0)::double precision)))),
    CONSTRAINT live_positions_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT live_positions_lng_check CHECK (((lng >= ('-180'::integer)::double precision) AND (lng <= (180)::double precision)))
);


--
-- Name: TABLE live_positions; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.live_positions IS 'Latest fix per device. Monotonic: only a newer fix_time replaces a row. Writer: the positions projector.';


--
-- Name: v_fills; Type: VIEW; Schema: fuel; Owner: -
--

CREATE VIEW fuel.v_fills AS
 SELECT r.record_id,
    r.filled_at,
    serve.local_time(r.filled_at) AS filled_local,
    serve.local_day(r.filled_at) AS day,
    r.car,
    r.plate_key,
    v.vehicle_id,
    COALESCE(v.vehicle_number, r.car) AS vehicle_number,
    dev.imei,
    v.cost_centre,
    v.assigned_city AS city,
    COALESCE(ds.canonical, r.department_spelling) AS department,
    r.department_spelling,
    r.driver,
    r.fuel_type,
    r.litres,
    r.amount_kes,
    r.amount,
    r.currency,
        CASE
            WHEN (r.litres > (0)::numeric) THEN round((r.amount_kes / r.litres), 2)
            ELSE NULL::numeric
        END AS kes_per_litre,
    r.odometer_km,
    r.full_tank,
    r.missed_before,
    r.station,
    r.reported_lat,
    r.reported_lng,
    v.tank_litres,
    v.expected_l_per_100km,
    r.warnings,
        CASE
            WHEN ((r.litres > (0)::numeric) AND (((r.amount_kes / r.litres))::double precision > t.max_kes_per_litre)) THEN format('%s KES a litre is more than %s: a typo, or an amount in another currency?'::text, round((r.amount_kes / r.litres)), t.max_kes_per_litre)
            WHEN ((r.litres > (0)::numeric) AND (((r.amount_kes / r.litres))::double precision < t.min_kes_per_litre)) THEN format('%s KES a litre is less than %s: a typo, or part of the amount?'::text, round((r.amount_kes / r.litres)), t.min_kes_per_litre)
            ELSE NULL::text
        END AS price_flag,
    COALESCE(rv.state, 'open'::text) AS review,
    rv.reason AS review_reason,
    rv.actor AS reviewed_by,
    rv.reviewed_at,
    COALESCE((rv.state = 'voided'::text), false) AS voided
   FROM (((((fuel.records r
     CROSS JOIN fuel.thresholds() t(radius_m, window_s, max_km_day, overfill_pct, max_litres, gps_tol_pct, consumption_tol_pct, ugx_per_kes, min_kes_per_litre, max_kes_per_litre, cost_per_km_ratio))
     LEFT JOIN fuel.department_spellings ds ON ((ds.spelling = r.department_spelling)))
     LEFT JOIN fuel.fill_reviews rv ON ((rv.record_id = r.record_id)))
     LEFT JOIN domain.vehicles v ON ((v.plate_key = r.plate_key)))
     LEFT JOIN LATERAL ( SELECT a.imei
           FROM ((domain.device_assignments a
             JOIN domain.devices d ON ((d.imei = a.imei)))
             LEFT JOIN state.live_positions l ON ((l.imei = a.imei)))
          WHERE ((a.vehicle_id = v.vehicle_id) AND (d.lifecycle <> 'decommissioned'::text))
          ORDER BY (a.during @> r.filled_at) DESC, (d.lifecycle = 'suspended'::text), l.fix_time DESC NULLS LAST, a.imei
         LIMIT 1) dev ON (true))
  WHERE ((r.deleted_at IS NULL) AND (r.normalise_errors = '{}'::text[]));


--
-- Name: VIEW v_fills; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON VIEW fuel.v_fills IS 'Live, usable fills joined to the fleet by normalised plate, one device per fill (the one fitted at the fill time), with their canonical department, review state (voided fills stay, marked) and a price-per-litre flag.';


--
-- Name: fuel_fills(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fuel_fills(filters jsonb) RETURNS SETOF fuel.v_fills
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: FUNCTION fuel_fills(filters jsonb); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.fuel_fills(filters jsonb) IS 'The fills a fuel endpoint covers (voided ones included, marked): its period (default 90 days) and filters.';


--
-- Name: fuel_row(fuel.v_fills); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.fuel_row(f fuel.v_fills) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('record_id', f.record_id, 'filled_local', f.filled_local, 'day', f.day,
        'vehicle_number', f.vehicle_number, 'matched', f.vehicle_id IS NOT NULL, 'imei', f.imei,
        'department', f.department, 'cost_centre', f.cost_centre, 'driver', f.driver, 'fuel_type', f.fuel_type,
        'litres', f.litres, 'amount_kes', f.amount_kes, 'amount', f.amount, 'currency', coalesce(f.currency, 'KES'),
        'kes_per_litre', f.kes_per_litre, 'odometer_km', f.odometer_km, 'full_tank', f.full_tank,
        'station', f.station,
        -- where it happened (the nearest fix, else the reported place) and its address, once the geocoder has them
        'address', serve.fill_address(f.record_id),
        'warnings', to_jsonb(f.warnings), 'review', f.review, 'voided', f.voided)
$$;


--
-- Name: live_compact_columns(); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.live_compact_columns() RETURNS json
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT '["id", "vehicle_number", "lng", "lat", "state", "speed_kmh", "heading", "acc_on", "fix_time", "age_s", "colour", "cost_centre", "driver_name", "address", "imei", "devices", "seq"]'::json
$$;


--
-- Name: FUNCTION live_compact_columns(); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.live_compact_columns() IS 'The columns of a compact live row (serve.live_features.compact); fix_time in Unix seconds.';


--
-- Name: live_features(jsonb, text[]); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.live_features(filters jsonb, unit_keys text[]) RETURNS TABLE(unit_key text, sort_key text, state text, below_fresh boolean, lat double precision, lng double precision, feature json, compact json)
    LANGUAGE sql STABLE
    AS $$
    SELECT p.unit_key, p.vehicle_number, p.state, coalesce(p.below_fresh, false), p.lat, p.lng,
           json_build_object(
               'type', 'Feature',
               'id', p.unit_key,
               'geometry', CASE WHEN p.lat IS NOT NULL THEN json_build_object(
                               'type', 'Point', 'coordinates', json_build_array(p.lng, p.lat)) END,
               'properties', json_build_object(
                   'vehicle_number', p.vehicle_number,
                   'plate_tail', serve.plate_tail(coalesce(p.plate_key, serve.normalize_plate(p.vehicle_number))),
                   'imei', p.imei,
                   'devices', p.devices,
                   'state', p.state,
                   'style_class', 'vehicle-' || p.state,
                   'lifecycle', p.lifecycle,
                   'cost_centre', p.cost_centre,
                   'colour', p.colour,
                   'city', p.city,
                   'account', p.account,
                   'driver_name', p.driver_name,
                   'driver_phone', p.driver_phone,
                   'speed_kmh', p.speed_kmh,
                   'heading', p.heading,
                   'acc_on', p.acc_on,
                   'odometer_km', round(p.odometer_m / 1000.0, 1),
                   'fix_time', p.fix_time,
                   'fix_time_local', serve.local_time(p.fix_time),
                   'age_s', floor(p.age_s)::integer,
                   'below_freshness', coalesce(p.below_fresh, false),
                   'address', g.address,
                   'assigned', p.vehicle_id IS NOT NULL,
                   'seq', p.seq)),
           -- the compact row (GET /api/views/live?format=compact), in serve.live_compact_columns() order
           json_build_array(p.unit_key, p.vehicle_number, p.lng, p.lat, p.state, p.speed_kmh, p.heading,
                            p.acc_on, floor(extract(epoch FROM p.fix_time))::bigint, floor(p.age_s)::integer,
                            p.colour, p.cost_centre, p.driver_name, g.address, p.imei, p.devices, p.seq)
      FROM serve.fleet_units(filters, unit_keys) p
      -- the geocoder's cached address (serve.address_at's lookup, joined: a function per row is
      -- not inlined)
      LEFT JOIN state.geocoded_positions g ON g.lat_e5 = geo.geocode_key(p.lat) AND g.lng_e5 = geo.geocode_key(p.lng)
$$;


--
-- Name: FUNCTION live_features(filters jsonb, unit_keys text[]); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.live_features(filters jsonb, unit_keys text[]) IS 'The live map''s GeoJSON features (state, style_class, colour, plate tail, EAT times, address, seq) and compact rows of the units serve.fleet_units picks; shared by the snapshot and the stream.';


--
-- Name: live_format(text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.live_format(format text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF format IS NULL OR format = 'geojson' THEN
        RETURN false;
    ELSIF format = 'compact' THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'format is "geojson" (the default) or "compact" (rows of columns), not "%"', format
          USING ERRCODE = '22023';
END $$;


--
-- Name: FUNCTION live_format(format text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.live_format(format text) IS 'Whether a live view or stream format asks for compact rows (geojson: false); a bad format is a 22023 error naming both.';


--
-- Name: local_tz(); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.local_tz() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT 'Africa/Nairobi'::text
$$;


--
-- Name: FUNCTION local_tz(); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.local_tz() IS 'The time zone every page shows and every "day" is cut in (EAT).';


--
-- Name: matches(serve.filter_set, text, text, text, text, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.matches(fs serve.filter_set, cost_centre text, city text, plate_key text, imei text, account text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT (fs.cost_centres IS NULL OR upper(cost_centre) = ANY (fs.cost_centres))
       AND (fs.cities IS NULL OR lower(city) = ANY (fs.cities))
       AND (fs.accounts IS NULL OR account = ANY (fs.accounts))
       AND (fs.vehicles IS NULL OR plate_key = ANY (fs.vehicles) OR upper(imei) = ANY (fs.vehicles))
$$;


--
-- Name: FUNCTION matches(fs serve.filter_set, cost_centre text, city text, plate_key text, imei text, account text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.matches(fs serve.filter_set, cost_centre text, city text, plate_key text, imei text, account text) IS 'Whether a vehicle passes the filters: cost centres, cities (any case), accounts, vehicles (plates in any spelling, or IMEIs).';


--
-- Name: normalize_plate(text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.normalize_plate(plate text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT nullif(regexp_replace(upper(plate), '[^A-Z0-9]', '', 'g'), '')
$$;


--
-- Name: FUNCTION normalize_plate(plate text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.normalize_plate(plate text) IS 'Canonical plate key: "kca 542-q" -> "KCA542Q". NULL when nothing is left.';


--
-- Name: plate_tail(text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.plate_tail(plate_key text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT right(plate_key, 4)
$$;


--
-- Name: FUNCTION plate_tail(plate_key text); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.plate_tail(plate_key text) IS 'The short label on a map dot: "KCA542Q" -> "542Q".';


--
-- Name: range_trips(jsonb); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.range_trips(filters jsonb) RETURNS TABLE(unit_key text, vehicle_number text, cost_centre text, imei text, driver text, day date, start_time timestamp with time zone, end_time timestamp with time zone, distance_m double precision, duration_s integer, max_speed_kmh real)
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (SELECT serve.filter_range(serve.check_filters(filters)) AS during)
    SELECT u.unit_key, u.vehicle_number, u.cost_centre, u.imei,
           coalesce(dr.name, u.driver_name, 'Unassigned'), serve.local_day(t.start_time),
           t.start_time, t.end_time, t.distance_m, t.duration_s, t.max_speed_kmh
      FROM r
     CROSS JOIN serve.range_units(filters, r.during) u
      JOIN state.trips t ON t.imei = u.imei AND t.start_time >= lower(r.during) AND t.start_time < upper(r.during)
      LEFT JOIN domain.driver_assignments da ON da.vehicle_id = u.vehicle_id AND da.during @> t.start_time
      LEFT JOIN domain.drivers dr ON dr.driver_id = da.driver_id
$$;


--
-- Name: range_units(jsonb, tstzrange); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.range_units(filters jsonb, span tstzrange) RETURNS TABLE(unit_key text, vehicle_id bigint, vehicle_number text, plate_key text, cost_centre text, city text, imei text, driver_name text)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: FUNCTION range_units(filters jsonb, span tstzrange); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.range_units(filters jsonb, span tstzrange) IS 'The dedup rule over a time range: per vehicle, the device with the most fixes in the range.';


--
-- Name: slo_status(); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.slo_status() RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'metric', metric, 'status', status, 'value', value, 'threshold', threshold,
               'comparator', comparator, 'unit', unit, 'description', description,
               'since_local', serve.local_time(since)) ORDER BY metric), '[]'::jsonb)
      FROM slo.v_current_status
$$;


--
-- Name: thresholds(); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.thresholds(OUT moving_kmh double precision, OUT stale_s double precision, OUT offline_s double precision, OUT fresh_s double precision) RETURNS record
    LANGUAGE sql STABLE
    AS $$
    SELECT max(threshold) FILTER (WHERE metric = 'moving_speed_kmh'),
           max(threshold) FILTER (WHERE metric = 'stale_gps_sec'),
           max(threshold) FILTER (WHERE metric = 'offline_sec'),
           max(threshold) FILTER (WHERE metric = 'fresh_fix_sec')
      FROM slo.targets WHERE kind = 'threshold'
$$;


--
-- Name: FUNCTION thresholds(OUT moving_kmh double precision, OUT stale_s double precision, OUT offline_s double precision, OUT fresh_s double precision); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.thresholds(OUT moving_kmh double precision, OUT stale_s double precision, OUT offline_s double precision, OUT fresh_s double precision) IS 'The operational thresholds, read once per query from slo.targets.';


--
-- Name: unit_key(bigint, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.unit_key(vehicle_id bigint, imei text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce('v' || vehicle_id::text, 'd' || imei)
$$;


--
-- Name: unit_label(text, text, text); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.unit_label(vehicle_number text, device_name text, imei text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(vehicle_number, nullif(btrim(device_name), ''), imei)
$$;


--
-- Name: vehicle_state(double precision, real, double precision, double precision, double precision); Type: FUNCTION; Schema: serve; Owner: -
--

CREATE FUNCTION serve.vehicle_state(age_s double precision, speed_kmh real, moving_kmh double precision, stale_s double precision, offline_s double precision) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN age_s IS NULL OR age_s > offline_s THEN 'offline'
        WHEN age_s > stale_s THEN 'unknown'
        WHEN coalesce(speed_kmh, 0) >= moving_kmh THEN 'moving'
        ELSE 'parked'
    END
$$;


--
-- Name: FUNCTION vehicle_state(age_s double precision, speed_kmh real, moving_kmh double precision, stale_s double precision, offline_s double precision); Type: COMMENT; Schema: serve; Owner: -
--

COMMENT ON FUNCTION serve.vehicle_state(age_s double precision, speed_kmh real, moving_kmh double precision, stale_s double precision, offline_s double precision) IS 'Operational state from the latest fix (never stored, ARCHITECTURE §1 rule 6); thresholds come from serve.thresholds().';


--
-- Name: meets(double precision, text, double precision); Type: FUNCTION; Schema: slo; Owner: -
--

CREATE FUNCTION slo.meets(value double precision, comparator text, threshold double precision) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN value IS NULL THEN NULL
                WHEN comparator = '>=' THEN value >= threshold
                ELSE value <= threshold END
$$;


--
-- Name: fix_rank(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.fix_rank(fix_time timestamp with time zone, received_at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT least(fix_time, received_at + coalesce(
        (SELECT threshold FROM slo.targets WHERE metric = 'fix_clock_ahead_sec'), 300) * interval '1 second')
$$;


--
-- Name: FUNCTION fix_rank(fix_time timestamp with time zone, received_at timestamp with time zone); Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON FUNCTION state.fix_rank(fix_time timestamp with time zone, received_at timestamp with time zone) IS 'The time a fix counts as for "newest fix" ordering: its own, but never later than its arrival plus slo.targets fix_clock_ahead_sec.';


--
-- Name: live_units_for_all(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_all() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.refresh_live_units(NULL, NULL);
    RETURN NULL;
END $$;


--
-- Name: live_units_for_cost_centres(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_cost_centres() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT v.vehicle_id FROM new_rows n JOIN old_rows o USING (code)
          JOIN domain.vehicles v ON v.cost_centre = n.code
         WHERE (n.name, n.colour) IS DISTINCT FROM (o.name, o.colour)));
    RETURN NULL;
END $$;


--
-- Name: live_units_for_driver_assignments(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_driver_assignments() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(SELECT DISTINCT c.vehicle_id FROM changed c));
    RETURN NULL;
END $$;


--
-- Name: live_units_for_drivers(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_drivers() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT DISTINCT a.vehicle_id FROM new_rows n JOIN old_rows o USING (driver_id)
          JOIN domain.driver_assignments a ON a.driver_id = n.driver_id AND upper_inf(a.during)
         WHERE (n.name, n.phone) IS DISTINCT FROM (o.name, o.phone)));
    RETURN NULL;
END $$;


--
-- Name: live_units_for_fittings(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_fittings() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.refresh_live_units(ARRAY(SELECT DISTINCT c.imei FROM changed c),
                                     ARRAY(SELECT DISTINCT c.vehicle_id FROM changed c));
    RETURN NULL;
END $$;


--
-- Name: live_units_for_fixes(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_fixes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    lo bigint;
    hi bigint;
    n integer;
    rest text[];
BEGIN
    WITH single AS MATERIALIZED (
        SELECT u.unit_key, c.imei, u.lifecycle, c.fix_time, c.received_at, c.lat, c.lng, c.speed_kmh,
               c.heading, c.acc_on, c.odometer_m
          FROM changed c
          JOIN state.live_units u ON u.imei = c.imei AND NOT u.removed AND u.imeis = ARRAY[c.imei]
    ), multi AS MATERIALIZED (
        SELECT DISTINCT u.unit_key, u.imeis
          FROM changed c
          JOIN domain.device_assignments a ON a.imei = c.imei AND upper_inf(a.during)
          JOIN state.live_units u ON u.vehicle_id = a.vehicle_id AND NOT u.removed
                                 AND cardinality(u.imeis) > 1 AND c.imei = ANY (u.imeis)
    ), target AS (
        SELECT * FROM single
        UNION ALL
        SELECT m.unit_key, w.*
          FROM multi m
         CROSS JOIN LATERAL (
            SELECT i.imei, coalesce(d.lifecycle, 'active') AS lifecycle, l.fix_time, l.received_at, l.lat,
                   l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m
              FROM unnest(m.imeis) i(imei)
              LEFT JOIN domain.devices d ON d.imei = i.imei
              LEFT JOIN state.live_positions l ON l.imei = i.imei
             ORDER BY (coalesce(d.lifecycle, 'active') = 'suspended'), l.fix_time DESC NULLS LAST, i.imei COLLATE "C"
             LIMIT 1) w
    ), written AS (
        UPDATE state.live_units u
           SET imei = t.imei, lifecycle = t.lifecycle, fix_time = t.fix_time, received_at = t.received_at,
               lat = t.lat, lng = t.lng, speed_kmh = t.speed_kmh, heading = t.heading, acc_on = t.acc_on,
               odometer_m = t.odometer_m, seq = nextval('state.live_units_seq')
          FROM target t
         WHERE u.unit_key = t.unit_key
           AND (u.imei, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng, u.speed_kmh, u.heading,
                u.acc_on, u.odometer_m)
               IS DISTINCT FROM
               (t.imei, t.lifecycle, t.fix_time, t.received_at, t.lat, t.lng, t.speed_kmh, t.heading,
                t.acc_on, t.odometer_m)
        RETURNING u.seq
    ), summary AS (
        SELECT min(w.seq) AS lo, max(w.seq) AS hi, count(*)::integer AS n FROM written w
    )
    SELECT s.lo, s.hi, s.n,
           -- (a join on the trackers covered, not "= ANY (imeis)" per row: that is a nested loop)
           ARRAY(SELECT DISTINCT c.imei FROM changed c
                  WHERE NOT EXISTS (SELECT 1 FROM (SELECT x.imei FROM single x
                                                   UNION ALL
                                                   SELECT unnest(m.imeis) FROM multi m) k
                                     WHERE k.imei = c.imei))
      INTO lo, hi, n, rest
      FROM summary s;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    IF cardinality(rest) > 0 THEN
        PERFORM state.refresh_live_units(rest, NULL);
    END IF;
    RETURN NULL;
END $$;


--
-- Name: live_units_for_thresholds(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_thresholds() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o USING (metric)
                WHERE n.kind = 'threshold' AND n.threshold IS DISTINCT FROM o.threshold) THEN
        PERFORM state.touch_live_units(NULL);
    END IF;
    RETURN NULL;
END $$;


--
-- Name: live_units_for_trackers(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_trackers() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.refresh_live_units(ARRAY(SELECT DISTINCT c.imei FROM changed c), NULL);
    RETURN NULL;
END $$;


--
-- Name: live_units_for_vehicles(); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.live_units_for_vehicles() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM state.touch_live_units(ARRAY(
        SELECT n.vehicle_id FROM new_rows n JOIN old_rows o USING (vehicle_id)
         WHERE (n.vehicle_number, n.plate_key, n.cost_centre, n.assigned_city)
               IS DISTINCT FROM (o.vehicle_number, o.plate_key, o.cost_centre, o.assigned_city)));
    RETURN NULL;
END $$;


--
-- Name: merge_value(boolean, anyelement, anyelement); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.merge_value(incoming_is_newer boolean, incoming anyelement, existing anyelement) RETURNS anyelement
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN incoming_is_newer THEN coalesce(incoming, existing) ELSE coalesce(existing, incoming) END
$$;


--
-- Name: FUNCTION merge_value(incoming_is_newer boolean, incoming anyelement, existing anyelement); Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON FUNCTION state.merge_value(incoming_is_newer boolean, incoming anyelement, existing anyelement) IS 'The newer report''s value wins, but a null never erases a known value: merging reports in any order gives the same row.';


--
-- Name: refresh_live_units(text[], bigint[]); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.refresh_live_units(imeis text[], vehicle_ids bigint[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    scope text[];
    vehicles bigint[];
    lo bigint;
    hi bigint;
    n integer;
BEGIN
    IF imeis IS NOT NULL OR vehicle_ids IS NOT NULL THEN
        -- the vehicles touched, then every current tracker of theirs (a unit is re-derived whole)
        SELECT array_agg(DISTINCT v) INTO vehicles FROM (
            SELECT unnest(vehicle_ids) AS v
            UNION ALL
            SELECT a.vehicle_id FROM domain.device_assignments a
             WHERE a.imei = ANY (imeis) AND upper_inf(a.during)) s
         WHERE v IS NOT NULL;
        SELECT array_agg(DISTINCT i) INTO scope FROM (
            SELECT unnest(imeis) AS i
            UNION ALL
            SELECT a.imei FROM domain.device_assignments a
             WHERE a.vehicle_id = ANY (vehicles) AND upper_inf(a.during)) s
         WHERE i IS NOT NULL;
        IF scope IS NULL AND vehicles IS NULL THEN
            RETURN 0;
        END IF;
        scope := coalesce(scope, '{}');
    END IF;
    WITH fresh AS MATERIALIZED (SELECT * FROM state.resolve_units(scope)),
    candidates AS (
        -- the rows that may have to go: every one, or those showing a tracker in scope (a solo
        -- tracker's unit shows that tracker) or of a vehicle in scope; one arm each, so that each
        -- uses its index (an OR of them scans the table)
        SELECT u.unit_key FROM state.live_units u WHERE scope IS NULL AND NOT u.removed
        UNION
        SELECT u.unit_key FROM state.live_units u WHERE u.imei = ANY (scope) AND NOT u.removed
        UNION
        SELECT u.unit_key FROM state.live_units u WHERE u.vehicle_id = ANY (vehicles) AND NOT u.removed
    ),
    written AS (
        INSERT INTO state.live_units AS u
            (unit_key, vehicle_id, imei, imeis, lifecycle, fix_time, received_at, lat, lng,
             speed_kmh, heading, acc_on, odometer_m, removed, seq)
        SELECT f.unit_key, f.vehicle_id, f.imei, f.imeis, f.lifecycle, f.fix_time, f.received_at, f.lat, f.lng,
               f.speed_kmh, f.heading, f.acc_on, f.odometer_m, false, nextval('state.live_units_seq')
          FROM fresh f
         ORDER BY f.unit_key COLLATE "C"
        ON CONFLICT (unit_key) DO UPDATE SET
            vehicle_id = excluded.vehicle_id, imei = excluded.imei, imeis = excluded.imeis,
            lifecycle = excluded.lifecycle, fix_time = excluded.fix_time, received_at = excluded.received_at,
            lat = excluded.lat, lng = excluded.lng, speed_kmh = excluded.speed_kmh, heading = excluded.heading,
            acc_on = excluded.acc_on, odometer_m = excluded.odometer_m, removed = false, seq = excluded.seq
        WHERE (u.vehicle_id, u.imei, u.imeis, u.lifecycle, u.fix_time, u.received_at, u.lat, u.lng,
               u.speed_kmh, u.heading, u.acc_on, u.odometer_m, u.removed)
              IS DISTINCT FROM
              (excluded.vehicle_id, excluded.imei, excluded.imeis, excluded.lifecycle, excluded.fix_time,
               excluded.received_at, excluded.lat, excluded.lng, excluded.speed_kmh, excluded.heading,
               excluded.acc_on, excluded.odometer_m, false)
        RETURNING u.seq
    ),
    gone AS (
        UPDATE state.live_units u SET removed = true, seq = nextval('state.live_units_seq')
         WHERE u.unit_key IN (SELECT c.unit_key FROM candidates c)
           AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.unit_key = u.unit_key)
        RETURNING u.seq
    )
    SELECT min(s), max(s), count(*) INTO lo, hi, n
      FROM (SELECT seq AS s FROM written UNION ALL SELECT seq FROM gone) w;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    RETURN n;
END $$;


--
-- Name: FUNCTION refresh_live_units(imeis text[], vehicle_ids bigint[]); Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON FUNCTION state.refresh_live_units(imeis text[], vehicle_ids bigint[]) IS 'Writer of state.live_units: re-derives the units of these trackers and vehicles (NULL, NULL: all), bumps seq on the rows that changed, tombstones units that no longer exist, NOTIFYs fleet_live "lo,hi". Returns the rows written.';


--
-- Name: resolve_units(text[]); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.resolve_units(scope text[]) RETURNS TABLE(unit_key text, vehicle_id bigint, imei text, imeis text[], lifecycle text, fix_time timestamp with time zone, received_at timestamp with time zone, lat double precision, lng double precision, speed_kmh real, heading smallint, acc_on boolean, odometer_m bigint)
    LANGUAGE sql STABLE
    AS $$
    -- the trackers wanted, as a relation (an "x IS NULL OR imei = ANY (x)" filter would scan)
    WITH wanted AS (
        SELECT d.imei FROM domain.devices d WHERE scope IS NULL
        UNION SELECT l.imei FROM state.live_positions l WHERE scope IS NULL
        UNION SELECT unnest(scope)
    ), dev AS (
        SELECT w.imei, coalesce(d.lifecycle, 'active') AS lifecycle, a.vehicle_id
          FROM wanted w
          LEFT JOIN domain.devices d ON d.imei = w.imei
          LEFT JOIN domain.device_assignments a ON a.imei = w.imei AND upper_inf(a.during)
               -- a device that reports before any registry knows it still shows
         WHERE CASE WHEN d.imei IS NULL THEN EXISTS (SELECT 1 FROM state.live_positions l WHERE l.imei = w.imei)
                    ELSE d.lifecycle <> 'decommissioned' END
    ), unit AS (
        SELECT dev.vehicle_id, dev.imei, dev.lifecycle,
               CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END AS solo,
               array_agg(dev.imei) OVER (PARTITION BY dev.vehicle_id, CASE WHEN dev.vehicle_id IS NULL THEN dev.imei END
                                         ORDER BY dev.imei COLLATE "C"
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS imeis,
               l.fix_time, l.received_at, l.lat, l.lng, l.speed_kmh, l.heading, l.acc_on, l.odometer_m
          FROM dev
          LEFT JOIN state.live_positions l ON l.imei = dev.imei
    )
    SELECT DISTINCT ON (u.vehicle_id, u.solo COLLATE "C")
           serve.unit_key(u.vehicle_id, u.imei), u.vehicle_id, u.imei, u.imeis, u.lifecycle,
           u.fix_time, u.received_at, u.lat, u.lng, u.speed_kmh, u.heading, u.acc_on, u.odometer_m
      FROM unit u
     ORDER BY u.vehicle_id, u.solo COLLATE "C", (u.lifecycle = 'suspended'), u.fix_time DESC NULLS LAST, u.imei COLLATE "C"
$$;


--
-- Name: FUNCTION resolve_units(scope text[]); Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON FUNCTION state.resolve_units(scope text[]) IS 'The dedup rule: one row per vehicle with its freshest non-suspended device (devices on no vehicle are their own unit; decommissioned devices never show), for the units of the trackers in scope (NULL: all).';


--
-- Name: touch_live_units(bigint[]); Type: FUNCTION; Schema: state; Owner: -
--

CREATE FUNCTION state.touch_live_units(vehicle_ids bigint[]) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    lo bigint;
    hi bigint;
    n integer;
BEGIN
    IF cardinality(vehicle_ids) = 0 THEN
        RETURN 0;
    END IF;
    WITH touched AS (
        UPDATE state.live_units u SET seq = nextval('state.live_units_seq')
         WHERE NOT u.removed
           -- every unit (NULL), or those of the vehicles (one arm each: the named ones use the index)
           AND u.unit_key IN (SELECT a.unit_key FROM state.live_units a WHERE vehicle_ids IS NULL
                              UNION ALL
                              SELECT a.unit_key FROM state.live_units a WHERE a.vehicle_id = ANY (vehicle_ids))
        RETURNING u.seq
    )
    SELECT min(t.seq), max(t.seq), count(*) INTO lo, hi, n FROM touched t;
    IF n > 0 THEN
        PERFORM pg_notify('fleet_live', lo || ',' || hi);
    END IF;
    RETURN n;
END $$;


--
-- Name: FUNCTION touch_live_units(vehicle_ids bigint[]); Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON FUNCTION state.touch_live_units(vehicle_ids bigint[]) IS 'Bumps the seq of these vehicles'' live units (NULL: every unit) and NOTIFYs fleet_live, when what their features show changed without a change of their rows.';


--
-- Name: accounts; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.accounts (
    account_id bigint NOT NULL,
    username text NOT NULL,
    kind text DEFAULT 'user'::text NOT NULL,
    password_hash text NOT NULL,
    scopes text[] DEFAULT '{}'::text[] NOT NULL,
    disabled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT accounts_kind_check CHECK ((kind = ANY (ARRAY['user'::text, 'service'::text]))),
    CONSTRAINT accounts_scopes_check CHECK ((scopes <@ ARRAY['read:fleet'::text, 'write:ops'::text, 'admin:fleet'::text])),
    CONSTRAINT accounts_username_check CHECK ((username ~ '^[A-Za-z0-9_.@-]{1,64}$'::text))
);


--
-- Name: TABLE accounts; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.accounts IS 'Users and service accounts: argon2 password hash and scopes.';


--
-- Name: accounts_account_id_seq; Type: SEQUENCE; Schema: auth; Owner: -
--

ALTER TABLE auth.accounts ALTER COLUMN account_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME auth.accounts_account_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: audit_log; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    remote_addr inet,
    outcome text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);


--
-- Name: TABLE audit_log; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.audit_log IS 'Every login and every write: who, what, when, from where.';


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: auth; Owner: -
--

ALTER TABLE auth.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME auth.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: refresh_tokens; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.refresh_tokens (
    token_hash text NOT NULL,
    account_id bigint NOT NULL,
    issued_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);


--
-- Name: TABLE refresh_tokens; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.refresh_tokens IS 'Refresh tokens (only their SHA-256 is stored).';


--
-- Name: accounts; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.accounts (
    account text NOT NULL,
    display_name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT accounts_account_check CHECK (((length(account) >= 1) AND (length(account) <= 100)))
);


--
-- Name: TABLE accounts; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.accounts IS 'Vendor sub-accounts (Tracksolid targets); every device belongs to exactly one.';


--
-- Name: assigned_cities; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.assigned_cities (
    city text NOT NULL,
    country_code text NOT NULL,
    time_zone text DEFAULT 'Africa/Nairobi'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT assigned_cities_country_code_check CHECK ((country_code ~ '^[A-Z]{2}$'::text))
);


--
-- Name: TABLE assigned_cities; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.assigned_cities IS 'Cities vehicles are based in (Nairobi, Mombasa, Kampala, ...).';


--
-- Name: cost_centres; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.cost_centres (
    code text NOT NULL,
    name text NOT NULL,
    colour text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT cost_centres_colour_check CHECK ((colour ~ '^#[0-9a-fA-F]{6}$'::text))
);


--
-- Name: TABLE cost_centres; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.cost_centres IS 'Cost centres (departments) vehicles are charged to; colour is the map palette entry.';


--
-- Name: device_lifecycle_events; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.device_lifecycle_events (
    id bigint NOT NULL,
    imei text NOT NULL,
    from_state text,
    to_state text NOT NULL,
    changed_at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    reason text,
    raw_id bigint
);


--
-- Name: TABLE device_lifecycle_events; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.device_lifecycle_events IS 'History of lifecycle transitions: who moved which device from what to what, and why.';


--
-- Name: device_lifecycle_events_id_seq; Type: SEQUENCE; Schema: domain; Owner: -
--

ALTER TABLE domain.device_lifecycle_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME domain.device_lifecycle_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: driver_assignments; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.driver_assignments (
    driver_id bigint NOT NULL,
    vehicle_id bigint NOT NULL,
    during tstzrange DEFAULT tstzrange(now(), NULL::timestamp with time zone) NOT NULL,
    assigned_by text
);


--
-- Name: TABLE driver_assignments; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.driver_assignments IS 'Who drives which vehicle, over time (one driver per vehicle at a time).';


--
-- Name: drivers; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.drivers (
    driver_id bigint NOT NULL,
    name text NOT NULL,
    phone text,
    employee_no text,
    cost_centre text,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE drivers; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.drivers IS 'Drivers (from the HR extract / CSV import).';


--
-- Name: drivers_driver_id_seq; Type: SEQUENCE; Schema: domain; Owner: -
--

ALTER TABLE domain.drivers ALTER COLUMN driver_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME domain.drivers_driver_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: lifecycle_transitions; Type: TABLE; Schema: domain; Owner: -
--

CREATE TABLE domain.lifecycle_transitions (
    from_state text NOT NULL,
    to_state text NOT NULL
);


--
-- Name: TABLE lifecycle_transitions; Type: COMMENT; Schema: domain; Owner: -
--

COMMENT ON TABLE domain.lifecycle_transitions IS 'The legal device lifecycle transitions (ARCHITECTURE §1 rule 6). decommissioned is final.';


--
-- Name: vehicles_vehicle_id_seq; Type: SEQUENCE; Schema: domain; Owner: -
--

ALTER TABLE domain.vehicles ALTER COLUMN vehicle_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME domain.vehicles_vehicle_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: parsed; Type: TABLE; Schema: events; Owner: -
--

CREATE TABLE events.parsed (
    id bigint NOT NULL,
    raw_id bigint NOT NULL,
    raw_received_at timestamp with time zone NOT NULL,
    item_index integer DEFAULT 0 NOT NULL,
    parser_version integer NOT NULL,
    kind text NOT NULL,
    imei text,
    event_time timestamp with time zone,
    body jsonb NOT NULL,
    parsed_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
)
PARTITION BY RANGE (raw_received_at);


--
-- Name: TABLE parsed; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON TABLE events.parsed IS 'Typed events derived from events.raw by a versioned parser; one raw row can yield many (data_list arrays). Partitioned like raw so the two age together.';


--
-- Name: COLUMN parsed.item_index; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.parsed.item_index IS 'Position of the item within the raw payload (0 for single-item payloads).';


--
-- Name: COLUMN parsed.kind; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.parsed.kind IS 'Typed event kind: position_fix, heartbeat, alarm, alarm_end, device_event, obd, fuel_reading, temperature, lbs, trip, parking, device_info, ...';


--
-- Name: COLUMN parsed.event_time; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.parsed.event_time IS 'When the event happened according to the device or vendor (UTC); received_at of the raw row is when we got it.';


--
-- Name: COLUMN parsed.body; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.parsed.body IS 'The normalised payload (units converted, quirks resolved) that projectors read.';


--
-- Name: parsed_default; Type: TABLE; Schema: events; Owner: -
--

CREATE TABLE events.parsed_default (
    id bigint NOT NULL,
    raw_id bigint NOT NULL,
    raw_received_at timestamp with time zone NOT NULL,
    item_index integer DEFAULT 0 NOT NULL,
    parser_version integer NOT NULL,
    kind text NOT NULL,
    imei text,
    event_time timestamp with time zone,
    body jsonb NOT NULL,
    parsed_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: parsed_id_seq; Type: SEQUENCE; Schema: events; Owner: -
--

ALTER TABLE events.parsed ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME events.parsed_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: raw; Type: TABLE; Schema: events; Owner: -
--

CREATE TABLE events.raw (
    id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    content_type text,
    body bytea NOT NULL,
    remote_addr inet,
    verified boolean NOT NULL,
    verification text NOT NULL,
    meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    parsed_at timestamp with time zone,
    parser_version integer,
    parse_error text,
    CONSTRAINT raw_kind_check CHECK (((length(kind) >= 1) AND (length(kind) <= 100))),
    CONSTRAINT raw_source_check CHECK ((source ~ '^[a-z][a-z0-9_]{0,39}$'::text))
)
PARTITION BY RANGE (received_at);


--
-- Name: TABLE raw; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON TABLE events.raw IS 'Every inbound signal, verbatim, appended before it is interpreted. Only parsed_at, parser_version and parse_error are ever updated (enforced by trigger).';


--
-- Name: COLUMN raw.source; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.source IS 'jimi_push (vendor pushes), jimi_poll (Open API polls), fuel_feed, csv_import, ops (operator actions), or a configured signed source.';


--
-- Name: COLUMN raw.kind; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.kind IS 'What the payload is: the push path (pushgps, pushalarm, ...), the polled method, the import kind.';


--
-- Name: COLUMN raw.body; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.body IS 'The request body exactly as received (bytes, so even invalid UTF-8 is kept).';


--
-- Name: COLUMN raw.verified; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.verified IS 'Whether the source was verified (token, HMAC, internal). Unverified rows are never parsed.';


--
-- Name: COLUMN raw.verification; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.verification IS 'How it was verified: token, hmac_sha256, internal, none.';


--
-- Name: COLUMN raw.meta; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.meta IS 'Request metadata that is not the payload: poll target account, method parameters, import file name.';


--
-- Name: COLUMN raw.parsed_at; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.parsed_at IS 'When a parser last processed the row (NULL = waiting). The worker claims rows by this column.';


--
-- Name: COLUMN raw.parser_version; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.parser_version IS 'The parser version that last processed the row; rows below the current version are re-parsed.';


--
-- Name: COLUMN raw.parse_error; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON COLUMN events.raw.parse_error IS 'Why the last parse failed (NULL when it succeeded); such rows form the dead-letter view.';


--
-- Name: raw_default; Type: TABLE; Schema: events; Owner: -
--

CREATE TABLE events.raw_default (
    id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    content_type text,
    body bytea NOT NULL,
    remote_addr inet,
    verified boolean NOT NULL,
    verification text NOT NULL,
    meta jsonb DEFAULT '{}'::jsonb NOT NULL,
    parsed_at timestamp with time zone,
    parser_version integer,
    parse_error text,
    CONSTRAINT raw_kind_check CHECK (((length(kind) >= 1) AND (length(kind) <= 100))),
    CONSTRAINT raw_source_check CHECK ((source ~ '^[a-z][a-z0-9_]{0,39}$'::text))
);


--
-- Name: raw_id_seq; Type: SEQUENCE; Schema: events; Owner: -
--

ALTER TABLE events.raw ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME events.raw_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: v_dead_letter; Type: VIEW; Schema: events; Owner: -
--

CREATE VIEW events.v_dead_letter AS
 SELECT raw.id,
    raw.received_at,
    raw.source,
    raw.kind,
    raw.content_type,
    raw.parser_version,
    raw.parse_error,
    length(raw.body) AS body_bytes,
    encode(SUBSTRING(raw.body FROM 1 FOR 500), 'escape'::text) AS body_head
   FROM events.raw
  WHERE (raw.parse_error IS NOT NULL);


--
-- Name: VIEW v_dead_letter; Type: COMMENT; Schema: events; Owner: -
--

COMMENT ON VIEW events.v_dead_letter IS 'Raw rows the parser could not read, with the error; they are retried when the parser version changes.';


--
-- Name: department_vocabulary; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.department_vocabulary (
    name text NOT NULL
);


--
-- Name: TABLE department_vocabulary; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.department_vocabulary IS 'Common department names that fuel.canon_department matches typos against when the fleet''s own (fuel.mappings, domain.cost_centres) are not close; operators may add or remove rows.';


--
-- Name: import_runs; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.import_runs (
    id bigint NOT NULL,
    mode text NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    applied boolean NOT NULL,
    inserted integer DEFAULT 0 NOT NULL,
    updated integer DEFAULT 0 NOT NULL,
    deleted integer DEFAULT 0 NOT NULL,
    rejected integer DEFAULT 0 NOT NULL,
    unchanged integer DEFAULT 0 NOT NULL,
    watermark text,
    detail text,
    incomplete integer DEFAULT 0 NOT NULL,
    CONSTRAINT import_runs_mode_check CHECK ((mode = ANY (ARRAY['snapshot'::text, 'changes'::text, 'file'::text])))
);


--
-- Name: TABLE import_runs; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.import_runs IS 'Every fuel import (dry-run or applied) and its counts; the newest applied changes run holds the watermark.';


--
-- Name: COLUMN import_runs.incomplete; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON COLUMN fuel.import_runs.incomplete IS 'Records that count with a value missing (an unreadable amount or odometer, an unknown fuel type).';


--
-- Name: import_runs_id_seq; Type: SEQUENCE; Schema: fuel; Owner: -
--

ALTER TABLE fuel.import_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME fuel.import_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: mappings; Type: TABLE; Schema: fuel; Owner: -
--

CREATE TABLE fuel.mappings (
    kind text NOT NULL,
    raw_value text NOT NULL,
    canonical text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    actor text,
    raw_id bigint,
    CONSTRAINT mappings_kind_check CHECK ((kind = ANY (ARRAY['plate'::text, 'fuel_type'::text, 'department'::text])))
);


--
-- Name: TABLE mappings; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON TABLE fuel.mappings IS 'Spellings operators named: raw value (normalised by fuel.lookup_key) -> canonical value. Written by the fuel_mapping projector from operator actions (POST /api/fuel/mappings).';


--
-- Name: v_data_quality; Type: VIEW; Schema: fuel; Owner: -
--

CREATE VIEW fuel.v_data_quality AS
 SELECT r.record_id,
    r.raw,
    r.normalise_errors AS reasons,
    r.warnings,
    r.car,
    r.filled_at,
    r.imported_at,
    r.raw_id
   FROM fuel.records r
  WHERE ((r.deleted_at IS NULL) AND (r.normalise_errors <> '{}'::text[]));


--
-- Name: VIEW v_data_quality; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON VIEW fuel.v_data_quality IS 'Fuel records kept but not usable, with why (the fix is in the feed or in fuel.mappings).';


--
-- Name: trips; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.trips (
    imei text NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    start_lat double precision,
    start_lng double precision,
    end_lat double precision,
    end_lng double precision,
    distance_m double precision,
    duration_s integer,
    avg_speed_kmh real,
    max_speed_kmh real,
    fuel_l real,
    start_odometer_m bigint,
    end_odometer_m bigint,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    reported_at timestamp with time zone,
    CONSTRAINT trips_check CHECK ((end_time >= start_time)),
    CONSTRAINT trips_distance_m_check CHECK ((distance_m >= (0)::double precision)),
    CONSTRAINT trips_duration_s_check CHECK ((duration_s >= 0))
);


--
-- Name: TABLE trips; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.trips IS 'Closed trips (vendor trip reports and polled mileage). Writer: the trips projector.';


--
-- Name: COLUMN trips.reported_at; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON COLUMN state.trips.reported_at IS 'When the first report of this trip reached events.raw (received_at); trip lag = reported_at - end_time.';


--
-- Name: v_efficiency; Type: VIEW; Schema: fuel; Owner: -
--

CREATE VIEW fuel.v_efficiency AS
 WITH t AS MATERIALIZED (
         SELECT thresholds.radius_m,
            thresholds.window_s,
            thresholds.max_km_day,
            thresholds.overfill_pct,
            thresholds.max_litres,
            thresholds.gps_tol_pct,
            thresholds.consumption_tol_pct,
            thresholds.ugx_per_kes,
            thresholds.min_kes_per_litre,
            thresholds.max_kes_per_litre,
            thresholds.cost_per_km_ratio
           FROM fuel.thresholds() thresholds(radius_m, window_s, max_km_day, overfill_pct, max_litres, gps_tol_pct, consumption_tol_pct, ugx_per_kes, min_kes_per_litre, max_kes_per_litre, cost_per_km_ratio)
        ), f AS (
         SELECT f.record_id,
            f.filled_at,
            f.filled_local,
            f.day,
            f.car,
            f.plate_key,
            f.vehicle_id,
            f.vehicle_number,
            f.imei,
            f.cost_centre,
            f.city,
            f.department,
            f.department_spelling,
            f.driver,
            f.fuel_type,
            f.litres,
            f.amount_kes,
            f.amount,
            f.currency,
            f.kes_per_litre,
            f.odometer_km,
            f.full_tank,
            f.missed_before,
            f.station,
            f.reported_lat,
            f.reported_lng,
            f.tank_litres,
            f.expected_l_per_100km,
            f.warnings,
            f.price_flag,
            f.review,
            f.review_reason,
            f.reviewed_by,
            f.reviewed_at,
            f.voided,
            COALESCE((f.vehicle_id)::text, f.plate_key) AS vkey,
            count(*) FILTER (WHERE f.full_tank) OVER (PARTITION BY COALESCE((f.vehicle_id)::text, f.plate_key) ORDER BY f.filled_at, f.record_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chain
           FROM fuel.v_fills f
          WHERE (NOT f.voided)
        ), chained AS (
         SELECT f.record_id,
            f.filled_at,
            f.filled_local,
            f.day,
            f.car,
            f.plate_key,
            f.vehicle_id,
            f.vehicle_number,
            f.imei,
            f.cost_centre,
            f.city,
            f.department,
            f.department_spelling,
            f.driver,
            f.fuel_type,
            f.litres,
            f.amount_kes,
            f.amount,
            f.currency,
            f.kes_per_litre,
            f.odometer_km,
            f.full_tank,
            f.missed_before,
            f.station,
            f.reported_lat,
            f.reported_lng,
            f.tank_litres,
            f.expected_l_per_100km,
            f.warnings,
            f.price_flag,
            f.review,
            f.review_reason,
            f.reviewed_by,
            f.reviewed_at,
            f.voided,
            f.vkey,
            f.chain,
            sum(f.litres) OVER w AS chain_litres,
            sum(f.amount_kes) OVER w AS chain_kes,
            bool_or(f.missed_before) OVER w AS chain_missed
           FROM f
          WINDOW w AS (PARTITION BY f.vkey, f.chain)
        ), full_fills AS (
         SELECT c_1.record_id,
            c_1.filled_at,
            c_1.filled_local,
            c_1.day,
            c_1.car,
            c_1.plate_key,
            c_1.vehicle_id,
            c_1.vehicle_number,
            c_1.imei,
            c_1.cost_centre,
            c_1.city,
            c_1.department,
            c_1.department_spelling,
            c_1.driver,
            c_1.fuel_type,
            c_1.litres,
            c_1.amount_kes,
            c_1.amount,
            c_1.currency,
            c_1.kes_per_litre,
            c_1.odometer_km,
            c_1.full_tank,
            c_1.missed_before,
            c_1.station,
            c_1.reported_lat,
            c_1.reported_lng,
            c_1.tank_litres,
            c_1.expected_l_per_100km,
            c_1.warnings,
            c_1.price_flag,
            c_1.review,
            c_1.review_reason,
            c_1.reviewed_by,
            c_1.reviewed_at,
            c_1.voided,
            c_1.vkey,
            c_1.chain,
            c_1.chain_litres,
            c_1.chain_kes,
            c_1.chain_missed,
            lag(c_1.odometer_km) OVER p AS prev_odometer_km,
            lag(c_1.filled_at) OVER p AS prev_filled_at,
            lag(c_1.record_id) OVER p AS prev_record_id
           FROM chained c_1
          WHERE c_1.full_tank
          WINDOW p AS (PARTITION BY c_1.vkey ORDER BY c_1.filled_at, c_1.record_id)
        ), measured AS (
         SELECT ff.record_id,
            ff.filled_at,
            ff.filled_local,
            ff.day,
            ff.car,
            ff.plate_key,
            ff.vehicle_id,
            ff.vehicle_number,
            ff.imei,
            ff.cost_centre,
            ff.city,
            ff.department,
            ff.department_spelling,
            ff.driver,
            ff.fuel_type,
            ff.litres,
            ff.amount_kes,
            ff.amount,
            ff.currency,
            ff.kes_per_litre,
            ff.odometer_km,
            ff.full_tank,
            ff.missed_before,
            ff.station,
            ff.reported_lat,
            ff.reported_lng,
            ff.tank_litres,
            ff.expected_l_per_100km,
            ff.warnings,
            ff.price_flag,
            ff.review,
            ff.review_reason,
            ff.reviewed_by,
            ff.reviewed_at,
            ff.voided,
            ff.vkey,
            ff.chain,
            ff.chain_litres,
            ff.chain_kes,
            ff.chain_missed,
            ff.prev_odometer_km,
            ff.prev_filled_at,
            ff.prev_record_id,
            (ff.odometer_km - ff.prev_odometer_km) AS odometer_km_delta,
            (EXTRACT(epoch FROM (ff.filled_at - ff.prev_filled_at)) / 86400.0) AS days,
            ( SELECT ((sum(tr.distance_m) / (1000.0)::double precision))::numeric AS "numeric"
                   FROM state.trips tr
                  WHERE ((tr.imei = ff.imei) AND (tr.start_time >= ff.prev_filled_at) AND (tr.start_time < ff.filled_at))) AS gps_km
           FROM full_fills ff
        ), flagged AS (
         SELECT m.record_id,
            m.filled_at,
            m.filled_local,
            m.day,
            m.car,
            m.plate_key,
            m.vehicle_id,
            m.vehicle_number,
            m.imei,
            m.cost_centre,
            m.city,
            m.department,
            m.department_spelling,
            m.driver,
            m.fuel_type,
            m.litres,
            m.amount_kes,
            m.amount,
            m.currency,
            m.kes_per_litre,
            m.odometer_km,
            m.full_tank,
            m.missed_before,
            m.station,
            m.reported_lat,
            m.reported_lng,
            m.tank_litres,
            m.expected_l_per_100km,
            m.warnings,
            m.price_flag,
            m.review,
            m.review_reason,
            m.reviewed_by,
            m.reviewed_at,
            m.voided,
            m.vkey,
            m.chain,
            m.chain_litres,
            m.chain_kes,
            m.chain_missed,
            m.prev_odometer_km,
            m.prev_filled_at,
            m.prev_record_id,
            m.odometer_km_delta,
            m.days,
            m.gps_km,
            array_remove(ARRAY[
                CASE
                    WHEN (m.odometer_km_delta < (0)::numeric) THEN 'odometer went backwards'::text
                    ELSE NULL::text
                END,
                CASE
                    WHEN ((m.odometer_km_delta)::double precision > (t.max_km_day * (GREATEST(m.days, (1.0 / (24)::numeric)))::double precision)) THEN format('odometer step of %s km in %s days'::text, m.odometer_km_delta, round(m.days, 1))
                    ELSE NULL::text
                END,
                CASE
                    WHEN (((m.litres)::double precision > COALESCE(((m.tank_litres)::double precision * ((1)::double precision + (t.overfill_pct / (100)::double precision))), t.max_litres)) AND (m.tank_litres IS NULL)) THEN format('%s L is impossible for one fill'::text, m.litres)
                    ELSE NULL::text
                END,
                CASE
                    WHEN ((m.tank_litres IS NOT NULL) AND ((m.litres)::double precision > ((m.tank_litres)::double precision * ((1)::double precision + (t.overfill_pct / (100)::double precision))))) THEN format('%s L overfills a %s L tank'::text, m.litres, m.tank_litres)
                    ELSE NULL::text
                END,
                CASE
                    WHEN m.chain_missed THEN 'a missed fill breaks the chain'::text
                    ELSE NULL::text
                END], NULL::text) AS outliers
           FROM measured m,
            t
        ), counted AS (
         SELECT fl.record_id,
            fl.filled_at,
            fl.filled_local,
            fl.day,
            fl.car,
            fl.plate_key,
            fl.vehicle_id,
            fl.vehicle_number,
            fl.imei,
            fl.cost_centre,
            fl.city,
            fl.department,
            fl.department_spelling,
            fl.driver,
            fl.fuel_type,
            fl.litres,
            fl.amount_kes,
            fl.amount,
            fl.currency,
            fl.kes_per_litre,
            fl.odometer_km,
            fl.full_tank,
            fl.missed_before,
            fl.station,
            fl.reported_lat,
            fl.reported_lng,
            fl.tank_litres,
            fl.expected_l_per_100km,
            fl.warnings,
            fl.price_flag,
            fl.review,
            fl.review_reason,
            fl.reviewed_by,
            fl.reviewed_at,
            fl.voided,
            fl.vkey,
            fl.chain,
            fl.chain_litres,
            fl.chain_kes,
            fl.chain_missed,
            fl.prev_odometer_km,
            fl.prev_filled_at,
            fl.prev_record_id,
            fl.odometer_km_delta,
            fl.days,
            fl.gps_km,
            fl.outliers,
            (((fl.outliers = '{}'::text[]) OR (fl.review = 'approved'::text)) AND (fl.odometer_km_delta > (0)::numeric) AND (fl.chain_litres > (0)::numeric)) AS counts
           FROM flagged fl
        )
 SELECT c.record_id,
    c.vehicle_id,
    c.vehicle_number,
    c.imei,
    c.department,
    c.filled_at,
    c.filled_local,
    c.prev_record_id,
    c.prev_filled_at,
    c.chain_litres AS litres,
    c.chain_kes AS amount_kes,
    c.odometer_km,
    c.odometer_km_delta,
    round(c.gps_km, 1) AS gps_km,
    c.outliers,
    c.review,
        CASE
            WHEN c.counts THEN round((c.odometer_km_delta / c.chain_litres), 2)
            ELSE NULL::numeric
        END AS km_per_l,
        CASE
            WHEN c.counts THEN round(((c.chain_litres * (100)::numeric) / c.odometer_km_delta), 2)
            ELSE NULL::numeric
        END AS l_per_100km,
        CASE
            WHEN c.counts THEN round((c.chain_kes / c.odometer_km_delta), 2)
            ELSE NULL::numeric
        END AS kes_per_km,
        CASE
            WHEN ((c.gps_km > (0)::numeric) AND (c.chain_litres > (0)::numeric) AND ((NOT c.chain_missed) OR (c.review = 'approved'::text))) THEN round((c.gps_km / c.chain_litres), 2)
            ELSE NULL::numeric
        END AS gps_km_per_l
   FROM counted c
  WHERE (c.prev_filled_at IS NOT NULL);


--
-- Name: VIEW v_efficiency; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON VIEW fuel.v_efficiency IS 'Per full fill after the first (voided fills left out): km/L, L/100 km, KES/km from the odometer and km/L from GPS trips; outliers (odometer backwards or implausible, impossible or overfilled litres, a missed fill) are kept, flagged and left out of the figures unless the fill was approved.';


--
-- Name: pois; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.pois (
    poi_id bigint NOT NULL,
    osm_id bigint,
    osm_type text,
    kind text NOT NULL,
    name text,
    brand text,
    tags jsonb DEFAULT '{}'::jsonb NOT NULL,
    geom public.geometry(Point,4326) NOT NULL
);


--
-- Name: TABLE pois; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.pois IS 'Points of interest from OSM (fuel stations, depots, ...).';


--
-- Name: position_history; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.position_history (
    imei text NOT NULL,
    fix_time timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    lat double precision NOT NULL,
    lng double precision NOT NULL,
    speed_kmh real,
    heading smallint,
    acc_on boolean,
    pos_type text,
    satellites smallint,
    altitude_m real,
    odometer_m bigint,
    gps_mode smallint,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    CONSTRAINT position_history_check CHECK ((NOT ((lat = (0)::double precision) AND (lng = (0)::double precision)))),
    CONSTRAINT position_history_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT position_history_lng_check CHECK (((lng >= ('-180'::integer)::double precision) AND (lng <= (180)::double precision)))
)
PARTITION BY RANGE (fix_time);


--
-- Name: TABLE position_history; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.position_history IS 'Every fix (pushed or polled), one row per device and fix time. Writer: the positions projector.';


--
-- Name: v_reconciliation; Type: VIEW; Schema: fuel; Owner: -
--

CREATE VIEW fuel.v_reconciliation AS
 WITH t AS MATERIALIZED (
         SELECT thresholds.radius_m,
            thresholds.window_s,
            thresholds.max_km_day,
            thresholds.overfill_pct,
            thresholds.max_litres,
            thresholds.gps_tol_pct,
            thresholds.consumption_tol_pct,
            thresholds.ugx_per_kes,
            thresholds.min_kes_per_litre,
            thresholds.max_kes_per_litre,
            thresholds.cost_per_km_ratio,
            st.moving_kmh,
            st.stale_s,
            st.offline_s,
            st.fresh_s
           FROM fuel.thresholds() thresholds(radius_m, window_s, max_km_day, overfill_pct, max_litres, gps_tol_pct, consumption_tol_pct, ugx_per_kes, min_kes_per_litre, max_kes_per_litre, cost_per_km_ratio),
            serve.thresholds() st(moving_kmh, stale_s, offline_s, fresh_s)
        )
 SELECT f.record_id,
    f.vehicle_number,
    f.imei,
    f.department,
    f.filled_at,
    f.filled_local,
    f.litres,
    f.amount_kes,
    fix.fix_time AS nearest_fix_time,
    fix.lat,
    fix.lng,
    round(EXTRACT(epoch FROM (fix.fix_time - f.filled_at))) AS fix_offset_s,
    fix.max_speed_kmh,
    fix.moved_m,
    poi.name AS station_name,
    round((poi.distance_m)::numeric) AS station_distance_m,
    round((reported.distance_m)::numeric) AS reported_distance_m,
    e.gps_km,
    e.odometer_km_delta,
    e.litres AS chain_litres,
    ((fix.fix_time IS NOT NULL) AND (fix.max_speed_kmh < t.moving_kmh) AND (fix.moved_m <= t.radius_m) AND (LEAST(poi.distance_m, reported.distance_m) <= t.radius_m)) AS verified,
    array_remove(ARRAY[
        CASE
            WHEN (f.imei IS NULL) THEN 'no tracker on this plate'::text
            ELSE NULL::text
        END,
        CASE
            WHEN ((f.imei IS NOT NULL) AND (fix.fix_time IS NULL)) THEN 'no GPS fix near the fill time'::text
            ELSE NULL::text
        END,
        CASE
            WHEN ((fix.max_speed_kmh >= t.moving_kmh) OR (fix.moved_m > t.radius_m)) THEN 'vehicle was moving at the fill time'::text
            ELSE NULL::text
        END,
        CASE
            WHEN ((fix.fix_time IS NOT NULL) AND (COALESCE(LEAST(poi.distance_m, reported.distance_m), ('1000000000'::numeric)::double precision) > t.radius_m)) THEN 'not at a fuel station'::text
            ELSE NULL::text
        END,
        CASE
            WHEN ((e.gps_km > (0)::numeric) AND (e.odometer_km_delta > (0)::numeric) AND ((abs((e.odometer_km_delta - e.gps_km)))::double precision > (((e.gps_km)::double precision * t.gps_tol_pct) / (100)::double precision))) THEN format('odometer says %s km since the last fill, GPS %s km'::text, e.odometer_km_delta, e.gps_km)
            ELSE NULL::text
        END,
        CASE
            WHEN ((e.gps_km > (0)::numeric) AND (f.expected_l_per_100km IS NOT NULL) AND ((e.litres)::double precision > ((((e.gps_km * f.expected_l_per_100km) / (100)::numeric))::double precision * ((1)::double precision + (t.consumption_tol_pct / (100)::double precision))))) THEN format('%s L for %s GPS km; about %s L expected'::text, e.litres, e.gps_km, round(((e.gps_km * f.expected_l_per_100km) / (100)::numeric), 1))
            ELSE NULL::text
        END, f.price_flag], NULL::text) AS reasons
   FROM (((((fuel.v_fills f
     CROSS JOIN t)
     LEFT JOIN fuel.v_efficiency e ON ((e.record_id = f.record_id)))
     LEFT JOIN LATERAL ( SELECT h.fix_time,
            h.lat,
            h.lng,
            w.max_speed_kmh,
            w.moved_m
           FROM state.position_history h,
            LATERAL ( SELECT max(h2.speed_kmh) AS max_speed_kmh,
                    max(public.st_distance((public.st_makepoint(h.lng, h.lat))::public.geography, (public.st_makepoint(h2.lng, h2.lat))::public.geography)) AS moved_m
                   FROM state.position_history h2
                  WHERE ((h2.imei = f.imei) AND ((h2.fix_time >= (h.fix_time - make_interval(secs => (t.window_s / (2)::double precision)))) AND (h2.fix_time <= (h.fix_time + make_interval(secs => (t.window_s / (2)::double precision))))))) w
          WHERE ((h.imei = f.imei) AND ((h.fix_time >= (f.filled_at - make_interval(secs => t.window_s))) AND (h.fix_time <= (f.filled_at + make_interval(secs => t.window_s)))))
          ORDER BY (abs(EXTRACT(epoch FROM (h.fix_time - f.filled_at))))
         LIMIT 1) fix ON (true))
     LEFT JOIN LATERAL ( SELECT p.name,
            public.st_distance((p.geom)::public.geography, (public.st_makepoint(fix.lng, fix.lat))::public.geography) AS distance_m
           FROM geo.pois p
          WHERE ((p.kind = 'fuel'::text) AND (fix.fix_time IS NOT NULL))
          ORDER BY (p.geom OPERATOR(public.<->) public.st_setsrid(public.st_makepoint(fix.lng, fix.lat), 4326))
         LIMIT 1) poi ON (true))
     LEFT JOIN LATERAL ( SELECT public.st_distance((public.st_makepoint(f.reported_lng, f.reported_lat))::public.geography, (public.st_makepoint(fix.lng, fix.lat))::public.geography) AS distance_m
          WHERE ((f.reported_lat IS NOT NULL) AND (fix.fix_time IS NOT NULL))) reported ON (true));


--
-- Name: VIEW v_reconciliation; Type: COMMENT; Schema: fuel; Owner: -
--

COMMENT ON VIEW fuel.v_reconciliation IS 'Each fill against telematics: the nearest fix within the window, whether the vehicle stood still, the nearest fuel station, GPS km vs odometer, litres vs expected, price per litre; verified when it stood within the radius of a station or the reported place; reasons otherwise.';


--
-- Name: addresses; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.addresses (
    osm_type text NOT NULL,
    osm_id bigint NOT NULL,
    housenumber text NOT NULL,
    street text,
    place text,
    geom public.geometry(Point,4326) NOT NULL
);


--
-- Name: TABLE addresses; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.addresses IS 'House numbers of the OSM extract (addr:housenumber on nodes and buildings, as points). Writer: the OSM load.';


--
-- Name: band_dirty; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.band_dirty (
    segment_id bigint NOT NULL,
    forward boolean NOT NULL
);


--
-- Name: TABLE band_dirty; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.band_dirty IS 'Segment directions whose speed bands are to be recomputed. Writer: the map matcher; consumed by the band refresh.';


--
-- Name: boundaries; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.boundaries (
    osm_id bigint NOT NULL,
    piece integer NOT NULL,
    admin_level smallint NOT NULL,
    name text NOT NULL,
    geom public.geometry(Polygon,4326) NOT NULL
);


--
-- Name: TABLE boundaries; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.boundaries IS 'Administrative boundaries of the OSM extract (boundary=administrative relations), in pieces of at most 256 points. Writer: the OSM load.';


--
-- Name: match_queue; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.match_queue (
    imei text NOT NULL,
    bucket timestamp with time zone NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE match_queue; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.match_queue IS 'Device buckets (geo.match_bucket) with fixes not yet map-matched. Writer: the positions projector; the matcher deletes what it matched.';


--
-- Name: matched_tracks; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.matched_tracks (
    imei text NOT NULL,
    bucket timestamp with time zone NOT NULL,
    started_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone NOT NULL,
    fixes integer NOT NULL,
    matched integer NOT NULL,
    breaks integer DEFAULT 0 NOT NULL,
    geom public.geometry(MultiLineString,4326),
    CONSTRAINT matched_tracks_fixes_check CHECK ((fixes >= 0)),
    CONSTRAINT matched_tracks_matched_check CHECK ((matched >= 0))
)
PARTITION BY RANGE (bucket);


--
-- Name: TABLE matched_tracks; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.matched_tracks IS 'The matched path of a device per 5-minute bucket (from the fix before the bucket to its last fix), for history ?track=matched. Writer: the map matcher.';


--
-- Name: matched_tracks_default; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.matched_tracks_default (
    imei text NOT NULL,
    bucket timestamp with time zone NOT NULL,
    started_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone NOT NULL,
    fixes integer NOT NULL,
    matched integer NOT NULL,
    breaks integer DEFAULT 0 NOT NULL,
    geom public.geometry(MultiLineString,4326),
    CONSTRAINT matched_tracks_fixes_check CHECK ((fixes >= 0)),
    CONSTRAINT matched_tracks_matched_check CHECK ((matched >= 0))
);


--
-- Name: places; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.places (
    osm_type text NOT NULL,
    osm_id bigint NOT NULL,
    place text NOT NULL,
    name text NOT NULL,
    geom public.geometry(Point,4326) NOT NULL,
    region_osm_id bigint
);


--
-- Name: TABLE places; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.places IS 'Named places of the OSM extract (place=* nodes and areas as points). Writer: the OSM load.';


--
-- Name: COLUMN places.region_osm_id; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON COLUMN geo.places.region_osm_id IS 'The region the place is in: osm_id of the shallowest geo.boundaries row with admin_level >= 4 containing it (NULL: none). Set by the OSM load.';


--
-- Name: pois_poi_id_seq; Type: SEQUENCE; Schema: geo; Owner: -
--

ALTER TABLE geo.pois ALTER COLUMN poi_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME geo.pois_poi_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: search_names; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.search_names (
    id bigint NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    detail text,
    ref text,
    geom public.geometry(Point,4326) NOT NULL,
    CONSTRAINT search_names_kind_check CHECK ((kind = ANY (ARRAY['poi'::text, 'place'::text, 'street'::text])))
);


--
-- Name: TABLE search_names; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.search_names IS 'Names of the loaded extract for GET /api/geo/search: POIs, places, and streets (one row per name and area). Writer: the OSM load.';


--
-- Name: search_names_id_seq; Type: SEQUENCE; Schema: geo; Owner: -
--

ALTER TABLE geo.search_names ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME geo.search_names_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: search_vocabulary; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.search_vocabulary (
    word text NOT NULL COLLATE pg_catalog."C",
    names integer NOT NULL
);


--
-- Name: TABLE search_vocabulary; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.search_vocabulary IS 'The distinct words of geo.search_words with how many names have each, for typos (trigram similarity). Writer: the OSM load.';


--
-- Name: search_words; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.search_words (
    word text NOT NULL COLLATE pg_catalog."C",
    id bigint NOT NULL
);


--
-- Name: TABLE search_words; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.search_words IS 'Each word (lower case) of each geo.search_names name, for search by the start of a word. Writer: the OSM load.';


--
-- Name: segment_observations; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.segment_observations (
    imei text NOT NULL,
    segment_id bigint NOT NULL,
    forward boolean NOT NULL,
    entered_at timestamp with time zone NOT NULL,
    left_at timestamp with time zone NOT NULL,
    length_m real NOT NULL,
    speed_kmh real NOT NULL,
    dow smallint NOT NULL,
    hod smallint NOT NULL,
    bucket timestamp with time zone NOT NULL,
    CONSTRAINT segment_observations_check CHECK ((left_at >= entered_at)),
    CONSTRAINT segment_observations_dow_check CHECK (((dow >= 0) AND (dow <= 6))),
    CONSTRAINT segment_observations_hod_check CHECK (((hod >= 0) AND (hod <= 23))),
    CONSTRAINT segment_observations_length_m_check CHECK ((length_m > (0)::double precision)),
    CONSTRAINT segment_observations_speed_kmh_check CHECK ((speed_kmh >= (0)::double precision))
)
PARTITION BY RANGE (entered_at);


--
-- Name: TABLE segment_observations; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.segment_observations IS 'Whole traversals of a road segment (geo.ways.gid, stable across loads) by a device, times interpolated along the matched path. Writer: the map matcher.';


--
-- Name: segment_observations_default; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.segment_observations_default (
    imei text NOT NULL,
    segment_id bigint NOT NULL,
    forward boolean NOT NULL,
    entered_at timestamp with time zone NOT NULL,
    left_at timestamp with time zone NOT NULL,
    length_m real NOT NULL,
    speed_kmh real NOT NULL,
    dow smallint NOT NULL,
    hod smallint NOT NULL,
    bucket timestamp with time zone NOT NULL,
    CONSTRAINT segment_observations_check CHECK ((left_at >= entered_at)),
    CONSTRAINT segment_observations_dow_check CHECK (((dow >= 0) AND (dow <= 6))),
    CONSTRAINT segment_observations_hod_check CHECK (((hod >= 0) AND (hod <= 23))),
    CONSTRAINT segment_observations_length_m_check CHECK ((length_m > (0)::double precision)),
    CONSTRAINT segment_observations_speed_kmh_check CHECK ((speed_kmh >= (0)::double precision))
);


--
-- Name: segment_speed_band; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.segment_speed_band (
    segment_id bigint NOT NULL,
    forward boolean NOT NULL,
    dow smallint NOT NULL,
    hod smallint NOT NULL,
    samples integer NOT NULL,
    mean_kmh real NOT NULL,
    median_kmh real NOT NULL,
    p85_kmh real NOT NULL,
    refreshed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT segment_speed_band_check CHECK (((dow = '-1'::integer) = (hod = '-1'::integer))),
    CONSTRAINT segment_speed_band_dow_check CHECK (((dow >= '-1'::integer) AND (dow <= 6))),
    CONSTRAINT segment_speed_band_hod_check CHECK (((hod >= '-1'::integer) AND (hod <= 23))),
    CONSTRAINT segment_speed_band_mean_kmh_check CHECK ((mean_kmh > (0)::double precision)),
    CONSTRAINT segment_speed_band_median_kmh_check CHECK ((median_kmh > (0)::double precision)),
    CONSTRAINT segment_speed_band_p85_kmh_check CHECK ((p85_kmh > (0)::double precision)),
    CONSTRAINT segment_speed_band_samples_check CHECK ((samples > 0))
);


--
-- Name: TABLE segment_speed_band; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.segment_speed_band IS 'Observed traversal speeds per segment, direction, EAT day of week and hour (dow = hod = -1: all hours) over the band window; plausible traversals only. Writer: the band refresh (fleet_geo::matching::project).';


--
-- Name: turn_restrictions; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.turn_restrictions (
    osm_id bigint NOT NULL,
    from_way bigint NOT NULL,
    via_node bigint NOT NULL,
    to_way bigint NOT NULL,
    only_turn boolean NOT NULL,
    kind text NOT NULL
);


--
-- Name: TABLE turn_restrictions; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.turn_restrictions IS 'Turn restrictions of the OSM extract with a via node (no_* bans the turn; only_* bans every other turn from that road). Writer: the OSM load. Reader: the router.';


--
-- Name: ways; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.ways (
    gid bigint NOT NULL,
    osm_id bigint,
    source bigint,
    target bigint,
    name text,
    highway text,
    length_m double precision NOT NULL,
    maxspeed_kmh real,
    one_way boolean DEFAULT false NOT NULL,
    cost double precision NOT NULL,
    reverse_cost double precision NOT NULL,
    x1 double precision,
    y1 double precision,
    x2 double precision,
    y2 double precision,
    the_geom public.geometry(LineString,4326) NOT NULL,
    CONSTRAINT ways_length_m_check CHECK ((length_m >= (0)::double precision))
);


--
-- Name: TABLE ways; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.ways IS 'Routable road segments from the OSM extract (pgRouting edge table; cost in seconds, negative reverse_cost = one-way).';


--
-- Name: ways_vertices_pgr; Type: TABLE; Schema: geo; Owner: -
--

CREATE TABLE geo.ways_vertices_pgr (
    id bigint NOT NULL,
    osm_node_id bigint,
    cnt integer,
    the_geom public.geometry(Point,4326) NOT NULL
);


--
-- Name: TABLE ways_vertices_pgr; Type: COMMENT; Schema: geo; Owner: -
--

COMMENT ON TABLE geo.ways_vertices_pgr IS 'Graph vertices of geo.ways (pgRouting topology).';


--
-- Name: alarm_acks; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.alarm_acks (
    imei text NOT NULL,
    alarm_type text NOT NULL,
    alarm_time timestamp with time zone NOT NULL,
    acked_at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    note text,
    raw_id bigint
);


--
-- Name: TABLE alarm_acks; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.alarm_acks IS 'Operator acknowledgements of alarms (keyed like state.alarms).';


--
-- Name: api_tokens; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.api_tokens (
    app_key text NOT NULL,
    access_token text NOT NULL,
    refresh_token text,
    expires_at timestamp with time zone NOT NULL,
    obtained_at timestamp with time zone DEFAULT now() NOT NULL,
    obtained_by text
);


--
-- Name: TABLE api_tokens; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.api_tokens IS 'Current Open API token per app key. Refreshed before expiry under an advisory lock, so all processes share one token and token-get runs at most once a minute.';


--
-- Name: contract_results; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.contract_results (
    run_id bigint NOT NULL,
    method text NOT NULL,
    outcome text NOT NULL,
    records integer,
    problems jsonb DEFAULT '[]'::jsonb NOT NULL,
    sample jsonb,
    duration_ms integer,
    CONSTRAINT contract_results_outcome_check CHECK ((outcome = ANY (ARRAY['ok'::text, 'drift'::text, 'error'::text])))
);


--
-- Name: TABLE contract_results; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.contract_results IS 'Per run and vendor method: what was wrong with the response (field, expected, found) and one sample record to compare against the contract.';


--
-- Name: contract_runs; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.contract_runs (
    run_id bigint NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    target text NOT NULL,
    outcome text DEFAULT 'running'::text NOT NULL,
    methods_checked integer DEFAULT 0 NOT NULL,
    problems integer DEFAULT 0 NOT NULL,
    CONSTRAINT contract_runs_outcome_check CHECK ((outcome = ANY (ARRAY['running'::text, 'clean'::text, 'drift'::text, 'error'::text])))
);


--
-- Name: TABLE contract_runs; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.contract_runs IS 'Each run of the vendor contract check: clean (every method matched its typed contract), drift (a response broke it) or error (the vendor could not be asked).';


--
-- Name: contract_runs_run_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.contract_runs ALTER COLUMN run_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.contract_runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: cost_rates; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.cost_rates (
    rate_key text NOT NULL,
    valid_from date NOT NULL,
    value numeric(12,4) NOT NULL,
    unit text NOT NULL
);


--
-- Name: TABLE cost_rates; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.cost_rates IS 'Costs used by analytics (e.g. fuel KES/L, driver hour), with the date they apply from.';


--
-- Name: dispatch_log; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.dispatch_log (
    id bigint NOT NULL,
    ticket_id bigint,
    vehicle_id bigint,
    dispatched_at timestamp with time zone DEFAULT now() NOT NULL,
    arrived_at timestamp with time zone,
    actor text NOT NULL
);


--
-- Name: TABLE dispatch_log; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.dispatch_log IS 'Which vehicle was sent to which ticket, when it arrived.';


--
-- Name: dispatch_log_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.dispatch_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.dispatch_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: ingestion_log; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.ingestion_log (
    id bigint NOT NULL,
    called_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    method text NOT NULL,
    target text,
    rows_returned integer,
    duration_ms integer,
    outcome text NOT NULL,
    error_code text,
    detail text
);


--
-- Name: TABLE ingestion_log; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.ingestion_log IS 'Every vendor API call: method, target account, rows, duration, outcome.';


--
-- Name: ingestion_log_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.ingestion_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.ingestion_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: job_runs; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.job_runs (
    id bigint NOT NULL,
    job text NOT NULL,
    slot timestamp with time zone NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    outcome text DEFAULT 'running'::text NOT NULL,
    rows_affected bigint,
    detail text,
    host text,
    CONSTRAINT job_runs_outcome_check CHECK ((outcome = ANY (ARRAY['running'::text, 'ok'::text, 'error'::text])))
);


--
-- Name: TABLE job_runs; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.job_runs IS 'Every scheduled job run of the cron role: start, end, outcome, rows.';


--
-- Name: COLUMN job_runs.slot; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON COLUMN ops.job_runs.slot IS 'The schedule slot the run belongs to; UNIQUE (job, slot) is how two cron processes never run the same job twice.';


--
-- Name: job_runs_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.job_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.job_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: odometer_readings; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.odometer_readings (
    vehicle_id bigint NOT NULL,
    read_at timestamp with time zone NOT NULL,
    odometer_km numeric(10,1) NOT NULL,
    source text NOT NULL,
    CONSTRAINT odometer_readings_odometer_km_check CHECK ((odometer_km >= (0)::numeric))
);


--
-- Name: TABLE odometer_readings; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.odometer_readings IS 'Odometer readings from services, fuel fills and manual entry.';


--
-- Name: partitioned_tables; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.partitioned_tables (
    parent regclass NOT NULL,
    granularity text NOT NULL,
    premake integer DEFAULT 7 NOT NULL,
    retention interval,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT partitioned_tables_granularity_check CHECK ((granularity = ANY (ARRAY['day'::text, 'month'::text]))),
    CONSTRAINT partitioned_tables_premake_check CHECK (((premake >= 1) AND (premake <= 366)))
);


--
-- Name: TABLE partitioned_tables; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.partitioned_tables IS 'Registry of range-partitioned tables: ops.maintain_partitions() keeps premake future partitions ready and drops those older than retention (NULL keeps forever).';


--
-- Name: route_requests; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.route_requests (
    requested_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    duration_ms double precision NOT NULL,
    outcome text NOT NULL,
    CONSTRAINT route_requests_duration_ms_check CHECK ((duration_ms >= (0)::double precision)),
    CONSTRAINT route_requests_outcome_check CHECK ((outcome = ANY (ARRAY['ok'::text, 'no_route'::text, 'error'::text])))
)
PARTITION BY RANGE (requested_at);


--
-- Name: TABLE route_requests; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.route_requests IS 'Every route request''s latency and outcome; route_p95_ms is measured from it.';


--
-- Name: route_requests_default; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.route_requests_default (
    requested_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    duration_ms double precision NOT NULL,
    outcome text NOT NULL,
    CONSTRAINT route_requests_duration_ms_check CHECK ((duration_ms >= (0)::double precision)),
    CONSTRAINT route_requests_outcome_check CHECK ((outcome = ANY (ARRAY['ok'::text, 'no_route'::text, 'error'::text])))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    duration_ms integer NOT NULL
);


--
-- Name: TABLE schema_migrations; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.schema_migrations IS 'Ledger of applied migrations (forward-only, embedded in the binary).';


--
-- Name: schema_objects; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.schema_objects (
    path text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE schema_objects; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.schema_objects IS 'Ledger of the declared SQL objects (sql/) as last applied: a file whose checksum differs is applied again.';


--
-- Name: service_log; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.service_log (
    id bigint NOT NULL,
    vehicle_id bigint NOT NULL,
    serviced_at timestamp with time zone NOT NULL,
    odometer_km numeric(10,1),
    description text NOT NULL,
    cost_kes numeric(12,2),
    actor text NOT NULL,
    raw_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE service_log; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.service_log IS 'Maintenance and repairs per vehicle.';


--
-- Name: service_log_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.service_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.service_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: tickets; Type: TABLE; Schema: ops; Owner: -
--

CREATE TABLE ops.tickets (
    ticket_id bigint NOT NULL,
    reference text,
    title text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    site_lat double precision,
    site_lng double precision,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    CONSTRAINT tickets_status_check CHECK ((status = ANY (ARRAY['open'::text, 'dispatched'::text, 'in_progress'::text, 'done'::text, 'cancelled'::text])))
);


--
-- Name: TABLE tickets; Type: COMMENT; Schema: ops; Owner: -
--

COMMENT ON TABLE ops.tickets IS 'Field-service jobs vehicles are dispatched to.';


--
-- Name: tickets_ticket_id_seq; Type: SEQUENCE; Schema: ops; Owner: -
--

ALTER TABLE ops.tickets ALTER COLUMN ticket_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops.tickets_ticket_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: measurements; Type: TABLE; Schema: slo; Owner: -
--

CREATE TABLE slo.measurements (
    metric text NOT NULL,
    measured_at timestamp with time zone NOT NULL,
    value double precision,
    samples integer DEFAULT 0 NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
)
PARTITION BY RANGE (measured_at);


--
-- Name: TABLE measurements; Type: COMMENT; Schema: slo; Owner: -
--

COMMENT ON TABLE slo.measurements IS 'One row per SLO per measurement run (every minute). value NULL = no data in the window.';


--
-- Name: measurements_default; Type: TABLE; Schema: slo; Owner: -
--

CREATE TABLE slo.measurements_default (
    metric text NOT NULL,
    measured_at timestamp with time zone NOT NULL,
    value double precision,
    samples integer DEFAULT 0 NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);


--
-- Name: targets; Type: TABLE; Schema: slo; Owner: -
--

CREATE TABLE slo.targets (
    metric text NOT NULL,
    kind text NOT NULL,
    threshold double precision NOT NULL,
    comparator text NOT NULL,
    unit text NOT NULL,
    window_interval interval,
    description text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT targets_comparator_check CHECK ((comparator = ANY (ARRAY['>='::text, '<='::text]))),
    CONSTRAINT targets_kind_check CHECK ((kind = ANY (ARRAY['slo'::text, 'threshold'::text])))
);


--
-- Name: TABLE targets; Type: COMMENT; Schema: slo; Owner: -
--

COMMENT ON TABLE slo.targets IS 'Every SLO and operational threshold, one row each (ARCHITECTURE §1 rule 7). SQL, the API and pages read them from here; changing one is one UPDATE.';


--
-- Name: COLUMN targets.comparator; Type: COMMENT; Schema: slo; Owner: -
--

COMMENT ON COLUMN slo.targets.comparator IS 'How a measured value meets the target: value >= threshold or value <= threshold.';


--
-- Name: v_current_status; Type: VIEW; Schema: slo; Owner: -
--

CREATE VIEW slo.v_current_status AS
 WITH latest AS (
         SELECT DISTINCT ON (m.metric) m.metric,
            m.measured_at,
            m.value,
            m.samples
           FROM slo.measurements m
          WHERE (m.measured_at > (now() - '1 day'::interval))
          ORDER BY m.metric, m.measured_at DESC
        )
 SELECT t.metric,
    t.threshold,
    t.comparator,
    t.unit,
    t.description,
    l.value,
    l.measured_at,
        CASE slo.meets(l.value, t.comparator, t.threshold)
            WHEN true THEN 'met'::text
            WHEN false THEN 'not_met'::text
            ELSE 'no_data'::text
        END AS status,
    ( SELECT min(m2.measured_at) AS min
           FROM slo.measurements m2
          WHERE ((m2.metric = t.metric) AND (m2.measured_at > (now() - '1 day'::interval)) AND (m2.measured_at > COALESCE(( SELECT max(m3.measured_at) AS max
                   FROM slo.measurements m3
                  WHERE ((m3.metric = t.metric) AND (m3.measured_at > (now() - '1 day'::interval)) AND (slo.meets(m3.value, t.comparator, t.threshold) IS DISTINCT FROM slo.meets(l.value, t.comparator, t.threshold)))), '-infinity'::timestamp with time zone)))) AS since
   FROM (slo.targets t
     LEFT JOIN latest l USING (metric))
  WHERE (t.kind = 'slo'::text);


--
-- Name: VIEW v_current_status; Type: COMMENT; Schema: slo; Owner: -
--

COMMENT ON VIEW slo.v_current_status IS 'Each SLO: latest value, met / not_met / no_data against its target, and since when it has been in that status.';


--
-- Name: alarms; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.alarms (
    imei text NOT NULL,
    alarm_type text NOT NULL,
    alarm_time timestamp with time zone NOT NULL,
    alarm_name text,
    lat double precision,
    lng double precision,
    speed_kmh real,
    alert_value text,
    ended_at timestamp with time zone,
    end_raw_id bigint,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE alarms; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.alarms IS 'Alarms (device numeric types and platform text types) with their end when the device clears them. Writer: the alarms projector.';


--
-- Name: device_events; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.device_events (
    imei text NOT NULL,
    event_time timestamp with time zone NOT NULL,
    event_type text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (event_time);


--
-- Name: TABLE device_events; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.device_events IS 'Device events such as LOGIN/LOGOUT and power events. Writer: the device events projector.';


--
-- Name: device_events_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.device_events_default (
    imei text NOT NULL,
    event_time timestamp with time zone NOT NULL,
    event_type text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.devices (
    imei text NOT NULL,
    account text,
    device_name text,
    model text,
    sim text,
    iccid text,
    vehicle_name text,
    vehicle_number text,
    driver_name text,
    driver_phone text,
    enabled boolean,
    activated_at timestamp with time zone,
    expires_at timestamp with time zone,
    current_mileage_km numeric(12,1),
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    source_time timestamp with time zone NOT NULL,
    raw_id bigint,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE devices; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.devices IS 'Device registry as the vendor reports it (device list/detail, login events). Writer: the device registry projector.';


--
-- Name: fill_positions; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.fill_positions (
    record_id text NOT NULL,
    filled_at timestamp with time zone NOT NULL,
    imei text,
    lat double precision NOT NULL,
    lng double precision NOT NULL,
    fix_time timestamp with time zone,
    source text NOT NULL,
    placed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT fill_positions_source_check CHECK ((source = ANY (ARRAY['gps'::text, 'reported'::text])))
);


--
-- Name: TABLE fill_positions; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.fill_positions IS 'Where each fuel fill happened (nearest fix, else the reported place), for its address. Writer: the geocoder (derived, replayable).';


--
-- Name: fuel_readings; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.fuel_readings (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    fuel_l double precision,
    fuel_pct real,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (reading_time);


--
-- Name: TABLE fuel_readings; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.fuel_readings IS 'Fuel-level sensor readings (pushoil). Writer: the sensor readings projector.';


--
-- Name: fuel_readings_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.fuel_readings_default (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    fuel_l double precision,
    fuel_pct real,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: geocoded_positions; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.geocoded_positions (
    lat_e5 integer NOT NULL,
    lng_e5 integer NOT NULL,
    address text,
    provider text NOT NULL,
    geocoded_at timestamp with time zone DEFAULT now() NOT NULL,
    parts jsonb DEFAULT '{}'::jsonb NOT NULL
);


--
-- Name: TABLE geocoded_positions; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.geocoded_positions IS 'Reverse-geocoded addresses keyed by position rounded to 1e-4 degrees (about 11 m), stored in units of 1e-5. Writer: the geocoder (asynchronous enrichment, replayable).';


--
-- Name: heartbeats; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.heartbeats (
    imei text NOT NULL,
    gate_time timestamp with time zone NOT NULL,
    power_level smallint,
    gsm_signal smallint,
    acc_on boolean,
    power_status text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (gate_time);


--
-- Name: TABLE heartbeats; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.heartbeats IS 'Device heartbeats (battery, signal, ACC). Writer: the heartbeats projector.';


--
-- Name: heartbeats_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.heartbeats_default (
    imei text NOT NULL,
    gate_time timestamp with time zone NOT NULL,
    power_level smallint,
    gsm_signal smallint,
    acc_on boolean,
    power_status text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: lbs_readings; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.lbs_readings (
    imei text NOT NULL,
    gate_time timestamp with time zone NOT NULL,
    mcc integer,
    mnc integer,
    cells jsonb DEFAULT '[]'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (gate_time);


--
-- Name: TABLE lbs_readings; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.lbs_readings IS 'Cell-tower (LBS) reports: mcc, mnc and cells [{lac, ci, rssi}]. Writer: the sensor readings projector.';


--
-- Name: lbs_readings_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.lbs_readings_default (
    imei text NOT NULL,
    gate_time timestamp with time zone NOT NULL,
    mcc integer,
    mnc integer,
    cells jsonb DEFAULT '[]'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: live_units; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.live_units (
    unit_key text NOT NULL,
    vehicle_id bigint,
    imei text NOT NULL,
    imeis text[] NOT NULL,
    lifecycle text NOT NULL,
    fix_time timestamp with time zone,
    received_at timestamp with time zone,
    lat double precision,
    lng double precision,
    speed_kmh real,
    heading smallint,
    acc_on boolean,
    odometer_m bigint,
    removed boolean DEFAULT false NOT NULL,
    seq bigint NOT NULL
);


--
-- Name: TABLE live_units; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.live_units IS 'One row per unit (vehicle, or tracker on no vehicle): the device the dedup rule shows and its latest fix; removed rows are tombstones. Writer: state.refresh_live_units, run by triggers on state.live_positions, domain.devices and domain.device_assignments.';


--
-- Name: live_units_seq; Type: SEQUENCE; Schema: state; Owner: -
--

CREATE SEQUENCE state.live_units_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: obd_readings; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.obd_readings (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    odometer_km double precision,
    fuel_remaining double precision,
    fuel_remaining_pct real,
    coolant_temp_c real,
    battery_v real,
    rpm integer,
    speed_kmh real,
    vin text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (reading_time);


--
-- Name: TABLE obd_readings; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.obd_readings IS 'OBD diagnostics. Writer: the OBD projector.';


--
-- Name: obd_readings_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.obd_readings_default (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    odometer_km double precision,
    fuel_remaining double precision,
    fuel_remaining_pct real,
    coolant_temp_c real,
    battery_v real,
    rpm integer,
    speed_kmh real,
    vin text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: parking_events; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.parking_events (
    imei text NOT NULL,
    kind text NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone,
    duration_s integer,
    lat double precision,
    lng double precision,
    address text,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT parking_events_duration_s_check CHECK ((duration_s >= 0)),
    CONSTRAINT parking_events_kind_check CHECK ((kind = ANY (ARRAY['parking'::text, 'idling'::text])))
);


--
-- Name: TABLE parking_events; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.parking_events IS 'Stops: parking (ignition off) and idling (ignition on, stationary). Writer: the parking projector.';


--
-- Name: position_history_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.position_history_default (
    imei text NOT NULL,
    fix_time timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    lat double precision NOT NULL,
    lng double precision NOT NULL,
    speed_kmh real,
    heading smallint,
    acc_on boolean,
    pos_type text,
    satellites smallint,
    altitude_m real,
    odometer_m bigint,
    gps_mode smallint,
    source text NOT NULL,
    raw_id bigint NOT NULL,
    CONSTRAINT position_history_check CHECK ((NOT ((lat = (0)::double precision) AND (lng = (0)::double precision)))),
    CONSTRAINT position_history_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT position_history_lng_check CHECK (((lng >= ('-180'::integer)::double precision) AND (lng <= (180)::double precision)))
);


--
-- Name: temperature_readings; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.temperature_readings (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    temperature_c real,
    sensor text DEFAULT ''::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
)
PARTITION BY RANGE (reading_time);


--
-- Name: TABLE temperature_readings; Type: COMMENT; Schema: state; Owner: -
--

COMMENT ON TABLE state.temperature_readings IS 'Temperature sensor readings (pushtem). Writer: the sensor readings projector.';


--
-- Name: temperature_readings_default; Type: TABLE; Schema: state; Owner: -
--

CREATE TABLE state.temperature_readings_default (
    imei text NOT NULL,
    reading_time timestamp with time zone NOT NULL,
    temperature_c real,
    sensor text DEFAULT ''::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    raw_id bigint NOT NULL
);


--
-- Name: parsed_default; Type: TABLE ATTACH; Schema: events; Owner: -
--

ALTER TABLE ONLY events.parsed ATTACH PARTITION events.parsed_default DEFAULT;


--
-- Name: raw_default; Type: TABLE ATTACH; Schema: events; Owner: -
--

ALTER TABLE ONLY events.raw ATTACH PARTITION events.raw_default DEFAULT;


--
-- Name: matched_tracks_default; Type: TABLE ATTACH; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.matched_tracks ATTACH PARTITION geo.matched_tracks_default DEFAULT;


--
-- Name: segment_observations_default; Type: TABLE ATTACH; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.segment_observations ATTACH PARTITION geo.segment_observations_default DEFAULT;


--
-- Name: route_requests_default; Type: TABLE ATTACH; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.route_requests ATTACH PARTITION ops.route_requests_default DEFAULT;


--
-- Name: measurements_default; Type: TABLE ATTACH; Schema: slo; Owner: -
--

ALTER TABLE ONLY slo.measurements ATTACH PARTITION slo.measurements_default DEFAULT;


--
-- Name: device_events_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.device_events ATTACH PARTITION state.device_events_default DEFAULT;


--
-- Name: fuel_readings_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.fuel_readings ATTACH PARTITION state.fuel_readings_default DEFAULT;


--
-- Name: heartbeats_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.heartbeats ATTACH PARTITION state.heartbeats_default DEFAULT;


--
-- Name: lbs_readings_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.lbs_readings ATTACH PARTITION state.lbs_readings_default DEFAULT;


--
-- Name: obd_readings_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.obd_readings ATTACH PARTITION state.obd_readings_default DEFAULT;


--
-- Name: position_history_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.position_history ATTACH PARTITION state.position_history_default DEFAULT;


--
-- Name: temperature_readings_default; Type: TABLE ATTACH; Schema: state; Owner: -
--

ALTER TABLE ONLY state.temperature_readings ATTACH PARTITION state.temperature_readings_default DEFAULT;


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (account_id);


--
-- Name: accounts accounts_username_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.accounts
    ADD CONSTRAINT accounts_username_key UNIQUE (username);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: refresh_tokens refresh_tokens_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (account);


--
-- Name: assigned_cities assigned_cities_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.assigned_cities
    ADD CONSTRAINT assigned_cities_pkey PRIMARY KEY (city);


--
-- Name: cost_centres cost_centres_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.cost_centres
    ADD CONSTRAINT cost_centres_pkey PRIMARY KEY (code);


--
-- Name: device_assignments device_assignments_imei_during_excl; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_assignments
    ADD CONSTRAINT device_assignments_imei_during_excl EXCLUDE USING gist (imei WITH =, during WITH &&);


--
-- Name: device_assignments device_assignments_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_assignments
    ADD CONSTRAINT device_assignments_pkey PRIMARY KEY (imei, during);


--
-- Name: device_lifecycle_events device_lifecycle_events_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_lifecycle_events
    ADD CONSTRAINT device_lifecycle_events_pkey PRIMARY KEY (id);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (imei);


--
-- Name: driver_assignments driver_assignments_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.driver_assignments
    ADD CONSTRAINT driver_assignments_pkey PRIMARY KEY (vehicle_id, during);


--
-- Name: driver_assignments driver_assignments_vehicle_id_during_excl; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.driver_assignments
    ADD CONSTRAINT driver_assignments_vehicle_id_during_excl EXCLUDE USING gist (vehicle_id WITH =, during WITH &&);


--
-- Name: drivers drivers_employee_no_key; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.drivers
    ADD CONSTRAINT drivers_employee_no_key UNIQUE (employee_no);


--
-- Name: drivers drivers_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.drivers
    ADD CONSTRAINT drivers_pkey PRIMARY KEY (driver_id);


--
-- Name: lifecycle_transitions lifecycle_transitions_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.lifecycle_transitions
    ADD CONSTRAINT lifecycle_transitions_pkey PRIMARY KEY (from_state, to_state);


--
-- Name: vehicles vehicles_pkey; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.vehicles
    ADD CONSTRAINT vehicles_pkey PRIMARY KEY (vehicle_id);


--
-- Name: vehicles vehicles_plate_key_key; Type: CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.vehicles
    ADD CONSTRAINT vehicles_plate_key_key UNIQUE (plate_key);


--
-- Name: parsed parsed_pkey; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.parsed
    ADD CONSTRAINT parsed_pkey PRIMARY KEY (id, raw_received_at);


--
-- Name: parsed_default parsed_default_pkey; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.parsed_default
    ADD CONSTRAINT parsed_default_pkey PRIMARY KEY (id, raw_received_at);


--
-- Name: parsed parsed_raw_received_at_raw_id_item_index_parser_version_key; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.parsed
    ADD CONSTRAINT parsed_raw_received_at_raw_id_item_index_parser_version_key UNIQUE (raw_received_at, raw_id, item_index, parser_version);


--
-- Name: parsed_default parsed_default_raw_received_at_raw_id_item_index_parser_ver_key; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.parsed_default
    ADD CONSTRAINT parsed_default_raw_received_at_raw_id_item_index_parser_ver_key UNIQUE (raw_received_at, raw_id, item_index, parser_version);


--
-- Name: raw raw_pkey; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.raw
    ADD CONSTRAINT raw_pkey PRIMARY KEY (id, received_at);


--
-- Name: raw_default raw_default_pkey; Type: CONSTRAINT; Schema: events; Owner: -
--

ALTER TABLE ONLY events.raw_default
    ADD CONSTRAINT raw_default_pkey PRIMARY KEY (id, received_at);


--
-- Name: department_spellings department_spellings_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.department_spellings
    ADD CONSTRAINT department_spellings_pkey PRIMARY KEY (spelling);


--
-- Name: department_vocabulary department_vocabulary_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.department_vocabulary
    ADD CONSTRAINT department_vocabulary_pkey PRIMARY KEY (name);


--
-- Name: fill_reviews fill_reviews_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.fill_reviews
    ADD CONSTRAINT fill_reviews_pkey PRIMARY KEY (record_id);


--
-- Name: import_runs import_runs_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.import_runs
    ADD CONSTRAINT import_runs_pkey PRIMARY KEY (id);


--
-- Name: mappings mappings_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.mappings
    ADD CONSTRAINT mappings_pkey PRIMARY KEY (kind, raw_value);


--
-- Name: records records_pkey; Type: CONSTRAINT; Schema: fuel; Owner: -
--

ALTER TABLE ONLY fuel.records
    ADD CONSTRAINT records_pkey PRIMARY KEY (record_id);


--
-- Name: addresses addresses_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.addresses
    ADD CONSTRAINT addresses_pkey PRIMARY KEY (osm_type, osm_id);


--
-- Name: band_dirty band_dirty_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.band_dirty
    ADD CONSTRAINT band_dirty_pkey PRIMARY KEY (segment_id, forward);


--
-- Name: boundaries boundaries_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.boundaries
    ADD CONSTRAINT boundaries_pkey PRIMARY KEY (osm_id, piece);


--
-- Name: match_queue match_queue_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.match_queue
    ADD CONSTRAINT match_queue_pkey PRIMARY KEY (imei, bucket);


--
-- Name: matched_tracks matched_tracks_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.matched_tracks
    ADD CONSTRAINT matched_tracks_pkey PRIMARY KEY (imei, bucket);


--
-- Name: matched_tracks_default matched_tracks_default_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.matched_tracks_default
    ADD CONSTRAINT matched_tracks_default_pkey PRIMARY KEY (imei, bucket);


--
-- Name: places places_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.places
    ADD CONSTRAINT places_pkey PRIMARY KEY (osm_type, osm_id);


--
-- Name: pois pois_osm_type_osm_id_key; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.pois
    ADD CONSTRAINT pois_osm_type_osm_id_key UNIQUE (osm_type, osm_id);


--
-- Name: pois pois_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.pois
    ADD CONSTRAINT pois_pkey PRIMARY KEY (poi_id);


--
-- Name: search_names search_names_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.search_names
    ADD CONSTRAINT search_names_pkey PRIMARY KEY (id);


--
-- Name: search_vocabulary search_vocabulary_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.search_vocabulary
    ADD CONSTRAINT search_vocabulary_pkey PRIMARY KEY (word);


--
-- Name: segment_observations segment_observations_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.segment_observations
    ADD CONSTRAINT segment_observations_pkey PRIMARY KEY (imei, entered_at, segment_id, forward);


--
-- Name: segment_observations_default segment_observations_default_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.segment_observations_default
    ADD CONSTRAINT segment_observations_default_pkey PRIMARY KEY (imei, entered_at, segment_id, forward);


--
-- Name: segment_speed_band segment_speed_band_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.segment_speed_band
    ADD CONSTRAINT segment_speed_band_pkey PRIMARY KEY (segment_id, forward, dow, hod);


--
-- Name: turn_restrictions turn_restrictions_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.turn_restrictions
    ADD CONSTRAINT turn_restrictions_pkey PRIMARY KEY (osm_id);


--
-- Name: ways ways_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.ways
    ADD CONSTRAINT ways_pkey PRIMARY KEY (gid);


--
-- Name: ways_vertices_pgr ways_vertices_pgr_pkey; Type: CONSTRAINT; Schema: geo; Owner: -
--

ALTER TABLE ONLY geo.ways_vertices_pgr
    ADD CONSTRAINT ways_vertices_pgr_pkey PRIMARY KEY (id);


--
-- Name: alarm_acks alarm_acks_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.alarm_acks
    ADD CONSTRAINT alarm_acks_pkey PRIMARY KEY (imei, alarm_type, alarm_time);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (app_key);


--
-- Name: contract_results contract_results_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.contract_results
    ADD CONSTRAINT contract_results_pkey PRIMARY KEY (run_id, method);


--
-- Name: contract_runs contract_runs_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.contract_runs
    ADD CONSTRAINT contract_runs_pkey PRIMARY KEY (run_id);


--
-- Name: cost_rates cost_rates_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.cost_rates
    ADD CONSTRAINT cost_rates_pkey PRIMARY KEY (rate_key, valid_from);


--
-- Name: dispatch_log dispatch_log_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.dispatch_log
    ADD CONSTRAINT dispatch_log_pkey PRIMARY KEY (id);


--
-- Name: ingestion_log ingestion_log_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.ingestion_log
    ADD CONSTRAINT ingestion_log_pkey PRIMARY KEY (id);


--
-- Name: job_runs job_runs_job_slot_key; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.job_runs
    ADD CONSTRAINT job_runs_job_slot_key UNIQUE (job, slot);


--
-- Name: job_runs job_runs_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.job_runs
    ADD CONSTRAINT job_runs_pkey PRIMARY KEY (id);


--
-- Name: odometer_readings odometer_readings_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.odometer_readings
    ADD CONSTRAINT odometer_readings_pkey PRIMARY KEY (vehicle_id, read_at, source);


--
-- Name: partitioned_tables partitioned_tables_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.partitioned_tables
    ADD CONSTRAINT partitioned_tables_pkey PRIMARY KEY (parent);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: schema_objects schema_objects_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.schema_objects
    ADD CONSTRAINT schema_objects_pkey PRIMARY KEY (path);


--
-- Name: service_log service_log_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.service_log
    ADD CONSTRAINT service_log_pkey PRIMARY KEY (id);


--
-- Name: tickets tickets_pkey; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.tickets
    ADD CONSTRAINT tickets_pkey PRIMARY KEY (ticket_id);


--
-- Name: tickets tickets_reference_key; Type: CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.tickets
    ADD CONSTRAINT tickets_reference_key UNIQUE (reference);


--
-- Name: measurements measurements_pkey; Type: CONSTRAINT; Schema: slo; Owner: -
--

ALTER TABLE ONLY slo.measurements
    ADD CONSTRAINT measurements_pkey PRIMARY KEY (metric, measured_at);


--
-- Name: measurements_default measurements_default_pkey; Type: CONSTRAINT; Schema: slo; Owner: -
--

ALTER TABLE ONLY slo.measurements_default
    ADD CONSTRAINT measurements_default_pkey PRIMARY KEY (metric, measured_at);


--
-- Name: targets targets_pkey; Type: CONSTRAINT; Schema: slo; Owner: -
--

ALTER TABLE ONLY slo.targets
    ADD CONSTRAINT targets_pkey PRIMARY KEY (metric);


--
-- Name: alarms alarms_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.alarms
    ADD CONSTRAINT alarms_pkey PRIMARY KEY (imei, alarm_type, alarm_time);


--
-- Name: device_events device_events_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.device_events
    ADD CONSTRAINT device_events_pkey PRIMARY KEY (imei, event_time, event_type);


--
-- Name: device_events_default device_events_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.device_events_default
    ADD CONSTRAINT device_events_default_pkey PRIMARY KEY (imei, event_time, event_type);


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (imei);


--
-- Name: fill_positions fill_positions_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.fill_positions
    ADD CONSTRAINT fill_positions_pkey PRIMARY KEY (record_id);


--
-- Name: fuel_readings fuel_readings_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.fuel_readings
    ADD CONSTRAINT fuel_readings_pkey PRIMARY KEY (imei, reading_time);


--
-- Name: fuel_readings_default fuel_readings_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.fuel_readings_default
    ADD CONSTRAINT fuel_readings_default_pkey PRIMARY KEY (imei, reading_time);


--
-- Name: geocoded_positions geocoded_positions_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.geocoded_positions
    ADD CONSTRAINT geocoded_positions_pkey PRIMARY KEY (lat_e5, lng_e5);


--
-- Name: heartbeats heartbeats_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.heartbeats
    ADD CONSTRAINT heartbeats_pkey PRIMARY KEY (imei, gate_time);


--
-- Name: heartbeats_default heartbeats_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.heartbeats_default
    ADD CONSTRAINT heartbeats_default_pkey PRIMARY KEY (imei, gate_time);


--
-- Name: lbs_readings lbs_readings_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.lbs_readings
    ADD CONSTRAINT lbs_readings_pkey PRIMARY KEY (imei, gate_time);


--
-- Name: lbs_readings_default lbs_readings_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.lbs_readings_default
    ADD CONSTRAINT lbs_readings_default_pkey PRIMARY KEY (imei, gate_time);


--
-- Name: live_positions live_positions_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.live_positions
    ADD CONSTRAINT live_positions_pkey PRIMARY KEY (imei);


--
-- Name: live_units live_units_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.live_units
    ADD CONSTRAINT live_units_pkey PRIMARY KEY (unit_key);


--
-- Name: obd_readings obd_readings_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.obd_readings
    ADD CONSTRAINT obd_readings_pkey PRIMARY KEY (imei, reading_time);


--
-- Name: obd_readings_default obd_readings_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.obd_readings_default
    ADD CONSTRAINT obd_readings_default_pkey PRIMARY KEY (imei, reading_time);


--
-- Name: parking_events parking_events_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.parking_events
    ADD CONSTRAINT parking_events_pkey PRIMARY KEY (imei, kind, start_time);


--
-- Name: position_history position_history_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.position_history
    ADD CONSTRAINT position_history_pkey PRIMARY KEY (imei, fix_time);


--
-- Name: position_history_default position_history_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.position_history_default
    ADD CONSTRAINT position_history_default_pkey PRIMARY KEY (imei, fix_time);


--
-- Name: temperature_readings temperature_readings_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.temperature_readings
    ADD CONSTRAINT temperature_readings_pkey PRIMARY KEY (imei, reading_time, sensor);


--
-- Name: temperature_readings_default temperature_readings_default_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.temperature_readings_default
    ADD CONSTRAINT temperature_readings_default_pkey PRIMARY KEY (imei, reading_time, sensor);


--
-- Name: trips trips_pkey; Type: CONSTRAINT; Schema: state; Owner: -
--

ALTER TABLE ONLY state.trips
    ADD CONSTRAINT trips_pkey PRIMARY KEY (imei, start_time);


--
-- Name: audit_log_at_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX audit_log_at_idx ON auth.audit_log USING btree (at DESC);


--
-- Name: device_assignments_current_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE UNIQUE INDEX device_assignments_current_idx ON domain.device_assignments USING btree (imei) WHERE upper_inf(during);


--
-- Name: device_assignments_vehicle_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE INDEX device_assignments_vehicle_idx ON domain.device_assignments USING btree (vehicle_id);


--
-- Name: device_lifecycle_events_imei_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE INDEX device_lifecycle_events_imei_idx ON domain.device_lifecycle_events USING btree (imei, changed_at);


--
-- Name: device_lifecycle_events_raw_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE INDEX device_lifecycle_events_raw_idx ON domain.device_lifecycle_events USING btree (raw_id);


--
-- Name: driver_assignments_driver_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE INDEX driver_assignments_driver_idx ON domain.driver_assignments USING btree (driver_id);


--
-- Name: drivers_name_idx; Type: INDEX; Schema: domain; Owner: -
--

CREATE INDEX drivers_name_idx ON domain.drivers USING btree (lower(name));


--
-- Name: parsed_imei_time_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX parsed_imei_time_idx ON ONLY events.parsed USING btree (imei, event_time);


--
-- Name: parsed_default_imei_event_time_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX parsed_default_imei_event_time_idx ON events.parsed_default USING btree (imei, event_time);


--
-- Name: parsed_kind_time_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX parsed_kind_time_idx ON ONLY events.parsed USING btree (kind, raw_received_at);


--
-- Name: parsed_default_kind_raw_received_at_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX parsed_default_kind_raw_received_at_idx ON events.parsed_default USING btree (kind, raw_received_at);


--
-- Name: raw_pending_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_pending_idx ON ONLY events.raw USING btree (received_at, id) WHERE (parsed_at IS NULL);


--
-- Name: raw_default_received_at_id_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_default_received_at_id_idx ON events.raw_default USING btree (received_at, id) WHERE (parsed_at IS NULL);


--
-- Name: raw_failed_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_failed_idx ON ONLY events.raw USING btree (received_at) WHERE (parse_error IS NOT NULL);


--
-- Name: raw_default_received_at_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_default_received_at_idx ON events.raw_default USING btree (received_at) WHERE (parse_error IS NOT NULL);


--
-- Name: raw_received_brin; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_received_brin ON ONLY events.raw USING brin (received_at);


--
-- Name: raw_default_received_at_idx1; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_default_received_at_idx1 ON events.raw_default USING brin (received_at);


--
-- Name: raw_source_kind_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_source_kind_idx ON ONLY events.raw USING btree (source, kind, received_at);


--
-- Name: raw_default_source_kind_received_at_idx; Type: INDEX; Schema: events; Owner: -
--

CREATE INDEX raw_default_source_kind_received_at_idx ON events.raw_default USING btree (source, kind, received_at);


--
-- Name: department_spellings_canonical_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX department_spellings_canonical_idx ON fuel.department_spellings USING btree (canonical);


--
-- Name: department_spellings_words_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX department_spellings_words_idx ON fuel.department_spellings USING btree (words);


--
-- Name: fuel_records_errors_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX fuel_records_errors_idx ON fuel.records USING btree (record_id) WHERE (normalise_errors <> '{}'::text[]);


--
-- Name: fuel_records_filled_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX fuel_records_filled_idx ON fuel.records USING btree (filled_at);


--
-- Name: fuel_records_plate_time_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX fuel_records_plate_time_idx ON fuel.records USING btree (plate_key, filled_at);


--
-- Name: fuel_records_updated_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX fuel_records_updated_idx ON fuel.records USING btree (updated_at);


--
-- Name: fuel_records_warnings_idx; Type: INDEX; Schema: fuel; Owner: -
--

CREATE INDEX fuel_records_warnings_idx ON fuel.records USING btree (record_id) WHERE (warnings <> '{}'::text[]);


--
-- Name: addresses_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX addresses_geom_idx ON geo.addresses USING gist (geom);


--
-- Name: boundaries_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX boundaries_geom_idx ON geo.boundaries USING gist (geom);


--
-- Name: match_queue_bucket_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX match_queue_bucket_idx ON geo.match_queue USING btree (bucket);


--
-- Name: places_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX places_geom_idx ON geo.places USING gist (geom);


--
-- Name: pois_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX pois_geom_idx ON geo.pois USING gist (geom);


--
-- Name: pois_kind_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX pois_kind_idx ON geo.pois USING btree (kind);


--
-- Name: search_names_prefix_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX search_names_prefix_idx ON geo.search_names USING btree (lower(name) COLLATE "C");


--
-- Name: search_names_trgm_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX search_names_trgm_idx ON geo.search_names USING gin (lower(name) public.gin_trgm_ops);


--
-- Name: search_vocabulary_trgm_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX search_vocabulary_trgm_idx ON geo.search_vocabulary USING gin (word public.gin_trgm_ops);


--
-- Name: search_words_word_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX search_words_word_idx ON geo.search_words USING btree (word);


--
-- Name: segment_observations_segment_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX segment_observations_segment_idx ON ONLY geo.segment_observations USING btree (segment_id, forward, dow, hod);


--
-- Name: segment_observations_default_segment_id_forward_dow_hod_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX segment_observations_default_segment_id_forward_dow_hod_idx ON geo.segment_observations_default USING btree (segment_id, forward, dow, hod);


--
-- Name: ways_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX ways_geom_idx ON geo.ways USING gist (the_geom);


--
-- Name: ways_source_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX ways_source_idx ON geo.ways USING btree (source);


--
-- Name: ways_target_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX ways_target_idx ON geo.ways USING btree (target);


--
-- Name: ways_vertices_geom_idx; Type: INDEX; Schema: geo; Owner: -
--

CREATE INDEX ways_vertices_geom_idx ON geo.ways_vertices_pgr USING gist (the_geom);


--
-- Name: contract_runs_started_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE INDEX contract_runs_started_idx ON ops.contract_runs USING btree (started_at DESC);


--
-- Name: ingestion_log_called_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE INDEX ingestion_log_called_idx ON ops.ingestion_log USING btree (called_at DESC);


--
-- Name: job_runs_job_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE INDEX job_runs_job_idx ON ops.job_runs USING btree (job, started_at DESC);


--
-- Name: route_requests_time_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE INDEX route_requests_time_idx ON ONLY ops.route_requests USING btree (requested_at);


--
-- Name: route_requests_default_requested_at_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE INDEX route_requests_default_requested_at_idx ON ops.route_requests_default USING btree (requested_at);


--
-- Name: service_log_raw_idx; Type: INDEX; Schema: ops; Owner: -
--

CREATE UNIQUE INDEX service_log_raw_idx ON ops.service_log USING btree (raw_id);


--
-- Name: alarms_open_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX alarms_open_idx ON state.alarms USING btree (imei, alarm_type) WHERE (ended_at IS NULL);


--
-- Name: alarms_time_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX alarms_time_idx ON state.alarms USING btree (alarm_time);


--
-- Name: fill_positions_filled_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX fill_positions_filled_idx ON state.fill_positions USING btree (filled_at);


--
-- Name: fill_positions_placed_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX fill_positions_placed_idx ON state.fill_positions USING btree (placed_at);


--
-- Name: live_positions_geom_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX live_positions_geom_idx ON state.live_positions USING gist (geom);


--
-- Name: live_units_imei_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX live_units_imei_idx ON state.live_units USING btree (imei);


--
-- Name: live_units_seen_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX live_units_seen_idx ON state.live_units USING btree (LEAST(fix_time, received_at)) WHERE (NOT removed);


--
-- Name: live_units_seq_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX live_units_seq_idx ON state.live_units USING btree (seq);


--
-- Name: live_units_vehicle_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX live_units_vehicle_idx ON state.live_units USING btree (vehicle_id) WHERE (vehicle_id IS NOT NULL);


--
-- Name: parking_events_start_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX parking_events_start_idx ON state.parking_events USING btree (start_time);


--
-- Name: trips_reported_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX trips_reported_idx ON state.trips USING btree (reported_at);


--
-- Name: trips_start_idx; Type: INDEX; Schema: state; Owner: -
--

CREATE INDEX trips_start_idx ON state.trips USING btree (start_time);


--
-- Name: parsed_default_imei_event_time_idx; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.parsed_imei_time_idx ATTACH PARTITION events.parsed_default_imei_event_time_idx;


--
-- Name: parsed_default_kind_raw_received_at_idx; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.parsed_kind_time_idx ATTACH PARTITION events.parsed_default_kind_raw_received_at_idx;


--
-- Name: parsed_default_pkey; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.parsed_pkey ATTACH PARTITION events.parsed_default_pkey;


--
-- Name: parsed_default_raw_received_at_raw_id_item_index_parser_ver_key; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.parsed_raw_received_at_raw_id_item_index_parser_version_key ATTACH PARTITION events.parsed_default_raw_received_at_raw_id_item_index_parser_ver_key;


--
-- Name: raw_default_pkey; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.raw_pkey ATTACH PARTITION events.raw_default_pkey;


--
-- Name: raw_default_received_at_id_idx; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.raw_pending_idx ATTACH PARTITION events.raw_default_received_at_id_idx;


--
-- Name: raw_default_received_at_idx; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.raw_failed_idx ATTACH PARTITION events.raw_default_received_at_idx;


--
-- Name: raw_default_received_at_idx1; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.raw_received_brin ATTACH PARTITION events.raw_default_received_at_idx1;


--
-- Name: raw_default_source_kind_received_at_idx; Type: INDEX ATTACH; Schema: events; Owner: -
--

ALTER INDEX events.raw_source_kind_idx ATTACH PARTITION events.raw_default_source_kind_received_at_idx;


--
-- Name: matched_tracks_default_pkey; Type: INDEX ATTACH; Schema: geo; Owner: -
--

ALTER INDEX geo.matched_tracks_pkey ATTACH PARTITION geo.matched_tracks_default_pkey;


--
-- Name: segment_observations_default_pkey; Type: INDEX ATTACH; Schema: geo; Owner: -
--

ALTER INDEX geo.segment_observations_pkey ATTACH PARTITION geo.segment_observations_default_pkey;


--
-- Name: segment_observations_default_segment_id_forward_dow_hod_idx; Type: INDEX ATTACH; Schema: geo; Owner: -
--

ALTER INDEX geo.segment_observations_segment_idx ATTACH PARTITION geo.segment_observations_default_segment_id_forward_dow_hod_idx;


--
-- Name: route_requests_default_requested_at_idx; Type: INDEX ATTACH; Schema: ops; Owner: -
--

ALTER INDEX ops.route_requests_time_idx ATTACH PARTITION ops.route_requests_default_requested_at_idx;


--
-- Name: measurements_default_pkey; Type: INDEX ATTACH; Schema: slo; Owner: -
--

ALTER INDEX slo.measurements_pkey ATTACH PARTITION slo.measurements_default_pkey;


--
-- Name: device_events_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.device_events_pkey ATTACH PARTITION state.device_events_default_pkey;


--
-- Name: fuel_readings_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.fuel_readings_pkey ATTACH PARTITION state.fuel_readings_default_pkey;


--
-- Name: heartbeats_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.heartbeats_pkey ATTACH PARTITION state.heartbeats_default_pkey;


--
-- Name: lbs_readings_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.lbs_readings_pkey ATTACH PARTITION state.lbs_readings_default_pkey;


--
-- Name: obd_readings_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.obd_readings_pkey ATTACH PARTITION state.obd_readings_default_pkey;


--
-- Name: position_history_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.position_history_pkey ATTACH PARTITION state.position_history_default_pkey;


--
-- Name: temperature_readings_default_pkey; Type: INDEX ATTACH; Schema: state; Owner: -
--

ALTER INDEX state.temperature_readings_pkey ATTACH PARTITION state.temperature_readings_default_pkey;


--
-- Name: cost_centres live_units_cost_centre_update; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_cost_centre_update AFTER UPDATE ON domain.cost_centres REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_cost_centres();


--
-- Name: devices live_units_device_delete; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_device_delete AFTER DELETE ON domain.devices REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();


--
-- Name: devices live_units_device_insert; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_device_insert AFTER INSERT ON domain.devices REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();


--
-- Name: devices live_units_device_truncate; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_device_truncate AFTER TRUNCATE ON domain.devices FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();


--
-- Name: devices live_units_device_update; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_device_update AFTER UPDATE ON domain.devices REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();


--
-- Name: drivers live_units_driver_update; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_driver_update AFTER UPDATE ON domain.drivers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_drivers();


--
-- Name: driver_assignments live_units_driving_delete; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_driving_delete AFTER DELETE ON domain.driver_assignments REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();


--
-- Name: driver_assignments live_units_driving_insert; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_driving_insert AFTER INSERT ON domain.driver_assignments REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();


--
-- Name: driver_assignments live_units_driving_update; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_driving_update AFTER UPDATE ON domain.driver_assignments REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_driver_assignments();


--
-- Name: device_assignments live_units_fitting_delete; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_fitting_delete AFTER DELETE ON domain.device_assignments REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();


--
-- Name: device_assignments live_units_fitting_insert; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_fitting_insert AFTER INSERT ON domain.device_assignments REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();


--
-- Name: device_assignments live_units_fitting_truncate; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_fitting_truncate AFTER TRUNCATE ON domain.device_assignments FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();


--
-- Name: device_assignments live_units_fitting_update_new; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_fitting_update_new AFTER UPDATE ON domain.device_assignments REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();


--
-- Name: device_assignments live_units_fitting_update_old; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_fitting_update_old AFTER UPDATE ON domain.device_assignments REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fittings();


--
-- Name: vehicles live_units_vehicle_update; Type: TRIGGER; Schema: domain; Owner: -
--

CREATE TRIGGER live_units_vehicle_update AFTER UPDATE ON domain.vehicles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_vehicles();


--
-- Name: raw raw_guard; Type: TRIGGER; Schema: events; Owner: -
--

CREATE TRIGGER raw_guard BEFORE DELETE OR UPDATE ON events.raw FOR EACH ROW EXECUTE FUNCTION events.raw_guard();


--
-- Name: targets live_units_threshold_update; Type: TRIGGER; Schema: slo; Owner: -
--

CREATE TRIGGER live_units_threshold_update AFTER UPDATE ON slo.targets REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_thresholds();


--
-- Name: live_positions live_units_fix_delete; Type: TRIGGER; Schema: state; Owner: -
--

CREATE TRIGGER live_units_fix_delete AFTER DELETE ON state.live_positions REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_trackers();


--
-- Name: live_positions live_units_fix_insert; Type: TRIGGER; Schema: state; Owner: -
--

CREATE TRIGGER live_units_fix_insert AFTER INSERT ON state.live_positions REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fixes();


--
-- Name: live_positions live_units_fix_truncate; Type: TRIGGER; Schema: state; Owner: -
--

CREATE TRIGGER live_units_fix_truncate AFTER TRUNCATE ON state.live_positions FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_all();


--
-- Name: live_positions live_units_fix_update; Type: TRIGGER; Schema: state; Owner: -
--

CREATE TRIGGER live_units_fix_update AFTER UPDATE ON state.live_positions REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION state.live_units_for_fixes();


--
-- Name: refresh_tokens refresh_tokens_account_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.refresh_tokens
    ADD CONSTRAINT refresh_tokens_account_id_fkey FOREIGN KEY (account_id) REFERENCES auth.accounts(account_id);


--
-- Name: device_assignments device_assignments_imei_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_assignments
    ADD CONSTRAINT device_assignments_imei_fkey FOREIGN KEY (imei) REFERENCES domain.devices(imei);


--
-- Name: device_assignments device_assignments_vehicle_id_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_assignments
    ADD CONSTRAINT device_assignments_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES domain.vehicles(vehicle_id);


--
-- Name: device_lifecycle_events device_lifecycle_events_imei_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.device_lifecycle_events
    ADD CONSTRAINT device_lifecycle_events_imei_fkey FOREIGN KEY (imei) REFERENCES domain.devices(imei);


--
-- Name: devices devices_account_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.devices
    ADD CONSTRAINT devices_account_fkey FOREIGN KEY (account) REFERENCES domain.accounts(account);


--
-- Name: driver_assignments driver_assignments_driver_id_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.driver_assignments
    ADD CONSTRAINT driver_assignments_driver_id_fkey FOREIGN KEY (driver_id) REFERENCES domain.drivers(driver_id);


--
-- Name: driver_assignments driver_assignments_vehicle_id_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.driver_assignments
    ADD CONSTRAINT driver_assignments_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES domain.vehicles(vehicle_id);


--
-- Name: drivers drivers_cost_centre_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.drivers
    ADD CONSTRAINT drivers_cost_centre_fkey FOREIGN KEY (cost_centre) REFERENCES domain.cost_centres(code);


--
-- Name: vehicles vehicles_assigned_city_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.vehicles
    ADD CONSTRAINT vehicles_assigned_city_fkey FOREIGN KEY (assigned_city) REFERENCES domain.assigned_cities(city);


--
-- Name: vehicles vehicles_cost_centre_fkey; Type: FK CONSTRAINT; Schema: domain; Owner: -
--

ALTER TABLE ONLY domain.vehicles
    ADD CONSTRAINT vehicles_cost_centre_fkey FOREIGN KEY (cost_centre) REFERENCES domain.cost_centres(code);


--
-- Name: contract_results contract_results_run_id_fkey; Type: FK CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.contract_results
    ADD CONSTRAINT contract_results_run_id_fkey FOREIGN KEY (run_id) REFERENCES ops.contract_runs(run_id) ON DELETE CASCADE;


--
-- Name: dispatch_log dispatch_log_ticket_id_fkey; Type: FK CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.dispatch_log
    ADD CONSTRAINT dispatch_log_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES ops.tickets(ticket_id);


--
-- Name: dispatch_log dispatch_log_vehicle_id_fkey; Type: FK CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.dispatch_log
    ADD CONSTRAINT dispatch_log_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES domain.vehicles(vehicle_id);


--
-- Name: odometer_readings odometer_readings_vehicle_id_fkey; Type: FK CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.odometer_readings
    ADD CONSTRAINT odometer_readings_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES domain.vehicles(vehicle_id);


--
-- Name: service_log service_log_vehicle_id_fkey; Type: FK CONSTRAINT; Schema: ops; Owner: -
--

ALTER TABLE ONLY ops.service_log
    ADD CONSTRAINT service_log_vehicle_id_fkey FOREIGN KEY (vehicle_id) REFERENCES domain.vehicles(vehicle_id);


--
-- Name: measurements measurements_metric_fkey; Type: FK CONSTRAINT; Schema: slo; Owner: -
--

ALTER TABLE slo.measurements
    ADD CONSTRAINT measurements_metric_fkey FOREIGN KEY (metric) REFERENCES slo.targets(metric) ON UPDATE CASCADE;


--
-- PostgreSQL database dump complete
--


