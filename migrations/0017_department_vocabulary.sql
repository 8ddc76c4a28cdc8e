-- Departments a fleet has not registered (issue 6, §3): a fuel log's typos were only put right
-- against the mapping table and the registry's cost centres, so a client with neither kept
-- "Opertions", "Feild Service" and "Logistcs" as departments of their own.
--
-- 1. fuel.department_vocabulary: common department names, matched after the client's own names
--    (mappings and cost centres win: "Projects" becomes a registered "Project").
-- 2. A typo never changes a number: "Team 3" is not "Team 2".

CREATE TABLE fuel.department_vocabulary (
    name text PRIMARY KEY
);
COMMENT ON TABLE fuel.department_vocabulary IS
    'Common department names that fuel.canon_department matches typos against when the fleet''s own (fuel.mappings, domain.cost_centres) are not close; operators may add or remove rows.';
INSERT INTO fuel.department_vocabulary (name) VALUES
    ('Administration'), ('Customer Service'), ('Distribution'), ('Engineering'), ('Field Service'),
    ('Finance'), ('Human Resources'), ('Installations'), ('Logistics'), ('Maintenance'),
    ('Management'), ('Marketing'), ('Operations'), ('Procurement'), ('Projects'), ('Sales'),
    ('Security'), ('Stores'), ('Technical'), ('Transport');

CREATE OR REPLACE FUNCTION fuel.canon_department(department text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH w AS (SELECT fuel.department_words(replace(upper(department), '&', ' AND ')) AS words),
    known AS (
        SELECT DISTINCT canonical AS name, 0 AS rank FROM fuel.mappings WHERE kind = 'department'
        UNION SELECT name, 0 FROM domain.cost_centres WHERE name IS NOT NULL
        UNION SELECT name, 1 FROM fuel.department_vocabulary
    ), scored AS (
        SELECT k.name, k.rank, fuel.lookup_key(k.name) AS key, fuel.lookup_key(w.words) AS spelled
          FROM known k, w
    )
    SELECT coalesce(
        fuel.mapped('department', department),
        (SELECT s.name FROM scored s
          WHERE s.key = s.spelled
             OR (length(s.spelled) >= 5 AND levenshtein(s.key, s.spelled) <= 2
                 AND translate(s.key, 'abcdefghijklmnopqrstuvwxyz', '') = translate(s.spelled, 'abcdefghijklmnopqrstuvwxyz', ''))
          ORDER BY s.rank, levenshtein(s.key, s.spelled), s.name LIMIT 1),
        (SELECT initcap(lower(w.words)) FROM w))
$$;
COMMENT ON FUNCTION fuel.canon_department(text) IS
    'A department from any spelling: fuel.mappings, else abbreviations spelled out and matched within two typos (never a different number) to the fleet''s departments, else to a common department name, else the cleaned name.';
