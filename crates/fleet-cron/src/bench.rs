//! `fleet bench polls`: one full poll cycle of a simulated fleet, end to end into state.
//!
//! The simulated vendor (real HTTP, signing and tokens) serves a fleet that has driven for half
//! an hour; the cron's poll jobs run one after another as a cycle (device sync, live, trips,
//! parking, alarms, tracks, stale sweep) while a worker drains `events.raw` concurrently. The
//! cycle ends when every polled row is parsed and projected. Client pacing is off, so the figures
//! are the platform's own cost; with the vendor's pacing (`JIMI_MIN_CALL_INTERVAL_MS`) a cycle is
//! bound by calls × interval instead, which the report also states.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::polls::{Vendor, jobs};
use crate::run_slot;

/// One job of the cycle.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobTiming {
    pub job: &'static str,
    pub ms: f64,
    pub calls: i64,
    pub rows: i64,
}

/// What a cycle measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PollReport {
    pub devices: usize,
    pub jobs: Vec<JobTiming>,
    pub calls: i64,
    /// Cycle start → the last polled row projected.
    pub end_to_end_ms: f64,
    pub live_positions: i64,
    pub history_rows: i64,
}

/// Runs one cycle over a fleet of about `devices` trackers against `pool` (freshly migrated).
pub async fn run(
    pool: PgPool,
    devices: usize,
    log: &mut dyn FnMut(&str),
) -> Result<PollReport, Box<dyn std::error::Error + Send + Sync>> {
    // One vehicle in eight carries a second tracker.
    let vehicles = (devices * 8).div_ceil(9).max(1);
    log(&format!("simulating {vehicles} vehicles for 30 minutes..."));
    let sim = new_sim(vehicles, 42, Utc::now() - chrono::Duration::minutes(30))?;
    for _ in 0..30 {
        sim.lock().map_err(|_| "simulator lock")?.step(60.0);
    }
    let devices = sim.lock().map_err(|_| "simulator lock")?.devices.len();
    let api = ApiConfig {
        min_interval: Duration::ZERO,
        ..ApiConfig::default()
    };
    let (base, stop_api) = spawn(sim, api.clone()).await?;
    let mut account = api.vendor(&base);
    account.pace = Duration::ZERO;
    let vendor = Arc::new(Vendor::new(&account, &pool)?);
    let stop = CancellationToken::new();
    let worker = {
        let (pool, stop) = (pool.clone(), stop.clone());
        tokio::spawn(async move {
            fleet_ingest::worker::run(pool, fleet_ingest::worker::liveness(), stop)
                .await
                .map_err(|e| e.to_string())
        })
    };
    let all = jobs(vendor);
    let order = [
        "device_sync",
        "poll_live",
        "poll_trips",
        "poll_parking",
        "poll_alarms",
        "poll_tracks",
        "stale_sweep",
    ];
    let started = Instant::now();
    let mut timings = Vec::new();
    for name in order {
        let Some(job) = all.iter().find(|j| j.name == name) else {
            continue;
        };
        let calls_before = calls(&pool).await?;
        let t = Instant::now();
        let fact = run_slot(&pool, job, Utc::now(), "bench")
            .await?
            .ok_or("slot taken")?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if fact["outcome"] != "ok" {
            return Err(format!("{name} failed: {}", fact["error"]).into());
        }
        let timing = JobTiming {
            job: name,
            ms,
            calls: calls(&pool).await? - calls_before,
            rows: fact["rows"].as_i64().unwrap_or(0),
        };
        log(&format!(
            "  {name:<13} {:>8.0} ms  {:>5} calls  {:>6} rows",
            timing.ms, timing.calls, timing.rows
        ));
        timings.push(timing);
    }
    // Done when nothing polled is waiting for the worker.
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events.raw WHERE parsed_at IS NULL")
                .fetch_one(&pool)
                .await?;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let end_to_end_ms = started.elapsed().as_secs_f64() * 1000.0;
    stop.cancel();
    stop_api.cancel();
    let _ = worker.await;
    let (live_positions, history_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM state.live_positions), (SELECT count(*) FROM state.position_history)",
    )
    .fetch_one(&pool)
    .await?;
    Ok(PollReport {
        devices,
        calls: timings.iter().map(|t| t.calls).sum(),
        jobs: timings,
        end_to_end_ms,
        live_positions,
        history_rows,
    })
}

async fn calls(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM ops.ingestion_log")
        .fetch_one(pool)
        .await
}
