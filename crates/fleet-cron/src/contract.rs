//! The daily vendor contract check (ARCHITECTURE §4): call every vendor method the platform
//! uses against the configured sandbox account, check the records against the typed contract
//! (`fleet_core::contract`), store the result, and raise drift four ways: an error log line, the
//! `fleet_contract_drift` / `fleet_contract_problems{method}` gauges, the `contract_drift_days`
//! SLO (read from `ops.contract_runs`) and, when `FLEET_ALERT_WEBHOOK_URL` is set, a JSON POST.
//!
//! The responses are diagnostics, not fleet data: they are not appended to `events.raw` (the
//! polls already bring the same data in); one sample record per method is kept with the result
//! so a drift can be compared with the contract without calling the vendor again.
//!
//! Parameters are chosen to make each method return records: a device from the account's list,
//! the last day of its track, the last week of alarms, trips and stops. A method that returns no
//! records is recorded as checked with 0 records, not as drift.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fleet_core::contract::{self, Report};
use fleet_core::jimi::format_time;
use fleet_core::metrics;
use fleet_jimi::client::{ClientError, IMEI_BATCH};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::Job;
use crate::polls::Vendor;

/// The daily job.
pub fn job(v: Arc<Vendor>, webhook: Option<String>) -> Job {
    Job::new("contract_check", Duration::from_secs(86_400), move |pool| {
        let (v, webhook) = (v.clone(), webhook.clone());
        async move {
            let run = check(&pool, &v, webhook.as_deref()).await?;
            Ok(run.methods.len() as u64)
        }
    })
}

/// One method's result.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    pub method: String,
    /// `ok`, `drift` or `error`.
    pub outcome: &'static str,
    pub report: Report,
    pub error: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub run_id: i64,
    pub target: String,
    /// `clean`, `drift` or `error`.
    pub outcome: &'static str,
    pub methods: Vec<MethodResult>,
}

/// Runs the check now, stores it, raises drift; returns what it found.
pub async fn check(pool: &PgPool, v: &Vendor, webhook: Option<&str>) -> Result<Run, sqlx::Error> {
    let target = v.contract_target.as_str();
    let run_id: i64 =
        sqlx::query_scalar("INSERT INTO ops.contract_runs (target) VALUES ($1) RETURNING run_id")
            .bind(target)
            .fetch_one(pool)
            .await?;
    let now = Utc::now();
    let (day, week) = (
        format_time(now - chrono::Duration::days(1)),
        format_time(now - chrono::Duration::days(7)),
    );
    let end = format_time(now);
    let mut methods = Vec::new();

    // The account's devices first: every per-device method needs one.
    let list = probe(
        pool,
        v,
        run_id,
        "jimi.user.device.list",
        &[("target", target)],
    )
    .await?;
    let imeis = fleet_core::jimi::imeis_of(&list.1);
    methods.push(list.0);
    methods.push(
        probe(
            pool,
            v,
            run_id,
            "jimi.user.device.location.list",
            &[("target", target)],
        )
        .await?
        .0,
    );
    // A device that is reporting makes the per-device answers non-empty.
    let located = probe_imeis(&imeis);
    methods.push(
        probe(
            pool,
            v,
            run_id,
            "jimi.device.location.get",
            &[("imeis", &located)],
        )
        .await?
        .0,
    );
    if let Some(imei) = imeis.first() {
        methods.push(
            probe(
                pool,
                v,
                run_id,
                "jimi.track.device.detail",
                &[("imei", imei)],
            )
            .await?
            .0,
        );
        let mut best: Option<MethodResult> = None;
        // The first few devices, until one has a track (parked devices may have none).
        for imei in imeis.iter().take(5) {
            let r = probe_quiet(
                v,
                "jimi.device.track.list",
                &[("imei", imei), ("begin_time", &day), ("end_time", &end)],
            )
            .await;
            let has = r.0.report.records > 0 || r.0.outcome != "ok";
            best = Some(r.0);
            if has {
                break;
            }
        }
        if let Some(b) = best {
            store(pool, run_id, &b, None, 0).await?;
            methods.push(b);
        }
    }
    let page = [("page_size", "100")];
    let window = [("begin_time", week.as_str()), ("end_time", end.as_str())];
    let mut p: Vec<(&str, &str)> = vec![("imeis", &located)];
    p.extend(window);
    p.extend(page);
    p.push(("page_no", "1"));
    methods.push(
        probe(pool, v, run_id, "jimi.device.alarm.list", &p)
            .await?
            .0,
    );
    p.pop();
    p.push(("start_row", "0"));
    methods.push(
        probe(pool, v, run_id, "jimi.device.track.mileage", &p)
            .await?
            .0,
    );
    let parking = [
        ("account", target),
        ("imeis", located.as_str()),
        ("start_time", week.as_str()),
        ("end_time", end.as_str()),
        ("start_row", "0"),
        ("page_size", "100"),
        ("acc_type", "off"),
    ];
    methods.push(
        probe(
            pool,
            v,
            run_id,
            "jimi.open.platform.report.parking",
            &parking,
        )
        .await?
        .0,
    );

    let drifted: Vec<&MethodResult> = methods.iter().filter(|m| m.outcome == "drift").collect();
    let outcome = if !drifted.is_empty() {
        "drift"
    } else if methods.iter().any(|m| m.outcome == "error") {
        "error"
    } else {
        "clean"
    };
    let problems: usize = methods.iter().map(|m| m.report.problems.len()).sum();
    sqlx::query("UPDATE ops.contract_runs SET finished_at = clock_timestamp(), outcome = $2, methods_checked = $3, problems = $4 WHERE run_id = $1")
        .bind(run_id)
        .bind(outcome)
        .bind(methods.len() as i32)
        .bind(problems as i32)
        .execute(pool)
        .await?;
    for m in &methods {
        ::metrics::gauge!(metrics::CONTRACT_PROBLEMS, "method" => m.method.clone())
            .set(m.report.problems.len() as f64);
    }
    ::metrics::gauge!(metrics::CONTRACT_DRIFT).set(if drifted.is_empty() { 0.0 } else { 1.0 });
    let run = Run {
        run_id,
        target: target.to_string(),
        outcome,
        methods,
    };
    if outcome == "drift" {
        let summary: Vec<Value> = run
            .methods
            .iter()
            .filter(|m| m.outcome == "drift")
            .map(|m| json!({"method": m.method, "problems": m.report.problems, "new_fields": m.report.new_fields}))
            .collect();
        let drift = Value::Array(summary.clone()).to_string();
        tracing::error!(
            run_id,
            target,
            drift,
            "vendor contract drift: a response no longer matches the typed contract; see ops.contract_results"
        );
        if let Some(url) = webhook {
            alert(url, json!({"alert": "vendor_contract_drift", "run_id": run_id, "target": target, "methods": summary})).await;
        }
    } else {
        tracing::info!(run_id, target, outcome, "vendor contract check done");
    }
    Ok(run)
}

/// The IMEIs the per-device methods are asked about (a vendor batch at most).
fn probe_imeis(imeis: &[String]) -> String {
    imeis
        .iter()
        .take(IMEI_BATCH)
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

/// Calls `method`, checks and stores the result; returns it with the records.
async fn probe(
    pool: &PgPool,
    v: &Vendor,
    run_id: i64,
    method: &str,
    params: &[(&str, &str)],
) -> Result<(MethodResult, Vec<Value>), sqlx::Error> {
    let started = Instant::now();
    let (result, records) = probe_quiet(v, method, params).await;
    store(
        pool,
        run_id,
        &result,
        records.first(),
        started.elapsed().as_millis() as i32,
    )
    .await?;
    Ok((result, records))
}

async fn probe_quiet(
    v: &Vendor,
    method: &str,
    params: &[(&str, &str)],
) -> (MethodResult, Vec<Value>) {
    let fields = contract::contract(method).unwrap_or(&[]);
    match v
        .client
        .call(method, params, Some(&v.contract_target))
        .await
    {
        Ok(reply) => {
            let records: Vec<Value> = reply.records().into_iter().cloned().collect();
            let report = contract::check(fields, &records);
            let outcome = if report.drifted() { "drift" } else { "ok" };
            (
                MethodResult {
                    method: method.into(),
                    outcome,
                    report,
                    error: None,
                },
                records,
            )
        }
        Err(e) => {
            // An envelope the client cannot read is drift too; a vendor refusal is an error.
            let outcome = if matches!(e, ClientError::Envelope { .. }) {
                "drift"
            } else {
                "error"
            };
            (
                MethodResult {
                    method: method.into(),
                    outcome,
                    report: Report::default(),
                    error: Some(e.to_string()),
                },
                Vec::new(),
            )
        }
    }
}

async fn store(
    pool: &PgPool,
    run_id: i64,
    r: &MethodResult,
    sample: Option<&Value>,
    ms: i32,
) -> Result<(), sqlx::Error> {
    let mut problems = serde_json::to_value(&r.report.problems).unwrap_or(Value::Null);
    if let Some(e) = &r.error {
        problems = json!([{"issue": "call_failed", "message": e}]);
    }
    sqlx::query(
        "INSERT INTO ops.contract_results (run_id, method, outcome, records, problems, sample, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (run_id, method) DO UPDATE SET outcome = excluded.outcome, records = excluded.records,
             problems = excluded.problems, sample = excluded.sample, duration_ms = excluded.duration_ms",
    )
    .bind(run_id)
    .bind(&r.method)
    .bind(r.outcome)
    .bind(r.report.records as i32)
    .bind(problems)
    .bind(sample.map(|s| json!({"record": s, "new_fields": r.report.new_fields})))
    .bind(ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// POSTs an alert; failures are logged, never fatal (the SLO and the metric still show drift).
async fn alert(url: &str, body: Value) {
    let client = match fleet_core::http::client(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the alert client");
            return;
        }
    };
    match client.post(url).json(&body).send().await {
        Ok(r) if r.status().is_success() => tracing::info!(url, "drift alert sent"),
        Ok(r) => {
            tracing::warn!(url, status = %r.status(), "the alert webhook refused the drift alert")
        }
        Err(e) => tracing::warn!(url, error = %e, "could not send the drift alert"),
    }
}
