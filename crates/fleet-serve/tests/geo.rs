//! `POST /api/geo/match` over HTTP: a driven trace on the Monaco roads matched through the
//! gateway, the answers to no roads, bad GeoJSON, too many fixes and no token.

use fleet_core::rng::Rng;
use fleet_geo::matching::{MatchGraph, truth};
use fleet_serve::gateway::{GatewayConfig, areas};
use fleet_testkit::TestDb;
use serde_json::{Value, json};

mod common;

const SECRET: &[u8] = b"geo-test-secret-geo-test-secret-geo-test";

async fn gateway(db: &TestDb) -> (String, String) {
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(&db.pool, &auth).await;
    let routes = areas(db.pool.clone(), GatewayConfig::reads_only(auth));
    (common::serve(&db.pool, routes).await, token)
}

async fn post(base: &str, token: Option<&str>, path: &str, body: &Value) -> (u16, Value) {
    let mut req = fleet_testkit::http()
        .post(format!("{base}{path}"))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_trace_posted_as_geojson_is_matched_to_the_loaded_roads() {
    let db = TestDb::new().await;
    let (base, token) = gateway(&db).await;
    // a drive with known truth on the Monaco graph, as a FeatureCollection of timed points
    let parsed = fleet_geo::osm::parse(fleet_geo::MONACO_PBF).expect("monaco");
    let g = MatchGraph::new(&parsed.ways);
    let mut rng = Rng(3);
    let d = truth::drive(&g, &mut rng, 2000.0).expect("drive");
    let s = truth::sample(
        &g,
        d,
        truth::Sampling {
            interval_s: 10.0,
            noise_m: 8.0,
            outlier_rate: 0.0,
        },
        &mut rng,
    );
    let features: Vec<Value> = s
        .fixes
        .iter()
        .map(|f| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [f.at.lng, f.at.lat]},
                        "properties": {"time": 1_764_000_000.0 + f.time}}))
        .collect();
    let body = json!({"type": "FeatureCollection", "features": features});

    let (status, _) = post(&base, None, "/api/geo/match", &body).await;
    assert_eq!(status, 401);
    let (status, e) = post(&base, Some(&token), "/api/geo/match", &body).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("fleet import osm"),
        "{e}"
    );

    fleet_geo::osm::load(&db.pool, fleet_geo::MONACO_PBF)
        .await
        .expect("load roads");
    let (status, v) = post(&base, Some(&token), "/api/geo/match?sigma=8", &body).await;
    assert_eq!(status, 200, "{v}");
    let fixes = v["fixes"].as_array().expect("fixes");
    assert!(
        fixes.len() >= s.fixes.len() - 2,
        "{} of {}",
        fixes.len(),
        s.fixes.len()
    );
    // the loader's gids are the parser's: the truth's gids can be compared directly
    let right = fixes
        .iter()
        .filter(|f| {
            let i = f["i"].as_u64().unwrap_or(0) as usize;
            let t = g.edges[s.truth[i] as usize];
            f["gid"].as_i64() == Some(t.gid) && f["forward"].as_bool() == Some(t.forward)
        })
        .count();
    assert!(
        right * 10 >= fixes.len() * 8,
        "{right} of {} fixes on the right directed edge",
        fixes.len()
    );
    assert!(
        v["edges"].as_array().is_some_and(|e| e.len() >= 3),
        "{}",
        v["edges"]
    );

    // a LineString with its times works the same
    let line = json!({"type": "Feature", "geometry": {"type": "LineString",
        "coordinates": s.fixes.iter().map(|f| json!([f.at.lng, f.at.lat])).collect::<Vec<_>>()},
        "properties": {"times": s.fixes.iter().map(|f| json!(1_764_000_000.0 + f.time)).collect::<Vec<_>>()}});
    let (status, w) = post(&base, Some(&token), "/api/geo/match?sigma=8", &line).await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["edges"], v["edges"]);

    // bad input
    let (status, e) = post(
        &base,
        Some(&token),
        "/api/geo/match",
        &json!({"type": "Point"}),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = post(&base, Some(&token), "/api/geo/match?sigma=-1", &body).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{e}"
    );
    let many: Vec<Value> = (0..20_001)
        .map(|i| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [7.42, 43.73]}, "properties": {"time": i}}))
        .collect();
    let (status, e) = post(
        &base,
        Some(&token),
        "/api/geo/match",
        &json!({"type": "FeatureCollection", "features": many}),
    )
    .await;
    assert_eq!(status, 413, "{e}");
}
