//! The contract checker against the simulated vendor: a clean vendor passes, the simulator's
//! drift mode (fields renamed the way an upstream change would) is caught and raised every way
//! it should be — stored, gauged, alerted and seen by the `contract_drift_days` SLO.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use fleet_core::contract::CONTRACTS;
use fleet_cron::contract::check;
use fleet_cron::polls::Vendor;
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use fleet_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// The drift gauges are process-wide: the two checks here take turns so each sees its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn vendor(drift: bool, pool: &PgPool) -> (Vendor, CancellationToken) {
    let sim = new_sim(30, 7, Utc::now() - chrono::Duration::hours(3)).expect("sim");
    for _ in 0..180 {
        sim.lock().expect("sim").step(60.0);
    }
    let api = ApiConfig {
        drift,
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    };
    let (base, stop) = spawn(sim, api.clone()).await.expect("serve");
    let mut account = api.vendor(&base);
    account.pace = Duration::ZERO;
    account.targets.truncate(1);
    let v = Vendor::new(&account, pool).expect("vendor");
    (v, stop)
}

/// A webhook receiver on loopback that keeps what it is sent.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(got): State<Arc<Mutex<Vec<Value>>>>, Json(v): Json<Value>| async move {
                    got.lock().expect("lock").push(v);
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

async fn drift_days(pool: &PgPool) -> (Option<f64>, String) {
    fleet_cron::slo::measure_at(pool, Utc::now())
        .await
        .expect("measure");
    sqlx::query_as(
        "SELECT value, status FROM slo.v_current_status WHERE metric = 'contract_drift_days'",
    )
    .fetch_one(pool)
    .await
    .expect("status")
}

#[tokio::test]
async fn a_clean_vendor_passes_every_method() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new().await;
    let (v, stop) = vendor(false, &db.pool).await;
    let (url, got) = webhook().await;
    let run = check(&db.pool, &v, Some(&url)).await.expect("check");
    let problems: Vec<_> = run
        .methods
        .iter()
        .filter(|m| m.outcome != "ok")
        .map(|m| (m.method.clone(), m.report.problems.clone(), m.error.clone()))
        .collect();
    assert_eq!(run.outcome, "clean", "{problems:?}");
    let checked: Vec<&str> = run.methods.iter().map(|m| m.method.as_str()).collect();
    for (method, _) in CONTRACTS {
        assert!(checked.contains(method), "{method} is checked");
    }
    // Records were there to check: an empty answer proves nothing about a contract.
    for m in &run.methods {
        assert!(m.report.records > 0, "{} returned no records", m.method);
    }
    let stored: (String, i32) =
        sqlx::query_as("SELECT outcome, methods_checked FROM ops.contract_runs WHERE run_id = $1")
            .bind(run.run_id)
            .fetch_one(&db.pool)
            .await
            .expect("run stored");
    assert_eq!(stored, ("clean".to_string(), CONTRACTS.len() as i32));
    assert!(got.lock().expect("lock").is_empty(), "no alert when clean");
    let (value, status) = drift_days(&db.pool).await;
    assert!(value.expect("a value") < 0.01);
    assert_eq!(status, "met");
    stop.cancel();
}

#[tokio::test]
async fn the_simulators_drift_mode_is_caught_stored_gauged_and_alerted() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new().await;
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    let (v, stop) = vendor(true, &db.pool).await;
    let (url, got) = webhook().await;
    let run = check(&db.pool, &v, Some(&url)).await.expect("check");
    assert_eq!(run.outcome, "drift");
    let drifted: Vec<&str> = run
        .methods
        .iter()
        .filter(|m| m.outcome == "drift")
        .map(|m| m.method.as_str())
        .collect();
    for method in [
        "jimi.user.device.location.list",
        "jimi.device.location.get",
        "jimi.device.track.list",
        "jimi.device.alarm.list",
    ] {
        assert!(
            drifted.contains(&method),
            "{method} drifted; found {drifted:?}"
        );
    }
    // The stored result says what broke and what appeared instead.
    let (problems, sample): (Value, Value) = sqlx::query_as(
        "SELECT problems, sample FROM ops.contract_results WHERE run_id = $1 AND method = 'jimi.device.alarm.list'",
    )
    .bind(run.run_id)
    .fetch_one(&db.pool)
    .await
    .expect("result stored");
    assert_eq!(problems[0]["field"], "alertTypeId");
    assert_eq!(problems[0]["issue"], "missing");
    assert_eq!(sample["new_fields"], serde_json::json!(["alertId"]));
    // Alerted once, naming the methods.
    let alerts = got.lock().expect("lock").clone();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["alert"], "vendor_contract_drift");
    assert_eq!(
        alerts[0]["methods"].as_array().map(Vec::len),
        Some(drifted.len())
    );
    // Gauged.
    let text = handle.render();
    assert!(
        text.lines().any(|l| l == "fleet_contract_drift 1"),
        "{text}"
    );
    // Never verified, now drifting: the SLO is out at once.
    let (value, status) = drift_days(&db.pool).await;
    assert!(value.expect("a value") > 1.0);
    assert_eq!(status, "not_met");
    stop.cancel();
}
