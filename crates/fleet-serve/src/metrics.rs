//! Prometheus metrics: the recorder, `/metrics`, and every metric name in one place.
//!
//! Names follow Prometheus style (`_total`, `_seconds`); labels are bounded (route templates,
//! status classes, role names), never raw paths or ids.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS_TOTAL: &str = "fleet_http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "fleet_http_request_duration_seconds";
pub const ROLE_UP: &str = "fleet_role_up";
pub const CRON_JOB_RUNS_TOTAL: &str = "fleet_cron_job_runs_total";
pub const CRON_JOB_DURATION_SECONDS: &str = "fleet_cron_job_duration_seconds";
pub const RAW_PENDING: &str = "fleet_raw_pending";
pub const RAW_PROCESSED_TOTAL: &str = "fleet_raw_processed_total";
pub const PARSE_ERRORS_TOTAL: &str = "fleet_parse_errors_total";
pub const WORKER_BATCH_SECONDS: &str = "fleet_worker_batch_seconds";
pub const PUSH_ACCEPTED_TOTAL: &str = "fleet_push_accepted_total";
pub const PUSH_REJECTED_TOTAL: &str = "fleet_push_rejected_total";
pub const RAW_APPEND_BATCH_SIZE: &str = "fleet_raw_append_batch_size";
pub const SLO_VALUE: &str = "fleet_slo_value";
pub const SLO_MET: &str = "fleet_slo_met";
pub const CONTRACT_DRIFT: &str = "fleet_contract_drift";
pub const CONTRACT_PROBLEMS: &str = "fleet_contract_problems";
pub const RATE_LIMITED: &str = "fleet_rate_limited_total";

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
