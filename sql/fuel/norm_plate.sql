-- Plates: the fleet's one plate rule (serve.normalize_plate), after the mapping table, with the
-- letter O / I typed for 0 / 1 in the digit block of a Kenyan plate ("KCA 5O2Q") put right.
CREATE OR REPLACE FUNCTION fuel.norm_plate(car text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    k text := serve.normalize_plate(car);
    mapped text;
    m text[];
BEGIN
    IF k IS NULL THEN RETURN NULL; END IF;
    mapped := fuel.mapped('plate', car);
    IF mapped IS NOT NULL THEN RETURN serve.normalize_plate(mapped); END IF;
    -- Kenyan (KCA 542Q, GKB 123A) and Ugandan (UAB 123C) plates: three digits between letters.
    m := regexp_match(k, '^(K[A-Z]{2}|GK[A-Z]|U[A-Z]{2})([0-9OI]{3})([A-Z])$');
    IF m IS NOT NULL AND m[2] ~ '[0-9]' THEN
        RETURN m[1] || translate(m[2], 'OI', '01') || m[3];
    END IF;
    RETURN k;
END $$;
COMMENT ON FUNCTION fuel.norm_plate(text) IS
    'The plate key of a fill: fuel.mappings (kind plate) first, else serve.normalize_plate with O/I typed for 0/1 in a plate''s digit block put right.';
