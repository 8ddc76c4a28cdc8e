-- The operations page's contract-check panel: each target's latest run and, per vendor method,
-- what it found (fields that broke the typed contract), plus the recent runs.
CREATE OR REPLACE FUNCTION serve.fn_contract_checks(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH f AS (SELECT serve.check_filters(filters) AS f),
    latest AS (
        SELECT DISTINCT ON (r.target) r.*
          FROM ops.contract_runs r
         WHERE r.outcome <> 'running'
         ORDER BY r.target, r.started_at DESC
    )
    SELECT jsonb_build_object(
        'latest', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', l.target, 'outcome', l.outcome, 'methods_checked', l.methods_checked,
                       'problems', l.problems, 'finished_local', serve.local_time(l.finished_at),
                       'methods', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                      'method', c.method, 'outcome', c.outcome, 'records', c.records,
                                      'problems', c.problems, 'duration_ms', c.duration_ms) ORDER BY c.outcome <> 'ok' DESC, c.method), '[]')
                                     FROM ops.contract_results c WHERE c.run_id = l.run_id))
                   ORDER BY l.target)
              FROM latest l), '[]'),
        'runs', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'target', r.target, 'outcome', r.outcome, 'methods_checked', r.methods_checked,
                       'problems', r.problems, 'started_local', serve.local_time(r.started_at),
                       'finished_local', serve.local_time(r.finished_at)) ORDER BY r.started_at DESC)
              FROM (SELECT * FROM ops.contract_runs ORDER BY started_at DESC LIMIT 20) r), '[]'))
      FROM f
$$;
COMMENT ON FUNCTION serve.fn_contract_checks(jsonb) IS
    'GET /api/analytics/contract-checks: per vendor target the latest contract check with each method''s problems, and the 20 newest runs.';
