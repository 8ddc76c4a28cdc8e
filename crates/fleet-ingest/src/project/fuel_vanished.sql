-- The fuel feed: a full snapshot no longer lists a record; it is kept, marked deleted.
UPDATE fuel.records r
   SET deleted_at = x.received_at, delete_reason = 'absent from snapshot', raw_id = x.raw_id, updated_at = now()
  FROM (SELECT DISTINCT ON (x.record_id) x.*
          FROM jsonb_to_recordset($1::jsonb) AS x(record_id text, raw_id bigint, received_at timestamptz)
         ORDER BY x.record_id, x.raw_id DESC) x
 WHERE r.record_id = x.record_id AND r.raw_id < x.raw_id AND r.deleted_at IS NULL
