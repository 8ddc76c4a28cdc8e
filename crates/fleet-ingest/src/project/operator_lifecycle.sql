-- Operator actions: device lifecycle transitions (admin:fleet). Applied one by one in log order
-- by domain.apply_lifecycle, which accepts only legal transitions (domain.lifecycle_transitions)
-- and skips a transition it has already applied, so re-running a batch changes nothing.
SELECT domain.apply_lifecycle(coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.raw_id), '[]'::jsonb))
  FROM jsonb_to_recordset($1::jsonb) AS x(imei text, to_state text, actor text, reason text,
                                          raw_id bigint, received_at timestamptz)
