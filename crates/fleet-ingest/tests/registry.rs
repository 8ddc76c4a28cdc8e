//! Registry imports as events: the file goes into events.raw, the parser reads each line, the
//! registry projectors write domain.*; re-importing changes nothing and a moved device or a new
//! driver closes the old assignment instead of overwriting history.

use fleet_core::registry;
use fleet_ingest::registry::{append, count, plan};
use fleet_ingest::worker;
use fleet_testkit::TestDb;
use sqlx::PgPool;

async fn drain(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

async fn import(pool: &PgPool, csv: &str) -> i64 {
    let id = append(pool, csv.as_bytes(), "fleet.csv", Some("fireside"))
        .await
        .expect("append");
    drain(pool).await;
    id
}

const FIRST: &str = "IMEI,Account,Number Plate,Vehicle Name,Driver,Phone,Employee No,Department,City\n\
862798050000001,,KCA 542Q,Hilux 1,John Otieno,+254700000001,E-17,Sales,nairobi\n\
862798050000002,Fireside_MSA,KBZ 001A,,Grace Wanjiku,+254700000002,,Service,Mombasa\n\
353549050000003,,kca542q,,,,,,\n\
8.62798E+14,,KDA 1,,,,,,\n";

async fn open_fittings(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT a.imei, v.vehicle_number FROM domain.device_assignments a JOIN domain.vehicles v USING (vehicle_id)
          WHERE upper_inf(a.during) ORDER BY a.imei",
    )
    .fetch_all(pool)
    .await
    .expect("fittings")
}

async fn open_drivers(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT v.vehicle_number, d.name FROM domain.driver_assignments a JOIN domain.vehicles v USING (vehicle_id)
           JOIN domain.drivers d USING (driver_id) WHERE upper_inf(a.during) ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("drivers")
}

#[tokio::test]
async fn an_import_builds_the_registry_and_keeps_bad_lines() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let parsed = registry::parse(FIRST.as_bytes(), Some("fireside")).expect("parse");
    let before = count(&plan(pool, &parsed).await.expect("plan"));
    assert_eq!(
        (
            before.new_devices,
            before.new_vehicles,
            before.new_drivers,
            before.fittings
        ),
        (3, 2, 2, 3),
        "two of the rows name one vehicle (KCA 542Q and kca542q)"
    );

    let id = import(pool, FIRST).await;
    let devices: Vec<(String, String, String)> =
        sqlx::query_as("SELECT imei, account, lifecycle FROM domain.devices ORDER BY imei")
            .fetch_all(pool)
            .await
            .expect("devices");
    assert_eq!(
        devices,
        [
            ("353549050000003".into(), "fireside".into(), "active".into()),
            ("862798050000001".into(), "fireside".into(), "active".into()),
            (
                "862798050000002".into(),
                "Fireside_MSA".into(),
                "active".into()
            ),
        ]
    );
    assert_eq!(
        open_fittings(pool).await,
        [
            ("353549050000003".into(), "kca542q".into()),
            ("862798050000001".into(), "kca542q".into()),
            ("862798050000002".into(), "KBZ 001A".into()),
        ],
        "one vehicle, two trackers; the latest spelling of the plate is kept"
    );
    assert_eq!(
        open_drivers(pool).await,
        [
            ("KBZ 001A".into(), "Grace Wanjiku".into()),
            ("kca542q".into(), "John Otieno".into())
        ]
    );
    let (name, city, cc): (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT vehicle_name, assigned_city, cost_centre FROM domain.vehicles WHERE plate_key = 'KCA542Q'",
    )
    .fetch_one(pool)
    .await
    .expect("vehicle");
    assert_eq!(
        (name.as_deref(), city.as_deref(), cc.as_deref()),
        (Some("Hilux 1"), Some("Nairobi"), Some("Sales")),
        "a later row's empty cells do not erase what an earlier row said"
    );
    // The bad line is kept with the import and listed.
    let error: Option<String> =
        sqlx::query_scalar("SELECT parse_error FROM events.raw WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("raw");
    let error = error.expect("the bad line is reported");
    assert!(
        error.contains("line 5") && error.contains("scientific notation"),
        "{error}"
    );

    // Importing the same file again changes nothing.
    let again = count(&plan(pool, &parsed).await.expect("plan"));
    assert_eq!(again.unchanged_rows, parsed.rows.len(), "{again:?}");
    import(pool, FIRST).await;
    let n: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM domain.device_assignments), (SELECT count(*) FROM domain.drivers),
                (SELECT count(*) FROM domain.device_lifecycle_events)",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!(n, (3, 2, 3));
}

#[tokio::test]
async fn a_moved_tracker_and_a_new_driver_close_the_old_assignments() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    import(pool, FIRST).await;
    let second = "imei,plate,driver,phone\n353549050000003,KBZ 001A,Peter Kamau,+254700000009\n";
    let parsed = registry::parse(second.as_bytes(), Some("fireside")).expect("parse");
    let p = plan(pool, &parsed).await.expect("plan");
    assert_eq!(
        p[0].fitting.as_deref(),
        Some("moves from kca542q to KBZ 001A")
    );
    assert_eq!(
        p[0].driving.as_deref(),
        Some("driver of KBZ 001A: Grace Wanjiku -> Peter Kamau")
    );
    import(pool, second).await;
    assert_eq!(
        open_fittings(pool).await,
        [
            ("353549050000003".into(), "KBZ 001A".into()),
            ("862798050000001".into(), "kca542q".into()),
            ("862798050000002".into(), "KBZ 001A".into()),
        ]
    );
    assert_eq!(
        open_drivers(pool).await,
        [
            ("KBZ 001A".into(), "Peter Kamau".into()),
            ("kca542q".into(), "John Otieno".into())
        ]
    );
    // History is kept: the old fitting and the old driver are closed, not gone.
    let closed: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM domain.device_assignments WHERE NOT upper_inf(during)),
                (SELECT count(*) FROM domain.driver_assignments WHERE NOT upper_inf(during))",
    )
    .fetch_one(pool)
    .await
    .expect("closed");
    assert_eq!(closed, (1, 1));
}

#[tokio::test]
async fn vendor_device_reports_register_devices_under_their_account() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let body = serde_json::json!({"code": 0, "result": [
        {"imei": "862798050000011", "enabledFlag": 1, "mcType": "X3"},
        {"imei": "862798050000012", "enabledFlag": 0}
    ]});
    fleet_ingest::rawlog::append_poll(
        pool,
        "jimi.user.device.list",
        &serde_json::json!({"target": "demo@HQ"}),
        body.to_string().as_bytes(),
    )
    .await
    .expect("append");
    drain(pool).await;
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT d.imei, d.account, d.lifecycle, e.actor FROM domain.devices d
           JOIN domain.device_lifecycle_events e USING (imei) ORDER BY d.imei",
    )
    .fetch_all(pool)
    .await
    .expect("devices");
    assert_eq!(
        rows,
        [
            (
                "862798050000011".into(),
                "demo@HQ".into(),
                "active".into(),
                "vendor device sync".into()
            ),
            (
                "862798050000012".into(),
                "demo@HQ".into(),
                "provisioned".into(),
                "vendor device sync".into()
            ),
        ]
    );
}
