//! Fuel imports against a real S3 server on loopback (s3s-fs, in-process) and a real Postgres:
//! dry run, snapshot, idempotency, change files and the watermark, edits, soft deletes, records
//! a snapshot drops, rejects kept and listed, and one device per fill.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleet_core::config::BucketConfig;
use fleet_fuel::feedgen::{self, GenConfig};
use fleet_fuel::import::{self, ImportError};
use fleet_ingest::{registry, worker};
use fleet_s3::Bucket;
use fleet_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;

/// A real S3 server over a temporary folder; returns the bucket's folder and the config to reach it.
async fn s3_server() -> (PathBuf, BucketConfig) {
    let server = fleet_testkit::s3::S3Server::start("fuel", "fuel_records").await;
    std::fs::create_dir_all(server.bucket_dir().join("fuel_records/changes")).expect("folder");
    (server.bucket_dir(), server.config)
}

fn put(bucket: &Path, key: &str, doc: &Value) {
    let path = bucket.join(key);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
    std::fs::write(path, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
}

/// The fleet: KCA 542Q carries two trackers; the rest one each.
const REGISTRY: &str = "IMEI,Number Plate,Driver,Phone,Department,City\n\
862798050000001,KCA 542Q,John Otieno,+254700000001,OPS,Nairobi\n\
862798050000002,KCA 542Q,,,,\n\
862798050000003,KBZ 001A,Grace Wanjiku,+254700000002,OPS,Mombasa\n\
862798050000004,KDD 300C,,,SALES,Nairobi\n\
862798050000005,KDE 400D,,,SALES,Nairobi\n";

async fn fleet(pool: &PgPool) {
    registry::append(pool, REGISTRY.as_bytes(), "fleet.csv", Some("fireside"))
        .await
        .expect("registry");
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

fn end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .single()
        .expect("time")
}

fn generated() -> feedgen::Feed {
    let plates = ["KCA 542Q", "KBZ 001A", "KDD 300C", "KDE 400D"];
    feedgen::generate(&GenConfig {
        seed: 11,
        vehicles: plates.iter().map(|p| feedgen::vehicle_for(11, p)).collect(),
        days: 60,
        end: end(),
        messy: true,
    })
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

#[tokio::test]
async fn snapshots_and_changes_reconcile_idempotently_and_keep_what_they_cannot_read() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    fleet(pool).await;
    let (dir, cfg) = s3_server().await;
    let bucket = Bucket::new(cfg.clone()).expect("bucket");
    let feed = generated();
    let t1 = end() - Duration::days(10);
    let mut snap1 = feed.snapshot(t1);
    // One record that cannot be used, one that counts with its amount missing; a change file
    // later deletes the first and puts the second's amount right.
    let unusable = json!({"id": 1, "car": "KCA 542Q", "litres": "see receipt", "record_datetime": "2026-11-09 10:00"});
    let incomplete = json!({"id": 2, "car": "KCA 542Q", "litres": "40 L", "amount": "4,50,0", "record_datetime": "2026-11-09 12:00"});
    let mut deleted = unusable.clone();
    deleted["deleted_at"] = json!("2026-11-19T10:00:00Z");
    let mut fixed = incomplete.clone();
    fixed["amount"] = json!("Ksh 4,500/=");
    // and one the feed already marks deleted when it is first seen
    let born_deleted = json!({"id": 3, "car": "KCA 542Q", "litres": "30 L", "amount": "3,000",
                              "record_datetime": "2026-11-08 09:00", "deleted_at": "2026-11-08T12:00:00Z"});
    let records = snap1["records"].as_array_mut().expect("records");
    records.extend([unusable, incomplete, born_deleted.clone()]);
    let n1 = records.len();
    put(&dir, "fuel_records/latest.json", &snap1);

    // Dry run: the plan, and nothing written but the run's own row.
    let dry = import::snapshot(pool, &bucket, false, None)
        .await
        .expect("dry run");
    assert!(!dry.applied);
    assert_eq!(dry.counts.records, n1);
    assert_eq!(dry.counts.inserted, n1);
    assert!(
        dry.counts.rejected > 0 && dry.counts.incomplete > 0,
        "the messy feed has unusable and incomplete records: {dry:?}"
    );
    assert!(
        dry.samples["rejected"].iter().any(|p| p.record_id == "1"
            && p.errors == ["litres 'see receipt' not understood: there is no number in it"]),
        "{:?}",
        dry.samples["rejected"]
    );
    assert!(
        dry.samples["incomplete"].iter().any(|p| p.record_id == "2"
            && p.warnings
                .iter()
                .any(|w| w.starts_with("amount '4,50,0' not understood"))),
        "{:?}",
        dry.samples["incomplete"]
    );
    assert_eq!(count(pool, "SELECT count(*) FROM fuel.records").await, 0);
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM events.raw WHERE source = 'fuel_feed'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM fuel.import_runs WHERE NOT applied"
        )
        .await,
        1
    );

    // Apply: every record lands in the log first, then in fuel.records; rejects are kept.
    let applied = import::snapshot(pool, &bucket, true, None)
        .await
        .expect("apply");
    assert_eq!(
        applied.counts, dry.counts,
        "the dry run said what the apply did"
    );
    // an insert is told apart from one marked deleted after the projector has read it
    let ids = |r: &import::Report, action: &str| -> Vec<String> {
        let mut v: Vec<String> = r
            .samples
            .get(action)
            .into_iter()
            .flatten()
            .map(|p| p.record_id.clone())
            .collect();
        v.sort();
        v
    };
    assert!(
        ids(&dry, "insert_deleted").contains(&"3".to_string()),
        "{:?}",
        dry.samples.get("insert_deleted")
    );
    assert_eq!(ids(&applied, "insert_deleted"), ids(&dry, "insert_deleted"));
    assert!(!ids(&applied, "insert").contains(&"3".to_string()));
    assert_eq!(
        count(pool, "SELECT count(*) FROM fuel.records").await,
        n1 as i64
    );
    assert_eq!(
        count(pool, "SELECT count(*) FROM fuel.v_data_quality").await,
        applied.counts.rejected as i64
    );
    let reasons: Vec<Vec<String>> =
        sqlx::query_scalar("SELECT reasons FROM fuel.v_data_quality ORDER BY record_id")
            .fetch_all(pool)
            .await
            .expect("reasons");
    assert!(
        reasons.iter().flatten().any(|r| r.contains("not a number")
            || r.contains("no number plate")
            || r.contains("not recognised")
            || r.contains("not understood")),
        "{reasons:?}"
    );
    let logged = count(
        pool,
        "SELECT count(*) FROM events.raw WHERE source = 'fuel_feed'",
    )
    .await;
    assert!(logged >= 1);

    // Twice is a no-op: nothing new in the log, nothing changed.
    let again = import::snapshot(pool, &bucket, true, None)
        .await
        .expect("again");
    assert_eq!(again.counts.unchanged, n1);
    assert_eq!(
        (
            again.counts.inserted,
            again.counts.updated,
            again.counts.deleted
        ),
        (0, 0, 0)
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM events.raw WHERE source = 'fuel_feed'"
        )
        .await,
        logged
    );

    // The hourly change files after t1: new fills, edits and soft deletes, read once.
    let mut files = feed.changes(t1, end());
    assert!(files.len() > 10);
    let last_hour = (end() + Duration::hours(1)).format("%Y%m%dT%H%M%SZ");
    files.push((
        format!("{last_hour}.json"),
        json!({"records": [deleted.clone(), fixed.clone()]}),
    ));
    for (name, doc) in &files {
        put(&dir, &format!("fuel_records/changes/{name}"), doc);
    }
    let dry = import::changes(pool, &bucket, false, None)
        .await
        .expect("changes dry");
    assert_eq!(dry.objects.len(), files.len());
    assert_eq!(
        import::watermark(pool).await.expect("watermark"),
        None,
        "a dry run keeps the watermark"
    );
    let ch = import::changes(pool, &bucket, true, None)
        .await
        .expect("changes");
    assert!(
        ch.counts.inserted > 0 && ch.counts.updated + ch.counts.deleted > 0,
        "{:?}",
        ch.counts
    );
    let last = format!("fuel_records/changes/{}", files.last().expect("files").0);
    assert_eq!(
        import::watermark(pool).await.expect("watermark").as_deref(),
        Some(last.as_str())
    );
    let none = import::changes(pool, &bucket, true, None)
        .await
        .expect("no new files");
    assert!(none.objects.is_empty() && none.counts.records == 0);

    // The snapshot at the end agrees with snapshot + changes.
    let mut snap2 = feed.snapshot(end());
    snap2["records"]
        .as_array_mut()
        .expect("records")
        .extend([deleted, fixed, born_deleted]);
    put(&dir, "fuel_records/latest.json", &snap2);
    let agree = import::snapshot(pool, &bucket, true, None)
        .await
        .expect("snapshot 2");
    assert_eq!(
        (
            agree.counts.inserted,
            agree.counts.updated,
            agree.counts.deleted
        ),
        (0, 0, 0),
        "{:?}",
        agree.samples
    );
    let deleted_in_feed: i64 = snap2["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| !r["deleted_at"].is_null())
        .count() as i64;
    assert!(deleted_in_feed > 0);
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM fuel.records WHERE delete_reason = 'deleted in the feed'"
        )
        .await,
        deleted_in_feed
    );

    // An edit and a record the snapshot no longer lists.
    let mut edited = snap2.clone();
    let records = edited["records"].as_array_mut().expect("records");
    let dropped = records.pop().expect("a record");
    let target = records
        .iter_mut()
        .find(|r| {
            r["deleted_at"].is_null()
                && r["car"].as_str().is_some_and(|c| !c.trim().is_empty())
                && r["litres"].as_f64().is_some()
        })
        .expect("a plain record");
    target["litres"] = json!(12.34);
    let target_id = target["id"].to_string();
    put(&dir, "fuel_records/latest.json", &edited);
    let r = import::snapshot(pool, &bucket, true, None)
        .await
        .expect("edit");
    assert_eq!(
        (r.counts.updated, r.counts.deleted),
        (1, usize::from(dropped["deleted_at"].is_null()))
    );
    let litres: Option<f64> =
        sqlx::query_scalar("SELECT litres::float8 FROM fuel.records WHERE record_id = $1")
            .bind(&target_id)
            .fetch_one(pool)
            .await
            .expect("edited");
    assert_eq!(litres, Some(12.34));
    if dropped["deleted_at"].is_null() {
        let reason: Option<String> =
            sqlx::query_scalar("SELECT delete_reason FROM fuel.records WHERE record_id = $1")
                .bind(dropped["id"].to_string())
                .fetch_one(pool)
                .await
                .expect("dropped");
        assert_eq!(reason.as_deref(), Some("absent from snapshot"));
    }

    // A full re-parse of the log rebuilds the same fuel state.
    let before: Vec<(String, Option<String>, Option<f64>, bool)> = sqlx::query_as(
        "SELECT record_id, plate_key, litres::float8, deleted_at IS NULL FROM fuel.records ORDER BY record_id",
    )
    .fetch_all(pool)
    .await
    .expect("state");
    fleet_ingest::replay::rebuild(pool, "fuel.records", 1_000, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    let after: Vec<(String, Option<String>, Option<f64>, bool)> = sqlx::query_as(
        "SELECT record_id, plate_key, litres::float8, deleted_at IS NULL FROM fuel.records ORDER BY record_id",
    )
    .fetch_all(pool)
    .await
    .expect("state");
    assert_eq!(before, after);

    // One device per fill, although KCA 542Q carries two trackers.
    let dup: i64 = count(
        pool,
        "SELECT count(*) - count(DISTINCT record_id) FROM fuel.v_fills",
    )
    .await;
    assert_eq!(dup, 0);
    let kca: Vec<Option<String>> =
        sqlx::query_scalar("SELECT DISTINCT imei FROM fuel.v_fills WHERE plate_key = 'KCA542Q'")
            .fetch_all(pool)
            .await
            .expect("kca");
    assert_eq!(kca.len(), 1, "{kca:?}");
    assert!(kca[0].is_some());

    // An empty export would remove every live record: refused, with nothing written.
    let live = count(
        pool,
        "SELECT count(*) FROM fuel.records WHERE deleted_at IS NULL",
    )
    .await;
    let runs = count(pool, "SELECT count(*) FROM events.raw").await;
    put(
        &dir,
        "fuel_records/latest.json",
        &json!({"metadata": {"count": 0}, "records": []}),
    );
    let e = import::snapshot(pool, &bucket, true, None)
        .await
        .expect_err("an empty snapshot");
    assert!(
        e.to_string()
            .contains(&format!("would remove all {live} live fuel records")),
        "{e}"
    );
    assert_eq!(
        count(
            pool,
            "SELECT count(*) FROM fuel.records WHERE deleted_at IS NULL"
        )
        .await,
        live
    );
    assert_eq!(count(pool, "SELECT count(*) FROM events.raw").await, runs);
    let detail: Option<String> = sqlx::query_scalar(
        "SELECT detail FROM fuel.import_runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("the refused run");
    assert!(detail.is_some_and(|d| d.starts_with("failed: the snapshot lists no records")));
}

/// `GET /api/analytics/fuel-*` answer from these functions (the gateway passes their text through).
async fn fuel_view(pool: &PgPool, f: &str, filters: Value) -> Value {
    let sql = format!("SELECT serve.{f}($1)");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(filters)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{f}: {e}"))
}

#[tokio::test]
async fn the_fuel_api_totals_filters_and_flags_fills() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    fleet(pool).await;
    let feed = generated();
    let mut snap = feed.snapshot(end());
    // An odometer typed short on the newest full KBZ 001A fill: backwards, so flagged and left out.
    let typo = snap["records"]
        .as_array_mut()
        .expect("records")
        .iter_mut()
        .rev()
        .find(|r| {
            r["car"]
                .as_str()
                .is_some_and(|c| c.to_uppercase().replace([' ', '-'], "") == "KBZ001A")
                && r["deleted_at"].is_null()
                && r.get("full_tank").is_none()
                && !r["odometer"].is_null()
        })
        .expect("a KBZ 001A fill");
    typo["odometer"] = json!("1,000 km");
    let typo_id = typo["id"].to_string();
    let doc = serde_json::to_vec(&snap).expect("json");
    let r = import::run(
        pool,
        import::Mode::File,
        vec![("latest.json".into(), doc)],
        true,
        None,
    )
    .await
    .expect("import");
    assert!(r.counts.inserted > 50);
    // Everything, over ten years (the default is the last 90 days from now).
    let all = fuel_view(pool, "fn_fuel_fills", json!({"period_days": 3660})).await;
    let fills: i64 = count(pool, "SELECT count(*) FROM fuel.v_fills").await;
    assert_eq!(all["totals"]["fills"], fills);
    assert_eq!(all["rows"].as_array().expect("rows").len() as i64, fills);
    assert_eq!(
        all["totals"]["vehicles"].as_i64(),
        Some(all["by_vehicle"].as_array().expect("v").len() as i64)
    );
    let dept_fills: i64 = all["by_department"]
        .as_array()
        .expect("d")
        .iter()
        .map(|d| d["fills"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(dept_fills, fills, "every fill in one department row");
    let trend_litres: f64 = all["trend"]
        .as_array()
        .expect("t")
        .iter()
        .map(|d| d["litres"].as_f64().unwrap_or(0.0))
        .sum();
    let total_litres = all["totals"]["litres"].as_f64().expect("litres");
    assert!(
        (trend_litres - total_litres).abs() < 1.0,
        "{trend_litres} vs {total_litres}"
    );
    let kpl = all["totals"]["km_per_l"]
        .as_f64()
        .expect("km/L from odometers");
    assert!((2.0..20.0).contains(&kpl), "a plausible fleet km/L: {kpl}");
    // A department in a spelling the feed uses (in another case and spacing); a plate in
    // another spelling.
    let dept = all["by_department"][0]["department"]
        .as_str()
        .expect("dept")
        .to_string();
    let spelling: String = sqlx::query_scalar(
        "SELECT spelling FROM fuel.department_spellings WHERE canonical = $1 ORDER BY records, spelling LIMIT 1",
    )
    .bind(&dept)
    .fetch_one(pool)
    .await
    .expect("a spelling");
    let messy = format!("  {}  ", spelling.to_uppercase().replace(' ', "  "));
    let by_dept = fuel_view(
        pool,
        "fn_fuel_fills",
        json!({"period_days": 3660, "departments": [messy]}),
    )
    .await;
    assert_eq!(
        by_dept["totals"]["fills"], all["by_department"][0]["fills"],
        "{messy}"
    );
    let kca = fuel_view(
        pool,
        "fn_fuel_fills",
        json!({"period_days": 3660, "vehicles": ["kca-542q"]}),
    )
    .await;
    assert!(
        kca["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["vehicle_number"] == "KCA 542Q")
    );
    assert!(kca["totals"]["fills"].as_i64().expect("n") > 0);
    let recent = fuel_view(pool, "fn_fuel_recent", json!({"period_days": 3660})).await;
    assert_eq!(
        recent["rows"].as_array().expect("rows").len(),
        50.min(fills as usize)
    );
    // Efficiency and flags: the generator's odometer typos and overfills are caught and kept out.
    let eff = fuel_view(pool, "fn_fuel_efficiency", json!({"period_days": 3660})).await;
    let rows = eff["rows"].as_array().expect("rows");
    let flagged_typo = rows
        .iter()
        .find(|r| r["record_id"] == typo_id.as_str())
        .expect("the typo's row");
    assert!(
        flagged_typo["outliers"]
            .as_array()
            .is_some_and(|o| o.iter().any(|x| x == "odometer went backwards")),
        "{flagged_typo}"
    );
    assert!(
        rows.iter()
            .filter(|r| r["outliers"].as_array().is_some_and(|o| !o.is_empty()))
            .all(|r| r["km_per_l"].is_null())
    );
    let flagged = fuel_view(pool, "fn_fuel_flagged", json!({"period_days": 3660})).await;
    assert!(flagged["summary"]["flagged"].as_i64().expect("n") > 0);
    assert_eq!(flagged["summary"]["unreadable"], r.counts.rejected as i64);
    // With no GPS in this test, no fill is verified, and each says why.
    assert_eq!(flagged["summary"]["verified"], 0);
    assert!(
        flagged["rows"][0]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    // The departments are filter values.
    let filters = fuel_view(pool, "fn_filters", json!({})).await;
    assert!(
        filters["departments"]
            .as_array()
            .expect("d")
            .iter()
            .any(|d| d == dept.as_str()),
        "{filters}"
    );
    // A bad filter says what is wrong.
    let e = sqlx::query_scalar::<_, Value>("SELECT serve.fn_fuel_fills('{\"department\": \"x\"}')")
        .fetch_one(pool)
        .await
        .expect_err("unknown filter");
    assert!(
        e.to_string().contains("unknown filter \"department\""),
        "{e}"
    );
}

#[tokio::test]
async fn wrong_credentials_and_missing_objects_say_what_is_wrong() {
    let db = TestDb::new().await;
    let (_dir, mut cfg) = s3_server().await;
    let bucket = Bucket::new(cfg.clone()).expect("bucket");
    let e = import::snapshot(&db.pool, &bucket, false, None)
        .await
        .expect_err("no snapshot yet");
    assert!(e.to_string().contains("fuel_records/latest.json"), "{e}");
    cfg.secret_key = "wrong".into();
    let bad = Bucket::new(cfg).expect("bucket");
    let e = import::snapshot(&db.pool, &bad, false, None)
        .await
        .expect_err("bad key");
    assert!(matches!(e, ImportError::Bucket(_)), "{e}");
    assert!(
        e.to_string().contains("403") || e.to_string().contains("Signature"),
        "{e}"
    );
}

/// Jimi GPS pushes for one tracker, through the event log like the gateway's.
async fn fixes(pool: &PgPool, imei: &str, list: &[(DateTime<Utc>, f64, f64, f64)]) {
    let data: Vec<Value> = list
        .iter()
        .map(|(t, lat, lng, speed)| {
            json!({"deviceImei": imei, "gpsTime": t.format("%Y-%m-%d %H:%M:%S").to_string(),
                   "lat": lat.to_string(), "lng": lng, "gpsSpeed": speed.to_string(),
                   "direction": "90", "acc": "1", "postType": 1})
        })
        .collect();
    let body = json!({"data_list": Value::Array(data).to_string()}).to_string();
    fleet_ingest::rawlog::append_one(
        pool,
        fleet_ingest::rawlog::TrustedRow {
            source: "jimi_push",
            kind: "pushgps",
            content_type: "application/json",
            verification: "test",
            meta: &json!({}),
            body: body.as_bytes(),
        },
    )
    .await
    .expect("push");
}

/// record_id, verified, station_name, station_distance_m, reasons
type Reconciled = (
    String,
    Option<bool>,
    Option<String>,
    Option<f64>,
    Vec<String>,
);

#[tokio::test]
async fn reconciliation_verifies_fills_where_the_vehicle_stood_at_a_station() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    fleet(pool).await;
    // A fuel station (as the OSM loader stores one) in Nairobi.
    sqlx::query(
        "INSERT INTO geo.pois (osm_type, osm_id, kind, name, geom)
         VALUES ('node', 1, 'fuel', 'Shell Kenyatta Avenue', ST_SetSRID(ST_MakePoint(36.8219, -1.2864), 4326))",
    )
    .execute(pool)
    .await
    .expect("poi");
    let t = end() - Duration::days(2);
    let minutes = |from: i64, to: i64| (from..=to).map(move |m| t + Duration::minutes(m));
    // KBZ 001A (tracker 3) stands 30 m from the station from 5 minutes before the fill to after.
    let still: Vec<_> = minutes(-5, 5)
        .map(|at| (at, -1.2866, 36.8220, 0.0))
        .collect();
    fixes(pool, "862798050000003", &still).await;
    // KDD 300C (tracker 4) drives past 2 km away at the fill time.
    let driving: Vec<_> = minutes(-5, 5)
        .enumerate()
        .map(|(i, at)| (at, -1.2700 + i as f64 * 0.009, 36.8400, 55.0))
        .collect();
    fixes(pool, "862798050000004", &driving).await;
    // KDE 400D (tracker 5) stands still a day later where the record says it filled, far
    // from any station on the map.
    let t2 = t + Duration::days(1);
    let parked: Vec<_> = (-5..=5)
        .map(|m| (t2 + Duration::minutes(m), -1.3000, 36.7000, 0.0))
        .collect();
    fixes(pool, "862798050000005", &parked).await;
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
    assert_eq!(
        count(pool, "SELECT count(*) FROM state.position_history").await,
        33,
        "the fixes are in the history"
    );
    let at = |x: DateTime<Utc>| x.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let doc = json!({"records": [
        {"id": 1, "car": "KBZ 001A", "litres": 40, "amount": 7000, "record_datetime": at(t), "fuel_type": "diesel"},
        {"id": 2, "car": "KDD 300C", "litres": 40, "amount": 7000, "record_datetime": at(t), "fuel_type": "diesel"},
        {"id": 3, "car": "KDE 400D", "litres": 40, "amount": 7000, "record_datetime": at(t2), "fuel_type": "diesel",
         "lat": "-1.30005", "lng": "36.70003"},
        {"id": 4, "car": "KDE 400D", "litres": 40, "amount": 7000, "record_datetime": at(t), "fuel_type": "diesel"},
    ]});
    import::run(
        pool,
        import::Mode::File,
        vec![("recon.json".into(), serde_json::to_vec(&doc).expect("json"))],
        true,
        None,
    )
    .await
    .expect("import");
    let rows: Vec<Reconciled> = sqlx::query_as(
        "SELECT record_id, verified, station_name, station_distance_m::float8, reasons
           FROM fuel.v_reconciliation ORDER BY record_id",
    )
    .fetch_all(pool)
    .await
    .expect("reconciliation");
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r.0 == id)
            .unwrap_or_else(|| panic!("fill {id} in {rows:?}"))
    };
    let at_station = by_id("1");
    assert_eq!(at_station.1, Some(true), "{at_station:?}");
    assert_eq!(at_station.2.as_deref(), Some("Shell Kenyatta Avenue"));
    assert!(at_station.3.is_some_and(|d| d < 100.0), "{at_station:?}");
    assert!(at_station.4.is_empty(), "{at_station:?}");

    let driving_past = by_id("2");
    assert_eq!(driving_past.1, Some(false), "{driving_past:?}");
    assert!(
        driving_past
            .4
            .contains(&"vehicle was moving at the fill time".to_string()),
        "{driving_past:?}"
    );
    assert!(
        driving_past
            .4
            .contains(&"not at a fuel station".to_string()),
        "{driving_past:?}"
    );

    let reported_place = by_id("3");
    assert_eq!(reported_place.1, Some(true), "{reported_place:?}");
    assert!(reported_place.4.is_empty(), "{reported_place:?}");

    let no_fix = by_id("4");
    assert_eq!(no_fix.1, Some(false), "{no_fix:?}");
    assert_eq!(no_fix.4, vec!["no GPS fix near the fill time".to_string()]);
}

#[tokio::test]
async fn the_demo_fuel_log_fills_an_empty_log_once_for_the_registered_fleet() {
    use fleet_fuel::demo::{self, Seeded};
    let db = TestDb::new().await;
    let pool = &db.pool;
    assert!(matches!(
        demo::seed(pool, 7, 31).await.expect("seed"),
        Seeded::NoVehicles
    ));
    fleet(pool).await;
    // the roads and fuel stations of the simulator's town
    fleet_geo::osm::load(pool, fleet_geo::MONACO_PBF)
        .await
        .expect("Monaco");
    let Seeded::Imported(report) = demo::seed(pool, 7, 31).await.expect("seed") else {
        panic!("the demo log was not imported");
    };
    assert!(report.applied && report.counts.inserted > 20, "{report:?}");
    // most fills happened at one of the extract's stations, with the location the driver shared
    let (fills, at_station): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM geo.pois p WHERE p.kind = 'fuel'
                       AND ST_DWithin(p.geom::geography, ST_MakePoint(f.reported_lng, f.reported_lat)::geography, 30)
                       AND coalesce(p.name, p.brand, 'Fuel station') = f.station))
           FROM fuel.v_fills f",
    )
    .fetch_one(pool)
    .await
    .expect("stations");
    assert!(
        at_station * 10 >= fills * 6 && at_station < fills,
        "{at_station} of {fills} fills at a station of the extract"
    );
    // Every registered vehicle has fills, the month is covered, and the departments the feed
    // spells many ways come out as one name per real department, learned with no mappings.
    assert_eq!(
        count(pool, "SELECT count(DISTINCT vehicle_id) FROM fuel.v_fills").await,
        4
    );
    // The first fill comes within 3 days of the start, fills are 1.5–4.5 days apart, and none is
    // in the future: over 31 days the fills span at least 31 − 3 − 4.5 − 1 (the fill's time of day)
    // days, whatever the hour the test runs (>= 25 failed between 00:00 and 06:00 EAT, when the
    // day's fill would be later than now).
    let span = count(
        pool,
        "SELECT extract(day FROM max(filled_at) - min(filled_at))::bigint FROM fuel.v_fills",
    )
    .await;
    assert!(span >= 22, "the fills span {span} days");
    let real: std::collections::BTreeSet<String> = ["KCA 542Q", "KBZ 001A", "KDD 300C", "KDE 400D"]
        .iter()
        .map(|p| feedgen::vehicle_for(7, p).department)
        .collect();
    assert_eq!(
        count(pool, "SELECT count(DISTINCT department) FROM fuel.v_fills").await,
        real.len() as i64,
        "one department per real department: {real:?}"
    );
    assert_eq!(count(pool, "SELECT count(*) FROM fuel.mappings").await, 0);
    // Once: a second call leaves the log alone.
    assert!(matches!(
        demo::seed(pool, 8, 31).await.expect("seed"),
        Seeded::AlreadyHasRecords
    ));
    assert_eq!(
        count(pool, "SELECT count(*) FROM fuel.import_runs").await,
        1
    );
}
