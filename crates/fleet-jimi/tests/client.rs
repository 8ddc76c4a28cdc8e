//! The Open API client against the simulator (real HTTP) with its token cache in a real Postgres.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fleet_jimi::client::{Client, ClientConfig, ClientError};
use fleet_jimi::sim::fleet::{ACCOUNTS, Sim};
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use fleet_testkit::TestDb;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

async fn vendor(cfg: ApiConfig) -> (String, Arc<Mutex<Sim>>, CancellationToken) {
    let sim = new_sim(30, 5, Utc::now()).expect("sim");
    sim.lock().expect("sim").step(30.0);
    let (base, stop) = spawn(sim.clone(), cfg).await.expect("serve");
    (base, sim, stop)
}

fn client(base: &str, pool: &PgPool) -> Client {
    let d = ApiConfig::default();
    let mut cfg = ClientConfig::new(base, &d.app_key, &d.app_secret, &d.user_id, &d.password);
    cfg.busy_backoff = Duration::from_millis(100);
    cfg.token_get_interval = Duration::from_millis(1100);
    // Tests that want pacing set it; the rest run as fast as the simulator allows.
    cfg.pace = Duration::ZERO;
    Client::new(cfg, pool.clone()).expect("client")
}

async fn log(pool: &PgPool, method: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT outcome, error_code FROM ops.ingestion_log WHERE method = $1 ORDER BY id",
    )
    .bind(method)
    .fetch_all(pool)
    .await
    .expect("ingestion log")
}

#[tokio::test]
async fn polls_every_sub_account_and_logs_each_call() {
    let db = TestDb::new().await;
    let (base, sim, stop) = vendor(ApiConfig {
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    })
    .await;
    let c = client(&base, &db.pool);
    let mut devices = 0;
    for account in ACCOUNTS {
        let r = c
            .call(
                "jimi.user.device.location.list",
                &[("target", account)],
                Some(account),
            )
            .await
            .expect("location.list");
        devices += r.rows();
        assert!(
            std::str::from_utf8(&r.body)
                .expect("utf8")
                .contains("\"code\":0"),
            "the verbatim body is returned"
        );
    }
    let silent = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .filter(|d| d.health == fleet_jimi::sim::fleet::DeviceHealth::Silent)
        .count();
    assert_eq!(devices, sim.lock().expect("sim").devices.len() - silent);
    assert_eq!(
        log(&db.pool, "jimi.user.device.location.list").await.len(),
        3
    );
    let targets: Vec<String> =
        sqlx::query_scalar("SELECT target FROM ops.ingestion_log ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .expect("targets");
    assert_eq!(targets, ACCOUNTS.map(String::from).to_vec());
    stop.cancel();
}

#[tokio::test]
async fn imeis_go_in_batches_of_fifty() {
    let db = TestDb::new().await;
    let (base, sim, stop) = vendor(ApiConfig {
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    })
    .await;
    let c = client(&base, &db.pool);
    let mut imeis: Vec<String> = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .map(|d| d.imei.clone())
        .collect();
    let known = imeis.len();
    imeis.extend((0..(120 - known)).map(|i| format!("86999999{i:07}")));
    let replies = c.locations(&imeis, Some("demo")).await.expect("locations");
    assert_eq!(replies.len(), 3, "120 IMEIs = 3 calls of at most 50");
    assert!(replies.iter().map(|r| r.rows()).sum::<usize>() > 0);
    assert_eq!(log(&db.pool, "jimi.device.location.get").await.len(), 3);
    stop.cancel();
}

#[tokio::test]
async fn a_token_that_expires_mid_run_is_renewed_transparently() {
    let db = TestDb::new().await;
    let (base, _sim, stop) = vendor(ApiConfig {
        min_interval: Duration::ZERO,
        max_token_ttl: Duration::from_secs(2),
        token_get_interval: Duration::from_secs(1),
        ..ApiConfig::default()
    })
    .await;
    let c = client(&base, &db.pool);
    c.call(
        "jimi.user.device.location.list",
        &[("target", "demo")],
        Some("demo"),
    )
    .await
    .expect("first");
    let first: String = sqlx::query_scalar("SELECT access_token FROM ops.api_tokens")
        .fetch_one(&db.pool)
        .await
        .expect("token");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    c.call(
        "jimi.user.device.location.list",
        &[("target", "demo")],
        Some("demo"),
    )
    .await
    .expect("after expiry");
    let second: String = sqlx::query_scalar("SELECT access_token FROM ops.api_tokens")
        .fetch_one(&db.pool)
        .await
        .expect("token");
    assert_ne!(first, second, "a new token was taken");
    // The vendor invalidates a token early (1004): the client renews it and retries once.
    sqlx::query("UPDATE ops.api_tokens SET access_token = 'revoked-by-vendor', expires_at = now() + interval '1 hour'")
        .execute(&db.pool)
        .await
        .expect("tamper");
    c.call(
        "jimi.user.device.location.list",
        &[("target", "demo")],
        Some("demo"),
    )
    .await
    .expect("after 1004");
    assert!(
        log(&db.pool, "jimi.user.device.location.list")
            .await
            .iter()
            .all(|(o, _)| o == "ok")
    );
    stop.cancel();
}

#[tokio::test]
async fn pacing_keeps_a_burst_under_the_vendor_limit() {
    let db = TestDb::new().await;
    let (base, _sim, stop) = vendor(ApiConfig {
        min_interval: Duration::from_millis(200),
        ..ApiConfig::default()
    })
    .await;
    let d = ApiConfig::default();
    let mut cfg = ClientConfig::new(&base, &d.app_key, &d.app_secret, &d.user_id, &d.password);
    cfg.pace = Duration::from_millis(250);
    cfg.max_busy_retries = 0;
    let c = Client::new(cfg, db.pool.clone()).expect("client");
    // Concurrent callers of one method are spaced out, so not one call meets a 1006.
    let calls = (0..5).map(|_| {
        let c = c.clone();
        async move {
            c.call(
                "jimi.user.device.location.list",
                &[("target", "demo")],
                Some("demo"),
            )
            .await
        }
    });
    let mut set = tokio::task::JoinSet::new();
    for call in calls {
        set.spawn(call);
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").expect("no 1006 while paced");
    }
    let codes = log(&db.pool, "jimi.user.device.location.list").await;
    assert_eq!(codes.len(), 5);
    assert!(codes.iter().all(|(o, _)| o == "ok"), "{codes:?}");
    stop.cancel();
}

#[tokio::test]
async fn a_1006_storm_is_ridden_out_with_backoff() {
    let db = TestDb::new().await;
    let (base, _sim, stop) = vendor(ApiConfig {
        min_interval: Duration::from_millis(300),
        ..ApiConfig::default()
    })
    .await;
    let c = client(&base, &db.pool);
    let started = std::time::Instant::now();
    for _ in 0..4 {
        c.call(
            "jimi.user.device.location.list",
            &[("target", "demo")],
            Some("demo"),
        )
        .await
        .expect("eventually ok");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the client waited instead of hammering"
    );
    assert_eq!(
        log(&db.pool, "jimi.user.device.location.list").await.len(),
        4
    );
    // With no patience left, the error says what happened.
    let mut cfg = ClientConfig::new(
        &base,
        "fleet-sim-key",
        "fleet-sim-secret",
        "demo",
        "demo-password",
    );
    cfg.max_busy_retries = 0;
    cfg.pace = Duration::ZERO;
    let impatient = Client::new(cfg, db.pool.clone()).expect("client");
    let _ = impatient
        .call(
            "jimi.user.device.location.list",
            &[("target", "demo")],
            Some("demo"),
        )
        .await;
    let err = impatient
        .call(
            "jimi.user.device.location.list",
            &[("target", "demo")],
            Some("demo"),
        )
        .await
        .expect_err("1006");
    assert!(matches!(err, ClientError::TooFrequent(0)), "{err}");
    stop.cancel();
}

#[tokio::test]
async fn processes_share_one_token_and_bad_credentials_are_reported() {
    let db = TestDb::new().await;
    // The simulator refuses a second token-get within a minute: both clients succeeding at once
    // shows they shared the token through the database.
    let (base, _sim, stop) = vendor(ApiConfig {
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    })
    .await;
    let (a, b) = (client(&base, &db.pool), client(&base, &db.pool));
    let (ra, rb) = tokio::join!(
        a.call(
            "jimi.user.device.location.list",
            &[("target", "demo")],
            Some("demo")
        ),
        b.call(
            "jimi.user.device.location.list",
            &[("target", "demo@HQ")],
            Some("demo@HQ")
        )
    );
    ra.expect("a");
    rb.expect("b");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM ops.api_tokens")
            .fetch_one(&db.pool)
            .await
            .expect("count"),
        1
    );

    // Wrong credentials, against a vendor that has not rate-limited us yet.
    let (base, _sim2, stop2) = vendor(ApiConfig::default()).await;
    let other = TestDb::new().await;
    let wrong = Client::new(
        ClientConfig::new(&base, "fleet-sim-key", "fleet-sim-secret", "demo", "guess"),
        other.pool.clone(),
    )
    .expect("client");
    let err = wrong
        .call(
            "jimi.user.device.location.list",
            &[("target", "demo")],
            Some("demo"),
        )
        .await
        .expect_err("wrong password");
    assert!(
        matches!(err, ClientError::Vendor { code: 1002, .. }),
        "{err}"
    );
    let logged: Vec<(String, Option<String>)> =
        log(&other.pool, "jimi.user.device.location.list").await;
    assert_eq!(
        logged,
        vec![("error".to_string(), Some("1002".to_string()))]
    );
    stop.cancel();
    stop2.cancel();
}
