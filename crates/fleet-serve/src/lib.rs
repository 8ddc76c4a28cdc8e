//! HTTP for Fleet Platform: the gateway's router, the health and metrics endpoints every role
//! serves, the one JSON error shape, and serving with graceful shutdown.
//!
//! Each role's `run` takes an already-bound listener so tests can bind port 0.

pub mod auth;
pub mod health;
pub mod metrics;
pub mod slo;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use health::{Health, Liveness};

/// What a role's main loop returns; the binary reports the error and exits non-zero.
pub type RoleResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The stable JSON error body: `{"error": {"code", "message"}}`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The routes every process with an HTTP listener serves: `/health/{role}` and `/metrics`.
pub fn ops_router(health: Health) -> Router {
    Router::new()
        .merge(health::router(health))
        .merge(metrics::router(metrics::install()))
}

/// The gateway's full router: the ops routes plus the areas' routers (push receivers, API, pages).
pub fn gateway_router(health: Health, areas: Router) -> Router {
    finish(ops_router(health).merge(areas))
}

/// Adds the layers every router gets: request metrics, tracing, a JSON 404.
pub fn finish(router: Router) -> Router {
    router
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
