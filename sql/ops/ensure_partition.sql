-- Creates (if missing) the partition of parent covering [lo, hi); rows already sitting in the
-- DEFAULT partition for that range are moved into it first, so ATTACH never fails.
CREATE OR REPLACE FUNCTION ops.ensure_partition(p_parent regclass, p_granularity text, lo timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    step      interval := CASE p_granularity WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END;
    hi        timestamptz := lo + step;
    part      text := ops.partition_name(p_parent, p_granularity, lo);
    def       text := p_parent::text || '_default';
    keycol    text;
    moved     bigint;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT a.attname INTO keycol
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = p_parent;
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)', part, p_parent);
    IF to_regclass(def) IS NOT NULL THEN
        PERFORM set_config('fleet.partition_move', 'on', true);
        EXECUTE format('WITH m AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %s SELECT * FROM m',
                       def, keycol, keycol, part) USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
        PERFORM set_config('fleet.partition_move', 'off', true);
        IF moved > 0 THEN
            RAISE NOTICE 'moved % rows of % from the default partition into %', moved, p_parent, part;
        END IF;
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', p_parent, part, lo, hi);
    RETURN true;
END $$;
