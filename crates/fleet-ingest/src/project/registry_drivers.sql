-- Registry: drivers, identified by employee number when the row has one, else by name and
-- phone. A known driver gets the row's phone and cost centre when given.
WITH input AS (
    SELECT DISTINCT ON (coalesce('#' || x.employee_no, lower(x.driver_name) || '|' || coalesce(x.driver_phone, '')))
           x.driver_name, x.driver_phone, x.employee_no, x.cost_centre
      FROM jsonb_to_recordset($1::jsonb) AS x(driver_name text, driver_phone text, employee_no text,
                                              cost_centre text, raw_id bigint, line integer)
     WHERE x.driver_name IS NOT NULL
     ORDER BY coalesce('#' || x.employee_no, lower(x.driver_name) || '|' || coalesce(x.driver_phone, '')), x.raw_id DESC, x.line DESC
)
INSERT INTO domain.drivers AS d (name, phone, employee_no, cost_centre)
SELECT i.driver_name, i.driver_phone, i.employee_no, i.cost_centre
  FROM input i
 WHERE i.employee_no IS NOT NULL
    OR domain.find_driver(i.driver_name, i.driver_phone, NULL) IS NULL
 ORDER BY i.employee_no, i.driver_name
ON CONFLICT (employee_no) DO UPDATE SET
    name = excluded.name,
    phone = coalesce(excluded.phone, d.phone),
    cost_centre = coalesce(excluded.cost_centre, d.cost_centre)
