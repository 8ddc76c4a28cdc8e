CREATE OR REPLACE FUNCTION serve.at_most(n bigint, max bigint, message text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n > max THEN
        RAISE EXCEPTION '%', message USING ERRCODE = '22023';
    END IF;
    RETURN n;
END $$;
COMMENT ON FUNCTION serve.at_most(bigint, bigint, text) IS 'n, or a 400-class error (SQLSTATE 22023) with message when n > max.';
