//! `GET /api/slo`: every SLO with its target, latest value, status (met / not_met / no_data)
//! and since when, plus the operational thresholds pages use — all from `slo.*`, so the API
//! and the pages never carry a threshold of their own (ARCHITECTURE §1 rule 7).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use crate::error_response;

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

/// `GET /api/slo`.
pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/api/slo", get(handle))
        .with_state(pool)
}

#[utoipa::path(get, path = "/api/slo", tag = "views",
    summary = "Every SLO with its target, latest value, status and since when; the operational thresholds",
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{summary, slos, thresholds}`", body = Object),
        (status = 401, description = "No valid token", body = crate::openapi::ErrorBody),
        (status = 403, description = "The token lacks read:fleet", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn handle(State(pool): State<PgPool>) -> Response {
    match tokio::try_join!(current(&pool), thresholds(&pool)) {
        Ok((slos, thresholds)) => {
            let met = slos.iter().filter(|s| s.status == "met").count();
            let not_met = slos.iter().filter(|s| s.status == "not_met").count();
            axum::Json(json!({
                "summary": {"met": met, "not_met": not_met, "no_data": slos.len() - met - not_met},
                "slos": slos,
                "thresholds": thresholds,
            }))
            .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reading slo status");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the SLO status cannot be read right now",
            )
        }
    }
}
