//! `fleet bench fuel`: a snapshot reconcile of a large generated feed, three times — the first
//! load into an empty database, a re-run with nothing changed, and a re-run after edits and soft
//! deletes — each timed end to end (parse, plan, log, parse again, project).

use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;

use crate::feedgen::{self, GenConfig};
use crate::import::{self, Mode};

/// What the benchmark measured.
#[derive(Debug, Clone)]
pub struct FuelBench {
    pub records: usize,
    pub bytes: usize,
    pub rejected: usize,
    pub first_s: f64,
    pub rerun_s: f64,
    pub edited_s: f64,
    pub edits: usize,
    pub deletes: usize,
}

/// Runs the benchmark in `pool`'s (scratch) database.
pub async fn run(
    pool: &PgPool,
    records: usize,
    say: &mut dyn FnMut(String),
) -> Result<FuelBench, import::ImportError> {
    // ~12 fills a vehicle a month: size the fleet and the history to the record count.
    let days = 90u32;
    let vehicles = (records / 25).max(1);
    say(format!(
        "generating a {days}-day feed for {vehicles} vehicles…"
    ));
    let cfg = GenConfig {
        seed: 2026,
        vehicles: feedgen::vehicles(2026, vehicles),
        days,
        end: Utc::now(),
        messy: true,
    };
    let mut snapshot = feedgen::generate(&cfg).snapshot(cfg.end);
    if let Some(list) = snapshot["records"].as_array_mut() {
        list.truncate(records);
    }
    let n = snapshot["records"].as_array().map_or(0, Vec::len);
    let bytes = serde_json::to_vec(&snapshot).unwrap_or_default();
    say(format!(
        "first load of {n} records ({} MB)…",
        bytes.len() / 1_000_000
    ));
    let t = Instant::now();
    let first = import::run(
        pool,
        Mode::Snapshot,
        vec![("bench/latest.json".into(), bytes.clone())],
        true,
        None,
    )
    .await?;
    let first_s = t.elapsed().as_secs_f64();
    say("re-run, nothing changed…".into());
    let t = Instant::now();
    import::run(
        pool,
        Mode::Snapshot,
        vec![("bench/latest.json".into(), bytes.clone())],
        true,
        None,
    )
    .await?;
    let rerun_s = t.elapsed().as_secs_f64();
    // 1% edited, 0.5% soft-deleted.
    let (mut edits, mut deletes) = (0, 0);
    if let Some(list) = snapshot["records"].as_array_mut() {
        for (i, r) in list.iter_mut().enumerate() {
            if i % 100 == 7 {
                r["litres"] = json!("41.5");
                edits += 1;
            } else if i % 200 == 11 && r["deleted_at"].is_null() {
                r["deleted_at"] = json!(Utc::now().to_rfc3339());
                deletes += 1;
            }
        }
    }
    let edited = serde_json::to_vec(&snapshot).unwrap_or_default();
    say(format!(
        "re-run with {edits} edits and {deletes} soft deletes…"
    ));
    let t = Instant::now();
    import::run(
        pool,
        Mode::Snapshot,
        vec![("bench/latest.json".into(), edited)],
        true,
        None,
    )
    .await?;
    let edited_s = t.elapsed().as_secs_f64();
    Ok(FuelBench {
        records: n,
        bytes: bytes.len(),
        rejected: first.counts.rejected,
        first_s,
        rerun_s,
        edited_s,
        edits,
        deletes,
    })
}
