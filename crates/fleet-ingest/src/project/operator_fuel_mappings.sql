-- Operator actions: a spelling named (POST /api/fuel/mappings). The key is fuel.lookup_key of
-- the spelling, so "Ops & Logs" and "OPS/LOGS" are one mapping; the newest action wins.
INSERT INTO fuel.mappings AS m (kind, raw_value, canonical, created_at, actor, raw_id)
SELECT DISTINCT ON (x.kind, fuel.lookup_key(x.raw_value))
       x.kind, fuel.lookup_key(x.raw_value), btrim(x.canonical), x.received_at, x.actor, x.raw_id
  FROM jsonb_to_recordset($1::jsonb) AS x(kind text, raw_value text, canonical text, actor text, raw_id bigint,
                                          received_at timestamptz)
 WHERE x.kind IN ('plate', 'fuel_type', 'department') AND fuel.lookup_key(x.raw_value) IS NOT NULL
   AND nullif(btrim(x.canonical), '') IS NOT NULL
 ORDER BY x.kind, fuel.lookup_key(x.raw_value), x.raw_id DESC
ON CONFLICT (kind, raw_value) DO UPDATE
   SET canonical = excluded.canonical, created_at = excluded.created_at, actor = excluded.actor, raw_id = excluded.raw_id
 WHERE m.raw_id IS NULL OR m.raw_id < excluded.raw_id
