CREATE OR REPLACE FUNCTION fuel.canon_fuel_type(fuel_type text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH k AS (SELECT fuel.lookup_key(fuel_type) AS k, regexp_replace(lower(fuel_type), '[^a-z]+', '', 'g') AS letters)
    SELECT coalesce(fuel.mapped('fuel_type', fuel_type), CASE
        WHEN k.k IS NULL THEN NULL
        -- AGO (automotive gas oil), gasoil, dizeli (Swahili) and the common misspellings of diesel
        WHEN k.letters ~ '(diesel|diesl|disel|disiel|deisel|desel|dizel|gasoil|^ago$|^dsl$|^ads$)' THEN 'diesel'
        -- PMS (premium motor spirit), super, unleaded, V-Power, petroli (Swahili)
        WHEN k.letters ~ '(petrol|petro|petrl|^pms$|super|unleaded|gasoline|^gas$|vpower|premium|^ulp$)' THEN 'petrol'
        -- mafuta ya taa (Swahili: lamp oil)
        WHEN k.letters ~ '(kerosene|kerosine|paraffin|^dpk$|^ik$|mafutayataa)' THEN 'kerosene'
        WHEN k.letters ~ '(^lpg$|autogas)' THEN 'lpg'
        WHEN k.letters ~ '^(adblue|def)$' THEN 'adblue'
        WHEN levenshtein(k.letters, 'diesel') <= 2 THEN 'diesel'
        WHEN levenshtein(k.letters, 'petrol') <= 2 THEN 'petrol'
        WHEN levenshtein(k.letters, 'kerosene') <= 2 THEN 'kerosene'
    END)
      FROM k
$$;
COMMENT ON FUNCTION fuel.canon_fuel_type(text) IS
    'diesel | petrol | kerosene | lpg | adblue from any spelling (DISIEL, "diesel ", AGO, PMS, V-Power, ...); fuel.mappings first; NULL when unrecognised.';
