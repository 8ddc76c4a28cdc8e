//! `fleet bench ingest`: the ingest path measured end to end on loopback.
//!
//! Everything runs as in production, in one process: the gateway on a real TCP port, the worker
//! draining with LISTEN/NOTIFY, Postgres on the same machine. The load generator shares the CPU,
//! so the figures are conservative for a machine that runs only the platform.
//!
//! 1. Acceptance: `concurrency` HTTP/1.1 keep-alive clients push `/pushgps` (one fix each) for
//!    `seconds`, while the worker drains. Reports pushes/s and latency p50/p95/p99 (send → ack).
//! 2. Freshness: a paced sender at `rate` pushes/s, each push a new device; a watcher polls
//!    `state.live_positions` every 2 ms. Reports push-sent → row-visible p50/p95/p99.
//! 3. Replay: rebuilds `state.position_history` from the parsed log; reports events/s.
//! 4. Storage: bytes per stored fix of the raw log, the parsed log and the position history
//!    (partitions, indexes and TOAST; after a VACUUM). Each push of this benchmark carries one
//!    fix, so the raw log's share is larger than with the vendor's batched pushes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::push::{self, PushConfig};
use fleet_ingest::{replay, worker};

/// Benchmark parameters.
#[derive(Debug, Clone)]
pub struct BenchParams {
    pub seconds: u64,
    pub concurrency: usize,
    pub rate: u64,
    pub fresh_seconds: u64,
}

/// What the benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub accepted: u64,
    pub failed: u64,
    pub pushes_per_s: f64,
    pub ack_ms: Percentiles,
    pub fresh_samples: usize,
    pub fresh_missing: usize,
    pub freshness_ms: Percentiles,
    pub replay_events: u64,
    pub replay_events_per_s: f64,
    /// Fixes in `state.position_history` when the storage was measured.
    pub stored_fixes: i64,
    /// Bytes per stored fix of each table (partitions, indexes and TOAST included), largest first.
    pub bytes_per_fix: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

pub(crate) fn percentiles(mut v: Vec<f64>) -> Percentiles {
    if v.is_empty() {
        return Percentiles::default();
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: v[v.len() - 1],
    }
}

const TOKEN: &str = "bench-token-0123456789";

fn gps_form(imei: &str, secs: u64, lat: f64) -> String {
    let t = fleet_core::jimi::format_time(
        chrono::DateTime::from_timestamp(1_790_000_000 + secs as i64, 0).unwrap_or_default(),
    );
    let item = json!([{"deviceImei": imei, "gpsTime": t, "lat": lat, "lng": 36.82, "gpsSpeed": "40", "direction": "90", "acc": "1", "postType": 1}]);
    serde_urlencoded::to_string([("token", TOKEN), ("data_list", &item.to_string())])
        .unwrap_or_default()
}

/// Runs the benchmark against `pool` (a freshly migrated, otherwise empty database).
pub async fn run(
    pool: PgPool,
    p: &BenchParams,
    log: &mut dyn FnMut(&str),
) -> Result<BenchReport, Box<dyn std::error::Error + Send + Sync>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    let live = fleet_core::health::Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let router = crate::gateway_router(
        crate::Health::new(pool.clone(), vec![live]),
        push::router(
            pool.clone(),
            PushConfig {
                jimi_token: Some(TOKEN.into()),
                secrets: Vec::new(),
                max_bytes: 1 << 20,
                mirror_url: None,
            },
        ),
    );
    let server = tokio::spawn(crate::serve(listener, router, stop.clone()));
    let worker_task = {
        let (pool, stop) = (pool.clone(), stop.clone());
        tokio::spawn(async move {
            worker::run(pool, worker::liveness(), stop)
                .await
                .map_err(|e| e.to_string())
        })
    };
    let client = fleet_core::http::client(Duration::from_secs(60))
        .pool_max_idle_per_host(p.concurrency)
        .build()?;

    // 1. Acceptance under concurrent load.
    log(&format!(
        "acceptance: {} clients for {} s ...",
        p.concurrency, p.seconds
    ));
    let deadline = Instant::now() + Duration::from_secs(p.seconds);
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..p.concurrency {
        let (client, url, failed) = (
            client.clone(),
            format!("{base}/push/jimi/pushgps"),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = gps_form(
                    &format!("86{:013}", c),
                    i,
                    -1.0 - (i % 1000) as f64 / 10_000.0,
                );
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut acks = Vec::new();
    for t in tasks {
        acks.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = acks.len() as u64;
    let ack_ms = percentiles(acks);
    log(&format!(
        "  {accepted} accepted ({:.0}/s), ack p99 {:.1} ms; waiting for the worker to drain ...",
        accepted as f64 / elapsed,
        ack_ms.p99
    ));
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events.raw WHERE parsed_at IS NULL")
        .fetch_one(&pool)
        .await?
        > 0
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 2. Freshness at a paced rate.
    log(&format!(
        "freshness: {} pushes/s for {} s ...",
        p.rate, p.fresh_seconds
    ));
    let pending: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let samples: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let sending = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (pool, pending, samples, sending) = (
            pool.clone(),
            pending.clone(),
            samples.clone(),
            sending.clone(),
        );
        tokio::spawn(async move {
            let grace = Duration::from_secs(5);
            let mut idle_since: Option<Instant> = None;
            loop {
                let keys: Vec<String> = pending.lock().await.keys().cloned().collect();
                if !keys.is_empty() {
                    let seen: Vec<String> = sqlx::query_scalar(
                        "SELECT imei FROM state.live_positions WHERE imei = ANY($1)",
                    )
                    .bind(&keys)
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_default();
                    let now = Instant::now();
                    let mut p = pending.lock().await;
                    let mut s = samples.lock().await;
                    for imei in seen {
                        if let Some(sent) = p.remove(&imei) {
                            s.push(now.duration_since(sent).as_secs_f64() * 1000.0);
                        }
                    }
                }
                if !sending.load(Ordering::Relaxed) {
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    if pending.lock().await.is_empty() || since.elapsed() > grace {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let total = p.rate * p.fresh_seconds;
    let interval = Duration::from_secs_f64(1.0 / p.rate.max(1) as f64);
    let start = Instant::now();
    let mut senders = Vec::new();
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let imei = format!("87{i:013}");
        pending.lock().await.insert(imei.clone(), Instant::now());
        let (client, url) = (client.clone(), format!("{base}/push/jimi/pushgps"));
        senders.push(tokio::spawn(async move {
            let _ = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(gps_form(&imei, i, -1.3))
                .send()
                .await;
        }));
    }
    for s in senders {
        let _ = s.await;
    }
    sending.store(false, Ordering::Relaxed);
    watcher.await?;
    let fresh = samples.lock().await.clone();
    let fresh_missing = pending.lock().await.len();
    let fresh_samples = fresh.len();
    let freshness_ms = percentiles(fresh);
    log(&format!(
        "  {fresh_samples} samples, p95 {:.1} ms",
        freshness_ms.p95
    ));

    stop.cancel();
    let _ = server.await;
    let _ = worker_task.await;

    // 3. Replay.
    log("replay: rebuilding state.position_history from the parsed log ...");
    let t = Instant::now();
    let replay_events = replay::rebuild(
        &pool,
        "state.position_history",
        replay::BATCH,
        &mut |_, _, _| {},
    )
    .await?;
    let replay_events_per_s = replay_events as f64 / t.elapsed().as_secs_f64().max(1e-6);

    // 4. Storage: what each fix costs the log and the state (issue 20 item 3).
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let stored_fixes: i64 = sqlx::query_scalar("SELECT count(*) FROM state.position_history")
        .fetch_one(&pool)
        .await?;
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        // (pg_partition_tree has no rows for a table that is not partitioned)
        "SELECT t, (SELECT coalesce(sum(pg_total_relation_size(p.relid)), pg_total_relation_size(t::regclass))::bigint
                      FROM pg_partition_tree(t::regclass) p)
           FROM unnest(ARRAY['events.raw', 'events.parsed', 'state.position_history']) t",
    )
    .fetch_all(&pool)
    .await?;
    let mut bytes_per_fix: Vec<(String, f64)> = sizes
        .into_iter()
        .map(|(t, b)| (t, b as f64 / stored_fixes.max(1) as f64))
        .collect();
    bytes_per_fix.sort_by(|a, b| b.1.total_cmp(&a.1));

    Ok(BenchReport {
        accepted,
        failed: failed.load(Ordering::Relaxed),
        pushes_per_s: accepted as f64 / elapsed,
        ack_ms,
        fresh_samples,
        fresh_missing,
        freshness_ms,
        replay_events,
        replay_events_per_s,
        stored_fixes,
        bytes_per_fix,
    })
}
