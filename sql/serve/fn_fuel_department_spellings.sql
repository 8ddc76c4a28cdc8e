-- Every spelling with its department and how it was decided; the departments; the suggestions.
CREATE OR REPLACE FUNCTION serve.fn_fuel_department_spellings(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH s AS MATERIALIZED (SELECT d.* FROM fuel.department_spellings d, serve.check_filters(filters) c)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'spellings', (SELECT count(*) FROM s), 'departments', (SELECT count(DISTINCT canonical) FROM s),
            'suggestions', (SELECT count(*) FROM s WHERE decided_by = 'suggestion'),
            'refreshed_local', (SELECT serve.local_time(max(refreshed_at)) FROM s)),
        'departments', (SELECT coalesce(jsonb_agg(jsonb_build_object('department', canonical, 'records', n, 'spellings', k)
                                                  ORDER BY n DESC, canonical), '[]')
                          FROM (SELECT canonical, sum(records) AS n, count(*) AS k FROM s GROUP BY canonical) d),
        'suggestions', (SELECT coalesce(jsonb_agg(jsonb_build_object('spelling', spelling, 'records', records, 'canonical', canonical,
                                                                   'suggestion', suggestion, 'reason', reason)
                                                  ORDER BY records DESC, spelling), '[]')
                          FROM s WHERE decided_by = 'suggestion'),
        'rows', (SELECT coalesce(jsonb_agg(jsonb_build_object('spelling', spelling, 'records', records, 'canonical', canonical,
                                                            'decided_by', decided_by, 'suggestion', suggestion, 'reason', reason)
                                           ORDER BY canonical, records DESC, spelling), '[]')
                   FROM s))
$$;
