-- The one plate normaliser (ARCHITECTURE §6): upper case, letters and digits only.
CREATE OR REPLACE FUNCTION serve.normalize_plate(plate text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT AS $$
    SELECT nullif(regexp_replace(upper(plate), '[^A-Z0-9]', '', 'g'), '')
$$;
COMMENT ON FUNCTION serve.normalize_plate(text) IS 'Canonical plate key: "kca 542-q" -> "KCA542Q". NULL when nothing is left.';
