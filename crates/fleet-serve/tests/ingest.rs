//! Push → gateway → events.raw → parser → state, over real HTTP on loopback and a real Postgres.

use std::time::Duration;

use fleet_core::health::Liveness;
use fleet_ingest::worker;
use fleet_serve::Health;
use fleet_serve::push::{self, PushConfig};
use fleet_testkit::{TestDb, eventually};
use hmac::{KeyInit, Mac};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "push-token-for-tests";
const SECRET: &str = "fuel-feed-secret-0123456789";

fn config() -> PushConfig {
    PushConfig {
        jimi_token: Some(TOKEN.into()),
        secrets: vec![("fuel_feed".into(), SECRET.into())],
        max_bytes: 64 * 1024,
        mirror_url: None,
    }
}

/// A gateway on a free port; returns its base URL and the token that stops it.
async fn gateway(pool: PgPool) -> (String, CancellationToken) {
    gateway_with(pool, config()).await
}

async fn gateway_with(pool: PgPool, cfg: PushConfig) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let live = Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let router = fleet_serve::gateway_router(
        Health::new(pool.clone(), vec![live]),
        push::router(pool, cfg),
    );
    let stop = CancellationToken::new();
    tokio::spawn(fleet_serve::serve(listener, router, stop.clone()));
    (base, stop)
}

fn spawn_worker(pool: PgPool, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        worker::run(pool, worker::liveness(), stop)
            .await
            .expect("worker");
    })
}

fn fix(imei: &str, time: &str, lat: f64, lng: f64, speed: f64) -> serde_json::Value {
    serde_json::json!({"deviceImei": imei, "gpsTime": time, "lat": lat.to_string(), "lng": lng, "gpsSpeed": speed.to_string(), "direction": "90", "acc": "1", "postType": 1})
}

async fn push_jimi(
    base: &str,
    path: &str,
    token: &str,
    data_list: &serde_json::Value,
) -> reqwest::Response {
    fleet_testkit::http()
        .post(format!("{base}/push/jimi/{path}"))
        .form(&[("token", token), ("data_list", &data_list.to_string())])
        .send()
        .await
        .expect("push")
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

async fn wait_drained(pool: &PgPool) {
    let done = eventually(Duration::from_secs(20), || async {
        (count(
            pool,
            "SELECT count(*) FROM events.raw WHERE parsed_at IS NULL",
        )
        .await
            == 0)
            .then_some(())
    })
    .await;
    assert!(done.is_some(), "the worker did not drain the log");
}

#[tokio::test]
async fn a_push_flows_into_live_and_history_state() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let w = spawn_worker(db.pool.clone(), stop.clone());

    let list = serde_json::json!([
        fix(
            "862798050000001",
            "2026-11-23 08:30:00",
            -1.2921,
            36.8219,
            42.0
        ),
        fix("862798050000002", "2026-11-23 08:30:05", -4.05, 39.66, 0.0)
    ]);
    let res = push_jimi(&base, "pushgps", TOKEN, &list).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"code": 0, "msg": "success"})
    );

    let live = eventually(Duration::from_secs(10), || async {
        sqlx::query_as::<_, (f64, f64, f32, i16)>("SELECT lat, lng, speed_kmh, heading FROM state.live_positions WHERE imei = '862798050000001'")
            .fetch_optional(&db.pool)
            .await
            .expect("live")
    })
    .await
    .expect("the fix reached state.live_positions");
    assert_eq!(live, (-1.2921, 36.8219, 42.0, 90));
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM state.position_history").await,
        2
    );
    let parsed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events.parsed WHERE kind = 'position_fix' AND parser_version = $1",
    )
    .bind(fleet_ingest::parser::PARSER_VERSION)
    .fetch_one(&db.pool)
    .await
    .expect("parsed");
    assert_eq!(parsed, 2);
    let (source, verified, ct): (String, bool, String) =
        sqlx::query_as("SELECT source, verified, content_type FROM events.raw")
            .fetch_one(&db.pool)
            .await
            .expect("raw");
    assert_eq!(
        (source.as_str(), verified, ct.as_str()),
        ("jimi_push", true, "application/x-www-form-urlencoded")
    );
    stop.cancel();
    w.await.expect("worker");
}

#[tokio::test]
async fn rejected_requests_never_reach_the_log() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let list = serde_json::json!([fix(
        "862798050000001",
        "2026-11-23 08:30:00",
        -1.0,
        36.0,
        1.0
    )]);

    assert_eq!(
        push_jimi(&base, "pushgps", "wrong-token", &list)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        push_jimi(&base, "pushgps", "", &list)
            .await
            .status()
            .as_u16(),
        401
    );
    assert_eq!(
        push_jimi(&base, "pushnothing", TOKEN, &list)
            .await
            .status()
            .as_u16(),
        404
    );
    let huge = "x".repeat(100 * 1024);
    let res = fleet_testkit::http()
        .post(format!("{base}/push/jimi/pushgps"))
        .form(&[("token", TOKEN), ("data_list", &huge)])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 413);
    // Generic signed source with a wrong signature, and an unconfigured source.
    let res = fleet_testkit::http()
        .post(format!("{base}/push/fuel_feed"))
        .header("x-fleet-signature", "sha256=00")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 401);
    let res = fleet_testkit::http()
        .post(format!("{base}/push/nobody"))
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 404);

    assert_eq!(count(&db.pool, "SELECT count(*) FROM events.raw").await, 0);
    let metrics = fleet_testkit::http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for reason in [
        "bad_token",
        "unknown_path",
        "bad_signature",
        "unknown_source",
    ] {
        assert!(
            metrics.contains(&format!(
                r#"fleet_push_rejected_total{{reason="{reason}"}}"#
            )),
            "{reason} not counted"
        );
    }
    stop.cancel();
}

#[tokio::test]
async fn signed_sources_are_stored_verbatim_with_their_kind() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let body = br#"{"records":[{"id":"a1","car":"KCA 542Q"}]}"#;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let sig = hex::encode(mac.finalize().into_bytes());
    let res = fleet_testkit::http()
        .post(format!("{base}/push/fuel_feed"))
        .header("x-fleet-signature", format!("sha256={sig}"))
        .header("x-fleet-kind", "changes")
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 202);
    let id = res.json::<serde_json::Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let (source, kind, stored, verification): (String, String, Vec<u8>, String) =
        sqlx::query_as("SELECT source, kind, body, verification FROM events.raw WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(
        (source.as_str(), kind.as_str(), verification.as_str()),
        ("fuel_feed", "changes", "hmac_sha256")
    );
    assert_eq!(stored, body.to_vec());
    stop.cancel();
}

#[tokio::test]
async fn duplicates_and_out_of_order_fixes_keep_state_right() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let w = spawn_worker(db.pool.clone(), stop.clone());
    let imei = "862798050000009";
    let newer = serde_json::json!([fix(imei, "2026-11-23 09:00:00", -1.30, 36.80, 30.0)]);
    let older = serde_json::json!([fix(imei, "2026-11-23 08:00:00", -1.10, 36.70, 10.0)]);
    for list in [&newer, &newer, &older, &newer] {
        assert_eq!(
            push_jimi(&base, "pushgps", TOKEN, list)
                .await
                .status()
                .as_u16(),
            200
        );
    }
    wait_drained(&db.pool).await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM events.raw").await,
        4,
        "every delivery is logged"
    );
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM state.position_history").await,
        2,
        "each fix once"
    );
    let (lat, t): (f64, String) = sqlx::query_as("SELECT lat, to_char(fix_time AT TIME ZONE 'UTC', 'HH24:MI') FROM state.live_positions WHERE imei = $1")
        .bind(imei)
        .fetch_one(&db.pool)
        .await
        .expect("live");
    assert_eq!(
        (lat, t.as_str()),
        (-1.30, "09:00"),
        "a late older fix never moves the vehicle back"
    );
    stop.cancel();
    w.await.expect("worker");
}

/// A pushgps row as the gateway stores it, but arriving at `arrived` (minutes from now).
async fn arrive(pool: &PgPool, arrived_min: i64, fixes: &serde_json::Value) {
    let body =
        serde_urlencoded::to_string([("token", TOKEN), ("data_list", fixes.to_string().as_str())])
            .expect("form");
    sqlx::query(
        "INSERT INTO events.raw (source, kind, body, verified, verification, received_at)
         VALUES ('jimi_push', 'pushgps', $1, true, 'token', now() + $2 * interval '1 minute')",
    )
    .bind(body.into_bytes())
    .bind(arrived_min as f64)
    .execute(pool)
    .await
    .expect("raw");
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

async fn live_lat(pool: &PgPool, imei: &str) -> f64 {
    sqlx::query_scalar("SELECT lat FROM state.live_positions WHERE imei = $1")
        .bind(imei)
        .fetch_one(pool)
        .await
        .expect("live")
}

#[tokio::test]
async fn a_fix_stamped_in_the_future_cannot_freeze_the_live_position() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let at = |min: i64| {
        (chrono::Utc::now() + chrono::Duration::minutes(min))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    // A glitch: one fix dated years ahead, then honest fixes.
    let imei = "862798050000031";
    arrive(
        pool,
        -30,
        &serde_json::json!([fix(imei, &at(-30), -1.10, 36.8, 10.0)]),
    )
    .await;
    arrive(
        pool,
        -20,
        &serde_json::json!([fix(imei, "2031-01-01 00:00:00", -1.20, 36.8, 10.0)]),
    )
    .await;
    assert_eq!(
        live_lat(pool, imei).await,
        -1.20,
        "it is the newest fix when it arrives"
    );
    // within the tolerance (5 minutes) after its arrival it still holds ...
    arrive(
        pool,
        -18,
        &serde_json::json!([fix(imei, &at(-18), -1.30, 36.8, 10.0)]),
    )
    .await;
    assert_eq!(live_lat(pool, imei).await, -1.20);
    // ... and after that, honest fixes move the vehicle again
    arrive(
        pool,
        -10,
        &serde_json::json!([fix(imei, &at(-10), -1.40, 36.8, 10.0)]),
    )
    .await;
    assert_eq!(
        live_lat(pool, imei).await,
        -1.40,
        "the glitch no longer freezes the vehicle"
    );
    // an older fix arriving late still never moves it back
    arrive(
        pool,
        -9,
        &serde_json::json!([fix(imei, &at(-25), -1.50, 36.8, 10.0)]),
    )
    .await;
    assert_eq!(live_lat(pool, imei).await, -1.40);
    // every fix is kept in the history as reported
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM state.position_history WHERE imei = $1")
            .bind(imei)
            .fetch_one(pool)
            .await
            .expect("history");
    assert_eq!(kept, 5);

    // A device whose clock runs three hours ahead (local time sent as UTC) keeps moving, newest
    // fix of a push first.
    let ahead = "862798050000032";
    for (i, min) in [-40i64, -30, -20].into_iter().enumerate() {
        let lat = -1.0 - i as f64 / 10.0;
        arrive(
            pool,
            min,
            &serde_json::json!([
                fix(ahead, &at(min + 180 - 1), lat + 0.05, 36.8, 10.0),
                fix(ahead, &at(min + 180), lat, 36.8, 10.0)
            ]),
        )
        .await;
        assert_eq!(live_lat(pool, ahead).await, lat);
    }
}

#[tokio::test]
async fn malformed_and_hostile_bodies_are_stored_and_dead_lettered() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let w = spawn_worker(db.pool.clone(), stop.clone());
    let client = fleet_testkit::http();
    let bodies: Vec<Vec<u8>> = vec![
        format!("token={TOKEN}&data_list=not%20json").into_bytes(),
        format!("token={TOKEN}&data_list=%5B%7B%22deviceImei%22%3A%22%22%7D%5D").into_bytes(),
        [
            format!("token={TOKEN}&data_list=").into_bytes(),
            vec![0xff, 0xfe, 0x00],
        ]
        .concat(),
        format!("token={TOKEN}&data_list={}", "%5B".repeat(5000)).into_bytes(),
    ];
    for b in &bodies {
        let res = client
            .post(format!("{base}/push/jimi/pushgps"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(
            res.status().as_u16(),
            200,
            "a verified push is acknowledged whatever its payload"
        );
    }
    // A good push after the bad ones still flows.
    let good = serde_json::json!([fix(
        "862798050000003",
        "2026-11-23 08:30:00",
        -1.0,
        36.0,
        5.0
    )]);
    assert_eq!(
        push_jimi(&base, "pushgps", TOKEN, &good)
            .await
            .status()
            .as_u16(),
        200
    );
    wait_drained(&db.pool).await;
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM events.v_dead_letter").await,
        bodies.len() as i64
    );
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM state.live_positions").await,
        1
    );
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT body FROM events.raw ORDER BY id LIMIT 1 OFFSET 2")
            .fetch_one(&db.pool)
            .await
            .expect("raw");
    assert_eq!(stored, bodies[2], "bytes kept verbatim, even invalid UTF-8");
    stop.cancel();
    w.await.expect("worker");
}

#[tokio::test]
async fn a_database_outage_is_a_503_never_a_false_success() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://fleet:x@127.0.0.1:1/fleet")
        .expect("lazy pool");
    let (base, stop) = gateway(pool).await;
    let list = serde_json::json!([fix(
        "862798050000001",
        "2026-11-23 08:30:00",
        -1.0,
        36.0,
        1.0
    )]);
    let res = push_jimi(&base, "pushgps", TOKEN, &list).await;
    assert_eq!(res.status().as_u16(), 503);
    assert_ne!(
        res.json::<serde_json::Value>().await.expect("json")["code"],
        0
    );
    stop.cancel();
}

#[tokio::test]
async fn alarms_end_whatever_the_arrival_order() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let w = spawn_worker(db.pool.clone(), stop.clone());
    let alarm = |imei: &str, ty: &str, t: &str, value: Option<&str>| serde_json::json!({"msgClass": "0", "type": "alarm", "gateTime": t, "msg": {"deviceImei": imei, "alertType": ty, "alarmTime": t, "lat": "-1.3", "lng": "36.8", "gpsSpeed": "0", "alertValue": value}});
    // In order for device A; the end before the alarm for device B.
    let a = "862798050000011";
    let b = "862798050000012";
    for list in [
        serde_json::json!([alarm(a, "1", "2026-11-23 08:00:00", None)]),
        serde_json::json!([alarm(
            a,
            "removeAlarmType",
            "2026-11-23 08:05:00",
            Some("1")
        )]),
        serde_json::json!([alarm(
            b,
            "removeAlarmType",
            "2026-11-23 08:05:00",
            Some("2")
        )]),
    ] {
        assert_eq!(
            push_jimi(&base, "pushalarm", TOKEN, &list)
                .await
                .status()
                .as_u16(),
            200
        );
    }
    wait_drained(&db.pool).await;
    assert_eq!(
        push_jimi(
            &base,
            "pushalarm",
            TOKEN,
            &serde_json::json!([alarm(b, "2", "2026-11-23 08:00:00", None)])
        )
        .await
        .status()
        .as_u16(),
        200
    );
    wait_drained(&db.pool).await;
    let ended: Vec<(String, String)> = sqlx::query_as("SELECT imei, to_char(ended_at AT TIME ZONE 'UTC', 'HH24:MI') FROM state.alarms ORDER BY imei")
        .fetch_all(&db.pool)
        .await
        .expect("alarms");
    assert_eq!(
        ended,
        vec![
            (a.to_string(), "08:05".to_string()),
            (b.to_string(), "08:05".to_string())
        ]
    );
    stop.cancel();
    w.await.expect("worker");
}

/// Every state table the projectors write, as ordered JSON without bookkeeping columns.
async fn snapshot(pool: &PgPool) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for table in fleet_ingest::project::tables() {
        let sql = format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) - 'updated_at' ORDER BY to_jsonb(t)::text), '[]') FROM {table} t"
        );
        let v: serde_json::Value = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .expect("snapshot");
        out.push((table.to_string(), v));
    }
    out
}

#[tokio::test]
async fn replay_rebuilds_state_identical_to_the_live_result() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let w = spawn_worker(db.pool.clone(), stop.clone());
    let imeis = ["862798050000021", "862798050000022", "862798050000023"];
    // A mixed history: fixes in and out of order with duplicates, alarms and ends, heartbeats,
    // events, LBS, OBD.
    for round in 0..6 {
        let fixes: Vec<_> = imeis
            .iter()
            .enumerate()
            .map(|(i, imei)| {
                fix(
                    imei,
                    &format!("2026-11-23 08:{:02}:{:02}", 10 - round, i),
                    -1.2 - round as f64 / 100.0,
                    36.8,
                    (round * 10) as f64,
                )
            })
            .collect();
        push_jimi(
            &base,
            "pushgps",
            TOKEN,
            &serde_json::Value::Array(fixes.clone()),
        )
        .await;
        if round % 2 == 0 {
            push_jimi(&base, "pushgps", TOKEN, &serde_json::Value::Array(fixes)).await;
        }
    }
    let alarm = serde_json::json!([
        {"type": "alarm", "msg": {"deviceImei": imeis[0], "alertType": "1", "alarmTime": "2026-11-23 08:00:00"}},
        {"type": "alarm", "msg": {"deviceImei": imeis[0], "alertType": "removeAlarmType", "alarmTime": "2026-11-23 08:03:00", "alertValue": "1"}},
        {"type": "alarm", "msg": {"deviceImei": imeis[1], "alertType": "2", "alarmTime": "2026-11-23 08:01:00"}}
    ]);
    push_jimi(&base, "pushalarm", TOKEN, &alarm).await;
    push_jimi(&base, "pushhb", TOKEN, &serde_json::json!([{"deviceImei": imeis[2], "gateTime": "2026-11-23 08:00:00", "powerLevel": "6", "gsmSign": "4"}])).await;
    push_jimi(&base, "pushevent", TOKEN, &serde_json::json!([{"deviceImei": imeis[2], "type": "LOGIN", "gateTime": "2026-11-23 07:59:00"}])).await;
    push_jimi(&base, "pushlbs", TOKEN, &serde_json::json!([{"deviceImei": imeis[1], "gateTime": "2026-11-23 08:00:00", "lbsJson": {"mcc": 639, "mnc": 2, "cellList": "1,2,-60"}}])).await;
    push_jimi(&base, "pushobd", TOKEN, &serde_json::json!([{"imei": imeis[0], "dataReportTime": "2026-11-23 08:00:00", "odometerReading": "1200.5", "currentRPM": "800"}])).await;
    push_jimi(&base, "pushoil", TOKEN, &serde_json::json!([{"deviceImei": imeis[1], "gateTime": "2026-11-23 08:00:00", "oilValue": "41.5L", "oilPercent": "52"}])).await;
    push_jimi(&base, "pushtem", TOKEN, &serde_json::json!([{"deviceImei": imeis[1], "gateTime": "2026-11-23 08:00:00", "temperature1": "5.5"}])).await;
    let trip = serde_json::json!([{"deviceImei": imeis[2], "startTime": "2026-11-23 07:00:00", "endTime": "2026-11-23 07:30:00", "startMileage": "1000", "endMileage": "9000", "maxSpeed": "70"}]);
    push_jimi(&base, "pushtripreport", TOKEN, &trip).await;
    push_jimi(&base, "pushtripreport", TOKEN, &trip).await;
    wait_drained(&db.pool).await;
    stop.cancel();
    w.await.expect("worker");

    let live = snapshot(&db.pool).await;
    // Parking and the device registry are fed by polls only (tests/polls.rs covers them), fuel
    // records by the fuel feed (crates/fleet-fuel/tests/import.rs).
    // Operator actions feed the fuel mappings and reviews (crates/fleet-fuel/tests).
    let poll_only = [
        "state.parking_events",
        "state.devices",
        "fuel.records",
        "fuel.mappings",
        "fuel.fill_reviews",
    ];
    assert!(
        live.iter()
            .all(|(t, v)| poll_only.contains(&t.as_str())
                || v.as_array().is_some_and(|a| !a.is_empty())),
        "every push-fed state table has rows: {live:?}"
    );
    for table in fleet_ingest::project::tables() {
        fleet_ingest::replay::rebuild(&db.pool, table, 7, &mut |_, _, _| {})
            .await
            .expect("rebuild");
    }
    assert_eq!(
        snapshot(&db.pool).await,
        live,
        "rebuilt state equals the live result"
    );

    // Re-parsing everything changes nothing either.
    let n = fleet_ingest::replay::reparse(&db.pool, None, None, None, &mut |_, _, _| {})
        .await
        .expect("reparse");
    assert!(n > 0);
    assert_eq!(snapshot(&db.pool).await, live);
    let err = fleet_ingest::replay::rebuild(&db.pool, "state.nope", 10, &mut |_, _, _| {})
        .await
        .expect_err("unknown table");
    assert!(err.to_string().contains("state.live_positions"), "{err}");
}

#[tokio::test]
async fn concurrent_pushes_share_commits_but_each_gets_its_own_row() {
    let db = TestDb::new().await;
    let (base, stop) = gateway(db.pool.clone()).await;
    let client = fleet_testkit::http();
    let sends = (0..200).map(|i| {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            let body = format!(r#"{{"n":{i}}}"#).into_bytes();
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(&body);
            let res = client
                .post(format!("{base}/push/fuel_feed"))
                .header(
                    "x-fleet-signature",
                    format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
                )
                .body(body.clone())
                .send()
                .await
                .expect("send");
            assert_eq!(res.status().as_u16(), 202);
            (
                res.json::<serde_json::Value>().await.expect("json")["id"]
                    .as_i64()
                    .expect("id"),
                body,
            )
        })
    });
    let mut results = Vec::new();
    for s in sends.collect::<Vec<_>>() {
        results.push(s.await.expect("join"));
    }
    for (id, body) in &results {
        let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM events.raw WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("row");
        assert_eq!(&stored, body, "id {id} belongs to another push");
    }
    assert_eq!(
        count(&db.pool, "SELECT count(*) FROM events.raw").await,
        200
    );
    stop.cancel();
}

#[tokio::test]
async fn accepted_pushes_are_mirrored_unchanged_and_a_dead_mirror_never_hurts() {
    use std::sync::{Arc, Mutex};
    // A real second receiver on loopback that records what it gets.
    type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = {
        let seen = seen.clone();
        axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .expect("lock")
                    .push((uri.to_string(), body.to_vec()));
                "ok"
            }
        })
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mirror_base = format!("http://{}/old", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, recorder).await });

    let db = TestDb::new().await;
    let (base, stop) = gateway_with(
        db.pool.clone(),
        PushConfig {
            mirror_url: Some(mirror_base),
            ..config()
        },
    )
    .await;
    let list = serde_json::json!([fix(
        "862798050000031",
        "2026-11-23 08:30:00",
        -1.0,
        36.0,
        1.0
    )]);
    assert_eq!(
        push_jimi(&base, "pushgps", TOKEN, &list)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        push_jimi(&base, "pushgps", "wrong-token", &list)
            .await
            .status()
            .as_u16(),
        401
    );
    let got = eventually(Duration::from_secs(5), || async {
        seen.lock().expect("lock").first().cloned()
    })
    .await
    .expect("mirrored");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM events.raw")
        .fetch_one(&db.pool)
        .await
        .expect("raw");
    assert_eq!(
        got,
        ("/old/push/jimi/pushgps".to_string(), stored),
        "the mirror gets the same bytes on the same path"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "rejected pushes are not mirrored"
    );
    stop.cancel();

    // A mirror that is down: the ack is still immediate and the push stored.
    let (base, stop) = gateway_with(
        db.pool.clone(),
        PushConfig {
            mirror_url: Some("http://127.0.0.1:1".into()),
            ..config()
        },
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        push_jimi(&base, "pushgps", TOKEN, &list)
            .await
            .status()
            .as_u16(),
        200
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(count(&db.pool, "SELECT count(*) FROM events.raw").await, 2);
    stop.cancel();
}
