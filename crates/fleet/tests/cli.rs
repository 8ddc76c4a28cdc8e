//! The real `fleet` binary as a user runs it: roles as processes, health over HTTP, signals,
//! and the errors a wrong configuration gets.

use std::process::{Command, Stdio};
use std::time::Duration;

use fleet_testkit::TestDb;

mod common;
use common::{BIN, Proc};

/// Runs a one-shot command against `db_url`, feeding `stdin`; returns (success, stdout, stderr).
fn run_once(db_url: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = common::one_shot(db_url, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fleet");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
    }
    common::outcome(child.wait_with_output().expect("wait"))
}

async fn health(addr: &str, role: &str) -> (u16, serde_json::Value) {
    let res = fleet_testkit::http()
        .get(format!("http://{addr}/health/{role}"))
        .send()
        .await
        .expect("health request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON body"))
}

/// Polls until the role's health is 200 (roles need a moment for their first loop).
async fn wait_healthy(addr: &str, role: &str) -> serde_json::Value {
    for _ in 0..100 {
        let (status, body) = health(addr, role).await;
        if status == 200 {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{role} never became healthy at {addr}: {:?}",
        health(addr, role).await
    );
}

#[tokio::test]
async fn up_runs_all_roles_and_stops_cleanly_on_sigterm() {
    let db = TestDb::empty().await;
    let mut p = Proc::spawn(
        &["up"],
        &[("DATABASE_URL", &db.url), ("FLEET_LISTEN", "127.0.0.1:0")],
    );
    let addr = p.listen_addr();
    for role in ["gateway", "worker", "cron"] {
        let body = wait_healthy(&addr, role).await;
        assert_eq!(body["database"]["ok"], true, "{body}");
        // What is deployed: the commit this binary was built from.
        assert_eq!(body["build"]["git_sha"], env!("FLEET_GIT_SHA"), "{body}");
        // The container HEALTHCHECK: exit 0 on a healthy role, no curl needed.
        let ok = Command::new(BIN)
            .args(["healthcheck", role, "--addr", &addr])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .expect("run fleet healthcheck");
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
    let down = Command::new(BIN)
        .args(["healthcheck", "worker", "--addr", "127.0.0.1:1"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run fleet healthcheck");
    assert!(!down.status.success());
    assert!(
        String::from_utf8_lossy(&down.stderr)
            .contains("worker is not answering at http://127.0.0.1:1/health/worker"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let metrics = fleet_testkit::http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(&format!(
            "fleet_build_info{{version=\"{}\",git_sha=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            env!("FLEET_GIT_SHA")
        )),
        "{metrics}"
    );
    // The local mode migrated the empty database and ran the daily partition job.
    let version: i32 = sqlx::query_scalar("SELECT max(version) FROM ops.schema_migrations")
        .fetch_one(&db.pool)
        .await
        .expect("ledger");
    assert_eq!(version, fleet_store::migrate::latest_version());
    let job: Option<String> = fleet_testkit::eventually(Duration::from_secs(10), || async {
        sqlx::query_scalar("SELECT outcome FROM ops.job_runs WHERE job = 'partition_maintenance' AND outcome <> 'running'")
            .fetch_optional(&db.pool)
            .await
            .expect("job runs")
    })
    .await;
    assert_eq!(job.as_deref(), Some("ok"));
    // The local mode made an admin and printed its password once; with it, a token; with the
    // token, the SLO status (every SLO and threshold from slo.targets).
    let login = p.wait_for("login:", Duration::from_secs(5));
    let password = login
        .split("admin / ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the admin password in the banner");
    let http = fleet_testkit::http();
    assert_eq!(
        http.get(format!("http://{addr}/api/slo"))
            .send()
            .await
            .expect("GET")
            .status(),
        401,
        "the API needs a token"
    );
    let token: serde_json::Value = http
        .post(format!("http://{addr}/api/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("POST /api/auth/token")
        .json()
        .await
        .expect("JSON");
    let bearer = format!(
        "Bearer {}",
        token["access_token"].as_str().expect("a token")
    );
    let slo: serde_json::Value = http
        .get(format!("http://{addr}/api/slo"))
        .header("authorization", bearer)
        .send()
        .await
        .expect("GET /api/slo")
        .json()
        .await
        .expect("JSON");
    let targets: i64 = sqlx::query_scalar("SELECT count(*) FROM slo.targets WHERE kind = 'slo'")
        .fetch_one(&db.pool)
        .await
        .expect("targets");
    assert_eq!(
        slo["slos"].as_array().map(Vec::len),
        Some(targets as usize),
        "{slo}"
    );
    assert!(
        slo["thresholds"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x["metric"] == "stale_gps_sec"))
    );

    p.signal("TERM");
    assert_eq!(
        p.wait_exit(Duration::from_secs(20)),
        0,
        "graceful shutdown exits 0"
    );
    assert!(
        fleet_testkit::http()
            .get(format!("http://{addr}/health/gateway"))
            .send()
            .await
            .is_err(),
        "the listener is closed after shutdown"
    );
}

#[tokio::test]
async fn separate_role_processes_wait_for_the_workers_migrations() {
    let db = TestDb::empty().await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FLEET_LISTEN", "127.0.0.1:0"),
        ("FLEET_CRON_LISTEN", "127.0.0.1:0"),
        ("FLEET_WORKER_LISTEN", "127.0.0.1:0"),
        ("FLEET_JWT_SECRET", "a-test-signing-key-of-32-characters+"),
    ];
    let mut gateway = Proc::spawn(&["gateway"], &env);
    let mut cron = Proc::spawn(&["cron"], &env);
    gateway.wait_for("waiting for migrations", Duration::from_secs(30));
    cron.wait_for("waiting for migrations", Duration::from_secs(30));

    let mut worker = Proc::spawn(&["worker"], &env);
    let (w, g, c) = (
        worker.listen_addr(),
        gateway.listen_addr(),
        cron.listen_addr(),
    );
    wait_healthy(&w, "worker").await;
    wait_healthy(&g, "gateway").await;
    let cron_body = wait_healthy(&c, "cron").await;
    assert_eq!(cron_body["role"], "cron");
    // Each standalone process serves only its own role.
    assert_eq!(health(&w, "gateway").await.0, 404);

    for p in [&mut gateway, &mut cron, &mut worker] {
        p.signal("INT");
        assert_eq!(p.wait_exit(Duration::from_secs(20)), 0);
    }
}

#[tokio::test]
async fn two_cron_processes_never_run_the_same_job_slot_twice() {
    let db = TestDb::new().await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("FLEET_CRON_LISTEN", "127.0.0.1:0"),
    ];
    let mut crons = [Proc::spawn(&["cron"], &env), Proc::spawn(&["cron"], &env)];
    let addrs: Vec<String> = crons.iter_mut().map(|p| p.listen_addr()).collect();
    for a in &addrs {
        wait_healthy(a, "cron").await;
    }
    // Both processes are up and claiming; wait for the current slots to be done.
    let done: Option<i64> = fleet_testkit::eventually(Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM ops.job_runs WHERE job IN ('partition_maintenance', 'slo_measurement') AND outcome = 'ok'",
        )
        .fetch_one(&db.pool)
        .await
        .ok()
        .filter(|n| *n >= 2)
    })
    .await;
    assert!(done.is_some(), "the jobs ran");
    // Let both schedulers tick a few more times over the same slots.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let daily: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.job_runs WHERE job = 'partition_maintenance'")
            .fetch_one(&db.pool)
            .await
            .expect("runs");
    assert_eq!(daily, 1, "one run of the daily job between two processes");
    // The effect, not just the ledger: one set of SLO measurements per minute slot.
    let per_minute: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM slo.measurements GROUP BY date_trunc('minute', measured_at)",
    )
    .fetch_all(&db.pool)
    .await
    .expect("measurements");
    let slos: i64 = sqlx::query_scalar("SELECT count(*) FROM slo.targets WHERE kind = 'slo'")
        .fetch_one(&db.pool)
        .await
        .expect("slos");
    assert!(!per_minute.is_empty());
    assert!(per_minute.iter().all(|n| *n == slos), "{per_minute:?}");
    for p in &mut crons {
        p.signal("TERM");
        assert_eq!(p.wait_exit(Duration::from_secs(20)), 0);
    }
}

#[tokio::test]
async fn gateway_gives_up_with_a_clear_error_when_nobody_migrates() {
    let db = TestDb::empty().await;
    let mut p = Proc::spawn(
        &["gateway"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_MIGRATION_WAIT_SECS", "1"),
        ],
    );
    assert_ne!(p.wait_exit(Duration::from_secs(30)), 0);
    p.wait_for("fleet migrate", Duration::from_secs(5));
}

#[test]
fn invalid_configuration_fails_fast_naming_the_variable() {
    for (var, value) in [
        ("FLEET_LISTEN", "not-an-address"),
        ("FLEET_DB_MAX_CONNECTIONS", "lots"),
        ("DATABASE_URL", "http://db"),
    ] {
        let out = Command::new(BIN)
            .arg("migrate")
            .env(var, value)
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run fleet");
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(var) && err.contains(".env.example"),
            "{var}: {err}"
        );
    }
}

#[test]
fn db_commands_refuse_when_database_url_points_elsewhere() {
    let out = Command::new(BIN)
        .args(["db", "psql-url"])
        .env("DATABASE_URL", "postgres://u:p@db.example:5432/fleet")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run fleet");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unset DATABASE_URL"));
}

#[test]
fn a_misspelt_variable_is_warned_about_with_the_name_it_resembles() {
    let out = Command::new(BIN)
        .args(["db", "psql-url"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", "postgres://u:p@db.example:5432/fleet")
        .env("FLEET_LISTN", "127.0.0.1:9999")
        .env("FLEET_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run fleet");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FLEET_LISTN is set but fleet does not read it (did you mean FLEET_LISTEN?)"),
        "{err}"
    );
}

#[test]
fn help_explains_every_subcommand() {
    let out = Command::new(BIN).arg("--help").output().expect("run fleet");
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "up",
        "gateway",
        "worker",
        "cron",
        "migrate",
        "db",
        "healthcheck",
        "version",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(sub)),
            "--help lacks {sub}:\n{text}"
        );
    }
    let out = Command::new(BIN)
        .args(["db", "--help"])
        .output()
        .expect("run fleet");
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["start", "stop", "status", "psql-url"] {
        assert!(text.contains(sub), "db --help lacks {sub}:\n{text}");
    }
    let out = Command::new(BIN)
        .arg("version")
        .output()
        .expect("run fleet");
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(version.starts_with("fleet "), "{version}");
    assert!(
        version.contains(&format!(
            "git {}",
            &env!("FLEET_GIT_SHA")[..12.min(env!("FLEET_GIT_SHA").len())]
        )),
        "{version}"
    );
}

#[tokio::test]
async fn up_accepts_a_vendor_push_and_projects_it() {
    let db = TestDb::empty().await;
    let mut p = Proc::spawn(
        &["up"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_LISTEN", "127.0.0.1:0"),
            ("JIMI_PUSH_TOKEN", "local-push-token"),
        ],
    );
    let addr = p.listen_addr();
    wait_healthy(&addr, "worker").await;
    let list = r#"[{"deviceImei":"862798050000777","gpsTime":"2026-11-23 08:30:00","lat":"-1.2921","lng":"36.8219","gpsSpeed":"35"}]"#;
    let res = fleet_testkit::http()
        .post(format!("http://{addr}/push/jimi/pushgps"))
        .form(&[("token", "local-push-token"), ("data_list", list)])
        .send()
        .await
        .expect("push");
    assert_eq!(res.status().as_u16(), 200);
    let speed: Option<f32> = fleet_testkit::eventually(Duration::from_secs(10), || async {
        sqlx::query_scalar(
            "SELECT speed_kmh FROM state.live_positions WHERE imei = '862798050000777'",
        )
        .fetch_optional(&db.pool)
        .await
        .expect("live")
    })
    .await;
    assert_eq!(speed, Some(35.0));
    p.signal("TERM");
    assert_eq!(p.wait_exit(Duration::from_secs(20)), 0);

    // Replay through the CLI rebuilds every table from the log and reports its rate.
    let out = Command::new(BIN)
        .args(["replay", "--rebuild", "all"])
        .env("DATABASE_URL", &db.url)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run fleet replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rebuilt state.live_positions from 1 events") && text.contains("events/s"),
        "{text}"
    );
    let after: Option<f32> = sqlx::query_scalar(
        "SELECT speed_kmh FROM state.live_positions WHERE imei = '862798050000777'",
    )
    .fetch_optional(&db.pool)
    .await
    .expect("live");
    assert_eq!(after, Some(35.0));
}

#[test]
fn replay_arguments_are_checked_before_anything_runs() {
    for (args, needle) in [
        (vec!["replay"], "--reparse"),
        (
            vec!["replay", "--rebuild", "state.nope"],
            "state.live_positions",
        ),
        (
            vec!["replay", "--reparse", "--from", "last tuesday"],
            "--from",
        ),
        (
            vec!["replay", "--rebuild", "all", "--from", "2026-11-01"],
            "go with --reparse",
        ),
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .env("DATABASE_URL", "postgres://u:p@127.0.0.1:1/none")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run fleet");
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn up_runs_a_simulated_fleet_that_moves_on_real_roads() {
    let db = TestDb::empty().await;
    let mut p = Proc::spawn(
        &["up"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_LISTEN", "127.0.0.1:0"),
            ("FLEET_SIM_VEHICLES", "12"),
            ("FLEET_SIM_SPEED", "20"),
        ],
    );
    p.listen_addr();
    // At 20x, a few real seconds are minutes of fleet life: vehicles appear, then move.
    let moving: Option<i64> = fleet_testkit::eventually(Duration::from_secs(40), || async {
        let (live, moved): (i64, i64) = sqlx::query_as(
            "SELECT count(DISTINCT l.imei), count(DISTINCT h.imei) FILTER (WHERE h.speed_kmh > 10)
               FROM state.live_positions l LEFT JOIN state.position_history h USING (imei)",
        )
        .fetch_one(&db.pool)
        .await
        .ok()?;
        (live >= 10 && moved >= 3).then_some(moved)
    })
    .await;
    assert!(
        moving.is_some(),
        "the simulated fleet did not show up moving"
    );
    // Every fix is in Monaco (the shipped OSM extract); expired trackers' 0,0 never reaches state.
    let outside: i64 = sqlx::query_scalar("SELECT count(*) FROM state.position_history WHERE NOT (lat BETWEEN 43.6 AND 43.8 AND lng BETWEEN 7.3 AND 7.5)")
        .fetch_one(&db.pool)
        .await
        .expect("q");
    assert_eq!(outside, 0);
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events.raw WHERE parse_error IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert_eq!(failed, 0, "every simulated push parses");
    p.signal("TERM");
    assert_eq!(p.wait_exit(Duration::from_secs(20)), 0);
}

#[test]
fn the_simulator_drops_pushes_a_dead_gateway_never_takes_like_the_hub() {
    // Nothing listens on port 1: every push fails, is retried 3 times, then dropped.
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "--gateway",
            "http://127.0.0.1:1",
            "--token",
            "whatever-token",
            "--vehicles",
            "3",
            "--speed",
            "1000",
        ])
        .env("FLEET_LOG_FORMAT", "json")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run fleet simulate");
    std::thread::sleep(Duration::from_secs(3));
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut out).expect("read");
    assert!(child.wait().expect("wait").success(), "{out}");
    let dropped: u64 = out
        .split(", ")
        .find_map(|part| {
            part.strip_suffix(" dropped")
                .or_else(|| part.trim().strip_suffix(" dropped"))
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(out.contains(" 0 pushes") && dropped > 0, "{out}");
}

#[tokio::test]
async fn import_devices_is_a_dry_run_until_applied() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("fleet-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("registry.csv");
    std::fs::write(
        &file,
        "imei,plate,driver\n862798050000001,KCA 542Q,John Otieno\n12,KCA 1,\n",
    )
    .expect("write");
    let run = |args: &[&str]| run_once(&db.url, args, None);
    let path = file.to_string_lossy().to_string();
    let (ok, out, err) = run(&["import", "devices", &path, "--account", "fireside"]);
    assert!(ok, "{err}");
    assert!(out.contains("dry run"), "{out}");
    assert!(out.contains("new device in fireside"), "{out}");
    assert!(out.contains("line 3") && out.contains("6-20"), "{out}");
    let devices: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.devices")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(devices, 0, "a dry run writes nothing");
    // A missing account is explained, not guessed.
    let (ok, out, _) = run(&["import", "devices", &path]);
    assert!(ok);
    assert!(out.contains("--account"), "{out}");
    // Applied with a worker running: the registry has the device and its vehicle.
    let mut worker = Proc::spawn(
        &["worker"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_WORKER_LISTEN", "127.0.0.1:0"),
        ],
    );
    worker.listen_addr();
    let (ok, out, err) = run(&[
        "import",
        "devices",
        &path,
        "--account",
        "fireside",
        "--apply",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("applied: event log row"), "{out}");
    let fitted: String = sqlx::query_scalar(
        "SELECT v.vehicle_number FROM domain.device_assignments a JOIN domain.vehicles v USING (vehicle_id) WHERE a.imei = '862798050000001'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("fitted");
    assert_eq!(fitted, "KCA 542Q");
    // A file that cannot be a registry fails, saying why.
    std::fs::write(&file, "plate,driver\nKCA 1,Jo\n").expect("write");
    let (ok, _, err) = run(&["import", "devices", &path]);
    assert!(!ok);
    assert!(err.contains("no IMEI column"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn accounts_are_managed_from_the_cli_and_the_gateway_needs_a_signing_key() {
    let db = TestDb::new().await;
    let run = |args: &[&str], stdin: Option<&str>| run_once(&db.url, args, stdin);
    let (ok, out, err) = run(
        &["users", "add", "dispatch", "--scopes", "read:fleet"],
        None,
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("password: "),
        "a generated password is shown once: {out}"
    );
    let (ok, _, err) = run(
        &[
            "users",
            "add",
            "ops",
            "--scopes",
            "read:fleet,write:ops",
            "--password",
            "-",
        ],
        Some("a-long-enough-password\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &[
            "users",
            "add",
            "ops",
            "--scopes",
            "read:fleet",
            "--password",
            "another-long-one",
        ],
        None,
    );
    assert!(!ok && err.contains("exists already"), "{err}");
    let (ok, _, err) = run(&["users", "add", "x", "--scopes", "root"], None);
    assert!(
        !ok && err.contains("read:fleet, write:ops, admin:fleet"),
        "{err}"
    );
    let (ok, _, err) = run(
        &[
            "users",
            "add",
            "y",
            "--scopes",
            "read:fleet",
            "--password",
            "short",
        ],
        None,
    );
    assert!(!ok && err.contains("12 characters"), "{err}");
    assert!(
        run(
            &["users", "set-scopes", "dispatch", "read:fleet,write:ops"],
            None
        )
        .0
    );
    assert!(run(&["users", "disable", "ops"], None).0);
    let (ok, _, err) = run(&["users", "disable", "ghost"], None);
    assert!(!ok && err.contains("no account named"), "{err}");
    let (_, out, _) = run(&["users", "list"], None);
    let dispatch = out
        .lines()
        .find(|l| l.starts_with("dispatch"))
        .expect("listed");
    assert!(
        dispatch.contains("read:fleet,write:ops") && dispatch.contains("active"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ops") && l.contains("disabled")),
        "{out}"
    );
    let writes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth.audit_log WHERE action LIKE 'account.%' AND actor LIKE 'cli:%'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("audit");
    assert_eq!(writes, 4, "every account change is audited");

    // A gateway with no signing key refuses to start, saying what to set.
    let mut p = Proc::spawn(
        &["gateway"],
        &[("DATABASE_URL", &db.url), ("FLEET_LISTEN", "127.0.0.1:0")],
    );
    assert_ne!(p.wait_exit(Duration::from_secs(30)), 0);
    p.wait_for("FLEET_JWT_SECRET", Duration::from_secs(5));
}

/// A one-shot `fleet` command on the managed cluster under `home`: (success, stdout, stderr).
fn on_home(home: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    common::outcome(
        Command::new(BIN)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FLEET_HOME", home)
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run fleet"),
    )
}

#[tokio::test]
async fn up_owns_its_home_keeps_its_postgres_running_and_survives_a_disabled_admin() {
    let home = std::env::temp_dir().join(format!(
        "fleet-up-home-{}-{}",
        std::process::id(),
        fleet_store::cluster::random_hex(3).expect("random")
    ));
    let home_s = home.display().to_string();
    let env = [
        ("FLEET_HOME", home_s.as_str()),
        ("FLEET_LISTEN", "127.0.0.1:0"),
    ];
    let mut first = Proc::spawn(&["up"], &env);
    let addr = first.listen_addr();
    wait_healthy(&addr, "worker").await;
    // a second `fleet up` on the same home is refused, and the first goes on
    let mut second = Proc::spawn(&["up"], &env);
    assert_ne!(second.wait_exit(Duration::from_secs(30)), 0);
    second.wait_for("another `fleet up`", Duration::from_secs(1));
    assert_eq!(health(&addr, "gateway").await.0, 200);
    // Postgres killed under it: started again, and the roles carry on
    let pid = std::fs::read_to_string(home.join("pg/data/postmaster.pid")).expect("postmaster.pid");
    let pid = pid.lines().next().expect("pid").trim().to_string();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("kill")
            .success()
    );
    first.wait_for("starting it again", Duration::from_secs(30));
    first.wait_for("is running again", Duration::from_secs(60));
    let mut ok = false;
    for _ in 0..100 {
        let (status, body) = health(&addr, "worker").await;
        if status == 200 && body["database"]["ok"] == true {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(ok, "the worker is healthy on the restarted database");
    first.signal("TERM");
    assert_eq!(first.wait_exit(Duration::from_secs(30)), 0);
    let (_, status, _) = on_home(&home, &["db", "status"]);
    assert!(status.starts_with("stopped"), "{status}");

    // an operator disables `admin`
    let (done, out, err) = on_home(&home, &["users", "disable", "admin"]);
    assert!(done, "{out}\n{err}");
    assert!(on_home(&home, &["db", "stop"]).0);
    // a `fleet up` that fails at start (its address is taken) stops the cluster it started
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_addr = taken.local_addr().expect("addr").to_string();
    let mut failing = Proc::spawn(
        &["up"],
        &[
            ("FLEET_HOME", home_s.as_str()),
            ("FLEET_LISTEN", taken_addr.as_str()),
        ],
    );
    assert_ne!(failing.wait_exit(Duration::from_secs(60)), 0);
    let (_, status, _) = on_home(&home, &["db", "status"]);
    assert!(status.starts_with("stopped"), "{status}");
    drop(taken);
    // and with `admin` disabled, `fleet up` starts with a new admin beside it
    let mut again = Proc::spawn(&["up"], &env);
    let login = again.wait_for("login:", Duration::from_secs(60));
    assert!(login.contains("admin-2 / "), "{login}");
    again.signal("TERM");
    assert_eq!(again.wait_exit(Duration::from_secs(30)), 0);
    let _ = on_home(&home, &["db", "stop"]);
    let _ = std::fs::remove_dir_all(&home);
}

/// Retention is previewed by `--dry-run` (nothing dropped), changed by `set`, and applied by
/// `fleet retention` as the partition job applies it.
#[tokio::test]
async fn retention_is_previewed_changed_and_applied() {
    let db = TestDb::new().await;
    let run = |args: &[&str]| run_once(&db.url, args, None);
    // a heartbeats partition of 200 days ago: past its default 180 days
    let old: String = sqlx::query_scalar(
        "SELECT ops.partition_name('state.heartbeats', 'day', date_trunc('day', now() - interval '200 days', 'UTC'))",
    )
    .fetch_one(&db.pool)
    .await
    .expect("name");
    sqlx::query("SELECT ops.ensure_partition('state.heartbeats', 'day', date_trunc('day', now() - interval '200 days', 'UTC'))")
        .execute(&db.pool)
        .await
        .expect("old partition");
    let exists = |pool: sqlx::PgPool, name: String| async move {
        sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_one(&pool)
            .await
            .expect("exists")
    };
    let (ok, out, err) = run(&["retention", "--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("state.heartbeats") && out.contains("180 days"),
        "{out}"
    );
    assert!(
        out.contains("would be dropped") && out.contains(old.as_str()),
        "{out}"
    );
    assert!(
        exists(db.pool.clone(), old.clone()).await,
        "a dry run drops nothing"
    );
    // a longer retention keeps it
    let (ok, out, err) = run(&["retention", "set", "state.heartbeats", "300d"]);
    assert!(ok, "{err}");
    assert!(out.contains("300 days"), "{out}");
    let (_, out, _) = run(&["retention", "--dry-run"]);
    assert!(out.contains("nothing would be dropped"), "{out}");
    // wrong arguments say what is wrong
    let (ok, _, err) = run(&["retention", "set", "state.nosuch", "30d"]);
    assert!(
        !ok && err.contains("retention applies to") && err.contains("events.raw"),
        "{err}"
    );
    let (ok, _, err) = run(&["retention", "set", "state.heartbeats", "30"]);
    assert!(!ok && err.contains("no unit"), "{err}");
    // back to 90 days, applied now
    assert!(run(&["retention", "set", "state.heartbeats", "90d"]).0);
    let (ok, out, err) = run(&["retention"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("dropped") && out.contains(old.as_str()),
        "{out}"
    );
    assert!(!exists(db.pool.clone(), old).await, "dropped");
    let keep: Option<String> = sqlx::query_scalar(
        "SELECT retention::text FROM ops.partitioned_tables WHERE parent = 'state.heartbeats'::regclass",
    )
    .fetch_one(&db.pool)
    .await
    .expect("row");
    assert_eq!(keep.as_deref(), Some("90 days"));
}
