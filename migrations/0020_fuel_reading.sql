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

ALTER TABLE fuel.records ALTER COLUMN litres TYPE numeric(12,3), DROP COLUMN department;
CREATE INDEX fuel_records_warnings_idx ON fuel.records (record_id) WHERE warnings <> '{}';
-- what used the old shape (functions of older migrations) goes with it: sql/ defines the new ones
DROP TYPE fuel.normalised CASCADE;

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
