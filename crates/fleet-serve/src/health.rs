//! Health endpoints: `/health/{role}` for each role this process runs.
//!
//! Each role owns a [`Liveness`] (`fleet_core::health`) it ticks from its main loop and annotates
//! with facts (last job, queue depth, ...). A health answer is 200 when the database answers and the role ticked
//! recently, 503 otherwise, with a JSON body that says which fact failed.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::PgPool;

pub use fleet_core::health::{Liveness, ROLES};

/// Everything the health endpoints read.
#[derive(Clone)]
pub struct Health {
    pool: PgPool,
    roles: Arc<Vec<Arc<Liveness>>>,
}

impl Health {
    pub fn new(pool: PgPool, roles: Vec<Arc<Liveness>>) -> Self {
        Self {
            pool,
            roles: Arc::new(roles),
        }
    }

    /// The health report of `role`, or `None` when this process does not run it.
    pub async fn report(&self, role: &str) -> Option<(bool, Value)> {
        let live = self.roles.iter().find(|l| l.role() == role)?;
        let db = fleet_store::ping(&self.pool, Duration::from_secs(2)).await;
        let tick_age = live.tick_age();
        let tick_ok = tick_age.is_some_and(|a| a <= live.stale_after());
        let healthy = db.is_ok() && tick_ok;
        let mut problems = Vec::new();
        if let Err(e) = &db {
            problems.push(format!("database: {e}"));
        }
        match tick_age {
            None => problems.push("the role has not completed its first loop yet".to_string()),
            Some(a) if !tick_ok => problems.push(format!(
                "the role's loop last ticked {:.1} s ago (limit {} s)",
                a.as_secs_f64(),
                live.stale_after().as_secs()
            )),
            _ => {}
        }
        let body = json!({
            "role": role,
            "status": if healthy { "ok" } else { "unhealthy" },
            "version": fleet_core::build::get().version,
            "build": fleet_core::build::get(),
            "uptime_s": live.uptime().as_secs(),
            "database": match &db {
                Ok(latency) => json!({"ok": true, "latency_ms": (latency.as_secs_f64() * 1000.0 * 100.0).round() / 100.0}),
                Err(e) => json!({"ok": false, "error": e.to_string()}),
            },
            "last_tick_age_s": tick_age.map(|a| (a.as_secs_f64() * 1000.0).round() / 1000.0),
            "stale_after_s": live.stale_after().as_secs(),
            "facts": live.facts(),
            "problems": problems,
        });
        Some((healthy, body))
    }
}

async fn health_handler(State(h): State<Health>, Path(role): Path<String>) -> Response {
    match h.report(&role).await {
        Some((true, body)) => (StatusCode::OK, Json(body)).into_response(),
        Some((false, body)) => (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response(),
        None => crate::error_response(
            StatusCode::NOT_FOUND,
            "unknown_role",
            &format!(
                "this process does not run the {role:?} role; roles: {}",
                ROLES.join(", ")
            ),
        ),
    }
}

/// `/health/{role}` for the roles in `health`.
pub fn router(health: Health) -> Router {
    Router::new()
        .route("/health/{role}", get(health_handler))
        .with_state(health)
}
