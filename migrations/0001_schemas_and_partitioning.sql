-- Schemas, extensions and the time-partitioning machinery every partitioned table uses.
--
-- Partitioning model: each partitioned table is registered in ops.partitioned_tables with its
-- granularity (day or month), how many future partitions to keep ready, and an optional retention.
-- ops.maintain_partitions() (run by the cron role daily and once by every migration run) creates
-- the upcoming partitions and drops those past retention. Every partitioned table also has a
-- DEFAULT partition so that a row with an unexpected time (a tracker with a broken clock) is
-- stored, never rejected; maintenance moves such rows into their proper partition once it exists.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE SCHEMA IF NOT EXISTS events;
COMMENT ON SCHEMA events IS 'The immutable event log: raw inbound signals and their parsed form (ARCHITECTURE §1.1).';
CREATE SCHEMA IF NOT EXISTS state;
COMMENT ON SCHEMA state IS 'Derived state written only by projectors; any table can be rebuilt from events.';
CREATE SCHEMA IF NOT EXISTS domain;
COMMENT ON SCHEMA domain IS 'Master data: accounts, vehicles, devices (lifecycle), drivers, cost centres, cities.';
CREATE SCHEMA IF NOT EXISTS geo;
COMMENT ON SCHEMA geo IS 'OSM road graph (pgRouting), map-matched observations, speed bands, POIs.';
CREATE SCHEMA IF NOT EXISTS slo;
COMMENT ON SCHEMA slo IS 'Service-level objectives and operational thresholds, and their measurements.';
CREATE SCHEMA IF NOT EXISTS serve;
COMMENT ON SCHEMA serve IS 'The read contract: functions and views the API serves.';
CREATE SCHEMA IF NOT EXISTS ops;
COMMENT ON SCHEMA ops IS 'Operations: job runs, ingestion log, tickets, service log, alarm acknowledgements, partition registry.';
CREATE SCHEMA IF NOT EXISTS fuel;
COMMENT ON SCHEMA fuel IS 'The fuel module: fills from the WhatsApp feed, normalisation mappings, import runs.';
CREATE SCHEMA IF NOT EXISTS auth;
COMMENT ON SCHEMA auth IS 'Users and service accounts, refresh tokens, audit log.';

CREATE TABLE ops.partitioned_tables (
    parent          regclass PRIMARY KEY,
    granularity     text     NOT NULL CHECK (granularity IN ('day', 'month')),
    premake         integer  NOT NULL DEFAULT 7 CHECK (premake BETWEEN 1 AND 366),
    retention       interval,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.partitioned_tables IS
    'Registry of range-partitioned tables: ops.maintain_partitions() keeps premake future partitions ready and drops those older than retention (NULL keeps forever).';

-- Name of the partition of parent that starts at bound, e.g. events.raw_p20261123 or slo.measurements_p202611.
CREATE FUNCTION ops.partition_name(parent regclass, granularity text, bound timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT parent::text || '_p' || to_char(bound AT TIME ZONE 'UTC',
        CASE granularity WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END)
$$;

-- Creates (if missing) the partition of parent covering [lo, hi); rows already sitting in the
-- DEFAULT partition for that range are moved into it first, so ATTACH never fails.
CREATE FUNCTION ops.ensure_partition(p_parent regclass, p_granularity text, lo timestamptz)
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

-- Creates the partitions for [now - 1 step, now + premake steps) of every registered table and drops
-- partitions wholly older than retention. Returns one row per partition created or dropped.
CREATE FUNCTION ops.maintain_partitions(at timestamptz DEFAULT now())
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
        IF t.retention IS NOT NULL THEN
            FOR r IN
                SELECT c.oid::regclass::text AS part,
                       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper_bound
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = t.parent
                   AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
            LOOP
                IF r.upper_bound <= at - t.retention THEN
                    EXECUTE format('DROP TABLE %s', r.part);
                    parent_table := t.parent::text; partition_table := r.part; action := 'dropped';
                    RETURN NEXT;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
END $$;
COMMENT ON FUNCTION ops.maintain_partitions(timestamptz) IS
    'Partition maintenance: creates upcoming partitions of every table in ops.partitioned_tables and applies retention. Idempotent; run daily by cron and after migrations.';

-- Registers a partitioned table and creates its DEFAULT partition.
CREATE FUNCTION ops.register_partitioned(p_parent regclass, p_granularity text, p_premake integer, p_retention interval)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %s PARTITION OF %s DEFAULT', p_parent::text || '_default', p_parent);
    INSERT INTO ops.partitioned_tables AS pt (parent, granularity, premake, retention)
    VALUES (p_parent, p_granularity, p_premake, p_retention)
    ON CONFLICT ON CONSTRAINT partitioned_tables_pkey DO NOTHING;
END $$;
