//! `fleet backup`, `fleet restore` and `fleet healthcheck backup` as an operator runs them, against
//! a real S3 server on loopback and real Postgres: take, list, restore into an empty database,
//! refuse a non-empty one, verify, and the schedule service taking its first backups on start.

use std::time::Duration;

use fleet_testkit::TestDb;
use fleet_testkit::s3::S3Server;

mod common;
use common::Proc;

fn bucket_env(s3: &S3Server) -> Vec<(&'static str, String)> {
    vec![
        ("FLEET_BACKUP_S3_ENDPOINT", s3.config.endpoint.clone()),
        ("FLEET_BACKUP_S3_BUCKET", s3.config.bucket.clone()),
        ("FLEET_BACKUP_S3_ACCESS_KEY", s3.config.access_key.clone()),
        (
            "FLEET_BACKUP_S3_SECRET_KEY",
            s3.config.secret_key.expose().to_string(),
        ),
    ]
}

/// Runs `fleet ARGS` (off the runtime's threads, so the in-process S3 server keeps serving).
async fn fleet(db_url: &str, env: &[(&str, String)], args: &[&str]) -> (bool, String, String) {
    let mut cmd = common::one_shot(db_url, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run fleet"))
        .await
        .expect("join");
    common::outcome(out)
}

async fn seed(db: &TestDb) {
    sqlx::query(
        "INSERT INTO events.raw (source, kind, body, verified, verification)
         SELECT 'jimi_push', 'pushgps', convert_to('token=t&data_list=%5B%5D', 'UTF8'), true, 'token'
         FROM generate_series(1, 25)",
    )
    .execute(&db.pool)
    .await
    .expect("raw rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_backs_up_lists_restores_and_verifies() {
    let db = TestDb::new().await;
    seed(&db).await;
    let s3 = S3Server::start("backups", "fleet").await;
    let env = bucket_env(&s3);

    // no bucket configured: says what to set
    let (ok, _, err) = fleet(&db.url, &[], &["backup"]).await;
    assert!(!ok);
    assert!(err.contains("FLEET_BACKUP_S3_ENDPOINT"), "{err}");

    let (ok, out, err) = fleet(&db.url, &env, &["backup"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.starts_with("stored fleet/full/"), "{out}");
    let key = out.split_whitespace().nth(1).expect("key").to_string();
    let (ok, out, err) = fleet(&db.url, &env, &["backup", "--kind", "events"]).await;
    assert!(ok && out.contains("fleet/events/"), "{out}\n{err}");

    let (ok, out, _) = fleet(&db.url, &env, &["backup", "list"]).await;
    assert!(ok);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.contains(&key) && out.contains(" full ") && out.contains(" events "),
        "{out}"
    );

    // restore by stamp into an empty database
    let stamp = key
        .rsplit('/')
        .next()
        .expect("name")
        .trim_end_matches(".dump");
    let target = TestDb::empty().await;
    // full and events were taken in the same second, perhaps: a bare stamp may be ambiguous
    let (ok, _, err) = fleet(&db.url, &env, &["restore", stamp, "--into", &target.url]).await;
    if !ok {
        assert!(err.contains("full/"), "{err}");
    }
    let target = TestDb::empty().await;
    let named = format!("full/{stamp}");
    let (ok, out, err) = fleet(&db.url, &env, &["restore", &named, "--into", &target.url]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("restored") && out.contains("rows"), "{out}");
    let raw: i64 = sqlx::query_scalar("SELECT count(*) FROM events.raw")
        .fetch_one(&target.pool)
        .await
        .expect("restored rows");
    assert_eq!(raw, 25);
    // the configured database is not empty: refused, nothing changed
    let (ok, _, err) = fleet(&db.url, &env, &["restore", &named]).await;
    assert!(!ok);
    assert!(err.contains("not empty") && err.contains("--into"), "{err}");
    let (ok, _, err) = fleet(&db.url, &env, &["restore", "nonesuch"]).await;
    assert!(!ok && err.contains("fleet backup list"), "{err}");

    let (ok, out, err) = fleet(&db.url, &env, &["backup", "verify"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("same as the backup") && out.trim_end().ends_with("verified"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_service_takes_its_first_backups_on_start_and_reports_health() {
    let db = TestDb::new().await;
    seed(&db).await;
    let s3 = S3Server::start("backups", "fleet").await;
    let home = std::env::temp_dir().join(format!(
        "fleet-backup-home-{}-{}",
        std::process::id(),
        fleet_store::cluster::random_hex(3).expect("random")
    ));
    std::fs::create_dir_all(&home).expect("home");
    let home_s = home.display().to_string();
    let mut env = bucket_env(&s3);
    env.push(("FLEET_HOME", home_s.clone()));

    let (ok, _, err) = fleet(&db.url, &env, &["healthcheck", "backup"]).await;
    assert!(!ok);
    assert!(err.contains("fleet backup schedule"), "{err}");

    let mut proc_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    proc_env.push(("DATABASE_URL", &db.url));
    let mut p = Proc::spawn(&["backup", "schedule"], &proc_env);
    let status = home.join("backup-status.json");
    let found = fleet_testkit::eventually(Duration::from_secs(90), || {
        let status = status.clone();
        async move { status.exists().then_some(()) }
    })
    .await;
    assert!(found.is_some(), "no status file");
    let (ok, out, err) = fleet(&db.url, &env, &["healthcheck", "backup"]).await;
    assert!(ok, "{out}\n{err}");
    let (_, out, _) = fleet(&db.url, &env, &["backup", "list"]).await;
    for kind in ["full", "events", "geo"] {
        assert!(
            out.contains(&format!("fleet/{kind}/")),
            "{kind} missing: {out}"
        );
    }
    let reports = std::fs::read_dir(s3.bucket_dir().join("fleet/verify"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(reports, 1, "the first verification ran");
    p.signal("TERM");
    assert_eq!(p.wait_exit(Duration::from_secs(20)), 0);
    let _ = std::fs::remove_dir_all(&home);
}
