//! `fleet import fuel`: a feed document (the bucket's snapshot, its hourly change files, or a
//! local file) into the event log and `fuel.records`.
//!
//! One rule decides what a batch changes, `fuel.plan` in SQL, for the dry run and the apply
//! alike: each record is new, edited, newly deleted or unchanged (compared by the md5 of its raw
//! JSON), and a full snapshot also removes live records it no longer lists. Applying appends
//! only what changes to `events.raw` (`source = fuel_feed`; records verbatim, 5,000 per row),
//! then carries the rows through the parser and the fuel projector before returning, so a run
//! that changes nothing writes nothing and running a snapshot twice is idempotent. Records that
//! cannot be normalised are kept and counted as rejected; they are listed in `fuel.v_data_quality`.
//! Every run, dry or applied, is a row in `fuel.import_runs`; the newest applied `changes` run
//! holds the watermark (the last change file read).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fleet_core::fuel::{self, Feed};
use fleet_ingest::rawlog::{self, TrustedRow};
use fleet_ingest::worker;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use crate::s3::Bucket;

/// Records per appended raw row.
const CHUNK: usize = 5_000;
/// How long an import waits for its rows to be projected (by itself or by running workers).
const PROJECT_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Snapshot,
    Changes,
    File,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Changes => "changes",
            Self::File => "file",
        }
    }
}

/// What a run did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub records: usize,
    pub inserted: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Kept but not usable (also counted as inserted/updated/unchanged).
    pub rejected: usize,
}

/// One record's fate, for the listing a dry run prints.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Planned {
    pub record_id: String,
    pub action: String,
    pub errors: Vec<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: i64,
    pub mode: Mode,
    pub applied: bool,
    pub objects: Vec<String>,
    pub counts: Counts,
    /// Up to 20 records per action, and every rejected one up to 200.
    pub samples: BTreeMap<String, Vec<Planned>>,
    pub watermark: Option<String>,
}

/// Why a run could not be done.
#[derive(Debug)]
pub enum ImportError {
    /// The feed document (or file) cannot be read.
    Feed(String),
    /// The bucket cannot be reached or refused.
    Bucket(crate::s3::S3Error),
    /// Another import holds the lock.
    Busy,
    Db(sqlx::Error),
    /// The appended rows were not projected in time.
    Stalled(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Feed(e) => write!(f, "{e}"),
            Self::Bucket(e) => write!(f, "{e}"),
            Self::Busy => write!(f, "another fuel import is running; try again when it ends"),
            Self::Db(e) => write!(f, "database: {e}"),
            Self::Stalled(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<crate::s3::S3Error> for ImportError {
    fn from(e: crate::s3::S3Error) -> Self {
        Self::Bucket(e)
    }
}

/// Progress reports, as replay makes them (`fleet_ingest::replay::printer` draws them): records
/// handled, records in all, records per second.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, Option<u64>, f64) + Send);

/// `--snapshot`: the bucket's `latest.json`, reconciled in full.
pub async fn snapshot(
    pool: &PgPool,
    bucket: &Bucket,
    apply: bool,
    progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let key = bucket.key("latest.json");
    let bytes = bucket.get(&key).await?;
    run(pool, Mode::Snapshot, vec![(key, bytes)], apply, progress).await
}

/// `--changes`: every change file after the stored watermark, in key order.
pub async fn changes(
    pool: &PgPool,
    bucket: &Bucket,
    apply: bool,
    progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let since = watermark(pool).await?;
    let keys = bucket
        .list(&bucket.key("changes/"), since.as_deref())
        .await?;
    let mut docs = Vec::with_capacity(keys.len());
    for k in keys {
        let bytes = bucket.get(&k).await?;
        docs.push((k, bytes));
    }
    let mut report = run(pool, Mode::Changes, docs, apply, progress).await?;
    if report.watermark.is_none() {
        report.watermark = since;
    }
    Ok(report)
}

/// `--file PATH`: a snapshot-shaped document from disk; records it does not list stay as they are.
pub async fn file(
    pool: &PgPool,
    path: &std::path::Path,
    apply: bool,
    progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let bytes =
        std::fs::read(path).map_err(|e| ImportError::Feed(format!("{}: {e}", path.display())))?;
    run(
        pool,
        Mode::File,
        vec![(path.display().to_string(), bytes)],
        apply,
        progress,
    )
    .await
}

/// The last change file an applied `--changes` run read.
pub async fn watermark(pool: &PgPool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT watermark FROM fuel.import_runs
          WHERE mode = 'changes' AND applied AND watermark IS NOT NULL AND finished_at IS NOT NULL
          ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .map(Option::flatten)
}

/// Imports documents in order; one run, one lock.
pub async fn run(
    pool: &PgPool,
    mode: Mode,
    docs: Vec<(String, Vec<u8>)>,
    apply: bool,
    progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let feeds = docs
        .into_iter()
        .map(|(key, bytes)| {
            fuel::parse_feed(&bytes)
                .map(|f| (key.clone(), f))
                .map_err(|e| ImportError::Feed(format!("{key}: {e}")))
        })
        .collect::<Result<Vec<(String, Feed)>, _>>()?;
    let mut lock = pool.acquire().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('fleet_fuel_import'))")
            .fetch_one(&mut *lock)
            .await?;
    if !locked {
        return Err(ImportError::Busy);
    }
    let result = run_locked(pool, mode, &feeds, apply, progress).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtext('fleet_fuel_import'))")
        .execute(&mut *lock)
        .await?;
    result
}

async fn run_locked(
    pool: &PgPool,
    mode: Mode,
    feeds: &[(String, Feed)],
    apply: bool,
    mut progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let mut report_progress = |done: usize, total: usize| {
        if let Some(p) = progress.as_deref_mut() {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-6);
            p(done as u64, Some(total as u64), rate);
        }
    };
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO fuel.import_runs (mode, applied) VALUES ($1, $2) RETURNING id",
    )
    .bind(mode.as_str())
    .bind(apply)
    .fetch_one(pool)
    .await?;
    let total: usize = feeds.iter().map(|(_, f)| f.records.len()).sum();
    let mut report = Report {
        run_id,
        mode,
        applied: apply,
        objects: feeds.iter().map(|(k, _)| k.clone()).collect(),
        counts: Counts::default(),
        samples: BTreeMap::new(),
        watermark: None,
    };
    let mut done = 0;
    for (key, feed) in feeds {
        let latest = fuel::latest_per_id(&feed.records);
        let batch = batch_json(&latest);
        // A dry run checks every changed record; an apply lets the projector do it once and
        // reads the verdicts back.
        let mut plan: Vec<Planned> = sqlx::query_as(
            "SELECT record_id, action, coalesce(errors, '{}') AS errors FROM fuel.plan($1::text::jsonb, $2, $3)",
        )
        .bind(&batch)
        .bind(mode == Mode::Snapshot)
        .bind(!apply)
        .fetch_all(pool)
        .await?;
        if apply {
            let changed: std::collections::HashSet<String> = plan
                .iter()
                .filter(|p| {
                    matches!(
                        p.action.as_str(),
                        "insert" | "insert_deleted" | "update" | "delete"
                    )
                })
                .map(|p| p.record_id.clone())
                .collect();
            let vanished: Vec<&str> = plan
                .iter()
                .filter(|p| p.action == "vanish")
                .map(|p| p.record_id.as_str())
                .collect();
            let to_write: Vec<&(String, &serde_json::value::RawValue)> = latest
                .iter()
                .filter(|(id, _)| changed.contains(id))
                .collect();
            let mut ids = Vec::new();
            let mut written = 0;
            for chunk in to_write.chunks(CHUNK) {
                let mut body = format!("{{\"object\":{},\"records\":[", json!(key));
                for (i, (_, r)) in chunk.iter().enumerate() {
                    if i > 0 {
                        body.push(',');
                    }
                    body.push_str(r.get());
                }
                body.push_str("]}");
                ids.push(append(pool, fuel::KIND_RECORDS, key, run_id, body.as_bytes()).await?);
                written += chunk.len();
                report_progress(done + written, total);
            }
            if !vanished.is_empty() {
                let body = json!({"object": key, "record_ids": vanished}).to_string();
                ids.push(append(pool, fuel::KIND_VANISHED, key, run_id, body.as_bytes()).await?);
            }
            project(pool, &ids).await?;
            let written: Vec<&str> = changed.iter().map(String::as_str).collect();
            let verdicts: std::collections::HashMap<String, Vec<String>> = sqlx::query_as(
                "SELECT record_id, normalise_errors FROM fuel.records WHERE record_id = ANY($1) AND deleted_at IS NULL",
            )
            .bind(&written)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
            for p in plan.iter_mut().filter(|p| changed.contains(&p.record_id)) {
                p.errors = verdicts.get(&p.record_id).cloned().unwrap_or_default();
            }
            if mode == Mode::Changes {
                report.watermark = Some(key.clone());
                sqlx::query("UPDATE fuel.import_runs SET watermark = $2 WHERE id = $1")
                    .bind(run_id)
                    .bind(key)
                    .execute(pool)
                    .await?;
            }
        }
        tally(&mut report, &plan);
        done += feed.records.len();
        report_progress(done, total);
    }
    let c = &report.counts;
    sqlx::query(
        "UPDATE fuel.import_runs
            SET finished_at = clock_timestamp(), inserted = $2, updated = $3, deleted = $4, rejected = $5,
                unchanged = $6, watermark = coalesce($7, watermark), detail = $8
          WHERE id = $1",
    )
    .bind(run_id)
    .bind(c.inserted as i32)
    .bind(c.updated as i32)
    .bind(c.deleted as i32)
    .bind(c.rejected as i32)
    .bind(c.unchanged as i32)
    .bind(&report.watermark)
    .bind(format!(
        "{} object(s), {} records, {:.1} s",
        report.objects.len(),
        c.records,
        started.elapsed().as_secs_f64()
    ))
    .execute(pool)
    .await?;
    tracing::info!(
        run = run_id,
        mode = mode.as_str(),
        applied = apply,
        records = c.records,
        inserted = c.inserted,
        updated = c.updated,
        deleted = c.deleted,
        unchanged = c.unchanged,
        rejected = c.rejected,
        "fuel import"
    );
    Ok(report)
}

/// `[{"record_id": ..., "record": <verbatim>}, ...]` without re-serialising the records.
fn batch_json(latest: &[(String, &serde_json::value::RawValue)]) -> String {
    let mut s = String::with_capacity(latest.iter().map(|(_, r)| r.get().len() + 40).sum());
    s.push('[');
    for (i, (id, r)) in latest.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"record_id\":");
        s.push_str(&json!(id).to_string());
        s.push_str(",\"record\":");
        s.push_str(r.get());
        s.push('}');
    }
    s.push(']');
    s
}

fn tally(report: &mut Report, plan: &[Planned]) {
    let c = &mut report.counts;
    for p in plan {
        if p.action != "vanish" {
            c.records += 1;
        }
        match p.action.as_str() {
            "insert" | "insert_deleted" => c.inserted += 1,
            "update" => c.updated += 1,
            "delete" | "vanish" => c.deleted += 1,
            _ => c.unchanged += 1,
        }
        let sample = report.samples.entry(p.action.clone()).or_default();
        if sample.len() < 20 {
            sample.push(p.clone());
        }
        if !p.errors.is_empty() && p.action != "insert_deleted" {
            c.rejected += 1;
            let rejected = report.samples.entry("rejected".into()).or_default();
            if rejected.len() < 200 {
                rejected.push(p.clone());
            }
        }
    }
}

async fn append(
    pool: &PgPool,
    kind: &str,
    key: &str,
    run_id: i64,
    body: &[u8],
) -> Result<i64, sqlx::Error> {
    rawlog::append_one(
        pool,
        TrustedRow {
            source: fuel::SOURCE,
            kind,
            content_type: "application/json",
            verification: "internal",
            meta: &json!({"object": key, "import_run": run_id}),
            body,
        },
    )
    .await
}

/// Carries the appended rows through parser and projector (helping any running workers) and
/// waits until every one is done.
async fn project(pool: &PgPool, ids: &[i64]) -> Result<(), ImportError> {
    if ids.is_empty() {
        return Ok(());
    }
    let deadline = Instant::now() + PROJECT_TIMEOUT;
    loop {
        let (pending, failed): (i64, Option<String>) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE parsed_at IS NULL),
                    min(parse_error) FILTER (WHERE parse_error IS NOT NULL AND parsed_at IS NOT NULL)
               FROM events.raw WHERE id = ANY($1)",
        )
        .bind(ids)
        .fetch_one(pool)
        .await?;
        if let Some(e) = failed {
            return Err(ImportError::Stalled(format!(
                "the fuel records were logged but could not be projected: {e}"
            )));
        }
        if pending == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ImportError::Stalled(format!(
                "{pending} logged fuel batch(es) are still waiting to be projected; they will be when a worker runs"
            )));
        }
        if worker::drain_once(pool, worker::BATCH).await? == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
