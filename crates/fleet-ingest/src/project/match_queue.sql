-- Map-matching queue: every (device, 5-minute bucket) the batch brought fixes for, and the
-- bucket after it (whose lead-in fix a late fix may change). The matcher consumes the rows.
-- The upsert touches an existing row, so it waits for a matcher holding it, and a matcher skips
-- a row this transaction holds (fleet_geo::matching::project). Re-applying queues the same
-- buckets again, which re-matches them to the same rows. Same validity filter as positions_history.sql.
INSERT INTO geo.match_queue (imei, bucket)
SELECT DISTINCT x.imei, b.bucket
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, fix_time timestamptz, lat float8, lng float8)
 CROSS JOIN LATERAL (VALUES (geo.match_bucket(x.fix_time)),
                            (geo.match_bucket(x.fix_time) + geo.match_bucket_width())) AS b(bucket)
 WHERE x.imei IS NOT NULL AND x.fix_time IS NOT NULL
   AND x.lat BETWEEN -90 AND 90 AND x.lng BETWEEN -180 AND 180 AND NOT (x.lat = 0 AND x.lng = 0)
 ORDER BY 1, 2
ON CONFLICT (imei, bucket) DO UPDATE SET queued_at = excluded.queued_at
