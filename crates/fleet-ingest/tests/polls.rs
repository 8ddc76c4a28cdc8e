//! Polled vendor data flows through the same log, parser and projectors as pushes: the simulator's
//! Open API, the real client, events.raw (source jimi_poll), the worker, state.

use std::time::Duration;

use chrono::Utc;
use fleet_core::jimi::format_time;
use fleet_ingest::{rawlog, worker};
use fleet_jimi::client::{Client, ClientConfig};
use fleet_jimi::sim::fleet::ACCOUNTS;
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use fleet_testkit::TestDb;
use serde_json::json;
use sqlx::PgPool;

async fn drain(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

#[tokio::test]
async fn polled_devices_positions_and_alarms_reach_state() {
    let db = TestDb::new().await;
    let sim = new_sim(20, 3, Utc::now() - chrono::Duration::hours(2)).expect("sim");
    for _ in 0..120 {
        sim.lock().expect("sim").step(60.0);
    }
    let (base, _stop) = spawn(
        sim.clone(),
        ApiConfig {
            min_interval: Duration::ZERO,
            ..ApiConfig::default()
        },
    )
    .await
    .expect("serve");
    let d = ApiConfig::default();
    let client = Client::new(
        ClientConfig::new(&base, &d.app_key, &d.app_secret, &d.user_id, &d.password),
        db.pool.clone(),
    )
    .expect("client");

    // Device list first (null plates), then details (plates): the registry keeps the plates, and
    // applying them in the other order gives the same registry.
    for account in ACCOUNTS {
        let r = client
            .call(
                "jimi.user.device.list",
                &[("target", account)],
                Some(account),
            )
            .await
            .expect("list");
        rawlog::append_poll(
            &db.pool,
            "jimi.user.device.list",
            &json!({"target": account}),
            &r.body,
        )
        .await
        .expect("store");
        let r = client
            .call(
                "jimi.user.device.location.list",
                &[("target", account)],
                Some(account),
            )
            .await
            .expect("locations");
        rawlog::append_poll(
            &db.pool,
            "jimi.user.device.location.list",
            &json!({"target": account}),
            &r.body,
        )
        .await
        .expect("store");
    }
    let imeis: Vec<String> = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .map(|d| d.imei.clone())
        .collect();
    for imei in &imeis {
        let r = client
            .call("jimi.track.device.detail", &[("imei", imei)], None)
            .await
            .expect("detail");
        rawlog::append_poll(
            &db.pool,
            "jimi.track.device.detail",
            &json!({"imei": imei}),
            &r.body,
        )
        .await
        .expect("store");
    }
    let (begin, end) = (
        format_time(Utc::now() - chrono::Duration::hours(3)),
        format_time(Utc::now()),
    );
    let r = client
        .call(
            "jimi.device.alarm.list",
            &[
                ("imeis", &imeis.join(",")),
                ("begin_time", &begin),
                ("end_time", &end),
            ],
            None,
        )
        .await
        .expect("alarms");
    let alarms_polled = r.rows();
    rawlog::append_poll(&db.pool, "jimi.device.alarm.list", &json!({}), &r.body)
        .await
        .expect("store");
    drain(&db.pool).await;

    let failed: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, parse_error FROM events.v_dead_letter LIMIT 3")
            .fetch_all(&db.pool)
            .await
            .expect("dead");
    assert!(failed.is_empty(), "{failed:?}");
    let (devices, plated, accounts): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(vehicle_number), count(DISTINCT account) FROM state.devices",
    )
    .fetch_one(&db.pool)
    .await
    .expect("devices");
    assert_eq!(
        (devices, plated, accounts),
        (imeis.len() as i64, imeis.len() as i64, 3),
        "every device, with its plate and account"
    );
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM state.live_positions WHERE source = 'jimi_poll'")
            .fetch_one(&db.pool)
            .await
            .expect("live");
    assert!(live > 0);
    let alarms: i64 =
        sqlx::query_scalar("SELECT count(*) FROM state.alarms WHERE source = 'jimi_poll'")
            .fetch_one(&db.pool)
            .await
            .expect("alarms");
    assert!(
        alarms_polled > 0 && alarms > 0,
        "polled alarms become state.alarms ({alarms_polled} polled)"
    );

    // The registry does not depend on the order the reports were applied.
    let before: serde_json::Value = sqlx::query_scalar(
        "SELECT jsonb_agg(to_jsonb(d) - 'updated_at' ORDER BY imei) FROM state.devices d",
    )
    .fetch_one(&db.pool)
    .await
    .expect("snapshot");
    fleet_ingest::replay::rebuild(&db.pool, "state.devices", 3, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    let after: serde_json::Value = sqlx::query_scalar(
        "SELECT jsonb_agg(to_jsonb(d) - 'updated_at' ORDER BY imei) FROM state.devices d",
    )
    .fetch_one(&db.pool)
    .await
    .expect("snapshot");
    assert_eq!(before, after);
}
