-- The partitions that retention would drop at `at`: those of a table with a retention whose upper
-- bound is at least that long ago. What ops.maintain_partitions drops and `fleet retention
-- --dry-run` shows, from one definition.
CREATE OR REPLACE FUNCTION ops.expired_partitions(at timestamptz DEFAULT now())
RETURNS TABLE (parent_table text, partition_table text, upper_bound timestamptz, retention interval, bytes bigint)
LANGUAGE sql STABLE AS $$
    SELECT t.parent::text, c.oid::regclass::text, b.upper_bound, t.retention, pg_total_relation_size(c.oid)
      FROM ops.partitioned_tables t
      JOIN pg_inherits i ON i.inhparent = t.parent
      JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (
           SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
     ) b
     WHERE t.retention IS NOT NULL
       AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
       AND b.upper_bound <= at - t.retention
     ORDER BY t.parent::text, b.upper_bound
$$;
COMMENT ON FUNCTION ops.expired_partitions(timestamptz) IS
    'Partitions past their table''s retention at the given time (what ops.maintain_partitions drops), with their size.';
