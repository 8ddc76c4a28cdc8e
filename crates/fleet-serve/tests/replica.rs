//! Read replicas against a real hot standby of the test server (pg_basebackup -R, streaming):
//! the views read from the standby while it is within `slo.targets` `replica_lag_sec`, see the
//! primary's writes as they stream, fall back to the primary past the threshold or when the
//! standby goes away (a read already sent to it is retried on the primary), and report where they
//! read and how far behind that is.

use std::time::Duration;

use fleet_core::health::Liveness;
use fleet_ingest::{registry, worker};
use fleet_serve::Health;
use fleet_serve::gateway::{GatewayConfig, areas_reading};
use fleet_serve::reads::{Reads, Source};
use fleet_testkit::TestDb;
use fleet_testkit::standby::Standby;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

mod common;

const SECRET: &[u8] = b"replica-test-secret-replica-test-secret";

async fn push(pool: &PgPool, imei: &str, lat: f64) {
    let list = serde_json::json!([{"deviceImei": imei, "gpsTime": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        "lat": lat, "lng": 36.82, "gpsSpeed": "20", "acc": "1"}]);
    fleet_testkit::store_pushgps(pool, &list).await;
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

async fn live(base: &str, token: &str) -> (String, Value) {
    let res = fleet_testkit::http()
        .get(format!("{base}/api/views/live"))
        .bearer_auth(token)
        .send()
        .await
        .expect("live view");
    assert_eq!(res.status(), 200);
    let from = res
        .headers()
        .get("x-fleet-read-from")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (from, res.json().await.expect("json"))
}

/// Vehicles with a position.
fn vehicles(v: &Value) -> usize {
    v["geojson"]["features"]
        .as_array()
        .map_or(0, |f| f.iter().filter(|f| !f["geometry"].is_null()).count())
}

#[tokio::test]
async fn views_read_from_a_streaming_standby_and_fall_back_to_the_primary() {
    let db = TestDb::new().await;
    registry::append(
        &db.pool,
        b"IMEI,Number Plate,Department\n862798050000001,KCA 542Q,OPS\n862798050000002,KBZ 001A,OPS\n",
        "fleet.csv",
        Some("test"),
    )
    .await
    .expect("registry");
    push(&db.pool, "862798050000001", -1.28).await;

    let mut standby = Standby::start().await;
    let replica = fleet_store::connect_lazy(&standby.url(&db.name), 4).expect("replica pool");
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&replica)
        .await
        .expect("standby answers");
    assert!(in_recovery, "a real standby");
    let write = sqlx::query("DELETE FROM slo.targets")
        .execute(&replica)
        .await;
    assert!(write.is_err(), "the standby refuses writes");

    let reads = Reads::with_replica(db.pool.clone(), replica.clone());
    assert_eq!(
        reads.choose().1,
        Source::Primary,
        "not measured yet: the primary"
    );
    let s = reads.check().await.expect("status");
    assert_eq!(s.reading_from, Source::Replica, "{s:?}");
    assert_eq!(s.max_lag_seconds, 30.0, "the threshold of slo.targets");
    assert!(s.lag_seconds.is_some_and(|l| l < 30.0), "{s:?}");

    let live_role = Liveness::new("gateway", Duration::from_secs(30));
    live_role.tick();
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(&db.pool, &auth).await;
    let routes = areas_reading(
        db.pool.clone(),
        reads.clone(),
        GatewayConfig::reads_only(auth),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let monitor = CancellationToken::new();
    tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(
            Health::new(db.pool.clone(), vec![live_role.clone()]),
            routes,
        ),
        CancellationToken::new(),
    ));
    tokio::spawn(reads.clone().monitor(live_role.clone(), monitor.clone()));

    // tokens are checked on the primary: only the views read from the replica
    let (from, body) = live(&base, &token).await;
    assert_eq!(from, "replica");
    assert_eq!(body["read_from"]["source"], "replica");
    assert!(
        body["read_from"]["lag_seconds"].is_number(),
        "{}",
        body["read_from"]
    );
    assert_eq!(vehicles(&body), 1, "{body}");

    // a write on the primary streams to the standby and shows in the replica's answer
    push(&db.pool, "862798050000002", -1.29).await;
    let seen = fleet_testkit::eventually(Duration::from_secs(20), || {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let (from, body) = live(&base, &token).await;
            (from == "replica" && vehicles(&body) == 2).then_some(())
        }
    })
    .await;
    assert!(
        seen.is_some(),
        "the standby never showed the second vehicle"
    );

    // the health of the gateway carries the replica's status
    let health: Value = fleet_testkit::eventually(Duration::from_secs(10), || {
        let base = base.clone();
        async move {
            let h: Value = fleet_testkit::http()
                .get(format!("{base}/health/gateway"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            h["facts"]["replica"].is_object().then_some(h)
        }
    })
    .await
    .expect("a replica fact");
    assert_eq!(
        health["facts"]["replica"]["reading_from"], "replica",
        "{health}"
    );

    // past the threshold of slo.targets: the primary
    sqlx::query("UPDATE slo.targets SET threshold = -1 WHERE metric = 'replica_lag_sec'")
        .execute(&db.pool)
        .await
        .expect("threshold");
    let s = reads.check().await.expect("status");
    assert_eq!(s.reading_from, Source::Primary);
    assert!(
        s.reason
            .as_deref()
            .unwrap_or_default()
            .contains("threshold"),
        "{s:?}"
    );
    let (from, body) = live(&base, &token).await;
    assert_eq!(from, "primary");
    assert_eq!(body["read_from"]["source"], "primary");
    assert_eq!(vehicles(&body), 2);
    sqlx::query("UPDATE slo.targets SET threshold = 30 WHERE metric = 'replica_lag_sec'")
        .execute(&db.pool)
        .await
        .expect("threshold");
    assert_eq!(
        reads.check().await.expect("status").reading_from,
        Source::Replica
    );

    // the standby goes away: a read already routed to it is answered by the primary, and the
    // next check sends every read there
    monitor.cancel(); // no monitor racing the assertions below
    standby.stop();
    assert_eq!(reads.choose().1, Source::Replica, "not noticed yet");
    let (from, body) = live(&base, &token).await;
    assert_eq!(from, "primary", "retried on the primary");
    assert_eq!(vehicles(&body), 2);
    let s = reads.check().await.expect("status");
    assert_eq!(s.reading_from, Source::Primary);
    assert!(
        s.reason
            .as_deref()
            .unwrap_or_default()
            .contains("cannot be read"),
        "{s:?}"
    );
}
