CREATE OR REPLACE FUNCTION serve.filter_set(filters jsonb) RETURNS serve.filter_set
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ROW(
        (SELECT array_agg(upper(c)) FROM unnest(serve.filter_list(filters, 'cost_centres')) c),
        (SELECT array_agg(lower(c)) FROM unnest(serve.filter_list(filters, 'cities')) c),
        serve.filter_list(filters, 'accounts'),
        -- plates in any spelling, or IMEIs (which the plate rule leaves as they are)
        (SELECT array_agg(serve.normalize_plate(v)) FROM unnest(serve.filter_list(filters, 'vehicles')) v)
    )::serve.filter_set
$$;
