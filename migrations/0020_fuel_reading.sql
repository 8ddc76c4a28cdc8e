-- Fuel feed read as people write it (issue 15).
--
-- 1. Numbers, times, flags and field names are read by the versioned parser in Rust
--    (fleet_core::fuel::record, parser v2), which stores its reading with each fuel_record event;
--    a dry run computes the same reading. fuel.normalise_each now takes that reading and adds
--    what needs the database: the plate against the fleet, the fuel type, the UGX exchange rate.
--    The SQL number and time parsers are gone. Every fuel raw row parsed by v1 is re-parsed by the
--    worker at start, so existing records pick up the new rules.
-- 2. Problems come in two kinds: errors make a record unusable (kept, listed, never counted);
--    warnings leave it counting with one value missing (an amount or odometer that cannot be read,
--    an unknown fuel type).
-- 3. Amounts keep the currency they were written in (KES, or UGX for Ugandan fills);
--    amount_kes converts UGX at fuel_ugx_per_kes. Litres keep three decimals (pump receipts).
-- 4. Departments: fuel.records keeps the spelling; its department is the spelling's row in
--    fuel.department_spellings, which the projectors refresh from every live spelling, the
--    mappings and the cost centres (fleet_core::fuel::departments: a rule over all spellings).
-- 5. fuel.mappings is written by operator actions (POST /api/fuel/mappings), so a mapping is an
--    event like every other write; the mappings written before are logged as such events here.
-- 6. Flagged fills get a review state (fuel.fill_reviews, from POST /api/fuel/fills/{id}/review):
--    a voided fill stays listed, marked, and leaves the totals and efficiency figures; an approved
--    one keeps its flags but counts.
-- 7. Cost per km per vehicle and department and month (serve.fn_fuel_cost_per_km).

-- ---------------------------------------------------------------------------------------------
-- Records: the spellings as written, the currency, the reading's own problems.
-- ---------------------------------------------------------------------------------------------
ALTER TABLE fuel.records
    ADD COLUMN department_spelling text,
    ADD COLUMN fuel_type_spelling  text,
    ADD COLUMN amount              numeric(14,2),
    ADD COLUMN currency            text CHECK (currency IN ('KES', 'UGX')),
    ADD COLUMN read_errors         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN read_warnings       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN warnings            text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN fuel.records.department_spelling IS 'The department as the record writes it (spaces collapsed); its canonical name is in fuel.department_spellings.';
COMMENT ON COLUMN fuel.records.fuel_type_spelling IS 'The fuel type as the record writes it; fuel_type is its canonical form.';
COMMENT ON COLUMN fuel.records.amount IS 'The amount in the currency it was written in.';
COMMENT ON COLUMN fuel.records.currency IS 'KES or UGX as the amount names it; NULL when it names no country (the log''s currency, KES).';
COMMENT ON COLUMN fuel.records.amount_kes IS 'The amount in KES: as written, or a UGX amount divided by fuel_ugx_per_kes.';
COMMENT ON COLUMN fuel.records.read_errors IS 'What the parser could not read that makes the record unusable (fleet_core::fuel::record).';
COMMENT ON COLUMN fuel.records.read_warnings IS 'What the parser could not read while the record still counts.';
COMMENT ON COLUMN fuel.records.normalise_errors IS 'Why the record is unusable (the reading''s errors, or a plate that is not one); such records are kept, listed in fuel.v_data_quality, never counted.';
COMMENT ON COLUMN fuel.records.warnings IS 'Values the record lacks while it still counts (an unreadable amount or odometer, an unknown fuel type): listed as incomplete.';

-- What the old functions can tell now; the worker's re-parse under parser v2 replaces it.
UPDATE fuel.records
   SET department_spelling = nullif(btrim(regexp_replace(fuel.raw_department(raw), '\s+', ' ', 'g')), ''),
       fuel_type_spelling = fuel.raw_fuel_type(raw),
       amount = amount_kes
 WHERE jsonb_typeof(raw) = 'object';

DROP FUNCTION serve.fn_fuel_flagged(jsonb), serve.fn_fuel_efficiency(jsonb), serve.fn_fuel_recent(jsonb),
              serve.fn_fuel_fills(jsonb), serve.fuel_row(fuel.v_fills), serve.fuel_fills(jsonb);
DROP VIEW fuel.v_reconciliation, fuel.v_efficiency, fuel.v_data_quality, fuel.v_fills;
ALTER TABLE fuel.records ALTER COLUMN litres TYPE numeric(12,3), DROP COLUMN department;
CREATE INDEX fuel_records_warnings_idx ON fuel.records (record_id) WHERE warnings <> '{}';

DROP FUNCTION fuel.plan(jsonb, boolean, boolean), fuel.plan_records(jsonb, boolean),
              fuel.normalise(jsonb), fuel.normalise_each(text[], jsonb[]),
              fuel.canon_department(text), fuel.department_words(text),
              fuel.parse_number(text), fuel.parse_number_general(text),
              fuel.parse_time(text), fuel.parse_time_general(text), fuel.parse_flag(text),
              fuel.is_deleted(jsonb), fuel.raw_car(jsonb), fuel.raw_fuel_type(jsonb), fuel.raw_department(jsonb),
              fuel.field(jsonb, text, text, text, text, text, text, text), fuel.thresholds();
DROP TYPE fuel.normalised;

-- ---------------------------------------------------------------------------------------------
-- Departments, mappings as events, reviews.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE fuel.department_spellings (
    spelling     text PRIMARY KEY,
    words        text NOT NULL,
    records      integer NOT NULL,
    canonical    text NOT NULL,
    decided_by   text NOT NULL CHECK (decided_by IN ('mapping', 'cost_centre', 'vocabulary', 'learned', 'own', 'suggestion')),
    suggestion   text,
    reason       text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE fuel.department_spellings IS
    'Every department spelling of the live fuel records with its canonical name and how it was decided (fleet_core::fuel::departments); refreshed by the projectors whenever records, mappings or cost centres change, so it is never edited by hand: map a spelling with POST /api/fuel/mappings.';
COMMENT ON COLUMN fuel.department_spellings.words IS 'The spelling''s words as the rule compares them (case, punctuation, filler words, plurals, US/UK folded): a new spelling with the words of a decided one joins its department at once.';
COMMENT ON COLUMN fuel.department_spellings.records IS 'Live records with this spelling, as of the last full decision (the end of the latest import).';
COMMENT ON COLUMN fuel.department_spellings.suggestion IS 'For a spelling kept apart (decided_by suggestion): the department it may belong to; confirm or reject it with a mapping.';
CREATE INDEX department_spellings_canonical_idx ON fuel.department_spellings (canonical);
CREATE INDEX department_spellings_words_idx ON fuel.department_spellings (words);

ALTER TABLE fuel.mappings
    ADD COLUMN actor  text,
    ADD COLUMN raw_id bigint;
COMMENT ON TABLE fuel.mappings IS
    'Spellings operators named: raw value (normalised by fuel.lookup_key) -> canonical value. Written by the fuel_mapping projector from operator actions (POST /api/fuel/mappings).';

-- The mappings written before are logged as the operator actions they would be now, so the log
-- holds every input and a rebuild of fuel.mappings keeps them.
INSERT INTO events.raw (source, kind, content_type, body, verified, verification, meta)
SELECT 'operator', 'fuel_mapping', 'application/json',
       convert_to(jsonb_build_object('kind', m.kind, 'raw_value', m.raw_value, 'canonical', m.canonical,
                                     'actor', 'migration 0020')::text, 'UTF8'),
       true, 'internal',
       jsonb_build_object('actor', 'migration 0020', 'reason', 'a mapping written before mappings were operator actions')
  FROM fuel.mappings m
 ORDER BY m.kind, m.raw_value;

CREATE TABLE fuel.fill_reviews (
    record_id   text PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('approved', 'voided', 'open')),
    reason      text,
    actor       text NOT NULL,
    reviewed_at timestamptz NOT NULL,
    raw_id      bigint NOT NULL
);
COMMENT ON TABLE fuel.fill_reviews IS
    'The review of a flagged fill (POST /api/fuel/fills/{id}/review): approved (keeps its flags, counts), voided (listed, marked, left out of totals and efficiency) or open again; the newest review wins.';

ALTER TABLE fuel.import_runs ADD COLUMN incomplete integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN fuel.import_runs.incomplete IS 'Records that count with a value missing (an unreadable amount or odometer, an unknown fuel type).';

INSERT INTO slo.targets (metric, kind, threshold, comparator, unit, window_interval, description) VALUES
    ('fuel_ugx_per_kes', 'threshold', 28.5, '>=', 'UGX per KES', NULL,
     'Exchange rate for fills paid in Uganda shillings: their KES amount is the UGX amount divided by this'),
    ('fuel_min_kes_per_litre', 'threshold', 80, '>=', 'KES per litre', NULL,
     'A fill cheaper than this per litre is flagged (a typo, or part of the amount)'),
    ('fuel_max_kes_per_litre', 'threshold', 400, '<=', 'KES per litre', NULL,
     'A fill dearer than this per litre is flagged (a typo, or an amount in another currency)'),
    ('fuel_cost_per_km_outlier_ratio', 'threshold', 2, '<=', 'ratio', NULL,
     'A vehicle- or department-month whose KES per GPS km is more than this many times the month''s median (or less than its inverse) is flagged')
ON CONFLICT (metric) DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- Normalisers: what the parser's reading leaves to the database.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION fuel.thresholds(OUT radius_m double precision, OUT window_s double precision,
                                OUT max_km_day double precision, OUT overfill_pct double precision,
                                OUT max_litres double precision, OUT gps_tol_pct double precision,
                                OUT consumption_tol_pct double precision, OUT ugx_per_kes double precision,
                                OUT min_kes_per_litre double precision, OUT max_kes_per_litre double precision,
                                OUT cost_per_km_ratio double precision)
LANGUAGE sql STABLE AS $$
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
COMMENT ON FUNCTION fuel.thresholds() IS 'The fuel module''s thresholds and settings, read once per query from slo.targets.';

CREATE OR REPLACE FUNCTION fuel.canon_fuel_type(fuel_type text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
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
$$;

-- A record's problems once the database has had its say: the reading's own, a plate that is not
-- one, an unknown fuel type, a UGX amount with no rate. One place for the projector, the dry run
-- and the re-normalising after a mapping (single expressions, so the planner inlines them).
CREATE FUNCTION fuel.checked_errors(read_errors text[], car text, plate_key text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(read_errors, '{}') || CASE WHEN car IS NOT NULL AND plate_key IS NULL
                                               THEN ARRAY[format('number plate %L not understood', car)] ELSE '{}' END
$$;
COMMENT ON FUNCTION fuel.checked_errors(text[], text, text) IS 'Why a record is unusable: the reading''s errors and a plate that is not one.';

CREATE FUNCTION fuel.checked_warnings(read_warnings text[], fuel_type_spelling text, fuel_type text, currency text,
                                      ugx_per_kes double precision) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(read_warnings, '{}')
             || CASE WHEN fuel_type_spelling IS NOT NULL AND fuel_type IS NULL
                     THEN ARRAY[format('fuel type %L not recognised (map it on the fuel page or with POST /api/fuel/mappings)', fuel_type_spelling)]
                     ELSE '{}' END
             || CASE WHEN currency = 'UGX' AND coalesce(ugx_per_kes, 0) <= 0
                     THEN ARRAY['the amount is in UGX but fuel_ugx_per_kes is not set: no KES figure'] ELSE '{}' END
$$;
COMMENT ON FUNCTION fuel.checked_warnings(text[], text, text, text, double precision) IS 'What a usable record lacks: the reading''s warnings, an unknown fuel type, a UGX amount with no exchange rate.';

CREATE TYPE fuel.normalised AS (
    car text, plate_key text, litres numeric, amount numeric, currency text, amount_kes numeric,
    odometer_km numeric, fuel_type_spelling text, fuel_type text, driver text, department_spelling text,
    filled_at timestamptz, source_created_at timestamptz, source_updated_at timestamptz,
    source_deleted_at timestamptz, deleted boolean, full_tank boolean, missed_before boolean, station text,
    reported_lat double precision, reported_lng double precision, read_errors text[], read_warnings text[],
    errors text[], warnings text[]);

-- The parser's reading of a record (fleet_core::fuel::record::Read): a JSON object of that shape
-- converts to this type directly (jsonb_to_recordset with a column of this type).
CREATE TYPE fuel.reading AS (
    car text, fuel_type text, department text, litres numeric, amount numeric, currency text,
    odometer_km numeric, driver text, filled_at timestamptz, created_at timestamptz, updated_at timestamptz,
    deleted_at timestamptz, deleted boolean, full_tank boolean, missed_before boolean, station text,
    lat double precision, lng double precision, errors text[], warnings text[]);
COMMENT ON TYPE fuel.reading IS 'The parser''s reading of a fuel record (fleet_core::fuel::record::Read); absent fields are NULL.';

-- A batch of parser readings made into records' columns, with the plate and fuel type
-- canonicalised once per distinct spelling.
CREATE FUNCTION fuel.normalise_each(record_ids text[], reads fuel.reading[])
RETURNS TABLE (record_id text, n fuel.normalised) LANGUAGE sql STABLE AS $$
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
COMMENT ON FUNCTION fuel.normalise_each(text[], fuel.reading[]) IS
    'Records'' columns from the parser''s readings: the plate against the fleet and fuel.mappings, the canonical fuel type, the KES amount, and every problem (errors make a record unusable, warnings leave it counting).';

CREATE FUNCTION fuel.plan_records(records jsonb, with_errors boolean)
RETURNS TABLE (record_id text, action text, errors text[], warnings text[])
LANGUAGE sql STABLE AS $$
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
          FROM fuel.normalise_each((SELECT array_agg(record_id) FROM todo), (SELECT array_agg(read) FROM todo)) e
    )
    SELECT p.record_id, p.action,
           -- a deleted record is not a reject: nothing reads it
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_errors END
                WHEN p.gone THEN '{}' ELSE ch.errors END,
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_warnings END
                WHEN p.gone THEN '{}' ELSE ch.warnings END
      FROM planned p LEFT JOIN checked ch ON ch.record_id = p.record_id
$$;
COMMENT ON FUNCTION fuel.plan_records(jsonb, boolean) IS
    'Per record of a feed batch ([{record_id, record, deleted, read}], read = the parser''s reading, needed only with_errors): insert | insert_deleted | update | delete | unchanged, with its errors and warnings (stored ones for unchanged records; for the others only when with_errors).';

CREATE FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean)
RETURNS TABLE (record_id text, action text, errors text[], warnings text[])
LANGUAGE sql STABLE AS $$
    SELECT p.record_id, p.action, p.errors, p.warnings FROM fuel.plan_records(records, with_errors) p
    UNION ALL
    SELECT v.record_id, 'vanish', '{}'::text[], '{}'::text[]
      FROM fuel.vanished((SELECT array_agg(x.record_id) FROM jsonb_to_recordset(records) AS x(record_id text))) v
     WHERE snapshot
$$;
COMMENT ON FUNCTION fuel.plan(jsonb, boolean, boolean) IS
    'fuel.plan_records and, for a full snapshot, fuel.vanished (vanish): what a batch changes.';

-- A department in any spelling the feed uses (or its canonical name, in any case) as its
-- canonical name: how a filter value is read.
CREATE FUNCTION fuel.department_of(spelling text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT d.canonical FROM fuel.department_spellings d WHERE d.spelling = btrim($1)),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.canonical) = fuel.lookup_key($1) LIMIT 1),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.spelling) = fuel.lookup_key($1)
          ORDER BY d.records DESC, d.spelling LIMIT 1),
        btrim($1))
$$;
COMMENT ON FUNCTION fuel.department_of(text) IS 'The canonical department of a spelling the feed uses, or of a canonical name in any case.';

-- ---------------------------------------------------------------------------------------------
-- Read views
-- ---------------------------------------------------------------------------------------------
-- Fills joined to the fleet by normalised plate: one device per fill even when the plate has
-- several (the one fitted at the fill time, not suspended, with the newest fix). Voided fills are
-- here, marked: every total leaves them out.
CREATE VIEW fuel.v_fills AS
SELECT r.record_id, r.filled_at, serve.local_time(r.filled_at) AS filled_local, serve.local_day(r.filled_at) AS day,
       r.car, r.plate_key, v.vehicle_id, coalesce(v.vehicle_number, r.car) AS vehicle_number,
       dev.imei, v.cost_centre, v.assigned_city AS city,
       coalesce(ds.canonical, r.department_spelling) AS department, r.department_spelling, r.driver, r.fuel_type,
       r.litres, r.amount_kes, r.amount, r.currency,
       CASE WHEN r.litres > 0 THEN round(r.amount_kes / r.litres, 2) END AS kes_per_litre,
       r.odometer_km, r.full_tank, r.missed_before, r.station, r.reported_lat, r.reported_lng,
       v.tank_litres, v.expected_l_per_100km, r.warnings,
       CASE WHEN r.litres > 0 AND r.amount_kes / r.litres > t.max_kes_per_litre
            THEN format('%s KES a litre is more than %s: a typo, or an amount in another currency?',
                        round(r.amount_kes / r.litres), t.max_kes_per_litre)
            WHEN r.litres > 0 AND r.amount_kes / r.litres < t.min_kes_per_litre
            THEN format('%s KES a litre is less than %s: a typo, or part of the amount?',
                        round(r.amount_kes / r.litres), t.min_kes_per_litre) END AS price_flag,
       coalesce(rv.state, 'open') AS review, rv.reason AS review_reason, rv.actor AS reviewed_by,
       rv.reviewed_at, coalesce(rv.state = 'voided', false) AS voided
  FROM fuel.records r
  CROSS JOIN fuel.thresholds() t
  LEFT JOIN fuel.department_spellings ds ON ds.spelling = r.department_spelling
  LEFT JOIN fuel.fill_reviews rv ON rv.record_id = r.record_id
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
    'Live, usable fills joined to the fleet by normalised plate, one device per fill (the one fitted at the fill time), with their canonical department, review state (voided fills stay, marked) and a price-per-litre flag.';

-- Records that cannot be used: kept, listed here with the reasons.
CREATE VIEW fuel.v_data_quality AS
SELECT r.record_id, r.raw, r.normalise_errors AS reasons, r.warnings, r.car, r.filled_at, r.imported_at, r.raw_id
  FROM fuel.records r
 WHERE r.deleted_at IS NULL AND r.normalise_errors <> '{}';
COMMENT ON VIEW fuel.v_data_quality IS 'Fuel records kept but not usable, with why (the fix is in the feed or in fuel.mappings).';

-- Efficiency between consecutive full fills per vehicle (partial fills fold into the next full
-- fill; a missed fill restarts the chain), from the odometer and, independently, from GPS trips.
-- Voided fills are not in the chains; an approved fill's figures count despite its flags.
CREATE VIEW fuel.v_efficiency AS
WITH t AS MATERIALIZED (SELECT * FROM fuel.thresholds()),
f AS (
    SELECT f.*, coalesce(f.vehicle_id::text, f.plate_key) AS vkey,
           -- chains: a partial fill belongs to the next full fill
           count(*) FILTER (WHERE f.full_tank) OVER (PARTITION BY coalesce(f.vehicle_id::text, f.plate_key)
                 ORDER BY f.filled_at, f.record_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS chain
      FROM fuel.v_fills f
     WHERE NOT f.voided
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
), counted AS (
    SELECT fl.*, (fl.outliers = '{}' OR fl.review = 'approved') AND fl.odometer_km_delta > 0 AND fl.chain_litres > 0 AS counts
      FROM flagged fl
)
SELECT c.record_id, c.vehicle_id, c.vehicle_number, c.imei, c.department, c.filled_at, c.filled_local,
       c.prev_record_id, c.prev_filled_at, c.chain_litres AS litres, c.chain_kes AS amount_kes,
       c.odometer_km, c.odometer_km_delta, round(c.gps_km, 1) AS gps_km, c.outliers, c.review,
       CASE WHEN c.counts THEN round(c.odometer_km_delta / c.chain_litres, 2) END AS km_per_l,
       CASE WHEN c.counts THEN round(c.chain_litres * 100 / c.odometer_km_delta, 2) END AS l_per_100km,
       CASE WHEN c.counts THEN round(c.chain_kes / c.odometer_km_delta, 2) END AS kes_per_km,
       CASE WHEN c.gps_km > 0 AND c.chain_litres > 0 AND (NOT c.chain_missed OR c.review = 'approved')
            THEN round(c.gps_km / c.chain_litres, 2) END AS gps_km_per_l
  FROM counted c
 WHERE c.prev_filled_at IS NOT NULL;
COMMENT ON VIEW fuel.v_efficiency IS
    'Per full fill after the first (voided fills left out): km/L, L/100 km, KES/km from the odometer and km/L from GPS trips; outliers (odometer backwards or implausible, impossible or overfilled litres, a missed fill) are kept, flagged and left out of the figures unless the fill was approved.';

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
                            round(e.gps_km * f.expected_l_per_100km / 100, 1)) END,
           f.price_flag], NULL) AS reasons
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
    'Each fill against telematics: the nearest fix within the window, whether the vehicle stood still, the nearest fuel station, GPS km vs odometer, litres vs expected, price per litre; verified when it stood within the radius of a station or the reported place; reasons otherwise.';

-- ---------------------------------------------------------------------------------------------
-- The fuel API (GET /api/analytics/fuel-*): one serve.fn_* each, filters as every view takes them
-- plus "departments" (any spelling the feed uses). Default period: 90 days.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION serve.fuel_fills(filters jsonb)
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

CREATE FUNCTION serve.fuel_row(f fuel.v_fills) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('record_id', f.record_id, 'filled_local', f.filled_local, 'day', f.day,
        'vehicle_number', f.vehicle_number, 'matched', f.vehicle_id IS NOT NULL, 'imei', f.imei,
        'department', f.department, 'cost_centre', f.cost_centre, 'driver', f.driver, 'fuel_type', f.fuel_type,
        'litres', f.litres, 'amount_kes', f.amount_kes, 'amount', f.amount, 'currency', coalesce(f.currency, 'KES'),
        'kes_per_litre', f.kes_per_litre, 'odometer_km', f.odometer_km, 'full_tank', f.full_tank,
        'station', f.station, 'warnings', to_jsonb(f.warnings), 'review', f.review, 'voided', f.voided)
$$;

CREATE FUNCTION serve.fn_fuel_fills(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
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
               'gps_km_per_l', e.gps_km_per_l, 'outliers', to_jsonb(e.outliers), 'review', e.review)
               ORDER BY e.vehicle_number, e.filled_at), '[]'))
      FROM fuel.v_efficiency e JOIN serve.fuel_fills(filters) f USING (record_id)
$$;

-- Flagged fills with their review state (open ones first), the records that cannot be used, and
-- those that count with a value missing.
CREATE FUNCTION serve.fn_fuel_flagged(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
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

-- Every spelling with its department and how it was decided; the departments; the suggestions.
CREATE FUNCTION serve.fn_fuel_department_spellings(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
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

-- Cost per km per vehicle and per department and EAT month: spend over GPS km (trips of the
-- vehicle's device, by the dedup rule of serve.range_units) and over odometer km where the
-- odometer is trusted (efficiency rows that count). A department's GPS km are its vehicles'
-- km, shared by the litres each department put in each vehicle that month. Flagged: no GPS km
-- with spend, a KES/km more than the outlier ratio off the month's median, odometer and GPS
-- apart by more than their tolerance.
CREATE FUNCTION serve.fn_fuel_cost_per_km(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
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
