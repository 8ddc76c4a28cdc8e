-- The fuel feed (issue 6): one row per source record, the newest version in log order wins.
-- Every derived column comes from fuel.normalise_each (fuel.normalise, batched); records it
-- cannot read are kept with the reasons.
WITH latest AS MATERIALIZED (
    SELECT DISTINCT ON (x.record_id) x.*
      FROM jsonb_to_recordset($1::jsonb) AS x(record_id text, record jsonb, raw_id bigint, received_at timestamptz)
     ORDER BY x.record_id, x.raw_id DESC
), normalised AS MATERIALIZED (
    SELECT e.record_id, (e.n).*
      FROM fuel.normalise_each((SELECT array_agg(record_id) FROM latest), (SELECT array_agg(record) FROM latest)) e
)
INSERT INTO fuel.records AS r (record_id, raw, raw_id, raw_md5, car, plate_key, litres, amount_kes, odometer_km,
                               fuel_type, driver, department, filled_at, source_created_at, source_updated_at,
                               deleted_at, delete_reason, full_tank, missed_before, station, reported_lat,
                               reported_lng, normalise_errors, imported_at, updated_at)
SELECT x.record_id, x.record, x.raw_id, md5(x.record::text), n.car, n.plate_key, n.litres, n.amount_kes,
       n.odometer_km, n.fuel_type, n.driver, n.department, n.filled_at, n.source_created_at, n.source_updated_at,
       CASE WHEN fuel.is_deleted(x.record) THEN coalesce(n.source_deleted_at, x.received_at) END,
       CASE WHEN fuel.is_deleted(x.record) THEN 'deleted in the feed' END,
       n.full_tank, n.missed_before, n.station, n.reported_lat, n.reported_lng, n.errors, now(), now()
  FROM latest x
  JOIN normalised n USING (record_id)
 ORDER BY x.record_id
ON CONFLICT (record_id) DO UPDATE
   SET raw = excluded.raw, raw_id = excluded.raw_id, raw_md5 = excluded.raw_md5, car = excluded.car,
       plate_key = excluded.plate_key, litres = excluded.litres, amount_kes = excluded.amount_kes,
       odometer_km = excluded.odometer_km, fuel_type = excluded.fuel_type, driver = excluded.driver,
       department = excluded.department, filled_at = excluded.filled_at,
       source_created_at = excluded.source_created_at, source_updated_at = excluded.source_updated_at,
       deleted_at = excluded.deleted_at, delete_reason = excluded.delete_reason, full_tank = excluded.full_tank,
       missed_before = excluded.missed_before, station = excluded.station, reported_lat = excluded.reported_lat,
       reported_lng = excluded.reported_lng, normalise_errors = excluded.normalise_errors, updated_at = now()
 WHERE r.raw_id <= excluded.raw_id
   AND (r.raw_md5 IS DISTINCT FROM excluded.raw_md5 OR r.deleted_at IS DISTINCT FROM excluded.deleted_at)
