CREATE OR REPLACE FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean)
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
