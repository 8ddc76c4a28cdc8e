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

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
