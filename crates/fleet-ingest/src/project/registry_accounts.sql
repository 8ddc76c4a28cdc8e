-- Registry: the vendor sub-accounts named by a device report or an import row.
INSERT INTO domain.accounts (account)
SELECT DISTINCT x.account
  FROM jsonb_to_recordset($1::jsonb) AS x(account text)
 WHERE length(x.account) BETWEEN 1 AND 100
 ORDER BY 1
ON CONFLICT (account) DO NOTHING
