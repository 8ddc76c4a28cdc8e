//! The cron role's backup_age job against a real S3 server on loopback: after a full backup, it
//! exports fleet_backup_age_seconds for each kind (+Inf for kinds never backed up), which the
//! FleetBackupStale alert reads.

use std::sync::Arc;

use chrono::Utc;
use fleet_backup::{Kind, dump};
use fleet_cron::{Context, jobs, run_slot, slot_of};
use fleet_testkit::TestDb;
use fleet_testkit::s3::S3Server;

#[tokio::test]
async fn the_age_of_the_newest_backups_is_exported() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    let db = TestDb::new().await;
    let s3 = S3Server::start("backups", "fleet").await;
    let bucket = Arc::new(fleet_s3::Bucket::new(s3.config.clone()).expect("bucket"));
    let stage = std::env::temp_dir().join(format!("fleet-cron-backup-{}", std::process::id()));
    let source = dump::Source {
        url: &db.url,
        staging: &stage,
        bindir: None,
    };
    dump::take(&bucket, &source, Kind::Full)
        .await
        .expect("backup");

    let ctx = Context {
        backups: Some(bucket),
        ..Context::default()
    };
    let job = jobs(&ctx)
        .into_iter()
        .find(|j| j.name == "backup_age")
        .expect("a backup_age job when the bucket is configured");
    assert!(
        jobs(&Context::default())
            .iter()
            .all(|j| j.name != "backup_age")
    );
    let ran = run_slot(&db.pool, &job, slot_of(Utc::now(), job.every), "test")
        .await
        .expect("claim");
    assert!(ran.is_some());
    let (outcome, rows): (String, i64) =
        sqlx::query_as("SELECT outcome, rows_affected FROM ops.job_runs WHERE job = 'backup_age'")
            .fetch_one(&db.pool)
            .await
            .expect("run recorded");
    assert_eq!((outcome.as_str(), rows), ("ok", 1), "one kind has a backup");
    let text = handle.render();
    let value = |kind: &str| -> f64 {
        let key = format!("fleet_backup_age_seconds{{kind=\"{kind}\"}} ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| panic!("{key} in\n{text}"));
        let v = line[key.len()..].trim();
        if v == "+Inf" {
            f64::INFINITY
        } else {
            v.parse().expect("a number")
        }
    };
    assert!((0.0..600.0).contains(&value("full")), "{text}");
    assert_eq!(value("events"), f64::INFINITY);
    assert_eq!(value("geo"), f64::INFINITY);
    let _ = std::fs::remove_dir_all(&stage);
}
