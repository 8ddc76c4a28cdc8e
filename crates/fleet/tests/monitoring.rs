//! The monitoring files hold: Prometheus's configuration and alert rules pass `promtool check`,
//! the alerts fire as `alerts.test.yml` says (`promtool test rules`), every SLO of `slo.targets`
//! has its alert, and the `/metrics` a running platform serves passes `promtool check metrics`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_testkit::TestDb;

mod common;
use common::Proc;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/prometheus")
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let bin = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("promtool is not installed: `scripts/bootstrap test` (make test) installs Debian's prometheus package");
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().expect("promtool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_prometheus_configuration_and_alert_rules_check_and_fire_as_tested() {
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["check", "rules", "alerts.yml"],
        &["test", "rules", "alerts.test.yml"],
    ] {
        let (ok, out) = promtool(args, None);
        assert!(ok, "promtool {}: {out}", args.join(" "));
    }
}

#[tokio::test]
async fn every_slo_has_an_alert_and_the_metrics_pass_promtool() {
    let db = TestDb::new().await;
    let slos: Vec<String> =
        sqlx::query_scalar("SELECT metric FROM slo.targets WHERE kind = 'slo' ORDER BY metric")
            .fetch_all(&db.pool)
            .await
            .expect("slo.targets");
    assert!(!slos.is_empty());
    let rules = std::fs::read_to_string(dir().join("alerts.yml")).expect("alerts.yml");
    for slo in &slos {
        assert!(
            rules.contains(&format!("fleet_slo_met{{metric=\"{slo}\"}} == 0")),
            "SLO {slo} has no alert in deploy/prometheus/alerts.yml"
        );
    }

    let mut up = Proc::spawn(
        &["up"],
        &[("DATABASE_URL", &db.url), ("FLEET_LISTEN", "127.0.0.1:0")],
    );
    let addr = up.listen_addr();
    // The cron role measures the SLOs at start; wait until they are in /metrics.
    let metrics = fleet_testkit::eventually(Duration::from_secs(30), || async {
        let text = fleet_testkit::http()
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("fleet_slo_met{").then_some(text)
    })
    .await
    .expect("SLO metrics in /metrics");
    for slo in &slos {
        assert!(
            metrics.contains(&format!("fleet_slo_met{{metric=\"{slo}\"}}")),
            "{slo} is not exported"
        );
    }
    let (ok, out) = promtool(&["check", "metrics"], Some(&metrics));
    assert!(ok, "promtool check metrics: {out}\n{metrics}");
    up.signal("TERM");
    assert_eq!(up.wait_exit(Duration::from_secs(30)), 0);
}

#[test]
fn the_dashboard_queries_are_valid_promql_over_metrics_we_export() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/grafana/dashboards/fleet.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard")).expect("JSON");
    let exprs: Vec<String> = dash["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("expr").to_string())
        .collect();
    assert!(exprs.len() >= 10, "{} queries", exprs.len());
    // promtool checks PromQL as recording rules: one rule per query.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        rules.push_str(&format!(
            "      - record: fleet_dashboard:q{i}\n        expr: {}\n",
            serde_json::to_string(e).expect("quoted")
        ));
    }
    let file =
        std::env::temp_dir().join(format!("fleet-dashboard-rules-{}.yml", std::process::id()));
    std::fs::write(&file, rules).expect("rules");
    let (ok, out) = promtool(&["check", "rules", file.to_str().expect("path")], None);
    let _ = std::fs::remove_file(&file);
    assert!(ok, "dashboard queries: {out}");
    for e in &exprs {
        for (i, _) in e.match_indices("fleet_") {
            let name: String = e[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            assert!(
                fleet_core::metrics::ALL.iter().any(|(n, _, _)| *n == base),
                "the dashboard reads {name}, which fleet does not export"
            );
        }
    }
}
