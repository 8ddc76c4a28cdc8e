//! `fleet geo match` as a user runs it: a CSV trace matched against roads inserted into geo.ways
//! by hand with SQL (no OSM load), bad rows listed, an empty graph named.

use fleet_testkit::TestDb;

mod common;

fn fleet(db_url: &str, args: &[&str]) -> (bool, String, String) {
    common::outcome(common::one_shot(db_url, args).output().expect("run fleet"))
}

#[tokio::test]
async fn a_trace_is_matched_to_roads_inserted_by_hand() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("fleet-geo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("trace.csv");
    // eastwards along 36.8200..36.8290 at latitude -1.28, a fix every 10 s, one row unreadable
    let mut text = String::from("Timestamp,Latitude,Longitude\n");
    for k in 0..10 {
        text.push_str(&format!(
            "2026-11-23 08:00:{:02},{:.6},{:.6}\n",
            k * 5,
            -1.28 + 0.00004 * ((k % 3) as f64 - 1.0),
            36.8200 + 0.0009 * k as f64
        ));
    }
    text.push_str("2026-11-23 08:00:59,not-a-number,36.83\n");
    std::fs::write(&csv, text).expect("csv");
    let path = csv.display().to_string();

    let (ok, _, err) = fleet(&db.url, &["geo", "match", &path]);
    assert!(!ok);
    assert!(err.contains("fleet import osm"), "{err}");

    // two roads in a row, west to east, and a parallel one 300 m north; no topology columns
    sqlx::query(
        "INSERT INTO geo.ways (gid, length_m, cost, reverse_cost, the_geom) VALUES
         (10, ST_Length(ST_GeomFromText('LINESTRING(36.8195 -1.28, 36.8245 -1.28)', 4326)::geography), 40, 40, ST_GeomFromText('LINESTRING(36.8195 -1.28, 36.8245 -1.28)', 4326)),
         (11, ST_Length(ST_GeomFromText('LINESTRING(36.8245 -1.28, 36.8300 -1.28)', 4326)::geography), 40, -1, ST_GeomFromText('LINESTRING(36.8245 -1.28, 36.8300 -1.28)', 4326)),
         (12, 600, 40, 40, ST_GeomFromText('LINESTRING(36.8195 -1.2773, 36.8300 -1.2773)', 4326))",
    )
    .execute(&db.pool)
    .await
    .expect("ways");
    let (ok, out, err) = fleet(&db.url, &["geo", "match", &path, "--sigma", "8"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["edges"], serde_json::json!([10, 11]), "{v}");
    assert_eq!(v["forward"], serde_json::json!([true, true]));
    assert_eq!(v["fixes"].as_array().map(Vec::len), Some(10));
    assert!(
        v["fixes"]
            .as_array()
            .expect("fixes")
            .iter()
            .all(|f| f["distance_m"].as_f64().unwrap_or(99.0) < 10.0),
        "{v}"
    );
    assert_eq!(v["breaks"], serde_json::json!([]));
    assert_eq!(v["rejected"][0]["line"], 12);
    assert!(v["fixes_per_second"].as_f64().unwrap_or(0.0) > 0.0);

    let (ok, _, err) = fleet(&db.url, &["geo", "match", &path, "--sigma", "0"]);
    assert!(!ok && err.contains("--sigma"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
