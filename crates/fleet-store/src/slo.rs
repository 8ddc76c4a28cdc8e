//! The SLOs and thresholds as `slo.*` holds them: read by the API (`GET /api/slo`), the pages
//! and the cron role's measurement (which exports them as metrics).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// One SLO as `slo.v_current_status` reports it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Status {
    pub metric: String,
    pub threshold: f64,
    pub comparator: String,
    pub unit: String,
    pub description: String,
    pub value: Option<f64>,
    pub measured_at: Option<DateTime<Utc>>,
    pub status: String,
    pub since: Option<DateTime<Utc>>,
}

/// An operational threshold (stale GPS, offline, moving speed).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Threshold {
    pub metric: String,
    pub threshold: f64,
    pub unit: String,
    pub description: String,
}

/// The current status of every SLO.
pub async fn current(pool: &PgPool) -> Result<Vec<Status>, sqlx::Error> {
    sqlx::query_as(
        "SELECT metric, threshold, comparator, unit, description, value, measured_at, status, since
           FROM slo.v_current_status ORDER BY metric",
    )
    .fetch_all(pool)
    .await
}

/// Every operational threshold.
pub async fn thresholds(pool: &PgPool) -> Result<Vec<Threshold>, sqlx::Error> {
    sqlx::query_as(
        "SELECT metric, threshold, unit, description FROM slo.targets WHERE kind = 'threshold' ORDER BY metric",
    )
    .fetch_all(pool)
    .await
}
