CREATE OR REPLACE FUNCTION fuel.plan_records(records jsonb, with_errors boolean)
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
COMMENT ON FUNCTION fuel.plan_records(jsonb, boolean) IS
    'Per record of a feed batch ([{record_id, record, deleted, read}], read = the parser''s reading, needed only with_errors): insert | insert_deleted | update | delete | unchanged, with its errors and warnings (stored ones for unchanged records; for the others only when with_errors).';
