//! Every metric name in one place, Prometheus style (`_total`, `_seconds`); labels are bounded
//! (route templates, status classes, role names), never raw paths or ids. The recorder and
//! `/metrics` are the HTTP layer's (`fleet_serve::metrics`).

pub const HTTP_REQUESTS_TOTAL: &str = "fleet_http_requests_total";
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "fleet_http_request_duration_seconds";
pub const ROLE_UP: &str = "fleet_role_up";
/// Always 1, labelled with the running build's `version` and `git_sha`.
pub const BUILD_INFO: &str = "fleet_build_info";
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
pub const MIRROR_FORWARDED_TOTAL: &str = "fleet_push_mirror_forwarded_total";
pub const MIRROR_FAILED_TOTAL: &str = "fleet_push_mirror_failed_total";
pub const MIRROR_DROPPED_TOTAL: &str = "fleet_push_mirror_dropped_total";
