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
pub const RATE_LIMIT_PER_MIN: &str = "fleet_rate_limit_per_min";
pub const MIRROR_FORWARDED_TOTAL: &str = "fleet_push_mirror_forwarded_total";
pub const MIRROR_FAILED_TOTAL: &str = "fleet_push_mirror_failed_total";
pub const MIRROR_DROPPED_TOTAL: &str = "fleet_push_mirror_dropped_total";
pub const REPLICA_LAG_SECONDS: &str = "fleet_replica_lag_seconds";
pub const BACKUP_AGE_SECONDS: &str = "fleet_backup_age_seconds";
pub const READS_ON_REPLICA: &str = "fleet_reads_on_replica";
pub const MATCH_FIXES_TOTAL: &str = "fleet_match_fixes_total";
pub const MATCH_PENDING: &str = "fleet_match_pending";
pub const MATCH_LAG_SECONDS: &str = "fleet_match_lag_seconds";
pub const LIVE_STREAM_CLIENTS: &str = "fleet_live_stream_clients";
pub const LIVE_STREAM_TICKS_TOTAL: &str = "fleet_live_stream_ticks_total";
pub const LIVE_STREAM_RESETS_TOTAL: &str = "fleet_live_stream_resets_total";

/// What a metric measures, for its `# HELP` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric with its kind and help text (`promtool check metrics` wants HELP on each).
pub const ALL: &[(&str, Kind, &str)] = &[
    (
        LIVE_STREAM_CLIENTS,
        Kind::Gauge,
        "Live map streams (GET /api/views/live/stream) open on this gateway.",
    ),
    (
        LIVE_STREAM_TICKS_TOTAL,
        Kind::Counter,
        "Ticks the gateway's live hub has sent to its streams (one per second at least, the heartbeat).",
    ),
    (
        LIVE_STREAM_RESETS_TOTAL,
        Kind::Counter,
        "Times a live stream told its page to reload the snapshot, by reason (listen_lost, not_resumable, lagged, read_failed).",
    ),
    (
        MATCH_FIXES_TOTAL,
        Kind::Counter,
        "Fixes the map matcher has matched (a bucket matched again counts again).",
    ),
    (
        MATCH_PENDING,
        Kind::Gauge,
        "Device buckets waiting for the map matcher (geo.match_queue), open ones included.",
    ),
    (
        MATCH_LAG_SECONDS,
        Kind::Gauge,
        "Seconds the oldest closed bucket has waited for the map matcher; 0 when none waits.",
    ),
    (
        BACKUP_AGE_SECONDS,
        Kind::Gauge,
        "Seconds since the newest complete backup of each kind (full, events, geo) started, as the cron role last read the backup bucket; +Inf when there is none.",
    ),
    (
        REPLICA_LAG_SECONDS,
        Kind::Gauge,
        "Replay lag of the read replica (DATABASE_READ_URL) as the gateway last measured it; absent without a replica.",
    ),
    (
        READS_ON_REPLICA,
        Kind::Gauge,
        "1 while the gateway sends views and analytics to the read replica, 0 while they fall back to the primary.",
    ),
    (
        HTTP_REQUESTS_TOTAL,
        Kind::Counter,
        "HTTP requests answered, by method, route template and status class.",
    ),
    (
        HTTP_REQUEST_DURATION_SECONDS,
        Kind::Histogram,
        "HTTP request duration in seconds, by method and route template.",
    ),
    (
        ROLE_UP,
        Kind::Gauge,
        "1 while the role's main loop runs in this process, 0 once it stopped.",
    ),
    (
        BUILD_INFO,
        Kind::Gauge,
        "Always 1, labelled with the running build's version and git commit.",
    ),
    (
        CRON_JOB_RUNS_TOTAL,
        Kind::Counter,
        "Cron job runs, by job and outcome.",
    ),
    (
        CRON_JOB_DURATION_SECONDS,
        Kind::Histogram,
        "Cron job run duration in seconds, by job.",
    ),
    (
        RAW_PENDING,
        Kind::Gauge,
        "Raw rows of the event log not parsed yet (the parser's queue depth).",
    ),
    (
        RAW_PROCESSED_TOTAL,
        Kind::Counter,
        "Raw rows parsed and projected by this worker.",
    ),
    (
        PARSE_ERRORS_TOTAL,
        Kind::Counter,
        "Raw rows (or items) the parser could not read, kept in the dead letter.",
    ),
    (
        WORKER_BATCH_SECONDS,
        Kind::Histogram,
        "Time to parse and project one worker batch, in seconds.",
    ),
    (
        PUSH_ACCEPTED_TOTAL,
        Kind::Counter,
        "Pushes committed to the event log and acknowledged, by source.",
    ),
    (
        PUSH_REJECTED_TOTAL,
        Kind::Counter,
        "Pushes refused (authentication, size, storage), by source and reason.",
    ),
    (
        RAW_APPEND_BATCH_SIZE,
        Kind::Histogram,
        "Rows per group commit of the raw log.",
    ),
    (
        SLO_VALUE,
        Kind::Gauge,
        "The latest measured value of each SLO metric (slo.targets).",
    ),
    (
        SLO_MET,
        Kind::Gauge,
        "1 when the SLO metric meets its target, 0 when it does not.",
    ),
    (
        CONTRACT_DRIFT,
        Kind::Gauge,
        "1 when the daily vendor contract check found drift, else 0.",
    ),
    (
        CONTRACT_PROBLEMS,
        Kind::Gauge,
        "Problems the vendor contract check found, by method.",
    ),
    (
        RATE_LIMITED,
        Kind::Counter,
        "Requests refused by a rate limit, by limit class.",
    ),
    (
        RATE_LIMIT_PER_MIN,
        Kind::Gauge,
        "Each rate limit: requests per minute per client, by limit class (0 = off).",
    ),
    (
        MIRROR_FORWARDED_TOTAL,
        Kind::Counter,
        "Accepted pushes copied to the mirror.",
    ),
    (
        MIRROR_FAILED_TOTAL,
        Kind::Counter,
        "Pushes the mirror did not accept after retries.",
    ),
    (
        MIRROR_DROPPED_TOTAL,
        Kind::Counter,
        "Pushes dropped from a full mirror queue.",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_metric_name_has_a_kind_and_help() {
        let source = include_str!("metrics.rs");
        let source = &source[..source
            .find("/// What a metric measures")
            .expect("the table")];
        for line in source.lines().filter(|l| l.starts_with("pub const ")) {
            let name = line.split('"').nth(1).expect("a name");
            assert!(
                super::ALL.iter().any(|(n, _, _)| *n == name),
                "{name} has no entry in ALL"
            );
        }
    }
}
