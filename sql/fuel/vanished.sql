CREATE OR REPLACE FUNCTION fuel.vanished(record_ids text[])
RETURNS TABLE (record_id text) LANGUAGE sql STABLE AS $$
    SELECT c.record_id
      FROM fuel.records c
     WHERE c.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(record_ids) AS i(id) WHERE i.id = c.record_id)
$$;
COMMENT ON FUNCTION fuel.vanished(text[]) IS
    'The live records a full snapshot listing these record ids no longer lists (the snapshot removes them).';
