//! `GET /api/slo`: every SLO with its target, latest value, status (met / not_met / no_data)
//! and since when, plus the operational thresholds pages use — all from `slo.*`, so the API
//! and the pages never carry a threshold of their own (ARCHITECTURE §1 rule 7).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fleet_store::slo::{current, thresholds};
use serde_json::json;
use sqlx::PgPool;

use crate::error_response;

/// `GET /api/slo`.
pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/api/slo", get(slo_status))
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
pub(crate) async fn slo_status(State(pool): State<PgPool>) -> Response {
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
