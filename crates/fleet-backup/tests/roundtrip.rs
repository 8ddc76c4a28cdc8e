//! Backups against a real S3 server on loopback (s3s-fs) and real Postgres with `pg_dump` and
//! `pg_restore`: a full backup taken while ingest writes restores to exactly the manifest's
//! counts; verification replays every state table to the backed-up rows; a damaged object is
//! refused; slices restore into a migrated database and replay to the original state;
//! retention keeps the newest and removes interrupted runs.

use std::path::PathBuf;

use fleet_backup::{BackupError, Kind, dump, restore, verify};
use fleet_ingest::{registry, worker};
use fleet_s3::Bucket;
use fleet_testkit::TestDb;
use fleet_testkit::s3::S3Server;
use sqlx::PgPool;

const REGISTRY: &str = "IMEI,Number Plate,Driver,Phone,Department,City\n\
862798050000001,KCA 542Q,John Otieno,+254700000001,OPS,Nairobi\n\
862798050000002,KBZ 001A,Grace Wanjiku,+254700000002,OPS,Mombasa\n\
862798050000003,KDD 300C,,,SALES,Nairobi\n";

async fn push(pool: &PgPool, device: usize, minute: usize) {
    let list: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            serde_json::json!({"deviceImei": format!("86279805000000{device}"),
                "gpsTime": format!("2026-11-23 {:02}:{:02}:{:02}", 8 + minute / 60, minute % 60, i * 10),
                "lat": -1.28 - (minute as f64) / 1000.0, "lng": 36.82 + (i as f64) / 1000.0,
                "gpsSpeed": format!("{}", 10 * i), "acc": "1"})
        })
        .collect();
    fleet_testkit::store_pushgps(pool, &serde_json::Value::Array(list)).await;
}

async fn drain(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

/// A fleet with positions, a fuel month and the state derived from them.
async fn populated() -> TestDb {
    let db = TestDb::new().await;
    registry::append(&db.pool, REGISTRY.as_bytes(), "fleet.csv", Some("test"))
        .await
        .expect("registry");
    drain(&db.pool).await;
    for minute in 0..40 {
        push(&db.pool, 1 + minute % 3, minute).await;
    }
    drain(&db.pool).await;
    fleet_fuel::demo::seed(&db.pool, 7, 20)
        .await
        .expect("fuel month");
    drain(&db.pool).await;
    db
}

fn staging() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fleet-backup-test-{}-{}",
        std::process::id(),
        fleet_store::cluster::random_hex(4).expect("random")
    ));
    std::fs::create_dir_all(&dir).expect("staging");
    dir
}

/// A bucket on a loopback S3 server (the server, to reach its files) and a staging folder.
async fn store() -> (S3Server, Bucket, PathBuf) {
    let s3 = S3Server::start("backups", "fleet").await;
    let bucket = Bucket::new(s3.config.clone()).expect("bucket");
    (s3, bucket, staging())
}

/// Dumps of `db`, staged in `stage`, with the tools found as in production.
fn source<'a>(db: &'a TestDb, stage: &'a std::path::Path) -> dump::Source<'a> {
    dump::Source {
        url: &db.url,
        staging: stage,
        bindir: None,
    }
}

/// A verification with the replay, on the server of `admin`, its scratch database dropped.
fn verifying<'a>(admin: &'a str, stage: &'a std::path::Path) -> verify::Options<'a> {
    verify::Options {
        server_url: admin,
        staging: stage,
        bindir: None,
        replay: true,
        keep: false,
    }
}

/// An empty database beside the test's, dropped at the end of the test process's server use.
async fn empty_database() -> TestDb {
    TestDb::empty().await
}

async fn fingerprints(pool: &PgPool) -> Vec<(String, (i64, String))> {
    let mut out = Vec::new();
    for t in fleet_ingest::project::tables() {
        out.push((
            t.to_string(),
            verify::fingerprint(pool, t).await.expect("fingerprint"),
        ));
    }
    out
}

#[tokio::test]
async fn a_full_backup_taken_under_writes_restores_exactly_and_verifies_by_replay() {
    let db = populated().await;
    let (s3, bucket, stage) = store().await;
    let source = source(&db, &stage);

    // ingest goes on while the dump runs: the manifest's counts are of the dump's own snapshot
    let writer_pool = db.pool.clone();
    let writer = tokio::spawn(async move {
        for minute in 40..140 {
            push(&writer_pool, 1 + minute % 3, minute).await;
        }
    });
    let m = dump::take(&bucket, &source, Kind::Full)
        .await
        .expect("backup");
    writer.await.expect("writer");
    assert!(
        m.key.starts_with("fleet/full/") && m.key.ends_with(".dump"),
        "{}",
        m.key
    );
    assert!(m.size > 0 && m.sha256.len() == 64);
    assert!(
        m.tables.get("fuel.records").copied().unwrap_or(0) > 10,
        "{:?}",
        m.tables
    );
    assert!(
        m.tables.contains_key("state.live_positions"),
        "{:?}",
        m.tables.keys()
    );
    assert!(
        !m.tables.contains_key("public.spatial_ref_sys"),
        "extension tables are not ours"
    );
    assert!(
        m.partitions
            .iter()
            .any(|p| p.parent == "events.raw" && p.bound == "DEFAULT")
    );
    let raw_in_manifest: i64 = m
        .tables
        .iter()
        .filter(|(t, _)| t.starts_with("events.raw"))
        .map(|(_, n)| n)
        .sum();
    let raw_now: i64 = sqlx::query_scalar("SELECT count(*) FROM events.raw")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert!(raw_in_manifest > 40 && raw_in_manifest <= raw_now);

    // the ages the cron role exports: the full one just taken, none of the slices yet
    let ages = fleet_backup::ages(&bucket, chrono::Utc::now())
        .await
        .expect("ages");
    assert_eq!(ages.len(), 3);
    assert!(
        matches!(ages[0], (Kind::Full, Some(a)) if (0.0..600.0).contains(&a)),
        "{ages:?}"
    );
    assert_eq!(ages[1], (Kind::Events, None));
    assert_eq!(ages[2], (Kind::Geo, None));

    // listed, found by stamp
    let listed = fleet_backup::list(&bucket, None).await.expect("list");
    assert_eq!(listed, vec![m.clone()]);
    let stamp = m
        .key
        .rsplit('/')
        .next()
        .expect("name")
        .trim_end_matches(".dump");
    assert_eq!(fleet_backup::find(&bucket, stamp).await.expect("find"), m);
    let e = fleet_backup::find(&bucket, "19990101T000000Z")
        .await
        .expect_err("unknown");
    assert!(e.to_string().contains("fleet backup list"), "{e}");

    // restore into an empty database: every count as in the manifest
    let target = empty_database().await;
    let r = restore::restore(&bucket, &m, &target.url, &stage, None)
        .await
        .expect("restore");
    assert_eq!(restore::count_differences(&m, &r.tables), vec![]);
    assert_eq!(r.tables, m.tables);

    // a database that is not empty is refused, and keeps what it had
    let e = restore::restore(&bucket, &m, &target.url, &stage, None)
        .await
        .expect_err("not empty");
    assert!(matches!(e, BackupError::Refused(_)), "{e}");
    assert!(e.to_string().contains("not empty"), "{e}");

    // verification: counts, migration, and a replay of every state table equal to the backup
    let admin = fleet_testkit::server_admin_url();
    let o = verifying(&admin, &stage);
    let report = verify::verify(&bucket, &m, &o).await.expect("verify");
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.replayed.len(), fleet_ingest::project::tables().len());
    assert!(
        report
            .replayed
            .iter()
            .any(|p| p.table == "fuel.records" && p.rows > 10 && p.same),
        "{report:#?}"
    );
    let gone: Option<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname = $1")
            .bind(&report.scratch_database)
            .fetch_optional(&db.pool)
            .await
            .expect("lookup");
    assert_eq!(gone, None, "the scratch database is dropped");
    assert_eq!(
        bucket
            .list("fleet/verify/", None)
            .await
            .expect("reports")
            .len(),
        1
    );

    // a damaged object is refused before anything is restored
    let file = s3.bucket_dir().join(&m.key);
    let mut bytes = std::fs::read(&file).expect("dump file");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&file, bytes).expect("damage");
    let fresh = empty_database().await;
    let e = restore::restore(&bucket, &m, &fresh.url, &stage, None)
        .await
        .expect_err("damaged");
    assert!(matches!(e, BackupError::Checksum { .. }), "{e}");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&fresh.pool)
    .await
    .expect("tables");
    assert_eq!(tables, 0, "nothing restored from a damaged dump");
}

#[tokio::test]
async fn an_events_slice_restores_into_a_migrated_database_and_replays_to_the_same_state() {
    let db = populated().await;
    let (_s3, bucket, stage) = store().await;
    let source = source(&db, &stage);
    let m = dump::take(&bucket, &source, Kind::Events)
        .await
        .expect("events slice");
    assert!(
        m.tables.keys().all(|t| t.starts_with("events.")),
        "{:?}",
        m.tables.keys()
    );
    assert!(m.key.starts_with("fleet/events/"));

    // an empty database has no schema to load the slice into: refused with what to do
    let bare = empty_database().await;
    let e = restore::restore(&bucket, &m, &bare.url, &stage, None)
        .await
        .expect_err("no schema");
    assert!(e.to_string().contains("fleet db migrate"), "{e}");

    let target = TestDb::new().await;
    let r = restore::restore(&bucket, &m, &target.url, &stage, None)
        .await
        .expect("restore slice");
    assert_eq!(restore::count_differences(&m, &r.tables), vec![]);
    // a second load would double the log: refused
    let e = restore::restore(&bucket, &m, &target.url, &stage, None)
        .await
        .expect_err("not empty");
    assert!(e.to_string().contains("already has"), "{e}");

    // the registry first (its rows reference each other), then every state table
    for t in fleet_ingest::project::tables() {
        fleet_ingest::replay::rebuild(
            &target.pool,
            t,
            fleet_ingest::replay::BATCH,
            &mut |_, _, _| {},
        )
        .await
        .expect("rebuild");
    }
    let want = fingerprints(&db.pool).await;
    let got = fingerprints(&target.pool).await;
    assert_eq!(got, want);
}

#[tokio::test]
async fn retention_keeps_the_newest_and_removes_interrupted_runs() {
    let db = TestDb::new().await;
    let (_s3, bucket, stage) = store().await;
    let source = source(&db, &stage);
    let mut taken = Vec::new();
    for _ in 0..3 {
        taken.push(
            dump::take(&bucket, &source, Kind::Geo)
                .await
                .expect("geo slice"),
        );
        // stamps have a resolution of a second
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    // an interrupted run: a dump with no manifest, older than the newest complete one
    bucket
        .put("fleet/geo/20000101T000000Z.dump", b"partial".to_vec())
        .await
        .expect("put");
    let gone = fleet_backup::prune(&bucket, Kind::Geo, 2)
        .await
        .expect("prune");
    assert_eq!(gone.len(), 2, "{gone:?}");
    assert!(
        gone.contains(&taken[0].key)
            && gone.contains(&"fleet/geo/20000101T000000Z.dump".to_string())
    );
    let left = fleet_backup::list(&bucket, Some(Kind::Geo))
        .await
        .expect("list");
    assert_eq!(left, taken[1..].to_vec());
    let keys = bucket.list("fleet/geo/", None).await.expect("keys");
    assert_eq!(keys.len(), 4, "two dumps and their manifests: {keys:?}");
}

#[tokio::test]
async fn verification_fails_when_the_state_is_not_what_the_log_replays_to() {
    let db = populated().await;
    // state that no event says: a replay cannot reproduce it, and verification must say so
    let changed = sqlx::query("UPDATE state.live_positions SET speed_kmh = 321")
        .execute(&db.pool)
        .await
        .expect("tamper")
        .rows_affected();
    assert!(changed > 0);
    let (_s3, bucket, stage) = store().await;
    let source = source(&db, &stage);
    let m = dump::take(&bucket, &source, Kind::Full)
        .await
        .expect("backup");
    let admin = fleet_testkit::server_admin_url();
    let o = verifying(&admin, &stage);
    let report = verify::verify(&bucket, &m, &o).await.expect("verify runs");
    assert!(!report.ok);
    assert_eq!(report.count_differences, vec![], "the counts are right");
    let differing: Vec<&str> = report
        .replayed
        .iter()
        .filter(|p| !p.same)
        .map(|p| p.table.as_str())
        .collect();
    assert_eq!(differing, vec!["state.live_positions"]);
}
