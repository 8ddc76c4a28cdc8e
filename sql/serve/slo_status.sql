-- ---------------------------------------------------------------------------------------------
-- Views (ARCHITECTURE §6): each answers {summary, geojson, slo_status} in one call.
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION serve.slo_status() RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'metric', metric, 'status', status, 'value', value, 'threshold', threshold,
               'comparator', comparator, 'unit', unit, 'description', description,
               'since_local', serve.local_time(since)) ORDER BY metric), '[]'::jsonb)
      FROM slo.v_current_status
$$;
