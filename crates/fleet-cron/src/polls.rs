//! Vendor polls (ARCHITECTURE §2, cron role): every response goes verbatim into `events.raw`
//! (`source = jimi_poll`, `kind` = the method, request context in `meta`) and flows through
//! the same parser and projectors as pushes, so downstream the two are indistinguishable.
//!
//! | job | every | what |
//! |---|---|---|
//! | `poll_live` | 60 s | `jimi.user.device.location.list` per target |
//! | `poll_trips` | 10 min | `jimi.device.track.mileage`, last 20 min, IMEIs of each target in fifties |
//! | `poll_parking` | 10 min | `jimi.open.platform.report.parking`, parking (`acc_type=off`) and idling (`on`) |
//! | `poll_alarms` | 10 min | `jimi.device.alarm.list`, last 20 min |
//! | `poll_tracks` | 30 min | `jimi.device.track.list` for devices that moved in the last hour |
//! | `device_sync` | 3 h | `jimi.user.device.list` per target, then `jimi.track.device.detail` per device (FIX-M18) |
//! | `stale_sweep` | 10 min | `jimi.device.location.get` for devices whose fix is older than `stale_gps_sec` |
//!
//! History windows are twice the period, so a late or failed cycle is covered by the next one;
//! the overlap is harmless because projection is idempotent on natural keys. Every target (vendor
//! sub-account, FIX-M19) is polled; one failing target does not stop the others, and the run is
//! recorded as an error naming it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet_core::jimi::format_time;
use fleet_jimi::client::{Client, ClientError, IMEI_BATCH, Reply};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{Job, JobError, JobResult};

/// The vendor account the polls use: a client (token cache, pacing, ingestion log) and the
/// sub-accounts to iterate.
pub struct Vendor {
    pub client: Client,
    pub targets: Vec<String>,
    /// The account the contract check calls.
    pub contract_target: String,
}

impl Vendor {
    /// A vendor over the account `v` (its client shares the token cache in `pool`).
    pub fn new(
        v: &fleet_core::config::VendorConfig,
        pool: &PgPool,
    ) -> Result<Self, fleet_jimi::client::ClientError> {
        Ok(Self {
            client: Client::new(v.into(), pool.clone())?,
            targets: v.targets.clone(),
            contract_target: v.contract_target.clone(),
        })
    }
}

/// Largest page the history methods return.
const PAGE: usize = 100;
/// A runaway pager stops here (100 × 100 rows in one window is far beyond a real fleet).
const MAX_PAGES: usize = 100;

/// Every poll job over `v`.
pub fn jobs(v: Arc<Vendor>) -> Vec<Job> {
    let job =
        |name: &'static str, secs: u64, f: fn(PgPool, Arc<Vendor>, Duration) -> PollFuture| {
            let v = v.clone();
            let every = Duration::from_secs(secs);
            Job::new(name, every, move |pool| f(pool, v.clone(), every))
        };
    vec![
        job("poll_live", 60, |p, v, _| Box::pin(live(p, v))),
        job("poll_trips", 600, |p, v, e| Box::pin(trips(p, v, e))),
        job("poll_parking", 600, |p, v, e| Box::pin(parking(p, v, e))),
        job("poll_alarms", 600, |p, v, e| Box::pin(alarms(p, v, e))),
        job("poll_tracks", 1800, |p, v, e| Box::pin(tracks(p, v, e))),
        job("device_sync", 3 * 3600, |p, v, _| {
            Box::pin(device_sync(p, v))
        }),
        job("stale_sweep", 600, |p, v, _| Box::pin(stale_sweep(p, v))),
    ]
}

type PollFuture = std::pin::Pin<Box<dyn std::future::Future<Output = JobResult> + Send>>;

/// Rows stored and failures of one job run, across targets and batches.
#[derive(Default)]
struct Tally {
    rows: u64,
    errors: Vec<String>,
}

impl Tally {
    async fn store(
        &mut self,
        pool: &PgPool,
        method: &str,
        meta: Value,
        r: Result<Reply, ClientError>,
    ) {
        match r {
            Ok(reply) => {
                match fleet_ingest::rawlog::append_poll(pool, method, &meta, &reply.body).await {
                    Ok(_) => self.rows += reply.rows() as u64,
                    Err(e) => self.errors.push(format!("storing {method}: {e}")),
                }
            }
            Err(e) => {
                let target = meta.get("target").and_then(Value::as_str).unwrap_or("-");
                self.errors.push(format!("{method} ({target}): {e}"));
            }
        }
    }

    fn finish(self) -> JobResult {
        if self.errors.is_empty() {
            Ok(self.rows)
        } else {
            Err(JobError::Calls {
                stored: self.rows,
                failures: self.errors,
            })
        }
    }
}

/// The history window of a poll that runs every `every`: twice the period, ending now.
fn window(every: Duration) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = Utc::now();
    let span = chrono::Duration::from_std(every * 2).unwrap_or_else(|_| chrono::Duration::hours(1));
    (end - span, end)
}

/// The devices of `target` a query selects (`sql` binds the target as `$1`, and `since` as `$2`
/// when given); a failure is named in the run's errors and the target skipped.
async fn devices(
    pool: &PgPool,
    t: &mut Tally,
    sql: &'static str,
    what: &str,
    target: &str,
    since: Option<DateTime<Utc>>,
) -> Option<Vec<String>> {
    let mut q = sqlx::query_scalar(sql).bind(target);
    if let Some(since) = since {
        q = q.bind(since);
    }
    match q.fetch_all(pool).await {
        Ok(list) => Some(list),
        Err(e) => {
            t.errors.push(format!("listing {what} ({target}): {e}"));
            None
        }
    }
}

/// Pollable devices: enabled, unexpired, not suspended or decommissioned.
const POLLABLE: &str = include_str!("sql/devices_of.sql");

async fn call(
    v: &Vendor,
    method: &str,
    params: &[(&str, &str)],
    target: &str,
) -> Result<Reply, ClientError> {
    v.client.call(method, params, Some(target)).await
}

async fn live(pool: PgPool, v: Arc<Vendor>) -> JobResult {
    let mut t = Tally::default();
    for target in &v.targets {
        let method = "jimi.user.device.location.list";
        let r = call(&v, method, &[("target", target)], target).await;
        t.store(&pool, method, json!({"target": target}), r).await;
    }
    t.finish()
}

/// Pages through a history method for each fifty IMEIs of each target. The call gets `base`,
/// the IMEI list and the paging parameters (`paging` turns a page index into its value), and
/// the target as `account_param` when the method names the account; the stored request
/// context is `base` with the target and page.
async fn paged(
    pool: &PgPool,
    v: &Vendor,
    method: &str,
    base: &[(&str, String)],
    paging: (&str, fn(usize) -> usize),
    account_param: Option<&str>,
    t: &mut Tally,
) {
    let meta: serde_json::Map<String, Value> = base
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    for target in &v.targets {
        let Some(imeis) = devices(pool, t, POLLABLE, "the devices", target, None).await else {
            continue;
        };
        for chunk in imeis.chunks(IMEI_BATCH) {
            let list = chunk.join(",");
            for page in 0..MAX_PAGES {
                let at = paging.1(page).to_string();
                let size = PAGE.to_string();
                let mut params: Vec<(&str, &str)> =
                    base.iter().map(|(k, v)| (*k, v.as_str())).collect();
                params.extend([
                    ("imeis", list.as_str()),
                    (paging.0, at.as_str()),
                    ("page_size", size.as_str()),
                ]);
                if let Some(name) = account_param {
                    params.push((name, target));
                }
                let r = call(v, method, &params, target).await;
                let full = r.as_ref().is_ok_and(|reply| reply.rows() >= PAGE);
                let mut m = meta.clone();
                m.insert("target".into(), json!(target));
                m.insert("page".into(), json!(at));
                t.store(pool, method, Value::Object(m), r).await;
                if !full {
                    break;
                }
            }
        }
    }
}

async fn trips(pool: PgPool, v: Arc<Vendor>, every: Duration) -> JobResult {
    let (begin, end) = window(every);
    let base = [
        ("begin_time", format_time(begin)),
        ("end_time", format_time(end)),
    ];
    let mut t = Tally::default();
    paged(
        &pool,
        &v,
        "jimi.device.track.mileage",
        &base,
        ("start_row", |p| p * PAGE),
        None,
        &mut t,
    )
    .await;
    t.finish()
}

async fn parking(pool: PgPool, v: Arc<Vendor>, every: Duration) -> JobResult {
    let (begin, end) = window(every);
    let mut t = Tally::default();
    // acc_type "off" is parking, "on" idling with the engine running (jimi-api.md §4).
    for acc in ["off", "on"] {
        let base = [
            ("start_time", format_time(begin)),
            ("end_time", format_time(end)),
            ("acc_type", acc.to_string()),
        ];
        paged(
            &pool,
            &v,
            "jimi.open.platform.report.parking",
            &base,
            ("start_row", |p| p * PAGE),
            Some("account"),
            &mut t,
        )
        .await;
    }
    t.finish()
}

async fn alarms(pool: PgPool, v: Arc<Vendor>, every: Duration) -> JobResult {
    let (begin, end) = window(every);
    let base = [
        ("begin_time", format_time(begin)),
        ("end_time", format_time(end)),
    ];
    let mut t = Tally::default();
    paged(
        &pool,
        &v,
        "jimi.device.alarm.list",
        &base,
        ("page_no", |p| p + 1),
        None,
        &mut t,
    )
    .await;
    t.finish()
}

/// The high-resolution trail (FIX-M14), one call per device, so only for devices whose fixes
/// in the window show movement (`moving_speed_kmh` from `slo.targets`).
async fn tracks(pool: PgPool, v: Arc<Vendor>, every: Duration) -> JobResult {
    let (begin, end) = window(every);
    let (b, e) = (format_time(begin), format_time(end));
    let mut t = Tally::default();
    for target in &v.targets {
        let moving = include_str!("sql/moved_in_window.sql");
        let Some(moved) = devices(
            &pool,
            &mut t,
            moving,
            "the devices that moved",
            target,
            Some(begin),
        )
        .await
        else {
            continue;
        };
        let method = "jimi.device.track.list";
        for imei in moved {
            let r = call(
                &v,
                method,
                &[("imei", &imei), ("begin_time", &b), ("end_time", &e)],
                target,
            )
            .await;
            t.store(
                &pool,
                method,
                json!({"target": target, "imei": imei, "begin_time": b, "end_time": e}),
                r,
            )
            .await;
        }
    }
    t.finish()
}

/// The registry: the list for every device of each target, then the detail of each, which is
/// the only reliable source of plate and driver (FIX-M18).
async fn device_sync(pool: PgPool, v: Arc<Vendor>) -> JobResult {
    let mut t = Tally::default();
    for target in &v.targets {
        let method = "jimi.user.device.list";
        let r = call(&v, method, &[("target", target)], target).await;
        let imeis = match &r {
            Ok(reply) => fleet_core::jimi::imeis_of(reply.records()),
            Err(_) => Vec::new(),
        };
        t.store(&pool, method, json!({"target": target}), r).await;
        for imei in imeis {
            let method = "jimi.track.device.detail";
            let r = call(&v, method, &[("imei", &imei)], target).await;
            t.store(&pool, method, json!({"target": target, "imei": imei}), r)
                .await;
        }
    }
    t.finish()
}

/// Rescues devices the minute's list left out or that went quiet: a direct location request
/// (FIX-M15) for every device whose latest fix is older than `stale_gps_sec`.
async fn stale_sweep(pool: PgPool, v: Arc<Vendor>) -> JobResult {
    let mut t = Tally::default();
    for target in &v.targets {
        let stale_sql = include_str!("sql/stale_devices.sql");
        let Some(stale) = devices(&pool, &mut t, stale_sql, "stale devices", target, None).await
        else {
            continue;
        };
        for chunk in stale.chunks(IMEI_BATCH) {
            let method = "jimi.device.location.get";
            let list = chunk.join(",");
            let r = call(&v, method, &[("imeis", &list)], target).await;
            t.store(&pool, method, json!({"target": target}), r).await;
        }
    }
    t.finish()
}
