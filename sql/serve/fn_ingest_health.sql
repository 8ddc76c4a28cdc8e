CREATE OR REPLACE FUNCTION serve.fn_ingest_health(filters jsonb) RETURNS jsonb LANGUAGE sql STABLE SET jit = off AS $$
    WITH s AS (
        SELECT source, kind, max(received_at) AS last_received,
               count(*) FILTER (WHERE received_at > now() - interval '1 hour') AS last_hour,
               count(*) FILTER (WHERE parse_error IS NOT NULL AND received_at > now() - interval '1 hour') AS errors_last_hour,
               count(*) FILTER (WHERE parsed_at IS NULL) AS pending
          FROM events.raw
         WHERE received_at > now() - interval '1 day'
         GROUP BY source, kind),
    j AS (SELECT DISTINCT ON (job) job, outcome, started_at, finished_at, detail
            FROM ops.job_runs WHERE started_at > now() - interval '2 days'
           ORDER BY job, started_at DESC)
    SELECT jsonb_build_object(
        'summary', jsonb_build_object(
            'raw_last_hour', (SELECT coalesce(sum(last_hour), 0) FROM s),
            'errors_last_hour', (SELECT coalesce(sum(errors_last_hour), 0) FROM s),
            'pending', (SELECT coalesce(sum(pending), 0) FROM s),
            'last_received_local', (SELECT serve.local_time(max(last_received)) FROM s),
            'failed_jobs', (SELECT count(*) FROM j WHERE outcome = 'error')),
        'sources', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'source', source, 'kind', kind, 'last_received_local', serve.local_time(last_received),
            'age_s', round(extract(epoch FROM now() - last_received)::numeric), 'last_hour', last_hour,
            'errors_last_hour', errors_last_hour, 'pending', pending) ORDER BY source, kind), '[]'::jsonb) FROM s),
        'jobs', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'job', job, 'outcome', outcome, 'started_local', serve.local_time(started_at),
            'finished_local', serve.local_time(finished_at), 'detail', detail) ORDER BY job), '[]'::jsonb) FROM j),
        'slo_status', jsonb_build_object('slos', serve.slo_status()))
$$;
