//! Prometheus metrics: the recorder and `/metrics`, and the HTTP request metrics. The names are
//! in `fleet_core::metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fleet_core::metrics::{HTTP_REQUEST_DURATION_SECONDS, HTTP_REQUESTS_TOTAL};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Installs the process-wide Prometheus recorder (once) and returns its handle.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("static bucket list is valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests embedding several apps): keep ours
            // for rendering either way.
            let _ = metrics::set_global_recorder(recorder);
            for (name, kind, help) in fleet_core::metrics::ALL {
                use fleet_core::metrics::Kind;
                match kind {
                    Kind::Counter => metrics::describe_counter!(*name, *help),
                    Kind::Gauge => metrics::describe_gauge!(*name, *help),
                    Kind::Histogram => metrics::describe_histogram!(*name, *help),
                }
            }
            let b = fleet_core::build::get();
            metrics::gauge!(fleet_core::metrics::BUILD_INFO, "version" => b.version, "git_sha" => b.git_sha)
                .set(1.0);
            handle
        })
        .clone()
}

/// `/metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let h = handle.clone();
            async move { ([("content-type", "text/plain; version=0.0.4")], h.render()).into_response() }
        }),
    )
}

/// Counts requests and their latency per route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS_TOTAL, "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}
