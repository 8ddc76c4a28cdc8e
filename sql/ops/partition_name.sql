-- Name of the partition of parent that starts at bound, e.g. events.raw_p20261123 or slo.measurements_p202611.
CREATE OR REPLACE FUNCTION ops.partition_name(parent regclass, granularity text, bound timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT parent::text || '_p' || to_char(bound AT TIME ZONE 'UTC',
        CASE granularity WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END)
$$;
