CREATE OR REPLACE FUNCTION serve.colour(code text, configured text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN configured IS NOT NULL THEN configured
        WHEN code IS NULL THEN '#9e9e9e'
        ELSE (ARRAY['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b',
                    '#e377c2','#17becf','#bcbd22','#393b79','#ad494a','#637939'])[1 + abs(hashtext(code)) % 12]
    END
$$;
COMMENT ON FUNCTION serve.colour(text, text) IS
    'A cost centre''s map colour: its configured colour, else a stable palette entry; grey for none.';
