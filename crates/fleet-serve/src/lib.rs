//! The HTTP API of Fleet Platform, all of it: the gateway's router (pushes, operator actions,
//! views, pages, tiles, mirror), the health and metrics endpoints every role serves, the one JSON
//! error shape, rate limits, and serving with graceful shutdown.
//!
//! **Where it sits.** Dependencies point one way: HTTP (this crate) → domain crates
//! (`fleet-ingest`, `fleet-fuel`, …) → `fleet-store` → `fleet-core`. This crate was once below
//! `fleet-ingest`, which assembled the gateway; the cut chosen (issue 16) is that `fleet-serve`
//! takes the receivers and calls ingest's plain functions to append (`fleet_ingest::rawlog`,
//! `fleet_ingest::actions::parse`), rather than a separate `fleet-gateway` crate or a trait:
//! ingest's appends are ordinary async functions over a pool, so a trait would add an indirection
//! with one implementation, and a second HTTP crate would split "the HTTP API" in two again.
//!
//! **Where a change goes.** A new push source: a receiver in [`push`] that appends raw bytes, plus
//! its parser in `fleet-ingest`. A new view: its SQL in `sql/serve/`, its handler in [`views`], its
//! schema in the OpenAPI document. A new page: `pages/` plus its route in [`pages`]. A new operator
//! action: its kind in `fleet_ingest::actions`, its handler in [`actions`].
//!
//! Each role's `run` takes an already-bound listener so tests can bind port 0.

pub mod actions;
pub mod auth;
pub mod bench;
pub mod bench_routes;
pub mod bench_views;
pub mod error;
pub mod fuel_actions;
pub mod gateway;
pub mod geo;
pub mod health;
pub mod limit;
pub mod live;
pub mod metrics;
pub mod mirror;
pub mod openapi;
pub mod pages;
pub mod push;
pub mod reads;
pub mod routes;
pub mod slo;
pub mod views;

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use health::Health;

pub use error::{ApiError, error_response};

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

/// Lets the browser origins in `origins` call the API from other sites (`*` = any). With no
/// origins the router is unchanged: pages served by the gateway itself are same-origin.
/// Preflight requests are answered here, before any auth guard.
pub fn with_cors(router: Router, origins: &[String]) -> Router {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return router;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
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
