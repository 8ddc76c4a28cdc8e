-- The time range of a filters object: "from"/"to" as EAT days ("2026-11-01", both inclusive) or
-- timestamps; the default is today (EAT) so far.
CREATE OR REPLACE FUNCTION serve.filter_range(filters jsonb, max_days integer DEFAULT NULL) RETURNS tstzrange
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f text := filters ->> 'from';
    t text := filters ->> 'to';
    lo timestamptz;
    hi timestamptz;
    days integer;
BEGIN
    BEGIN
        IF f ~ '^\d{4}-\d{2}-\d{2}$' THEN
            lo := f::date::timestamp AT TIME ZONE 'Africa/Nairobi';
        ELSIF f IS NOT NULL THEN
            lo := f::timestamptz;
        END IF;
        IF t ~ '^\d{4}-\d{2}-\d{2}$' THEN
            hi := (t::date + 1)::timestamp AT TIME ZONE 'Africa/Nairobi';
        ELSIF t IS NOT NULL THEN
            hi := t::timestamptz;
        END IF;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
        RAISE EXCEPTION 'filters "from"/"to" must be days (2026-11-01) or timestamps (2026-11-01T08:00:00+03:00)'
              USING ERRCODE = '22023';
    END;
    days := (filters ->> 'period_days')::integer;
    hi := coalesce(hi, now());
    lo := coalesce(lo,
                   CASE WHEN days IS NOT NULL
                        THEN (serve.local_day(hi) - (days - 1))::timestamp AT TIME ZONE 'Africa/Nairobi'
                        ELSE serve.local_day(hi)::timestamp AT TIME ZONE 'Africa/Nairobi' END);
    IF hi <= lo THEN
        RAISE EXCEPTION 'filters "to" (%) must be after "from" (%)', hi, lo USING ERRCODE = '22023';
    END IF;
    IF max_days IS NOT NULL AND hi - lo > make_interval(days => max_days) THEN
        RAISE EXCEPTION 'this view covers at most % days at a time; narrow "from"/"to"', max_days
              USING ERRCODE = '22023';
    END IF;
    RETURN tstzrange(lo, hi);
END $$;
COMMENT ON FUNCTION serve.filter_range(jsonb, integer) IS
    'The [from, to) range of a filters object: EAT days inclusive, timestamps, or period_days back from today; default today.';
