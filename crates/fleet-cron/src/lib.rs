//! The cron role: genuinely time-driven jobs (ARCHITECTURE §1 rule 3), each run guarded and recorded.
//!
//! Scheduling model: every job has a period; time is cut into slots of that period (aligned to
//! the Unix epoch, so daily jobs fall on UTC midnight). A cron process runs a job for the current
//! slot only if it wins `INSERT INTO ops.job_runs (job, slot) … ON CONFLICT DO NOTHING`: the
//! unique key makes "two cron processes never run the same job twice" a database fact rather
//! than a timing accident. A slot missed while no cron was running is picked up at the next start
//! (the current slot is always due until claimed). Runs record start, end, outcome and rows.
//!
//! **May depend on** the domain crates whose work it schedules (`fleet-ingest`, `fleet-fuel`,
//! `fleet-jimi`), `fleet-store` and `fleet-core`; never on HTTP (`fleet-serve`). **Where a change
//! goes**: a new scheduled job is a [`Job`] in [`jobs`] whose work lives in the crate that owns it
//! (the OSM load, for example, is `fleet_geo::osm`; only its schedule would be here).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use fleet_core::health::{Liveness, RoleResult};
use fleet_core::metrics;
use serde_json::json;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub mod bench;
pub mod contract;
pub mod polls;
pub mod slo;

/// How long the scheduler loop may go without a tick before its health turns red.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Why a job run failed; recorded as the run's `detail` in `ops.job_runs`.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] fleet_store::StoreError),
    #[error(transparent)]
    Fuel(#[from] fleet_fuel::import::ImportError),
    #[error(transparent)]
    Backup(#[from] fleet_backup::BackupError),
    /// Some vendor calls (or the storing of their replies) failed; the others were stored.
    #[error("{stored} stored; {} call(s) failed: {}", .failures.len(), .failures.join("; "))]
    Calls { stored: u64, failures: Vec<String> },
    /// A job's own words (tests and one-off jobs).
    #[error("{0}")]
    Other(String),
}

/// What a job run returns: rows affected, or why it failed.
pub type JobResult = Result<u64, JobError>;

type JobFuture = Pin<Box<dyn Future<Output = JobResult> + Send>>;

/// A scheduled job: a name, a period and what it does (returning rows affected).
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    run: Arc<dyn Fn(PgPool) -> JobFuture + Send + Sync>,
}

impl Job {
    pub fn new<F, Fut>(name: &'static str, every: Duration, f: F) -> Self
    where
        F: Fn(PgPool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobResult> + Send + 'static,
    {
        Self {
            name,
            every,
            run: Arc::new(move |p| Box::pin(f(p))),
        }
    }
}

/// The monthly road graph reload (issue 18): the extract is read (or downloaded) and loaded
/// through the checked, atomic swap of [`fleet_geo::osm::load`], whose stable segment ids keep
/// the observations of unchanged roads; a refused load (a truncated download, an extract a
/// tenth of the loaded graph) fails the run and keeps the graph. The matcher and router see the
/// new graph at their next check. Rows: the road segments loaded.
pub fn osm_reload(source: fleet_core::config::OsmSource) -> Job {
    Job::new(
        "osm_reload",
        Duration::from_secs(30 * 86_400),
        move |pool| {
            let source = source.clone();
            async move {
                let bytes = fleet_geo::osm::fetch(&source)
                    .await
                    .map_err(|e| JobError::Other(e.to_string()))?;
                let r = fleet_geo::osm::load(&pool, &bytes)
                    .await
                    .map_err(|e| JobError::Other(e.to_string()))?;
                tracing::info!(
                    ways = r.ways,
                    vertices = r.vertices,
                    pois = r.pois,
                    places = r.places,
                    addresses = r.addresses,
                    "road graph reloaded"
                );
                Ok(r.ways as u64)
            }
        },
    )
}

/// What the jobs need besides the database: the vendor account (when polling is configured)
/// and where alerts go.
#[derive(Clone, Default)]
pub struct Context {
    pub vendor: Option<Arc<polls::Vendor>>,
    pub alert_webhook: Option<String>,
    /// The fuel feed's bucket, when configured: its snapshot is reconciled hourly.
    pub fuel: Option<Arc<fleet_s3::Bucket>>,
    /// The backup bucket, when configured: the age of its newest backups is exported.
    pub backups: Option<Arc<fleet_s3::Bucket>>,
    /// The OSM extract to load at first start and every 30 days, when configured.
    pub osm: Option<fleet_core::config::OsmSource>,
}

/// Why the cron role cannot start its jobs.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("the vendor client: {0}")]
    Vendor(#[from] fleet_jimi::client::ClientError),
    #[error("the bucket: {0}")]
    Bucket(#[from] fleet_s3::S3Error),
}

impl Context {
    /// What the jobs need, from the process configuration: the vendor account from `JIMI_*`
    /// (or, when `simulated` — `fleet up` with its simulator — and no account is configured,
    /// the simulated vendor), the fuel bucket and the alert webhook.
    pub fn from_config(
        config: &fleet_core::Config,
        pool: &PgPool,
        simulated: bool,
    ) -> Result<Self, ContextError> {
        let vendor = match (&config.vendor, config.sim_vehicles > 0) {
            (Some(v), _) => Some(v.clone()),
            (None, true) if simulated => Some(
                fleet_jimi::sim::openapi::ApiConfig::default()
                    .vendor(&format!("http://{}", config.sim_api_listen)),
            ),
            _ => None,
        };
        let vendor = match vendor {
            Some(v) => {
                tracing::info!(base = %v.base_url, targets = ?v.targets, "vendor polling is on");
                Some(Arc::new(polls::Vendor::new(&v, pool)?))
            }
            None => {
                tracing::info!(
                    "vendor polling is off: set JIMI_API_BASE and the JIMI_* credentials to poll the Open API"
                );
                None
            }
        };
        let fuel = match &config.fuel_feed {
            Some(f) => {
                tracing::info!(endpoint = %f.endpoint, bucket = %f.bucket, prefix = %f.prefix, "hourly fuel snapshot import is on");
                Some(Arc::new(fleet_s3::Bucket::new(f.clone())?))
            }
            None => None,
        };
        let backups = match &config.backup {
            Some(b) => Some(Arc::new(fleet_s3::Bucket::new(b.bucket.clone())?)),
            None => None,
        };
        Ok(Self {
            vendor,
            alert_webhook: config.alert_webhook_url.clone(),
            fuel,
            backups,
            osm: config.osm_source.clone(),
        })
    }
}

/// Every job of the cron role. Polls and the contract check need a vendor account; without
/// one they are left out (and the health facts say so).
pub fn jobs(ctx: &Context) -> Vec<Job> {
    let mut jobs = vec![
        Job::new(
            "partition_maintenance",
            Duration::from_secs(86_400),
            |pool| async move {
                fleet_store::partitions::maintain(&pool)
                    .await
                    .map(|c| c.len() as u64)
                    .map_err(JobError::from)
            },
        ),
        Job::new(
            "slo_measurement",
            Duration::from_secs(60),
            |pool| async move { Ok(slo::measure(&pool).await?) },
        ),
    ];
    if let Some(v) = &ctx.vendor {
        jobs.extend(polls::jobs(v.clone()));
        jobs.push(contract::job(v.clone(), ctx.alert_webhook.clone()));
    }
    if let Some(bucket) = &ctx.fuel {
        // The full snapshot reconcile is idempotent and self-healing (edits, soft deletes,
        // records dropped), so one hourly run, matching the feed's export cadence, is enough.
        let bucket = bucket.clone();
        jobs.push(Job::new(
            "fuel_snapshot_import",
            Duration::from_secs(3600),
            move |pool| {
                let bucket = bucket.clone();
                async move {
                    fleet_fuel::import::snapshot(&pool, &bucket, true, None)
                        .await
                        .map(|r| (r.counts.inserted + r.counts.updated + r.counts.deleted) as u64)
                        .map_err(JobError::from)
                }
            },
        ));
    }
    if let Some(source) = &ctx.osm {
        jobs.push(osm_reload(source.clone()));
    }
    if let Some(bucket) = &ctx.backups {
        // what Prometheus alerts on (FleetBackupStale): the backup service may be down, the
        // bucket is the truth
        let bucket = bucket.clone();
        jobs.push(Job::new(
            "backup_age",
            Duration::from_secs(600),
            move |_pool| {
                let bucket = bucket.clone();
                async move {
                    let ages = fleet_backup::ages(&bucket, Utc::now()).await?;
                    for (kind, age) in &ages {
                        ::metrics::gauge!(fleet_core::metrics::BACKUP_AGE_SECONDS, "kind" => kind.name())
                            .set(age.unwrap_or(f64::INFINITY));
                    }
                    Ok(ages.iter().filter(|(_, a)| a.is_some()).count() as u64)
                }
            },
        ));
    }
    jobs
}

/// The cron role's liveness record.
pub fn liveness() -> Arc<Liveness> {
    Liveness::new("cron", STALE_AFTER)
}

/// The start of the slot of period `every` that contains `now`.
pub fn slot_of(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let period = every.as_secs().max(1) as i64;
    let start = now.timestamp().div_euclid(period) * period;
    Utc.timestamp_opt(start, 0).single().unwrap_or(now)
}

/// How long shutdown waits for running jobs before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

type SlotResult = (
    &'static str,
    DateTime<Utc>,
    Result<Option<serde_json::Value>, sqlx::Error>,
);

/// Runs the scheduler until `shutdown` is cancelled. Jobs run concurrently (a slow track poll
/// never delays the minute's live poll), each at most once at a time in this process.
pub async fn run(
    pool: PgPool,
    jobs: Vec<Job>,
    live: Arc<Liveness>,
    shutdown: CancellationToken,
) -> RoleResult {
    let host = hostname();
    abandon_stale_runs(&pool).await;
    live.set_fact(
        "jobs",
        json!(
            jobs.iter()
                .map(|j| json!({"job": j.name, "every_s": j.every.as_secs()}))
                .collect::<Vec<_>>()
        ),
    );
    let mut done: HashMap<&'static str, DateTime<Utc>> = HashMap::new();
    let mut running: JoinSet<SlotResult> = JoinSet::new();
    let mut busy: HashSet<&'static str> = HashSet::new();
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "cron").set(1.0);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = interval.tick() => {}
        }
        while let Some(finished) = running.try_join_next() {
            let Ok((name, slot, result)) = finished else {
                continue;
            };
            busy.remove(name);
            match result {
                Ok(outcome) => {
                    done.insert(name, slot);
                    if let Some(o) = outcome {
                        live.set_fact(&format!("job.{name}"), o);
                    }
                }
                Err(e) => {
                    tracing::warn!(job = name, error = %e, "could not claim or record the job slot; will retry")
                }
            }
        }
        for job in &jobs {
            let slot = slot_of(Utc::now(), job.every);
            if done.get(job.name) == Some(&slot) || busy.contains(job.name) {
                continue;
            }
            busy.insert(job.name);
            let (pool, job, host) = (pool.clone(), job.clone(), host.clone());
            running.spawn(async move {
                let r = run_slot(&pool, &job, slot, &host).await;
                (job.name, slot, r)
            });
        }
        live.tick();
    }
    if !running.is_empty() {
        tracing::info!(jobs = running.len(), "waiting for running jobs to finish");
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
            let _ = sqlx::query("UPDATE ops.job_runs SET outcome = 'error', finished_at = clock_timestamp(), detail = 'interrupted: the cron process shut down' WHERE host = $1 AND outcome = 'running'")
                .bind(&host)
                .execute(&pool)
                .await;
        }
    }
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "cron").set(0.0);
    tracing::info!("cron stopped");
    Ok(())
}

/// A run still `running` long after any job could take marks a process that died mid-job;
/// it is closed so the run history does not show it running forever.
async fn abandon_stale_runs(pool: &PgPool) {
    if let Err(e) = sqlx::query("UPDATE ops.job_runs SET outcome = 'error', finished_at = clock_timestamp(), detail = 'abandoned: the process running it stopped' WHERE outcome = 'running' AND started_at < now() - interval '6 hours'")
        .execute(pool)
        .await
    {
        tracing::warn!(error = %e, "could not close abandoned job runs");
    }
}

/// Claims and runs one slot of `job`. `Ok(None)` = another process owns the slot.
pub async fn run_slot(
    pool: &PgPool,
    job: &Job,
    slot: DateTime<Utc>,
    host: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ops.job_runs (job, slot, host) VALUES ($1, $2, $3) ON CONFLICT (job, slot) DO NOTHING RETURNING id",
    )
    .bind(job.name)
    .bind(slot)
    .bind(host)
    .fetch_optional(pool)
    .await?;
    let Some(id) = id else { return Ok(None) };
    let started = Instant::now();
    let result = (job.run)(pool.clone()).await;
    let took = started.elapsed();
    let (outcome, rows, detail) = match &result {
        Ok(rows) => ("ok", Some(*rows as i64), None),
        Err(e) => ("error", None, Some(e.to_string())),
    };
    sqlx::query("UPDATE ops.job_runs SET finished_at = clock_timestamp(), outcome = $2, rows_affected = $3, detail = $4 WHERE id = $1")
        .bind(id)
        .bind(outcome)
        .bind(rows)
        .bind(&detail)
        .execute(pool)
        .await?;
    ::metrics::counter!(metrics::CRON_JOB_RUNS_TOTAL, "job" => job.name, "outcome" => outcome)
        .increment(1);
    ::metrics::histogram!(metrics::CRON_JOB_DURATION_SECONDS, "job" => job.name)
        .record(took.as_secs_f64());
    match &result {
        Ok(rows) => {
            tracing::info!(job = job.name, %slot, rows, ms = took.as_millis() as u64, "job done")
        }
        Err(e) => tracing::error!(job = job.name, %slot, error = %e, "job failed"),
    }
    Ok(Some(json!({
        "slot": slot,
        "finished_at": Utc::now(),
        "outcome": outcome,
        "rows": rows,
        "duration_ms": took.as_millis() as u64,
        "error": detail,
    })))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
        + &format!(":{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_align_to_the_period() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 23, 14, 37, 12)
            .single()
            .expect("valid");
        assert_eq!(
            slot_of(t, Duration::from_secs(86_400)),
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
                .single()
                .expect("valid")
        );
        assert_eq!(
            slot_of(t, Duration::from_secs(600)),
            Utc.with_ymd_and_hms(2026, 11, 23, 14, 30, 0)
                .single()
                .expect("valid")
        );
        assert_eq!(
            slot_of(t, Duration::from_secs(60)),
            Utc.with_ymd_and_hms(2026, 11, 23, 14, 37, 0)
                .single()
                .expect("valid")
        );
    }
}
