//! SLO measurement (ARCHITECTURE §1 rule 7, issue 4 §4): every minute, one row per SLO in
//! `slo.measurements`, computed in SQL from the state and log tables with every window and
//! threshold read from `slo.targets`, so changing a target is one UPDATE. After each run the
//! Prometheus gauges `fleet_slo_value{metric}` and `fleet_slo_met{metric}` (1 met, 0 not met,
//! NaN no data) follow `slo.v_current_status`.

use chrono::{DateTime, Utc};
use fleet_core::metrics;
use sqlx::PgPool;

/// Measures every SLO now; returns rows written.
pub async fn measure(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let n = measure_at(pool, Utc::now()).await?;
    for s in fleet_store::slo::current(pool).await? {
        ::metrics::gauge!(metrics::SLO_VALUE, "metric" => s.metric.clone())
            .set(s.value.unwrap_or(f64::NAN));
        let met = match s.status.as_str() {
            "met" => 1.0,
            "not_met" => 0.0,
            _ => f64::NAN,
        };
        ::metrics::gauge!(metrics::SLO_MET, "metric" => s.metric).set(met);
    }
    Ok(n)
}

/// Measures every SLO as of `at` (tests measure constructed data at a chosen moment).
pub async fn measure_at(pool: &PgPool, at: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(include_str!("sql/slo_measure.sql"))
        .bind(at)
        .execute(pool)
        .await?
        .rows_affected())
}
