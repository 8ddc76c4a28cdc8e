-- Registry: the cities vehicles are based in ("nairobi" and "Nairobi" are one city). The country
-- is the row's, else Uganda for the Ugandan cities the fleet serves, else Kenya.
INSERT INTO domain.assigned_cities (city, country_code)
SELECT DISTINCT ON (initcap(x.city)) initcap(x.city),
       coalesce(x.country, CASE WHEN lower(x.city) IN ('kampala', 'entebbe', 'jinja', 'gulu', 'mbarara') THEN 'UG' ELSE 'KE' END)
  FROM jsonb_to_recordset($1::jsonb) AS x(city text, country text, raw_id bigint)
 WHERE x.city IS NOT NULL
 ORDER BY initcap(x.city), x.raw_id DESC
ON CONFLICT (city) DO NOTHING
