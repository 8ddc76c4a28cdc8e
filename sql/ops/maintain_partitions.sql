-- Creates the partitions for [now - 1 step, now + premake steps) of every registered table and drops
-- partitions wholly older than retention. Returns one row per partition created or dropped.
CREATE OR REPLACE FUNCTION ops.maintain_partitions(at timestamptz DEFAULT now())
RETURNS TABLE (parent_table text, partition_table text, action text) LANGUAGE plpgsql AS $$
DECLARE
    t       ops.partitioned_tables;
    step    interval;
    first   timestamptz;
    b       timestamptz;
    r       record;
BEGIN
    -- One maintenance at a time: concurrent runs would race to create the same partition.
    PERFORM pg_advisory_xact_lock(hashtext('ops.maintain_partitions'));
    FOR t IN SELECT * FROM ops.partitioned_tables pt ORDER BY pt.parent::text LOOP
        step  := CASE t.granularity WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END;
        first := date_trunc(t.granularity, at, 'UTC') - step;
        FOR i IN 0 .. t.premake + 1 LOOP
            b := first + step * i;
            IF ops.ensure_partition(t.parent, t.granularity, b) THEN
                parent_table := t.parent::text; partition_table := ops.partition_name(t.parent, t.granularity, b); action := 'created';
                RETURN NEXT;
            END IF;
        END LOOP;
        FOR r IN SELECT e.partition_table AS part FROM ops.expired_partitions(at) e WHERE e.parent_table = t.parent::text LOOP
            EXECUTE format('DROP TABLE %s', r.part);
            parent_table := t.parent::text; partition_table := r.part; action := 'dropped';
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $$;
COMMENT ON FUNCTION ops.maintain_partitions(timestamptz) IS
    'Partition maintenance: creates upcoming partitions of every table in ops.partitioned_tables and applies retention. Idempotent; run daily by cron and after migrations.';
