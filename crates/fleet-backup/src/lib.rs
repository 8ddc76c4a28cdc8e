//! Backups that restore: logical dumps (`pg_dump -Fc`) to the backup bucket, each with a
//! manifest, on the seed's schedule (nightly full, weekly `events` slice, monthly `geo` slice),
//! with retention; restores into an empty (or, for a slice, a freshly migrated) database; and a
//! verification that restores the newest backup into a scratch database, compares its row
//! counts with the manifest and replays the state tables from the restored event log.
//!
//! **Layout in the bucket** (`FLEET_BACKUP_S3_PREFIX`, default `fleet`):
//! `{prefix}/{kind}/{stamp}.dump` and its manifest `{prefix}/{kind}/{stamp}.json`, `stamp` =
//! `YYYYMMDDTHHMMSSZ` (sorts by time). The manifest is written last: a dump without one is an
//! interrupted run, never listed, and removed by the next prune. Verification reports go to
//! `{prefix}/verify/{stamp}.json`.
//!
//! **Consistency.** The row counts of a manifest are taken in the very snapshot the dump reads
//! (`pg_export_snapshot()` handed to `pg_dump --snapshot`), so a restore must reproduce them
//! exactly, while ingest goes on writing.
//!
//! **Where things go**: the dump/restore mechanics in [`dump`] and [`restore`], the checks in
//! [`verify`], when each kind is due in [`schedule`], finding `pg_dump`/`pg_restore` in
//! [`tools`]. The S3 client is `fleet-s3`; the CLI wiring is `crates/fleet/src/cmd/backup.rs`.

pub mod dump;
pub mod restore;
pub mod schedule;
pub mod tools;
pub mod verify;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fleet_s3::{Bucket, S3Error};
use serde::{Deserialize, Serialize};

/// What a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The whole database: schema, every table, sequences, functions.
    Full,
    /// The `events` schema's rows only (the immutable log: raw pushes and parsed events), from
    /// which every state table can be replayed.
    Events,
    /// The `geo` schema's rows only (roads and what was learnt about them).
    Geo,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Full, Kind::Events, Kind::Geo];

    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Events => "events",
            Self::Geo => "geo",
        }
    }

    /// The schema a slice holds; `None` for a full backup.
    pub fn schema(self) -> Option<&'static str> {
        match self {
            Self::Full => None,
            Self::Events => Some("events"),
            Self::Geo => Some("geo"),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// How many backups of this kind retention keeps (`FLEET_BACKUP_KEEP_*`).
    pub fn kept(self, cfg: &fleet_core::config::BackupConfig) -> u32 {
        match self {
            Self::Full => cfg.keep_full,
            Self::Events => cfg.keep_events,
            Self::Geo => cfg.keep_geo,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One partition of a partitioned table, as it was when the dump was taken: a slice restore
/// creates it before loading the rows that belong in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partition {
    /// `schema.table` of the partition.
    pub name: String,
    /// `schema.table` of its parent.
    pub parent: String,
    /// Its bound, as `pg_get_expr` writes it (`FOR VALUES FROM (…) TO (…)` or `DEFAULT`).
    pub bound: String,
}

/// What, when, how big, which checksum: the manifest written beside every dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format (1).
    pub format: u32,
    pub kind: Kind,
    /// The dump's key in the bucket.
    pub key: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The dump's size in bytes.
    pub size: u64,
    /// SHA-256 of the dump, hex.
    pub sha256: String,
    /// The database it was taken from (name only).
    pub database: String,
    /// `server_version` of that database.
    pub server_version: String,
    /// The newest migration applied to it.
    pub migration: i32,
    /// The `fleet` build that took it.
    pub fleet_version: String,
    /// Rows per table (`schema.table`, partitions counted as themselves, not their parents), in
    /// the dump's snapshot.
    pub tables: BTreeMap<String, i64>,
    /// Partitions of the dumped tables.
    pub partitions: Vec<Partition>,
}

impl Manifest {
    /// The manifest's own key: the dump's key with `.json` for `.dump`.
    pub fn manifest_key(&self) -> String {
        manifest_key_for(&self.key)
    }

    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

fn manifest_key_for(dump_key: &str) -> String {
    format!(
        "{}.json",
        dump_key.strip_suffix(".dump").unwrap_or(dump_key)
    )
}

/// The time stamp of keys: sorts by time, no characters that need escaping.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// What went wrong with a backup, a restore or a verification.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Bucket(#[from] S3Error),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] fleet_store::StoreError),
    #[error(transparent)]
    Cluster(#[from] fleet_store::cluster::ClusterError),
    #[error("{0}")]
    Tool(String),
    #[error("{path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("{key}: the manifest cannot be read: {reason}")]
    BadManifest { key: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    #[error(
        "{key}: the download's SHA-256 is {got}, the manifest says {want}; the object is damaged or was replaced"
    )]
    Checksum {
        key: String,
        got: String,
        want: String,
    },
    #[error("replaying {table}: {reason}")]
    Replay { table: String, reason: String },
}

pub(crate) fn file_error(
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |error| BackupError::File {
        path: path.display().to_string(),
        error,
    }
}

/// Every complete backup in the bucket (those with a manifest), oldest first; `kind` filters.
pub async fn list(bucket: &Bucket, kind: Option<Kind>) -> Result<Vec<Manifest>, BackupError> {
    let mut out = Vec::new();
    for k in Kind::ALL {
        if kind.is_some_and(|want| want != k) {
            continue;
        }
        let prefix = bucket.key(&format!("{}/", k.name()));
        for key in bucket.list(&prefix, None).await? {
            if key.ends_with(".json") {
                out.push(read_manifest(bucket, &key).await?);
            }
        }
    }
    out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.key.cmp(&b.key)));
    Ok(out)
}

/// Seconds since the newest complete backup of each kind started (`None`: there is none), as of
/// `now`; the cron role exports them as `fleet_backup_age_seconds{kind}`.
pub async fn ages(
    bucket: &Bucket,
    now: DateTime<Utc>,
) -> Result<Vec<(Kind, Option<f64>)>, BackupError> {
    let all = list(bucket, None).await?;
    Ok(Kind::ALL
        .iter()
        .map(|&k| {
            let newest = all.iter().rev().find(|m| m.kind == k);
            (
                k,
                newest.map(|m| (now - m.started_at).num_milliseconds() as f64 / 1000.0),
            )
        })
        .collect())
}

/// The newest complete backup of `kind`.
pub async fn newest(bucket: &Bucket, kind: Kind) -> Result<Option<Manifest>, BackupError> {
    Ok(list(bucket, Some(kind)).await?.pop())
}

/// The manifest of a backup named by its dump key, its manifest key, `kind/stamp` or its stamp
/// alone (refused as ambiguous when backups of several kinds share it).
pub async fn find(bucket: &Bucket, name: &str) -> Result<Manifest, BackupError> {
    let all = list(bucket, None).await?;
    let wanted = name
        .trim()
        .trim_end_matches(".dump")
        .trim_end_matches(".json");
    let by_key: Vec<&Manifest> = all
        .iter()
        .filter(|m| {
            let base = m.key.trim_end_matches(".dump");
            base == wanted || base.ends_with(&format!("/{wanted}"))
        })
        .collect();
    match by_key.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let known: Vec<String> = all.iter().rev().take(5).map(|m| m.key.clone()).collect();
            Err(BackupError::NotFound(format!(
                "no backup {wanted:?} in {}; `fleet backup list` shows them{}",
                bucket.describe(),
                if known.is_empty() {
                    " (there are none yet)".to_string()
                } else {
                    format!(" (newest: {})", known.join(", "))
                }
            )))
        }
        many => Err(BackupError::Refused(format!(
            "{wanted:?} names {} backups ({}); name one as KIND/STAMP, e.g. full/{wanted}",
            many.len(),
            many.iter()
                .map(|m| m.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

async fn read_manifest(bucket: &Bucket, key: &str) -> Result<Manifest, BackupError> {
    let bytes = bucket.get(key).await?;
    serde_json::from_slice(&bytes).map_err(|e| BackupError::BadManifest {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// Deletes the oldest complete backups of `kind` beyond `keep`, and dumps without a manifest that
/// are older than the newest complete backup (interrupted runs). Returns the keys deleted.
pub async fn prune(bucket: &Bucket, kind: Kind, keep: u32) -> Result<Vec<String>, BackupError> {
    let complete = list(bucket, Some(kind)).await?;
    let mut deleted = Vec::new();
    let excess = complete.len().saturating_sub(keep as usize);
    for m in &complete[..excess] {
        // the manifest first: a dump without one is already "not a backup"
        bucket.delete(&m.manifest_key()).await?;
        bucket.delete(&m.key).await?;
        deleted.push(m.key.clone());
    }
    if let Some(newest) = complete.last() {
        let prefix = bucket.key(&format!("{}/", kind.name()));
        let keys = bucket.list(&prefix, None).await?;
        for key in keys {
            let orphan =
                key.ends_with(".dump") && key < newest.key && !keys_contains(&complete, &key);
            if orphan {
                bucket.delete(&key).await?;
                deleted.push(key);
            }
        }
    }
    Ok(deleted)
}

fn keys_contains(complete: &[Manifest], key: &str) -> bool {
    complete.iter().any(|m| m.key == key)
}

/// A connection URL without its password, and the password (for `PGPASSWORD`), so that the
/// password of a `pg_dump`/`pg_restore` child never shows in the process list.
pub(crate) fn split_password(url: &str) -> Result<(String, Option<String>), BackupError> {
    let mut parsed = reqwest::Url::parse(url)
        .map_err(|e| BackupError::Refused(format!("the database URL cannot be read: {e}")))?;
    let password = parsed.password().map(percent_decode);
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'%'
            && let Some(Ok(b)) = hex.map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The database name of a connection URL.
pub(crate) fn database_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_string())
        .unwrap_or_default()
}

/// `url` with its database replaced by `db`.
pub(crate) fn with_database(url: &str, db: &str) -> Result<String, BackupError> {
    let mut parsed = reqwest::Url::parse(url)
        .map_err(|e| BackupError::Refused(format!("the database URL cannot be read: {e}")))?;
    parsed.set_path(&format!("/{db}"));
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url_and_are_decoded() {
        let (url, pw) = split_password("postgres://fleet:p%40ss%2Fw@db:5432/fleet?sslmode=disable")
            .expect("url");
        assert_eq!(url, "postgres://fleet@db:5432/fleet?sslmode=disable");
        assert_eq!(pw.as_deref(), Some("p@ss/w"));
        let (url, pw) = split_password("postgres://fleet@db/fleet").expect("url");
        assert_eq!((url.as_str(), pw), ("postgres://fleet@db/fleet", None));
        assert_eq!(database_of("postgres://u:p@h:1/fleet_x"), "fleet_x");
        assert_eq!(
            with_database("postgres://u:p@h:1/fleet?sslmode=disable", "scratch").expect("url"),
            "postgres://u:p@h:1/scratch?sslmode=disable"
        );
    }

    #[test]
    fn kinds_and_keys() {
        assert_eq!(Kind::parse("events"), Some(Kind::Events));
        assert_eq!(Kind::parse("Full"), None);
        assert_eq!(Kind::Geo.schema(), Some("geo"));
        assert_eq!(
            manifest_key_for("fleet/full/20261201T030000Z.dump"),
            "fleet/full/20261201T030000Z.json"
        );
        let t = DateTime::parse_from_rfc3339("2026-12-01T03:04:05Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(stamp(t), "20261201T030405Z");
    }
}
