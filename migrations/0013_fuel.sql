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

-- The one place a record's derived columns come from.
CREATE TYPE fuel.normalised AS (
    car text, plate_key text, litres numeric, amount_kes numeric, odometer_km numeric, fuel_type text,
    driver text, department text, filled_at timestamptz, source_created_at timestamptz,
    source_updated_at timestamptz, source_deleted_at timestamptz, full_tank boolean, missed_before boolean,
    station text, reported_lat double precision, reported_lng double precision, errors text[]);

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
