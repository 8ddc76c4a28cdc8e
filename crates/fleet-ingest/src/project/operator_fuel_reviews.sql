-- Operator actions: a flagged fill reviewed (POST /api/fuel/fills/{record_id}/review): approve
-- (it counts, flags kept), void (it leaves the totals) or reopen; the newest review wins.
INSERT INTO fuel.fill_reviews AS v (record_id, state, reason, actor, reviewed_at, raw_id)
SELECT DISTINCT ON (x.record_id) x.record_id,
       CASE x.action WHEN 'approve' THEN 'approved' WHEN 'void' THEN 'voided' ELSE 'open' END,
       nullif(btrim(x.reason), ''), x.actor, x.received_at, x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(record_id text, action text, reason text, actor text, raw_id bigint,
                                          received_at timestamptz)
 WHERE x.action IN ('approve', 'void', 'reopen')
 ORDER BY x.record_id, x.raw_id DESC
ON CONFLICT (record_id) DO UPDATE
   SET state = excluded.state, reason = excluded.reason, actor = excluded.actor, reviewed_at = excluded.reviewed_at,
       raw_id = excluded.raw_id
 WHERE v.raw_id < excluded.raw_id
