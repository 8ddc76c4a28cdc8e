-- Registry: cost centres (departments) named by import rows, as written.
INSERT INTO domain.cost_centres (code, name)
SELECT DISTINCT x.cost_centre, x.cost_centre
  FROM jsonb_to_recordset($1::jsonb) AS x(cost_centre text)
 WHERE x.cost_centre IS NOT NULL
 ORDER BY 1
ON CONFLICT (code) DO NOTHING
