//! The cron role's vendor polls against the simulated vendor (real HTTP, real signing and
//! tokens), through events.raw, the real parser and projectors, into state. Every expectation is
//! computed from the simulator's own records, never written down by hand.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet_cron::polls::{Vendor, jobs};
use fleet_cron::{Job, run_slot};
use fleet_ingest::worker;
use fleet_jimi::sim::fleet::{ACCOUNTS, DeviceHealth, Sim};
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use fleet_testkit::TestDb;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

async fn drain(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

/// A simulated fleet that has been driving for 40 minutes, and a vendor account over it.
async fn vendor(
    vehicles: usize,
    api: ApiConfig,
    pool: &PgPool,
) -> (Arc<Vendor>, Arc<Mutex<Sim>>, CancellationToken) {
    let sim = new_sim(vehicles, 11, Utc::now() - chrono::Duration::minutes(40)).expect("sim");
    for _ in 0..40 {
        sim.lock().expect("sim").step(60.0);
    }
    let (base, stop) = spawn(sim.clone(), api.clone()).await.expect("serve");
    let mut account = api.vendor(&base);
    account.pace = Duration::ZERO;
    let v = Vendor::new(&account, pool).expect("vendor");
    (Arc::new(v), sim, stop)
}

fn fast() -> ApiConfig {
    ApiConfig {
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    }
}

fn job(v: &Arc<Vendor>, name: &str) -> Job {
    jobs(v.clone())
        .into_iter()
        .find(|j| j.name == name)
        .unwrap_or_else(|| panic!("no job {name}"))
}

/// Runs `name` once (its own slot) and returns the rows it stored.
async fn run(pool: &PgPool, v: &Arc<Vendor>, name: &str) -> i64 {
    let fact = run_slot(pool, &job(v, name), Utc::now(), "test")
        .await
        .expect("claim")
        .expect("ran");
    assert_eq!(fact["outcome"], "ok", "{name}: {fact}");
    drain(pool).await;
    fact["rows"].as_i64().expect("rows")
}

/// The history window a poll asked for, read back from the stored request context.
async fn asked_window(
    pool: &PgPool,
    method: &str,
    start_key: &str,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let (b, e): (String, String) = sqlx::query_as(
        "SELECT meta->>$2, meta->>'end_time' FROM events.raw WHERE kind = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(method)
    .bind(start_key)
    .fetch_one(pool)
    .await
    .expect("a stored poll");
    let t = |s: &str| fleet_core::jimi::parse_time(s).expect("a vendor time");
    (t(&b), t(&e))
}

/// The vendor's time format has whole seconds.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).expect("a valid time")
}

/// What the simulated vendor holds, for computing expectations.
struct View {
    /// imei, account, plate, health, vehicle
    devices: Vec<(String, String, String, DeviceHealth, usize)>,
    /// vehicle, start, end
    trips: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
    stops: Vec<(usize, DateTime<Utc>, DateTime<Utc>)>,
    /// imei, type, time
    alarms: Vec<(String, String, DateTime<Utc>)>,
    tracks: std::collections::HashMap<String, Vec<DateTime<Utc>>>,
}

impl View {
    fn of(sim: &Sim) -> Self {
        Self {
            devices: sim
                .devices
                .iter()
                .map(|d| {
                    (
                        d.imei.clone(),
                        d.account.to_string(),
                        sim.vehicles[d.vehicle].plate.clone(),
                        d.health,
                        d.vehicle,
                    )
                })
                .collect(),
            trips: sim
                .trips
                .iter()
                .map(|t| (t.vehicle, t.start, t.end))
                .collect(),
            stops: sim
                .stops
                .iter()
                .map(|t| (t.vehicle, t.start, t.end))
                .collect(),
            alarms: sim
                .alarms
                .iter()
                .map(|a| (a.imei.clone(), a.alarm_type.clone(), a.time))
                .collect(),
            tracks: sim
                .tracks
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().map(|p| p.time).collect()))
                .collect(),
        }
    }

    fn on_vehicle(&self, v: usize) -> impl Iterator<Item = &String> {
        self.devices.iter().filter(move |d| d.4 == v).map(|d| &d.0)
    }

    fn trip_keys(&self, b: DateTime<Utc>, e: DateTime<Utc>) -> BTreeSet<(String, DateTime<Utc>)> {
        self.trips
            .iter()
            .filter(|t| t.1 >= b && t.1 <= e)
            .flat_map(|t| {
                self.on_vehicle(t.0)
                    .map(move |i| (i.clone(), whole_seconds(t.1)))
            })
            .collect()
    }

    fn stop_keys(&self, b: DateTime<Utc>, e: DateTime<Utc>) -> BTreeSet<(String, DateTime<Utc>)> {
        self.stops
            .iter()
            .filter(|t| t.1 <= e && t.2 >= b)
            .flat_map(|t| {
                self.on_vehicle(t.0)
                    .map(move |i| (i.clone(), whole_seconds(t.1)))
            })
            .collect()
    }

    fn alarm_keys(
        &self,
        b: DateTime<Utc>,
        e: DateTime<Utc>,
    ) -> BTreeSet<(String, String, DateTime<Utc>)> {
        self.alarms
            .iter()
            .filter(|a| a.2 >= b && a.2 <= e)
            .map(|a| (a.0.clone(), a.1.clone(), whole_seconds(a.2)))
            .collect()
    }

    fn track_points(&self, imei: &str, b: DateTime<Utc>, e: DateTime<Utc>) -> usize {
        self.tracks
            .get(imei)
            .map_or(0, |t| t.iter().filter(|x| **x >= b && **x <= e).count())
    }
}

async fn strings(pool: &PgPool, sql: &'static str) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(sql)
        .fetch_all(pool)
        .await
        .expect("query")
        .into_iter()
        .collect()
}

#[tokio::test]
async fn a_full_poll_cycle_brings_every_sub_account_into_state() {
    let db = TestDb::new().await;
    let (v, sim, stop) = vendor(30, fast(), &db.pool).await;
    let s = View::of(&sim.lock().expect("sim"));

    // Device sync: list then detail; the registry has every device, its account and its plate.
    run(&db.pool, &v, "device_sync").await;
    let registry: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT imei, account, vehicle_number FROM state.devices ORDER BY imei")
            .fetch_all(&db.pool)
            .await
            .expect("devices");
    let mut expected: Vec<(String, Option<String>, Option<String>)> = s
        .devices
        .iter()
        .map(|(imei, account, plate, _, _)| {
            (imei.clone(), Some(account.clone()), Some(plate.clone()))
        })
        .collect();
    expected.sort();
    assert_eq!(
        registry, expected,
        "every device of every sub-account, with its plate (FIX-M18)"
    );

    // Live positions: every reporting device except the expired ones (0,0 is never projected).
    run(&db.pool, &v, "poll_live").await;
    let live = strings(&db.pool, "SELECT imei FROM state.live_positions").await;
    let reporting: BTreeSet<String> = s
        .devices
        .iter()
        .filter(|d| d.3 == DeviceHealth::Reporting)
        .map(|d| d.0.clone())
        .collect();
    assert_eq!(live, reporting);
    let targets = strings(&db.pool, "SELECT DISTINCT target FROM ops.ingestion_log WHERE method = 'jimi.user.device.location.list'").await;
    assert_eq!(
        targets,
        ACCOUNTS.iter().map(|a| a.to_string()).collect(),
        "every target polled (FIX-M19)"
    );

    // Trips: one row per device of each vehicle whose trip started in the asked window.
    run(&db.pool, &v, "poll_trips").await;
    let (b, e) = asked_window(&db.pool, "jimi.device.track.mileage", "begin_time").await;
    let trips = strings(
        &db.pool,
        "SELECT imei || '@' || start_time::text FROM state.trips",
    )
    .await;
    assert!(!trips.is_empty(), "40 minutes of driving makes trips");
    let want = s.trip_keys(b, e);
    let got: BTreeSet<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT imei, start_time FROM state.trips")
            .fetch_all(&db.pool)
            .await
            .expect("trips")
            .into_iter()
            .collect();
    assert_eq!(got, want);

    // Parking: every stop that overlaps the window, for each device of the vehicle.
    run(&db.pool, &v, "poll_parking").await;
    let (b, e) = asked_window(&db.pool, "jimi.open.platform.report.parking", "start_time").await;
    let got: BTreeSet<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT imei, start_time FROM state.parking_events WHERE kind = 'parking'")
            .fetch_all(&db.pool)
            .await
            .expect("parking")
            .into_iter()
            .collect();
    assert_eq!(got, s.stop_keys(b, e));
    assert!(!got.is_empty(), "vehicles stopped between trips");

    // Alarms in the window.
    run(&db.pool, &v, "poll_alarms").await;
    let (b, e) = asked_window(&db.pool, "jimi.device.alarm.list", "begin_time").await;
    let got: BTreeSet<(String, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT imei, alarm_type, alarm_time FROM state.alarms")
            .fetch_all(&db.pool)
            .await
            .expect("alarms")
            .into_iter()
            .collect();
    assert_eq!(got, s.alarm_keys(b, e));

    // Tracks: the minute trail of each device that was moving, from the vendor's history.
    let moving = strings(
        &db.pool,
        "SELECT DISTINCT imei FROM state.position_history WHERE speed_kmh >= 3",
    )
    .await;
    run(&db.pool, &v, "poll_tracks").await;
    let tracked = strings(&db.pool, "SELECT DISTINCT target || '/' || method FROM ops.ingestion_log WHERE method = 'jimi.device.track.list'").await;
    assert_eq!(tracked.is_empty(), moving.is_empty());
    for imei in &moving {
        let (b, e) = (Utc::now() - chrono::Duration::hours(1), Utc::now());
        let points: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT fix_time) FROM state.position_history WHERE imei = $1",
        )
        .bind(imei)
        .fetch_one(&db.pool)
        .await
        .expect("history");
        let in_sim = s.track_points(imei, b - chrono::Duration::minutes(1), e);
        assert!(
            points as usize >= in_sim.saturating_sub(1),
            "{imei}: {points} fixes stored, the vendor kept {in_sim}"
        );
    }
    stop.cancel();
}

#[tokio::test]
async fn the_stale_sweep_asks_for_exactly_the_devices_past_the_stale_threshold() {
    let db = TestDb::new().await;
    let (v, sim, stop) = vendor(30, fast(), &db.pool).await;
    let s = View::of(&sim.lock().expect("sim"));
    run(&db.pool, &v, "device_sync").await;
    run(&db.pool, &v, "poll_live").await;
    // Fresh fixes everywhere but the silent and expired trackers: only those are rescued, and
    // the vendor has nothing for them.
    assert_eq!(
        run(&db.pool, &v, "stale_sweep").await,
        s.devices
            .iter()
            .filter(|d| d.3 == DeviceHealth::Expired)
            .count() as i64
    );
    let asked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ops.ingestion_log WHERE method = 'jimi.device.location.get'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("log");
    assert!(asked >= 1);
    // The threshold is a row: make every fix stale and every reporting device is asked for.
    sqlx::query("UPDATE slo.targets SET threshold = 0 WHERE metric = 'stale_gps_sec'")
        .execute(&db.pool)
        .await
        .expect("update");
    assert_eq!(
        run(&db.pool, &v, "stale_sweep").await,
        s.devices
            .iter()
            .filter(|d| d.3 != DeviceHealth::Silent)
            .count() as i64
    );
    stop.cancel();
}

#[tokio::test]
async fn a_vendor_that_fails_is_a_recorded_error_naming_the_call() {
    let db = TestDb::new().await;
    let (v, _sim, stop) = vendor(6, fast(), &db.pool).await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fact = run_slot(&db.pool, &job(&v, "poll_live"), Utc::now(), "test")
        .await
        .expect("claim")
        .expect("ran");
    assert_eq!(fact["outcome"], "error");
    let detail = fact["error"].as_str().expect("detail");
    for account in ACCOUNTS {
        assert!(
            detail.contains(&format!("({account})")),
            "every target is tried and named: {detail}"
        );
    }
}
