-- A department in any spelling the feed uses (or its canonical name, in any case) as its
-- canonical name: how a filter value is read.
CREATE OR REPLACE FUNCTION fuel.department_of(spelling text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT d.canonical FROM fuel.department_spellings d WHERE d.spelling = btrim($1)),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.canonical) = fuel.lookup_key($1) LIMIT 1),
        (SELECT d.canonical FROM fuel.department_spellings d WHERE fuel.lookup_key(d.spelling) = fuel.lookup_key($1)
          ORDER BY d.records DESC, d.spelling LIMIT 1),
        btrim($1))
$$;
COMMENT ON FUNCTION fuel.department_of(text) IS 'The canonical department of a spelling the feed uses, or of a canonical name in any case.';
