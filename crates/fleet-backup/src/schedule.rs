//! The seed's schedule, run by `fleet backup schedule` (the compose file's `backup` service):
//! a full backup every night, an `events` slice every Sunday, a `geo` slice on the 1st of each
//! month, all at `FLEET_BACKUP_HOUR_UTC`; retention after each; a verification of the newest full
//! backup every Sunday after it. What is due is read from the bucket (the source of truth, which
//! outlives the database), so a service that was down catches up at once, and a fresh install
//! takes its first backups on start.
//!
//! The service writes its status to a file each minute; `fleet healthcheck backup` reads it
//! (healthy = written in the last five minutes and nothing failing).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Span, NaiveTime, TimeZone, Utc, Weekday};
use fleet_core::config::BackupConfig;
use fleet_s3::Bucket;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{BackupError, Kind, dump, list, prune, verify};

/// The most recent time at or before `now` that `kind` was due.
pub fn last_slot(kind: Kind, now: DateTime<Utc>, hour_utc: u32) -> DateTime<Utc> {
    let at = |d: chrono::NaiveDate| {
        Utc.from_utc_datetime(
            &d.and_time(NaiveTime::from_hms_opt(hour_utc, 0, 0).unwrap_or_default()),
        )
    };
    let today = now.date_naive();
    let mut day = today;
    loop {
        let fits = match kind {
            Kind::Full => true,
            Kind::Events => day.weekday() == Weekday::Sun,
            Kind::Geo => day.day() == 1,
        };
        if fits && at(day) <= now {
            return at(day);
        }
        day = day.pred_opt().unwrap_or(day);
        if (today - day).num_days() > 40 {
            return at(day);
        }
    }
}

/// Whether `kind` is due, given the start of its newest complete backup.
pub fn due(kind: Kind, newest: Option<DateTime<Utc>>, now: DateTime<Utc>, hour_utc: u32) -> bool {
    newest.is_none_or(|t| t < last_slot(kind, now, hour_utc))
}

/// What the service last did, for `fleet healthcheck backup` and for people.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    pub checked_at: Option<DateTime<Utc>>,
    /// Newest complete backup per kind: `(kind, key, started_at)`.
    pub newest: Vec<(Kind, String, DateTime<Utc>)>,
    pub last_verification: Option<(String, DateTime<Utc>, bool)>,
    /// What is failing now (cleared by the next success).
    pub errors: Vec<String>,
}

impl Status {
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "{}: {e} (is `fleet backup schedule` running with this FLEET_HOME?)",
                path.display()
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `Ok` when written in the last five minutes with nothing failing, else why not.
    pub fn healthy(&self, now: DateTime<Utc>) -> Result<(), String> {
        match self.checked_at {
            None => return Err("the backup service has not checked the bucket yet".into()),
            Some(t) if now - t > Span::minutes(5) => {
                return Err(format!(
                    "the backup service last checked at {t}, over five minutes ago"
                ));
            }
            Some(_) => {}
        }
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        if let Some((key, _, false)) = &self.last_verification {
            return Err(format!("the last verification ({key}) failed"));
        }
        Ok(())
    }
}

/// The status file under `FLEET_HOME`.
pub fn status_path(fleet_home: &Path) -> PathBuf {
    fleet_home.join("backup-status.json")
}

/// Runs the schedule until `cancel`.
pub async fn run(
    cfg: &BackupConfig,
    bucket: &Bucket,
    url: &str,
    bindir: Option<&Path>,
    status_file: &Path,
    cancel: CancellationToken,
) -> Result<(), BackupError> {
    let staging = cfg.dir.clone().unwrap_or_else(std::env::temp_dir);
    let source = dump::Source {
        url,
        staging: &staging,
        bindir,
    };
    // a failing kind is retried after a pause, not every minute
    let mut retry_after: Vec<(Kind, DateTime<Utc>)> = Vec::new();
    let mut status = Status::default();
    loop {
        let now = Utc::now();
        status.errors.clear();
        match tick(cfg, bucket, &source, now, &mut retry_after, &mut status).await {
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %e, "backup schedule");
                status.errors.push(e.to_string());
            }
        }
        status.checked_at = Some(Utc::now());
        if let Ok(body) = serde_json::to_vec_pretty(&status) {
            let tmp = status_file.with_extension("json.tmp");
            if std::fs::write(&tmp, body).is_ok() {
                let _ = std::fs::rename(&tmp, status_file);
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}

async fn tick(
    cfg: &BackupConfig,
    bucket: &Bucket,
    source: &dump::Source<'_>,
    now: DateTime<Utc>,
    retry_after: &mut Vec<(Kind, DateTime<Utc>)>,
    status: &mut Status,
) -> Result<(), BackupError> {
    let all = list(bucket, None).await?;
    let mut newest_full = all.iter().rev().find(|m| m.kind == Kind::Full).cloned();
    retry_after.retain(|(_, t)| *t > now);
    status.newest.clear();
    for kind in Kind::ALL {
        let newest = all.iter().rev().find(|m| m.kind == kind);
        if let Some(m) = newest {
            status.newest.push((kind, m.key.clone(), m.started_at));
        }
        if !due(kind, newest.map(|m| m.started_at), now, cfg.hour_utc)
            || retry_after.iter().any(|(k, _)| *k == kind)
        {
            continue;
        }
        match dump::take(bucket, source, kind).await {
            Ok(m) => {
                status.newest.retain(|(k, _, _)| *k != kind);
                status.newest.push((kind, m.key.clone(), m.started_at));
                if kind == Kind::Full {
                    newest_full = Some(m);
                }
                let gone = prune(bucket, kind, kind.kept(cfg)).await?;
                if !gone.is_empty() {
                    tracing::info!(kind = %kind, deleted = gone.len(), "backup retention");
                }
            }
            Err(e) => {
                tracing::error!(kind = %kind, error = %e, "backup failed; retrying in 15 minutes");
                retry_after.push((kind, now + Span::minutes(15)));
                status.errors.push(format!("{kind} backup: {e}"));
            }
        }
    }
    // a weekly verification of the newest full backup, after Sunday's
    let verifications = bucket.list(&bucket.key("verify/"), None).await?;
    let last_verified = verifications
        .last()
        .and_then(|k| k.rsplit('/').next())
        .and_then(|n| {
            chrono::NaiveDateTime::parse_from_str(n.trim_end_matches(".json"), "%Y%m%dT%H%M%SZ")
                .ok()
        })
        .map(|t| Utc.from_utc_datetime(&t));
    if let Some(full) = newest_full
        && due(Kind::Events, last_verified, now, cfg.hour_utc)
        && !retry_after.iter().any(|(k, _)| *k == Kind::Full)
    {
        let o = verify::Options {
            server_url: source.url,
            staging: source.staging,
            bindir: source.bindir,
            replay: true,
            keep: false,
        };
        match verify::verify(bucket, &full, &o).await {
            Ok(r) => {
                if !r.ok {
                    tracing::error!(key = %r.key, differences = ?r.count_differences, "backup verification failed");
                }
                status.last_verification = Some((r.key, r.verified_at, r.ok));
            }
            Err(e) => {
                retry_after.push((Kind::Full, now + Span::minutes(15)));
                status
                    .errors
                    .push(format!("verification of {}: {e}", full.key));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn slots_follow_the_seeds_schedule() {
        // Tuesday 1 December 2026, 10:00 UTC; backups at 00:00 UTC
        let now = t("2026-12-01T10:00:00Z");
        assert_eq!(last_slot(Kind::Full, now, 0), t("2026-12-01T00:00:00Z"));
        assert_eq!(last_slot(Kind::Events, now, 0), t("2026-11-29T00:00:00Z"));
        assert_eq!(last_slot(Kind::Geo, now, 0), t("2026-12-01T00:00:00Z"));
        // before the hour, the slot is the previous one
        assert_eq!(last_slot(Kind::Full, now, 23), t("2026-11-30T23:00:00Z"));
        assert_eq!(last_slot(Kind::Geo, now, 23), t("2026-11-01T23:00:00Z"));
        assert!(due(Kind::Full, None, now, 0));
        assert!(due(Kind::Full, Some(t("2026-11-30T00:00:05Z")), now, 0));
        assert!(!due(Kind::Full, Some(t("2026-12-01T00:00:05Z")), now, 0));
        assert!(!due(Kind::Events, Some(t("2026-11-29T00:01:00Z")), now, 0));
    }

    #[test]
    fn health_needs_a_recent_check_and_no_failure() {
        let now = t("2026-12-01T10:00:00Z");
        let mut s = Status::default();
        assert!(s.healthy(now).is_err());
        s.checked_at = Some(t("2026-12-01T09:59:00Z"));
        assert!(s.healthy(now).is_ok());
        s.errors.push("full backup: pg_dump failed".into());
        assert!(s.healthy(now).expect_err("failing").contains("pg_dump"));
        s.errors.clear();
        s.checked_at = Some(t("2026-12-01T09:50:00Z"));
        assert!(s.healthy(now).is_err());
    }
}
