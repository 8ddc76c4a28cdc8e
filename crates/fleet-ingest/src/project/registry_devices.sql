-- Registry: every device the vendor reports or an import lists, under its account (the latest
-- report names the account; an empty model or SIM never erases a known one). A device seen for
-- the first time starts 'active' ('provisioned' when the vendor says it is disabled) and that
-- first state opens its lifecycle history; after that, lifecycle changes only by admin
-- transitions (ARCHITECTURE §1 rule 6).
WITH input AS (
    SELECT DISTINCT ON (x.imei) x.imei, x.account, x.model, x.sim, x.enabled, x.source, x.raw_id, x.received_at
      FROM jsonb_to_recordset($1::jsonb) AS x(imei text, account text, model text, sim text, enabled boolean,
                                              source text, raw_id bigint, received_at timestamptz)
     WHERE x.imei ~ '^[0-9A-Za-z]{6,20}$' AND length(x.account) BETWEEN 1 AND 100
     ORDER BY x.imei, x.raw_id DESC
), upserted AS (
    INSERT INTO domain.devices AS d (imei, account, model, sim, lifecycle, lifecycle_changed_at)
    SELECT imei, account, model, sim, CASE WHEN enabled IS false THEN 'provisioned' ELSE 'active' END, received_at
      FROM input
     ORDER BY imei
    ON CONFLICT (imei) DO UPDATE SET
        account = excluded.account,
        model = coalesce(excluded.model, d.model),
        sim = coalesce(excluded.sim, d.sim)
    RETURNING d.imei, d.lifecycle, (xmax = 0) AS inserted
)
INSERT INTO domain.device_lifecycle_events (imei, from_state, to_state, changed_at, actor, reason, raw_id)
SELECT u.imei, NULL, u.lifecycle, i.received_at,
       CASE WHEN i.source = 'csv_import' THEN 'registry import' ELSE 'vendor device sync' END,
       'first seen', i.raw_id
  FROM upserted u
  JOIN input i USING (imei)
 WHERE u.inserted
