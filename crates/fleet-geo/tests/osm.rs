//! The OSM loader against the real Monaco extract: a routable graph (pgRouting finds a route
//! along the loaded roads), fuel stations as POIs, vector tiles with streets where Monaco is and
//! nothing out at sea; a reload replaces, not duplicates. (The tile endpoint over HTTP is tested
//! in `fleet-serve`.)

use fleet_geo::{MONACO_PBF, osm};
use fleet_testkit::TestDb;
use sqlx::PgPool;

async fn scalar(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// The tile (x, y) holding a point at zoom z (Web Mercator, as ST_TileEnvelope numbers them).
fn tile_of(lat: f64, lng: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lng + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    (x as u32, y as u32)
}

/// The zoom-14 tile over a point.
async fn tile(pool: &PgPool, lat: f64, lng: f64) -> Vec<u8> {
    let (x, y) = tile_of(lat, lng, 14);
    sqlx::query_scalar("SELECT geo.tile(14, $1, $2)")
        .bind(x as i32)
        .bind(y as i32)
        .fetch_one(pool)
        .await
        .expect("tile")
}

#[tokio::test]
async fn monaco_loads_as_a_routable_graph_with_stations_and_tiles() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let r = osm::load(pool, MONACO_PBF).await.expect("load");
    assert!(r.ways > 1_000 && r.vertices > 500, "{r:?}");
    assert_eq!(
        r.ways as i64,
        scalar(pool, "SELECT count(*) FROM geo.ways").await
    );
    // Edges end at junctions: every edge's ends are vertices, and the graph is connected
    // enough that pgRouting routes between two far-apart vertices along the roads.
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM geo.ways w WHERE NOT EXISTS (SELECT FROM geo.ways_vertices_pgr v WHERE v.id = w.source) OR NOT EXISTS (SELECT FROM geo.ways_vertices_pgr v WHERE v.id = w.target)").await,
        0
    );
    // Junction splitting joins the streets: most vertices are in one connected network, and
    // pgRouting routes from its westernmost to its easternmost vertex along the roads.
    let (share, hops, km): (f64, i64, f64) = sqlx::query_as(
        "WITH cc AS MATERIALIZED (
              SELECT * FROM pgr_connectedComponents('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways')),
              big AS (SELECT component, count(*) AS n FROM cc GROUP BY 1 ORDER BY 2 DESC LIMIT 1),
              vs AS (SELECT v.id, ST_X(v.the_geom) AS x FROM cc JOIN big USING (component) JOIN geo.ways_vertices_pgr v ON v.id = cc.node),
              route AS (SELECT * FROM pgr_dijkstra('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways',
                             (SELECT id FROM vs ORDER BY x, id LIMIT 1), (SELECT id FROM vs ORDER BY x DESC, id LIMIT 1), false))
         SELECT (SELECT n FROM big)::float8 / (SELECT count(*) FROM geo.ways_vertices_pgr),
                (SELECT count(*) FROM route r JOIN geo.ways w ON w.gid = r.edge),
                (SELECT coalesce(sum(w.length_m), 0) / 1000 FROM route r JOIN geo.ways w ON w.gid = r.edge)",
    )
    .fetch_one(pool)
    .await
    .expect("route");
    assert!(
        share > 0.8,
        "only {share:.2} of the vertices are in the main network"
    );
    assert!(
        hops > 10 && km > 1.0,
        "route across Monaco: {hops} edges, {km} km"
    );
    // Fuel stations are POIs of kind fuel, inside Monaco.
    assert!(scalar(pool, "SELECT count(*) FROM geo.pois WHERE kind = 'fuel'").await >= 1);
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM geo.pois WHERE NOT (ST_Y(geom) BETWEEN 43.6 AND 43.8 AND ST_X(geom) BETWEEN 7.3 AND 7.5)").await,
        0
    );
    // A reload replaces the graph and updates POIs in place; segment ids survive it (they are
    // the OSM way and node pair's), and are the parser's own.
    let ids = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT gid FROM geo.ways ORDER BY gid")
            .fetch_all(&pool)
            .await
            .expect("gids")
    };
    let before = ids(pool.clone()).await;
    let again = osm::load(pool, MONACO_PBF).await.expect("reload");
    assert_eq!(again, r);
    assert_eq!(ids(pool.clone()).await, before);
    let mut parsed: Vec<i64> = osm::parse(MONACO_PBF)
        .expect("parse")
        .ways
        .iter()
        .map(|w| w.gid)
        .collect();
    parsed.sort();
    assert_eq!(parsed, before);
    // the swap keeps the table's indexes under their names
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'geo' AND tablename IN ('ways', 'ways_vertices_pgr') ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    assert_eq!(
        indexes,
        [
            "ways_geom_idx",
            "ways_pkey",
            "ways_source_idx",
            "ways_target_idx",
            "ways_vertices_geom_idx",
            "ways_vertices_pgr_pkey"
        ]
    );
    // one-way rows are stored drawn the way they are driven: forward cost, no reverse
    assert_eq!(
        scalar(
            pool,
            "SELECT count(*) FROM geo.ways WHERE one_way AND (reverse_cost >= 0 OR cost < 0)"
        )
        .await,
        0
    );
    assert_eq!(
        r.pois as i64,
        scalar(pool, "SELECT count(*) FROM geo.pois").await
    );

    // Tiles: streets (and stations, from zoom 12) over Monaco; an empty tile at sea.
    let monaco = tile(pool, 43.7384, 7.4246).await;
    assert!(monaco.len() > 200, "{} bytes", monaco.len());
    assert!(monaco.windows(5).any(|w| w == b"roads"), "a roads layer");
    let sea = tile(pool, 43.0, 7.0).await;
    assert!(sea.is_empty(), "{} bytes at sea", sea.len());
}

#[tokio::test]
async fn a_much_smaller_graph_is_refused_unless_asked_and_the_live_one_kept() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let andorra = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/osm/andorra.osm.pbf"
    ))
    .expect("andorra");
    osm::load(pool, &andorra).await.expect("andorra");
    // make the live graph look like a country: ten more copies of every segment
    sqlx::query(
        "INSERT INTO geo.ways (gid, osm_id, source, target, length_m, cost, reverse_cost, the_geom)
         SELECT -(n * 100 + k), osm_id, source, target, length_m, cost, reverse_cost, the_geom
           FROM (SELECT *, row_number() OVER () AS n FROM geo.ways) w, generate_series(1, 10) k",
    )
    .execute(pool)
    .await
    .expect("inflate");
    let live = scalar(pool, "SELECT count(*) FROM geo.ways").await;
    let e = osm::load(pool, MONACO_PBF).await.expect_err("shrink");
    assert!(e.to_string().contains("--replace-smaller"), "{e}");
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM geo.ways").await,
        live,
        "the live graph is kept"
    );
    let big = osm::OsmReport {
        ways: live as usize,
        ..Default::default()
    };
    // a garbage file changes nothing either
    assert!(osm::load(pool, b"not a pbf").await.is_err());
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM geo.ways").await,
        big.ways as i64
    );
    let small = osm::load_with(pool, MONACO_PBF, osm::LoadOptions { allow_shrink: true })
        .await
        .expect("asked for");
    assert_eq!(
        scalar(pool, "SELECT count(*) FROM geo.ways").await,
        small.ways as i64
    );
    assert_eq!(
        scalar(
            pool,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'geo' AND tablename LIKE '%\\_next'"
        )
        .await,
        0,
        "no staging tables left"
    );
}

#[tokio::test]
async fn an_extract_without_roads_is_refused_with_a_clear_error() {
    let db = TestDb::new().await;
    let e = osm::load(&db.pool, b"not a pbf")
        .await
        .expect_err("garbage");
    assert!(e.to_string().contains("cannot read the OSM extract"), "{e}");
}
