CREATE OR REPLACE VIEW slo.v_current_status AS
WITH latest AS (
    SELECT DISTINCT ON (m.metric) m.metric, m.measured_at, m.value, m.samples
      FROM slo.measurements m
     WHERE m.measured_at > now() - interval '1 day'
     ORDER BY m.metric, m.measured_at DESC
)
SELECT t.metric, t.threshold, t.comparator, t.unit, t.description,
       l.value, l.measured_at,
       CASE slo.meets(l.value, t.comparator, t.threshold)
            WHEN true THEN 'met' WHEN false THEN 'not_met' ELSE 'no_data' END AS status,
       (SELECT min(m2.measured_at) FROM slo.measurements m2
         WHERE m2.metric = t.metric AND m2.measured_at > now() - interval '1 day'
           AND m2.measured_at > coalesce((
                SELECT max(m3.measured_at) FROM slo.measurements m3
                 WHERE m3.metric = t.metric AND m3.measured_at > now() - interval '1 day'
                   AND slo.meets(m3.value, t.comparator, t.threshold) IS DISTINCT FROM slo.meets(l.value, t.comparator, t.threshold)),
                '-infinity')) AS since
  FROM slo.targets t
  LEFT JOIN latest l USING (metric)
 WHERE t.kind = 'slo';
COMMENT ON VIEW slo.v_current_status IS 'Each SLO: latest value, met / not_met / no_data against its target, and since when it has been in that status.';
