CREATE OR REPLACE FUNCTION slo.meets(value double precision, comparator text, threshold double precision)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN NULL
                WHEN comparator = '>=' THEN value >= threshold
                ELSE value <= threshold END
$$;
