-- The matcher's queue as of $1: rows waiting, and the lag of the oldest closed one: seconds
-- since it closed (match_settle_sec after its bucket ended) or was queued again, 0 if none.
WITH s AS (
    SELECT make_interval(secs => coalesce((SELECT threshold FROM slo.targets WHERE metric = 'match_settle_sec'), 30)) AS settle
)
SELECT count(*)::int8,
       coalesce(max(extract(epoch FROM $1 - greatest(q.bucket + geo.match_bucket_width() + s.settle, q.queued_at)))
                    FILTER (WHERE q.bucket + geo.match_bucket_width() + s.settle <= $1), 0)::float8
  FROM geo.match_queue q CROSS JOIN s
