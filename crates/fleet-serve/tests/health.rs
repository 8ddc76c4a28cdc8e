//! Health and metrics endpoints over real HTTP on loopback, against a real database.

use std::time::Duration;

use fleet_core::health::Liveness;
use fleet_serve::Health;
use fleet_testkit::TestDb;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn spawn(health: Health) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let token = CancellationToken::new();
    tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(health, axum::Router::new()),
        token.clone(),
    ));
    (base, token)
}

async fn get(url: &str) -> (u16, Value) {
    let res = fleet_testkit::http()
        .get(url)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn healthy_roles_answer_200_with_their_facts() {
    let db = TestDb::new().await;
    let gateway = Liveness::new("gateway", Duration::from_secs(30));
    let worker = Liveness::new("worker", Duration::from_secs(30));
    gateway.tick();
    worker.tick();
    worker.set_fact("raw_pending", 7.into());
    let (base, stop) = spawn(Health::new(db.pool.clone(), vec![gateway, worker])).await;

    let (status, body) = get(&format!("{base}/health/gateway")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert!(body["last_tick_age_s"].as_f64().expect("tick age") < 5.0);

    let (status, body) = get(&format!("{base}/health/worker")).await;
    assert_eq!(status, 200);
    assert_eq!(body["facts"]["raw_pending"], 7);

    let (status, body) = get(&format!("{base}/health/cron")).await;
    assert_eq!(status, 404, "this process does not run cron");
    assert_eq!(body["error"]["code"], "unknown_role");
    stop.cancel();
}

#[tokio::test]
async fn a_role_that_never_ticked_or_went_quiet_is_unhealthy() {
    let db = TestDb::new().await;
    let never = Liveness::new("worker", Duration::from_secs(30));
    let quiet = Liveness::new("cron", Duration::from_millis(100));
    quiet.tick();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (base, stop) = spawn(Health::new(db.pool.clone(), vec![never, quiet])).await;

    let (status, body) = get(&format!("{base}/health/worker")).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unhealthy");
    assert!(
        body["problems"][0]
            .as_str()
            .expect("problem")
            .contains("first loop"),
        "{body}"
    );

    let (status, body) = get(&format!("{base}/health/cron")).await;
    assert_eq!(status, 503);
    assert!(
        body["problems"][0]
            .as_str()
            .expect("problem")
            .contains("last ticked"),
        "{body}"
    );
    stop.cancel();
}

#[tokio::test]
async fn an_unreachable_database_makes_health_503_not_a_hang() {
    // A pool to a port nothing listens on: every ping fails fast.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://fleet:x@127.0.0.1:1/fleet")
        .expect("lazy pool");
    let live = Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let (base, stop) = spawn(Health::new(pool, vec![live])).await;
    let (status, body) = get(&format!("{base}/health/gateway")).await;
    assert_eq!(status, 503);
    assert_eq!(body["database"]["ok"], false);
    assert!(
        body["problems"][0]
            .as_str()
            .expect("problem")
            .starts_with("database:"),
        "{body}"
    );
    stop.cancel();
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let db = TestDb::new().await;
    let live = Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let (base, stop) = spawn(Health::new(db.pool.clone(), vec![live])).await;
    let _ = get(&format!("{base}/health/gateway")).await;
    let (status, _) = get(&format!("{base}/no/such/path")).await;
    assert_eq!(status, 404);
    let text = fleet_testkit::http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(
            r#"fleet_http_requests_total{route="/health/{role}",method="GET",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched""#),
        "unknown paths are counted under one bounded label: {text}"
    );
    assert!(
        text.contains("fleet_http_request_duration_seconds_bucket"),
        "{text}"
    );
    stop.cancel();
}
