//! `fleet import fuel`: a feed document (the bucket's snapshot, its hourly change files, or a
//! local file) into the event log and `fuel.records`.
//!
//! One rule decides what a batch changes, `fuel.plan` in SQL, for the dry run and the apply
//! alike: each record is new, edited, newly deleted or unchanged (compared by the md5 of its raw
//! JSON), and a full snapshot also removes live records it no longer lists. (Applying, a record
//! whose id the log has never held is new whatever it says, so only stored ones are sent to it.)
//! Each record is read by the parser's rules (`fleet_core::fuel::record`) for the plan too, so a
//! dry run's verdicts are the apply's. Applying appends
//! only what changes to `events.raw` (`source = fuel_feed`; records verbatim, 5,000 per row),
//! then carries the rows through the parser and the fuel projector before returning, so a run
//! that changes nothing writes nothing and running a snapshot twice is idempotent. Records that
//! cannot be normalised are kept and counted as rejected; they are listed in `fuel.v_data_quality`.
//! Every run, dry or applied, is a row in `fuel.import_runs`; the newest applied `changes` run
//! holds the watermark (the last change file read). A snapshot that lists no records at all is
//! refused while live records exist: an empty export must not remove the whole log.
//!
//! A big load works in lanes (2–4 connections, by the machine's cores): the plan's records are
//! split over them, and while chunks are still being appended the lanes project the ones already
//! logged, each chunk in its own transaction (the worker claims bulk rows one at a time), so the
//! database's cores share the work. Running workers join in the same way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use fleet_core::fuel::{self, Feed};
use fleet_ingest::rawlog::{self, TrustedRow};
use fleet_ingest::worker;
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;
use sqlx::PgPool;
use tokio::task::JoinSet;

use fleet_s3::Bucket;

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
    /// Usable, with a value missing (an amount or odometer that cannot be read, an unknown
    /// fuel type); also counted as inserted/updated/unchanged.
    pub incomplete: usize,
}

/// One record's fate, for the listing a dry run prints.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Planned {
    pub record_id: String,
    pub action: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: i64,
    pub mode: Mode,
    pub applied: bool,
    pub objects: Vec<String>,
    pub counts: Counts,
    /// Up to 20 records per action, and every rejected (and incomplete) one up to 200.
    pub samples: BTreeMap<String, Vec<Planned>>,
    pub watermark: Option<String>,
}

/// Why a run could not be done.
#[derive(Debug)]
pub enum ImportError {
    /// The feed document (or file) cannot be read.
    Feed(String),
    /// The bucket cannot be reached or refused.
    Bucket(fleet_s3::S3Error),
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

impl From<fleet_s3::S3Error> for ImportError {
    fn from(e: fleet_s3::S3Error) -> Self {
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
    progress: Option<Progress<'_>>,
) -> Result<Report, ImportError> {
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO fuel.import_runs (mode, applied) VALUES ($1, $2) RETURNING id",
    )
    .bind(mode.as_str())
    .bind(apply)
    .fetch_one(pool)
    .await?;
    let outcome = import_docs(pool, run_id, mode, feeds, apply, progress).await;
    if let Err(e) = &outcome {
        // unfinished, with the reason (a failed run never holds the watermark)
        let _ = sqlx::query("UPDATE fuel.import_runs SET detail = $2 WHERE id = $1")
            .bind(run_id)
            .bind(format!("failed: {e}"))
            .execute(pool)
            .await;
    }
    outcome
}

async fn import_docs(
    pool: &PgPool,
    run_id: i64,
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
    let lanes = lanes();
    let mut done = 0;
    for (key, feed) in feeds {
        let latest = fuel::latest_per_id(&feed.records);
        let mut plan = plan(pool, &latest, mode == Mode::Snapshot, !apply, lanes).await?;
        if apply {
            let changed: HashSet<String> = plan
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
            let to_write: Vec<&(String, &RawValue)> = latest
                .iter()
                .filter(|(id, _)| changed.contains(id))
                .collect();
            // The lanes project chunks while later ones are still being appended.
            let phase = Arc::new(AtomicU8::new(APPENDING));
            let mut drains = JoinSet::new();
            if !to_write.is_empty() || !vanished.is_empty() {
                for _ in 0..lanes {
                    drains.spawn(drain_lane(pool.clone(), phase.clone()));
                }
            }
            // on an error, dropping `drains` aborts the lanes (their transactions roll back)
            let ids = append_all(pool, key, run_id, &to_write, &vanished).await?;
            phase.store(APPENDED, Ordering::Release);
            let records = to_write.len();
            project(pool, &ids, &phase, drains, &mut |chunks_done| {
                let projected = (chunks_done * CHUNK).min(records);
                report_progress(done + projected, total);
            })
            .await?;
            // the counts that pick a department group's name, as this import leaves them
            if !changed.is_empty() || !vanished.is_empty() {
                fleet_ingest::project::departments::refresh_now(pool).await?;
            }
            // what the projector made of each written record: its verdicts, and whether an
            // insert came marked deleted
            let written: Vec<&str> = changed.iter().map(String::as_str).collect();
            let mut verdicts: HashMap<String, (bool, Vec<String>, Vec<String>)> =
                sqlx::query_as::<_, (String, bool, Vec<String>, Vec<String>)>(
                    "SELECT record_id, deleted_at IS NOT NULL, normalise_errors, warnings FROM fuel.records WHERE record_id = ANY($1)",
                )
                .bind(&written)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|(id, d, e, w)| (id, (d, e, w)))
                .collect();
            for p in plan.iter_mut().filter(|p| changed.contains(&p.record_id)) {
                (p.errors, p.warnings) = match verdicts.remove(&p.record_id) {
                    Some((false, e, w)) => (e, w),
                    Some((true, ..)) => {
                        if p.action == "insert" {
                            p.action = "insert_deleted".into();
                        }
                        Default::default()
                    }
                    None => Default::default(),
                };
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
                unchanged = $6, watermark = coalesce($7, watermark), detail = $8, incomplete = $9
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
    .bind(c.incomplete as i32)
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
        incomplete = c.incomplete,
        "fuel import"
    );
    Ok(report)
}

/// Connections an import works in at once (planning its records, projecting its chunks): the
/// database does the work, so more than a few gain nothing on a small server.
fn lanes() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// `fuel.plan` for a feed document, its records split over `lanes` connections; for a snapshot,
/// also the live records it no longer lists (`vanish`).
async fn plan(
    pool: &PgPool,
    latest: &[(String, &RawValue)],
    snapshot: bool,
    with_errors: bool,
    lanes: usize,
) -> Result<Vec<Planned>, ImportError> {
    if snapshot && latest.is_empty() {
        let live: i64 =
            sqlx::query_scalar("SELECT count(*) FROM fuel.records WHERE deleted_at IS NULL")
                .fetch_one(pool)
                .await?;
        if live > 0 {
            return Err(ImportError::Feed(format!(
                "the snapshot lists no records, so reconciling it would remove all {live} live fuel records; \
                 an empty export is refused (check the feed, or delete records through the feed's own deletes)"
            )));
        }
    }
    // Applying, a record the log has never held is an insert whatever it says (one the feed
    // marks deleted is told apart once projected: `insert_deleted`): only the stored ones need
    // the SQL plan. A dry run plans every record, for the verdicts of its reading.
    let stored: HashSet<String> = if with_errors {
        HashSet::new()
    } else {
        let ids: Vec<&str> = latest.iter().map(|(id, _)| id.as_str()).collect();
        sqlx::query_scalar("SELECT record_id FROM fuel.records WHERE record_id = ANY($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect()
    };
    let stored = Arc::new(stored);
    let mut parts = JoinSet::new();
    for (i, part) in latest
        .chunks(latest.len().div_ceil(lanes).max(1))
        .enumerate()
    {
        let (old, new): (Vec<_>, Vec<_>) = part
            .iter()
            .partition(|(id, _)| with_errors || stored.contains(id));
        let new: Vec<Planned> = new
            .into_iter()
            .map(|(record_id, _)| Planned {
                record_id: record_id.clone(),
                action: "insert".into(),
                errors: Vec::new(),
                warnings: Vec::new(),
            })
            .collect();
        // each lane reads its stored records (the parser's reading, for the plan) on a thread of its own
        let old: Vec<(String, String)> = old
            .into_iter()
            .map(|(id, r)| (id.clone(), r.get().to_string()))
            .collect();
        let pool = pool.clone();
        parts.spawn(async move {
            let batch = tokio::task::spawn_blocking(move || batch_json(&old, with_errors))
                .await
                .map_err(|e| sqlx::Error::Protocol(format!("planning a lane failed: {e}")))?;
            let mut planned = sqlx::query_as::<_, Planned>(
                "SELECT record_id, action, coalesce(errors, '{}') AS errors, coalesce(warnings, '{}') AS warnings
                   FROM fuel.plan_records($1::text::jsonb, $2)",
            )
            .bind(batch)
            .bind(with_errors)
            .fetch_all(&pool)
            .await?;
            planned.extend(new);
            Ok::<_, sqlx::Error>((i, planned))
        });
    }
    let mut planned = Vec::new();
    while let Some(part) = parts.join_next().await {
        planned.push(part.map_err(|e| ImportError::Stalled(format!("planning failed: {e}")))??);
    }
    planned.sort_by_key(|(i, _)| *i);
    // in the feed's order
    let mut by_id: HashMap<String, Planned> = planned
        .into_iter()
        .flat_map(|(_, p)| p)
        .map(|p| (p.record_id.clone(), p))
        .collect();
    let mut plan: Vec<Planned> = latest
        .iter()
        .filter_map(|(id, _)| by_id.remove(id))
        .collect();
    if snapshot {
        let ids: Vec<&str> = latest.iter().map(|(id, _)| id.as_str()).collect();
        let gone: Vec<String> = sqlx::query_scalar("SELECT record_id FROM fuel.vanished($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await?;
        plan.extend(gone.into_iter().map(|record_id| Planned {
            record_id,
            action: "vanish".into(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }));
    }
    Ok(plan)
}

/// Appends the changed records (verbatim, [`CHUNK`] to a row) and the vanished ids to the log;
/// returns the raw row ids.
async fn append_all(
    pool: &PgPool,
    key: &str,
    run_id: i64,
    to_write: &[&(String, &RawValue)],
    vanished: &[&str],
) -> Result<Vec<i64>, ImportError> {
    let mut ids = Vec::new();
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
    }
    if !vanished.is_empty() {
        let body = json!({"object": key, "record_ids": vanished}).to_string();
        ids.push(append(pool, fuel::KIND_VANISHED, key, run_id, body.as_bytes()).await?);
    }
    Ok(ids)
}

/// Where an import's projecting lanes are: chunks still being appended, all appended, or the
/// import's rows are done and the lanes should end after their transaction.
const APPENDING: u8 = 0;
const APPENDED: u8 = 1;
const STOP: u8 = 2;

/// One projecting lane: drains the log (bulk rows one per transaction, so lanes share the
/// chunks) until it is empty and nothing more is being appended, or it is told to stop.
async fn drain_lane(pool: PgPool, phase: Arc<AtomicU8>) -> Result<(), sqlx::Error> {
    loop {
        let now = phase.load(Ordering::Acquire);
        if now == STOP {
            return Ok(());
        }
        if worker::drain_once(&pool, worker::BATCH).await? == 0 {
            if now != APPENDING {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `[{"record_id": ..., "record": <verbatim>, "deleted": bool, "read": <the parser's reading>}, ...]`
/// (the reading only `with_errors`, for a dry run's verdicts), the records not re-serialised:
/// what `fuel.plan_records` takes.
fn batch_json(latest: &[(String, String)], with_errors: bool) -> String {
    let mut s = String::with_capacity(latest.iter().map(|(_, r)| r.len() * 2 + 60).sum());
    s.push('[');
    for (i, (id, r)) in latest.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let record: serde_json::Value = serde_json::from_str(r).unwrap_or_default();
        s.push_str("{\"record_id\":");
        s.push_str(&json!(id).to_string());
        s.push_str(",\"record\":");
        s.push_str(r);
        if with_errors {
            let read = fuel::record::read(&record);
            s.push_str(if read.deleted {
                ",\"deleted\":true"
            } else {
                ",\"deleted\":false"
            });
            s.push_str(",\"read\":");
            s.push_str(&serde_json::to_string(&read).unwrap_or_else(|_| "{}".into()));
        } else if fuel::record::deleted(&record) {
            s.push_str(",\"deleted\":true");
        }
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
        if p.action == "insert_deleted" {
            continue;
        }
        let kind = if !p.errors.is_empty() {
            c.rejected += 1;
            "rejected"
        } else if !p.warnings.is_empty() {
            c.incomplete += 1;
            "incomplete"
        } else {
            continue;
        };
        let listed = report.samples.entry(kind.into()).or_default();
        if listed.len() < 200 {
            listed.push(p.clone());
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

fn lane_outcome(
    lane: Result<Result<(), sqlx::Error>, tokio::task::JoinError>,
) -> Result<(), ImportError> {
    lane.map_err(|e| ImportError::Stalled(format!("a projecting lane failed: {e}")))?
        .map_err(ImportError::Db)
}

/// Waits until every appended row is projected: by the import's own lanes (`drains`), by
/// running workers, or, once the lanes are done, by helping drain. Reports projected rows. On an
/// error the lanes are dropped, which aborts them.
async fn project(
    pool: &PgPool,
    ids: &[i64],
    phase: &AtomicU8,
    mut drains: JoinSet<Result<(), sqlx::Error>>,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<(), ImportError> {
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
        progress(
            ids.len()
                .saturating_sub(usize::try_from(pending).unwrap_or(0)),
        );
        if pending == 0 {
            // the lanes end after the transaction they are in
            phase.store(STOP, Ordering::Release);
            while let Some(lane) = drains.join_next().await {
                lane_outcome(lane)?;
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ImportError::Stalled(format!(
                "{pending} logged fuel batch(es) are still waiting to be projected; they will be when a worker runs"
            )));
        }
        if drains.is_empty() {
            if worker::drain_once(pool, worker::BATCH).await? == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        } else {
            tokio::select! {
                lane = drains.join_next() => {
                    if let Some(lane) = lane {
                        lane_outcome(lane)?;
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }
}
