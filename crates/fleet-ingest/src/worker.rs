//! The worker role's main loop.
//!
//! The worker applies migrations before anything else (the other roles wait for them), then
//! loops: each pass it reports the parser queue depth (raw rows not yet parsed) as a liveness
//! fact and a gauge. The parser and projectors plug into this loop.

use std::sync::Arc;
use std::time::Duration;

use fleet_serve::{Liveness, RoleResult, metrics};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How long the worker loop may go without a tick before its health turns red.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// The worker's liveness record.
pub fn liveness() -> Arc<Liveness> {
    Liveness::new("worker", STALE_AFTER)
}

/// Runs the worker until `shutdown` is cancelled. Migrations must already be applied.
pub async fn run(pool: PgPool, live: Arc<Liveness>, shutdown: CancellationToken) -> RoleResult {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "worker").set(1.0);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = interval.tick() => {}
        }
        match pending_raw(&pool).await {
            Ok(n) => {
                live.set_fact("raw_pending", n.into());
                ::metrics::gauge!(metrics::RAW_PENDING).set(n as f64);
                live.tick();
            }
            Err(e) => tracing::warn!(error = %e, "worker pass failed; retrying"),
        }
    }
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "worker").set(0.0);
    tracing::info!("worker stopped");
    Ok(())
}

async fn pending_raw(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM events.raw WHERE parsed_at IS NULL AND verified")
        .fetch_one(pool)
        .await
}
