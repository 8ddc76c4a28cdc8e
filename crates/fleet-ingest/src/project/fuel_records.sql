-- The fuel feed (issue 6, 15): one row per source record, the newest version in log order wins.
-- The parser read the record (its `read`, fleet_core::fuel::record); fuel.normalise_each adds
-- what needs the database. Records it cannot use are kept with the reasons. The record comes as
-- JSON (parser v2 events of 2026-12 carry it as its text, a JSON string, read here once more).
WITH latest AS MATERIALIZED (
    SELECT DISTINCT ON (x.record_id) x.record_id,
           CASE WHEN jsonb_typeof(x.record) = 'string' THEN (x.record #>> '{}')::jsonb ELSE x.record END AS record,
           x.read, x.raw_id, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(record_id text, record jsonb, read fuel.reading, raw_id bigint, received_at timestamptz)
     ORDER BY x.record_id, x.raw_id DESC
), normalised AS MATERIALIZED (
    -- the arrays as a row beside the call, not subqueries in it: so the planner inlines the
    -- function (2.5 times faster than running it as a function over parameters)
    SELECT e.record_id, (e.n).*
      FROM (SELECT array_agg(record_id) AS ids,
                   -- an event of parser v1 carries no reading: re-parse it
                   array_agg(coalesce(read, ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                             ARRAY['read by an older parser: re-parse it (fleet replay --reparse)'], NULL)::fuel.reading)) AS reads
              FROM latest) a
     CROSS JOIN LATERAL fuel.normalise_each(a.ids, a.reads) e
)
INSERT INTO fuel.records AS r (record_id, raw, raw_id, raw_md5, car, plate_key, litres, amount, currency, amount_kes,
                               odometer_km, fuel_type_spelling, fuel_type, driver, department_spelling, filled_at,
                               source_created_at, source_updated_at, deleted_at, delete_reason, full_tank,
                               missed_before, station, reported_lat, reported_lng, read_errors, read_warnings,
                               normalise_errors, warnings, imported_at, updated_at)
SELECT x.record_id, x.record, x.raw_id, md5(x.record::text), n.car, n.plate_key, n.litres, n.amount, n.currency,
       n.amount_kes, n.odometer_km, n.fuel_type_spelling, n.fuel_type, n.driver, n.department_spelling, n.filled_at,
       n.source_created_at, n.source_updated_at,
       CASE WHEN n.deleted THEN coalesce(n.source_deleted_at, x.received_at) END,
       CASE WHEN n.deleted THEN 'deleted in the feed' END,
       n.full_tank, n.missed_before, n.station, n.reported_lat, n.reported_lng, n.read_errors, n.read_warnings,
       n.errors, n.warnings, now(), now()
  FROM latest x
  JOIN normalised n USING (record_id)
 ORDER BY x.record_id
ON CONFLICT (record_id) DO UPDATE
   SET raw = excluded.raw, raw_id = excluded.raw_id, raw_md5 = excluded.raw_md5, car = excluded.car,
       plate_key = excluded.plate_key, litres = excluded.litres, amount = excluded.amount,
       currency = excluded.currency, amount_kes = excluded.amount_kes, odometer_km = excluded.odometer_km,
       fuel_type_spelling = excluded.fuel_type_spelling, fuel_type = excluded.fuel_type, driver = excluded.driver,
       department_spelling = excluded.department_spelling, filled_at = excluded.filled_at,
       source_created_at = excluded.source_created_at, source_updated_at = excluded.source_updated_at,
       deleted_at = excluded.deleted_at, delete_reason = excluded.delete_reason, full_tank = excluded.full_tank,
       missed_before = excluded.missed_before, station = excluded.station, reported_lat = excluded.reported_lat,
       reported_lng = excluded.reported_lng, read_errors = excluded.read_errors,
       read_warnings = excluded.read_warnings, normalise_errors = excluded.normalise_errors,
       warnings = excluded.warnings, updated_at = now()
 -- the newest version wins; re-applying it changes nothing, a re-parse that reads it otherwise does
 WHERE r.raw_id <= excluded.raw_id
   AND (r.raw_md5, r.deleted_at, r.car, r.plate_key, r.litres, r.amount, r.currency, r.amount_kes, r.odometer_km,
        r.fuel_type_spelling, r.fuel_type, r.driver, r.department_spelling, r.filled_at, r.source_created_at,
        r.source_updated_at, r.full_tank, r.missed_before, r.station, r.reported_lat, r.reported_lng,
        r.read_errors, r.read_warnings, r.normalise_errors, r.warnings)
       IS DISTINCT FROM
       (excluded.raw_md5, excluded.deleted_at, excluded.car, excluded.plate_key, excluded.litres, excluded.amount,
        excluded.currency, excluded.amount_kes, excluded.odometer_km, excluded.fuel_type_spelling, excluded.fuel_type,
        excluded.driver, excluded.department_spelling, excluded.filled_at, excluded.source_created_at,
        excluded.source_updated_at, excluded.full_tank, excluded.missed_before, excluded.station,
        excluded.reported_lat, excluded.reported_lng, excluded.read_errors, excluded.read_warnings,
        excluded.normalise_errors, excluded.warnings)
