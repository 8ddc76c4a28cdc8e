-- Fuel first load in lanes (issue 6): an import plans its records over several connections and
-- projects its chunks in several transactions at once, so fuel.plan is split into the part that
-- takes a slice of the records and the part that needs them all.
--
-- 1. fuel.plan_records(records, with_errors): each record's action (what fuel.plan did for them),
--    with the stored hash compared only for records already stored: a new record is not hashed.
-- 2. fuel.vanished(record_ids): the live records a full snapshot with these ids no longer lists.
-- 3. fuel.plan(records, snapshot, with_errors) is the two together, as before.
-- 4. fuel.normalise_each no longer carries each record's JSON through its materialised steps, and
--    fuel.parse_time tells a zone from its last characters instead of a second regular expression
--    (each regular expression costs microseconds per call, per record).

CREATE FUNCTION fuel.plan_records(records jsonb, with_errors boolean)
RETURNS TABLE (record_id text, action text, errors text[])
LANGUAGE sql STABLE AS $$
    WITH planned AS MATERIALIZED (
        SELECT x.record_id, x.gone, c.deleted_at IS NOT NULL AS was_deleted, c.normalise_errors AS stored_errors,
               CASE WHEN c.record_id IS NULL THEN CASE WHEN x.gone THEN 'insert_deleted' ELSE 'insert' END
                    WHEN c.raw_md5 = md5(x.record::text) AND c.delete_reason IS DISTINCT FROM 'absent from snapshot' THEN 'unchanged'
                    WHEN x.gone AND c.deleted_at IS NULL THEN 'delete'
                    ELSE 'update' END AS action
          FROM (SELECT r.record_id, r.record, fuel.is_deleted(r.record) AS gone
                  FROM jsonb_to_recordset(records) AS r(record_id text, record jsonb)) x
          LEFT JOIN fuel.records c ON c.record_id = x.record_id
    ), todo AS MATERIALIZED (
        -- the records are read again rather than carried through the plan (a dry run only)
        SELECT r.record_id, r.record
          FROM jsonb_to_recordset(records) AS r(record_id text, record jsonb)
          JOIN planned p ON p.record_id = r.record_id
         WHERE with_errors AND p.action <> 'unchanged'
    ), checked AS (
        SELECT e.record_id, (e.n).errors AS errors
          FROM fuel.normalise_each((SELECT array_agg(record_id) FROM todo), (SELECT array_agg(record) FROM todo)) e
    )
    SELECT p.record_id, p.action,
           -- a deleted record is not a reject: nothing reads it
           CASE WHEN p.action = 'unchanged' THEN CASE WHEN p.was_deleted THEN '{}' ELSE p.stored_errors END
                WHEN p.gone THEN '{}' ELSE ch.errors END
      FROM planned p LEFT JOIN checked ch ON ch.record_id = p.record_id
$$;
COMMENT ON FUNCTION fuel.plan_records(jsonb, boolean) IS
    'Per record of a feed batch ([{record_id, record}]): insert | insert_deleted | update | delete | unchanged, with its normalisation errors (stored ones for unchanged records; for the others only when with_errors).';

CREATE FUNCTION fuel.vanished(record_ids text[])
RETURNS TABLE (record_id text) LANGUAGE sql STABLE AS $$
    SELECT c.record_id
      FROM fuel.records c
     WHERE c.deleted_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(record_ids) AS i(id) WHERE i.id = c.record_id)
$$;
COMMENT ON FUNCTION fuel.vanished(text[]) IS
    'The live records a full snapshot listing these record ids no longer lists (the snapshot removes them).';

CREATE OR REPLACE FUNCTION fuel.plan(records jsonb, snapshot boolean, with_errors boolean)
RETURNS TABLE (record_id text, action text, errors text[])
LANGUAGE sql STABLE AS $$
    SELECT p.record_id, p.action, p.errors FROM fuel.plan_records(records, with_errors) p
    UNION ALL
    SELECT v.record_id, 'vanish', '{}'::text[]
      FROM fuel.vanished((SELECT array_agg(x.record_id) FROM jsonb_to_recordset(records) AS x(record_id text))) v
     WHERE snapshot
$$;

CREATE OR REPLACE FUNCTION fuel.parse_time(value text) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value !~ '^[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
            THEN fuel.parse_time_general(btrim(value))
        -- the shape is known here: a zone is a final Z or a sign after the date
        WHEN right(value, 1) = 'Z' OR strpos(substr(value, 11), '+') > 0 OR strpos(substr(value, 11), '-') > 0
            THEN value::timestamptz
        ELSE value::timestamp AT TIME ZONE 'Africa/Nairobi' END
$$;

CREATE OR REPLACE FUNCTION fuel.normalise_each(record_ids text[], records jsonb[])
RETURNS TABLE (record_id text, n fuel.normalised) LANGUAGE sql STABLE AS $$
    WITH batch AS MATERIALIZED (
        SELECT b.record_id, jsonb_typeof(b.record) = 'object' AS is_object,
               coalesce(fuel.raw_car(b.record), '') AS car,
               coalesce(fuel.raw_fuel_type(b.record), '') AS ft, coalesce(fuel.raw_department(b.record), '') AS dep,
               fuel.field(b.record, 'litres', 'liters', 'litre', 'quantity', 'qty', 'volume') AS litres,
               fuel.field(b.record, 'amount', 'amount_kes', 'kes', 'cost', 'price', 'total') AS amount,
               fuel.field(b.record, 'odometer', 'odometer_km', 'mileage', 'odo', 'km') AS odometer,
               fuel.field(b.record, 'driver', 'driver_name', 'staff') AS driver,
               fuel.field(b.record, 'record_datetime', 'record_time', 'filled_at', 'datetime', 'date_time', 'timestamp', 'date') AS filled,
               fuel.field(b.record, 'created_at', 'created') AS created,
               fuel.field(b.record, 'updated_at', 'updated', 'modified_at') AS updated,
               fuel.field(b.record, 'deleted_at', 'deleted') AS deleted,
               fuel.field(b.record, 'full_tank', 'full', 'fill_type') AS full_tank,
               fuel.field(b.record, 'missed_fill', 'missed_previous', 'missed') AS missed,
               fuel.field(b.record, 'station', 'location', 'place', 'site') AS station,
               fuel.field(b.record, 'lat', 'latitude') AS lat,
               fuel.field(b.record, 'lng', 'lon', 'longitude') AS lng
          FROM unnest(record_ids, records) AS b(record_id, record)
    ),
    -- MATERIALIZED: otherwise the calls move above the joins and run once per record
    plates AS MATERIALIZED (SELECT v, fuel.norm_plate(nullif(v, '')) AS c FROM (SELECT DISTINCT car AS v FROM batch) d),
    types AS MATERIALIZED (SELECT v, fuel.canon_fuel_type(nullif(v, '')) AS c FROM (SELECT DISTINCT ft AS v FROM batch) d),
    depts AS MATERIALIZED (SELECT v, fuel.canon_department(nullif(v, '')) AS c FROM (SELECT DISTINCT dep AS v FROM batch) d),
    parsed AS MATERIALIZED (
        SELECT b.*, pl.c AS plate_key, ty.c AS fuel_type, de.c AS department,
               fuel.parse_number(b.litres) AS litres_n, fuel.parse_number(b.amount) AS amount_n,
               fuel.parse_number(b.odometer) AS odometer_n,
               fuel.parse_time(b.filled) AS filled_t, fuel.parse_time(b.created) AS created_t,
               fuel.parse_time(b.updated) AS updated_t, fuel.parse_time(b.deleted) AS deleted_t,
               fuel.parse_number(b.lat)::double precision AS lat_n, fuel.parse_number(b.lng)::double precision AS lng_n
          FROM batch b
          JOIN plates pl ON pl.v = b.car
          JOIN types ty ON ty.v = b.ft
          JOIN depts de ON de.v = b.dep
    )
    SELECT p.record_id, CASE WHEN NOT p.is_object THEN
        ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, false, NULL, NULL, NULL,
            ARRAY['the record is not a JSON object'])::fuel.normalised
    ELSE ROW(
        nullif(p.car, ''), p.plate_key, p.litres_n, p.amount_n, p.odometer_n, p.fuel_type,
        initcap(lower(regexp_replace(p.driver, '\s+', ' ', 'g'))), p.department,
        coalesce(p.filled_t, p.created_t), p.created_t, p.updated_t, p.deleted_t,
        coalesce(fuel.parse_flag(p.full_tank), true), coalesce(fuel.parse_flag(p.missed), false), p.station,
        CASE WHEN p.lat_n BETWEEN -90 AND 90 AND p.lng_n BETWEEN -180 AND 180 THEN p.lat_n END,
        CASE WHEN p.lat_n BETWEEN -90 AND 90 AND p.lng_n BETWEEN -180 AND 180 THEN p.lng_n END,
        array_remove(ARRAY[
            CASE WHEN p.plate_key IS NULL THEN 'no number plate' END,
            CASE WHEN p.litres IS NULL THEN 'no litres'
                 WHEN p.litres_n IS NULL THEN format('litres %L is not a number', p.litres)
                 WHEN p.litres_n <= 0 THEN format('litres %s is not positive', p.litres_n) END,
            CASE WHEN p.amount IS NOT NULL AND p.amount_n IS NULL THEN format('amount %L is not a number', p.amount) END,
            CASE WHEN p.odometer IS NOT NULL AND p.odometer_n IS NULL THEN format('odometer %L is not a number', p.odometer) END,
            CASE WHEN p.ft <> '' AND p.fuel_type IS NULL
                 THEN format('fuel type %L not recognised (add it to fuel.mappings)', p.ft) END,
            CASE WHEN p.filled_t IS NOT NULL THEN NULL
                 WHEN p.filled IS NULL THEN 'no fill time' ELSE format('fill time %L not understood', p.filled) END
        ], NULL))::fuel.normalised
    END
      FROM parsed p
$$;
