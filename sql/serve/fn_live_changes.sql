-- One tick of the live stream (GET /api/views/live/stream) for one filters object: the features of
-- the units whose rows were written in the seq ranges [lo[i], hi[i]] (announced on fleet_live by
-- state.refresh_live_units), and of those whose computed state may have changed only because time
-- passed (their age went past the fresh, stale or offline threshold in [since, until), the
-- database's clock, found by the seen index; a state is "past" a threshold once age > it, so a
-- unit whose crossing is at `until` itself is the next tick's): operational state stays computed where it is computed today
-- (ARCHITECTURE rule 6). A unit of those that is gone, or that the filters no longer pick (a
-- "states" filter, a tracker moved away), is listed in `removed` with its seq.
CREATE OR REPLACE FUNCTION serve.fn_live_changes(filters jsonb, lo bigint[], hi bigint[],
                                                 since timestamptz, until timestamptz,
                                                 format text DEFAULT 'geojson')
RETURNS json LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
    keys text[];
    as_rows boolean := serve.live_format(format);
BEGIN
    keys := ARRAY(
        SELECT u.unit_key FROM unnest(lo, hi) r(lo, hi)
          JOIN state.live_units u ON u.seq BETWEEN r.lo AND r.hi
        UNION
        SELECT u.unit_key
          FROM serve.thresholds() t
         CROSS JOIN LATERAL unnest(ARRAY[t.fresh_s, t.stale_s, t.offline_s]) th(s)
          JOIN state.live_units u
            ON least(u.fix_time, u.received_at) >= since - make_interval(secs => th.s)
           AND least(u.fix_time, u.received_at) < until - make_interval(secs => th.s)
           AND NOT u.removed);
    RETURN (WITH picked AS MATERIALIZED (
                -- one of the two encodings built, never both (the function is inlined)
                SELECT f.unit_key, f.sort_key, CASE WHEN as_rows THEN f.compact ELSE f.feature END AS item
                  FROM serve.live_features(serve.check_filters(filters), keys) f),
            items AS (SELECT coalesce(json_agg(p.item ORDER BY p.sort_key COLLATE "C"), '[]'::json) AS j FROM picked p),
            gone AS (
                SELECT coalesce(json_agg(json_build_object('id', u.unit_key, 'seq', u.seq) ORDER BY u.unit_key COLLATE "C"),
                                '[]'::json) AS j
                  FROM state.live_units u
                 WHERE u.unit_key = ANY (keys)
                   AND NOT EXISTS (SELECT 1 FROM picked p WHERE p.unit_key = u.unit_key))
        SELECT CASE WHEN as_rows
                    THEN json_build_object('generated_at', now(), 'columns', serve.live_compact_columns(),
                                           'rows', i.j, 'removed', g.j)
                    ELSE json_build_object('generated_at', now(), 'features', i.j, 'removed', g.j) END
          FROM items i, gone g);
END $$;
COMMENT ON FUNCTION serve.fn_live_changes(jsonb, bigint[], bigint[], timestamptz, timestamptz, text) IS
    'A live-stream tick: the features (format compact: rows of serve.live_compact_columns) written in the seq ranges lo..hi or whose state changed with time between since and until, and the units that went or left the filters (removed: id, seq).';
