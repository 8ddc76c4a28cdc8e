//! Health endpoints: `/health/{role}` for each role this process runs.
//!
//! Each role owns a [`Liveness`] it ticks from its main loop and annotates with facts (last job,
//! queue depth, ...). A health answer is 200 when the database answers and the role ticked
//! recently, 503 otherwise, with a JSON body that says which fact failed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use sqlx::PgPool;

/// The roles of the binary.
pub const ROLES: [&str; 3] = ["gateway", "worker", "cron"];

/// Liveness facts of one role in this process.
#[derive(Debug)]
pub struct Liveness {
    role: &'static str,
    started: Instant,
    /// Milliseconds after `started` of the last tick (0 = never ticked).
    last_tick_ms: AtomicU64,
    stale_after: Duration,
    facts: Mutex<BTreeMap<String, Value>>,
}

impl Liveness {
    /// A role that counts as stuck when it has not ticked for `stale_after`.
    pub fn new(role: &'static str, stale_after: Duration) -> Arc<Self> {
        Arc::new(Self {
            role,
            started: Instant::now(),
            last_tick_ms: AtomicU64::new(0),
            stale_after,
            facts: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn role(&self) -> &'static str {
        self.role
    }

    /// Records that the role's main loop is making progress.
    pub fn tick(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.last_tick_ms.store(ms, Ordering::Relaxed);
    }

    /// Sets a fact shown in the health body.
    pub fn set_fact(&self, key: &str, value: Value) {
        if let Ok(mut f) = self.facts.lock() {
            f.insert(key.to_string(), value);
        }
    }

    /// Seconds since the last tick, `None` if it never ticked.
    pub fn tick_age(&self) -> Option<Duration> {
        match self.last_tick_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(ms)),
            ),
        }
    }

    fn facts(&self) -> BTreeMap<String, Value> {
        self.facts.lock().map(|f| f.clone()).unwrap_or_default()
    }
}

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
        let live = self.roles.iter().find(|l| l.role == role)?;
        let db = fleet_store::ping(&self.pool, Duration::from_secs(2)).await;
        let tick_age = live.tick_age();
        let tick_ok = tick_age.is_some_and(|a| a <= live.stale_after);
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
                live.stale_after.as_secs()
            )),
            _ => {}
        }
        let body = json!({
            "role": role,
            "status": if healthy { "ok" } else { "unhealthy" },
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_s": live.started.elapsed().as_secs(),
            "database": match &db {
                Ok(latency) => json!({"ok": true, "latency_ms": (latency.as_secs_f64() * 1000.0 * 100.0).round() / 100.0}),
                Err(e) => json!({"ok": false, "error": e}),
            },
            "last_tick_age_s": tick_age.map(|a| (a.as_secs_f64() * 1000.0).round() / 1000.0),
            "stale_after_s": live.stale_after.as_secs(),
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
