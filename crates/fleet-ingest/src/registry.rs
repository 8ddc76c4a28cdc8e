//! Registry imports (`fleet import devices FILE.csv`): the plan of what a file would change, and
//! applying it as an event.
//!
//! Applying never writes `domain.*` directly. The file goes verbatim into `events.raw`
//! (`source = csv_import`, `kind = registry_csv`), the parser turns each good line into a
//! `registry_entry` event and lists bad lines in the row's error (so they show in the dead
//! letter), and the registry projectors write the domain tables — so an import is replayable,
//! audited by the log, and re-importing the same file changes nothing.

use fleet_core::registry::{self, Parsed};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;

/// What one row would change (each `None` = no change of that kind).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RowPlan {
    pub line: i32,
    pub imei: String,
    pub plate_key: Option<String>,
    pub driver_key: Option<String>,
    pub device: Option<String>,
    pub vehicle: Option<String>,
    pub fitting: Option<String>,
    pub driver: Option<String>,
    pub driving: Option<String>,
}

impl RowPlan {
    /// The changes, in reading order.
    pub fn changes(&self) -> Vec<&str> {
        [
            &self.device,
            &self.vehicle,
            &self.fitting,
            &self.driver,
            &self.driving,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
    }
}

/// Counts of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub new_devices: usize,
    pub account_changes: usize,
    pub new_vehicles: usize,
    pub updated_vehicles: usize,
    pub fittings: usize,
    pub new_drivers: usize,
    pub driver_changes: usize,
    pub unchanged_rows: usize,
}

/// Per row, what importing `parsed` would change now.
pub async fn plan(pool: &PgPool, parsed: &Parsed) -> Result<Vec<RowPlan>, sqlx::Error> {
    let rows = serde_json::to_value(&parsed.rows).unwrap_or(Value::Array(Vec::new()));
    sqlx::query_as(include_str!("sql/registry_plan.sql"))
        .bind(rows)
        .fetch_all(pool)
        .await
}

/// Tallies a plan; a vehicle or driver named on several rows counts once.
pub fn count(plan: &[RowPlan]) -> Counts {
    use std::collections::HashSet;
    let mut c = Counts::default();
    let (mut vehicles, mut drivers) = (HashSet::new(), HashSet::new());
    for p in plan {
        match p.device.as_deref() {
            Some(d) if d.starts_with("new") => c.new_devices += 1,
            Some(_) => c.account_changes += 1,
            None => {}
        }
        if p.vehicle.is_some() && vehicles.insert(p.plate_key.clone()) {
            match p.vehicle.as_deref() {
                Some(v) if v.starts_with("new") => c.new_vehicles += 1,
                _ => c.updated_vehicles += 1,
            }
        }
        c.fittings += usize::from(p.fitting.is_some());
        if p.driver.is_some() && drivers.insert(p.driver_key.clone()) {
            c.new_drivers += 1;
        }
        c.driver_changes += usize::from(p.driving.is_some());
        c.unchanged_rows += usize::from(p.changes().is_empty());
    }
    c
}

/// Appends the file as one raw event and wakes the workers; returns the raw row id.
pub async fn append(
    pool: &PgPool,
    bytes: &[u8],
    file_name: &str,
    default_account: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let meta = json!({"file": file_name, "default_account": default_account});
    crate::rawlog::append_one(
        pool,
        crate::rawlog::TrustedRow {
            source: registry::SOURCE,
            kind: registry::KIND,
            content_type: "text/csv",
            verification: "operator",
            meta: &meta,
            body: bytes,
        },
    )
    .await
}

/// Whether raw row `id` has been parsed yet, and its error if any.
pub async fn parse_state(pool: &PgPool, id: i64) -> Result<Option<Option<String>>, sqlx::Error> {
    let row: Option<(Option<chrono::DateTime<chrono::Utc>>, Option<String>)> =
        sqlx::query_as("SELECT parsed_at, parse_error FROM events.raw WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|(at, err)| at.map(|_| err)))
}

/// Waits up to `timeout` for a worker to parse raw row `id`: its [`parse_state`] once parsed,
/// `None` if no worker got to it in time.
pub async fn wait_parsed(
    pool: &PgPool,
    id: i64,
    timeout: std::time::Duration,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(state) = parse_state(pool, id).await? {
            return Ok(Some(state));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
