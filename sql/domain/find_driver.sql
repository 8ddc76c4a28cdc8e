CREATE OR REPLACE FUNCTION domain.find_driver(driver_name text, driver_phone text, employee_no text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT d.driver_id
      FROM domain.drivers d
     WHERE ($3 IS NOT NULL AND d.employee_no = $3)
        OR ($3 IS NULL AND d.employee_no IS NULL AND lower(d.name) = lower($1) AND d.phone IS NOT DISTINCT FROM $2)
     ORDER BY d.driver_id
     LIMIT 1
$$;
COMMENT ON FUNCTION domain.find_driver(text, text, text) IS
    'The driver a registry row means: by employee number when it has one, else by name (any case) and phone.';
