-- Search for GET /api/geo/search: the fleet's plates (by their normalised form: prefix or
-- inside) and the loaded extract's places, points of interest and streets (geo.search_names:
-- a name or a word of it that starts as typed, or a word similar by trigrams — typos), best first: an
-- exact name, then a name that starts so, then a word that starts so, then similarity; places
-- before POIs before streets on a tie, nearer `p_near` first when given. The candidates are
-- bounded and found by index — up to 100 names that start so, 200 with a word that starts so,
-- 200 with one of the 20 words most like the query's first word — so a country's names answer
-- about as fast as a town's. The candidates are
-- bounded (100 by prefix, 100 by word, the 100 most similar), so a country's names answer as
-- fast as a town's.
CREATE OR REPLACE FUNCTION geo.search(p_q text, p_limit integer, p_near geometry DEFAULT NULL)
RETURNS TABLE (kind text, name text, detail text, ref text, lng double precision, lat double precision, score real)
LANGUAGE sql STABLE AS $$
    WITH q AS (SELECT lower(btrim(p_q)) AS q, serve.normalize_plate(p_q) AS plate,
                      coalesce(nullif(split_part(regexp_replace(lower(btrim(p_q)), '[^[:alnum:]]+', ' ', 'g'), ' ', 1), ''),
                               lower(btrim(p_q))) AS first),
    found AS (
        SELECT 'vehicle'::text AS kind, v.vehicle_number AS name, v.assigned_city AS detail, v.vehicle_number AS ref,
               NULL::float8 AS lng, NULL::float8 AS lat,
               (CASE WHEN v.plate_key = q.plate THEN 3.0 WHEN v.plate_key LIKE q.plate || '%' THEN 2.5 ELSE 2.0 END)::real AS score,
               0 AS rank, NULL::geometry AS geom
          FROM q, domain.vehicles v
         WHERE length(q.plate) >= 2 AND v.plate_key LIKE '%' || q.plate || '%'
        UNION ALL
        SELECT s.kind, s.name, s.detail, s.ref, ST_X(s.geom), ST_Y(s.geom),
               (CASE WHEN lower(s.name) = q.q THEN 1.5
                     WHEN lower(s.name) LIKE q.q || '%' THEN 1.2
                     WHEN lower(s.name) LIKE '% ' || q.q || '%' THEN 1.0
                     WHEN lower(s.name) LIKE '%' || q.q || '%' THEN 0.6
                     ELSE 0 END + greatest(similarity(lower(s.name), q.q), word_similarity(q.q, lower(s.name))))::real,
               CASE s.kind WHEN 'place' THEN 1 WHEN 'poi' THEN 2 ELSE 3 END, s.geom
          FROM q, geo.search_names s
         WHERE s.id IN (
             -- names that start so, in order (a range of the C-collated index: from the query to
             -- the query followed by the last code point)
             (SELECT x.id FROM geo.search_names x
               WHERE (lower(x.name) COLLATE "C") >= (SELECT q FROM q)
                 AND (lower(x.name) COLLATE "C") < (SELECT q || chr(1114111) FROM q)
               ORDER BY lower(x.name) COLLATE "C" LIMIT 100)
             UNION ALL
             -- names with a word that starts so (the query's first word)
             (SELECT w.id FROM geo.search_words w
               WHERE w.word >= (SELECT first FROM q) AND w.word < (SELECT first || chr(1114111) FROM q) LIMIT 200)
             UNION ALL
             -- names with a word like it (a typo): the most similar distinct words first
             (SELECT w.id FROM (SELECT v.word FROM geo.search_vocabulary v
                                 WHERE v.word % (SELECT first FROM q)
                                 ORDER BY similarity(v.word, (SELECT first FROM q)) DESC, v.names DESC LIMIT 20) v
                 JOIN geo.search_words w ON w.word = v.word LIMIT 200))
           AND (lower(s.name) LIKE '%' || q.q || '%' OR lower(s.name) % q.q OR word_similarity(q.q, lower(s.name)) >= 0.3)
    )
    SELECT f.kind, f.name, f.detail, f.ref, f.lng, f.lat, f.score
      FROM found f
     ORDER BY f.score DESC, f.rank, CASE WHEN p_near IS NOT NULL AND f.geom IS NOT NULL THEN f.geom <-> p_near END NULLS LAST, f.name
     LIMIT p_limit
$$;
COMMENT ON FUNCTION geo.search(text, integer, geometry) IS
    'GET /api/geo/search: plates, places, POIs and streets of the extract by prefix, word and trigram similarity, best first.';
