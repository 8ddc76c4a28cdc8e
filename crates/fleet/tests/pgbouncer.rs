//! The production connection shape (docs/operations.md, deploy/compose.yaml): the three roles as
//! separate processes, the worker and cron connected to Postgres directly, the gateway through a
//! real pgbouncer (Debian's package) in session mode. A push flows end to end, a login and a read
//! go through the pooler, and the gateway's health follows pgbouncer, not Postgres. A worker or
//! cron pointed at a transaction-pooling pgbouncer refuses to start, saying why.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fleet_testkit::TestDb;

mod common;
use common::{BIN, Proc, free_port};

/// (user, password, host, port, database) of a `postgres://` URL.
fn parts(url: &str) -> (String, String, String, String, String) {
    let rest = url.strip_prefix("postgres://").expect("a postgres:// URL");
    let (auth, at) = rest.split_once('@').expect("user@host");
    let (user, pass) = auth.split_once(':').expect("user:password");
    let (hostport, db) = at.split_once('/').expect("host/db");
    let (host, port) = hostport.split_once(':').expect("host:port");
    let db = db.split('?').next().unwrap_or(db);
    (
        user.into(),
        pass.into(),
        host.into(),
        port.into(),
        db.into(),
    )
}

/// pgbouncer on loopback in front of `url`'s database; stopped on drop.
struct Bouncer {
    child: Child,
    port: u16,
    _dir: tempfile_dir::Dir,
}

mod tempfile_dir {
    /// A temporary folder readable by the `postgres` user (pgbouncer refuses to run as root).
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("fleet-pgbouncer-{}", std::process::id()));
            std::fs::create_dir_all(&p).expect("dir");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            Self(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Bouncer {
    fn start(url: &str, mode: &str) -> Self {
        let bin = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("pgbouncer is not installed: `scripts/bootstrap test` (make test) installs Debian's package");
        let (user, pass, host, port, db) = parts(url);
        let dir = tempfile_dir::Dir::new();
        let bport = free_port();
        std::fs::write(dir.0.join("userlist.txt"), format!("\"{user}\" \"\"\n")).expect("userlist");
        let ini = dir.0.join("pgbouncer.ini");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n{db} = host={host} port={port} dbname={db} user={user} password={pass}\n\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {bport}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {}\npool_mode = {mode}\n\
                 ignore_startup_parameters = extra_float_digits,search_path\n",
                dir.0.join("userlist.txt").display()
            ),
        )
        .expect("ini");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", bin]);
            c
        } else {
            Command::new(bin)
        };
        let mut child = cmd
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", bport)).is_ok() {
                return Self {
                    child,
                    port: bport,
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("pgbouncer did not listen on 127.0.0.1:{bport}");
    }

    fn url(&self, url: &str) -> String {
        let (user, pass, _, _, db) = parts(url);
        format!("postgres://{user}:{pass}@127.0.0.1:{}/{db}", self.port)
    }

    fn stop(&mut self) {
        // runuser passes the signal on to pgbouncer
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn health(addr: &str, role: &str) -> u16 {
    match fleet_testkit::http()
        .get(format!("http://{addr}/health/{role}"))
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn until_health(addr: &str, role: &str, want: u16) {
    for _ in 0..200 {
        if health(addr, role).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{role} at {addr} never answered {want}");
}

#[tokio::test]
async fn three_roles_as_processes_with_the_gateway_through_pgbouncer() {
    let db = TestDb::empty().await;
    let mut bouncer = Bouncer::start(&db.url, "session");
    let pooled = bouncer.url(&db.url);
    let secret = "a-jwt-signing-key-of-at-least-32-characters";
    let mut worker = Proc::spawn(
        &["worker"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_WORKER_LISTEN", "127.0.0.1:0"),
        ],
    );
    let w = worker.listen_addr();
    until_health(&w, "worker", 200).await;
    let mut cron = Proc::spawn(
        &["cron"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_CRON_LISTEN", "127.0.0.1:0"),
        ],
    );
    let c = cron.listen_addr();
    let mut gateway = Proc::spawn(
        &["gateway"],
        &[
            ("DATABASE_URL", &pooled),
            ("FLEET_LISTEN", "127.0.0.1:0"),
            ("JIMI_PUSH_TOKEN", "pooled-push-token"),
            ("FLEET_JWT_SECRET", secret),
        ],
    );
    let g = gateway.listen_addr();
    until_health(&g, "gateway", 200).await;
    until_health(&c, "cron", 200).await;

    // A push through the gateway (its raw row committed through pgbouncer) reaches the state.
    let list = r#"[{"deviceImei":"862798050000888","gpsTime":"2026-11-23 08:30:00","lat":"-1.2921","lng":"36.8219","gpsSpeed":"41"}]"#;
    let res = fleet_testkit::http()
        .post(format!("http://{g}/push/jimi/pushgps"))
        .form(&[("token", "pooled-push-token"), ("data_list", list)])
        .send()
        .await
        .expect("push");
    assert_eq!(res.status().as_u16(), 200);
    let speed: Option<f32> = fleet_testkit::eventually(Duration::from_secs(15), || async {
        sqlx::query_scalar(
            "SELECT speed_kmh FROM state.live_positions WHERE imei = '862798050000888'",
        )
        .fetch_optional(&db.pool)
        .await
        .expect("live")
    })
    .await;
    assert_eq!(speed, Some(41.0));

    // A login and a read through the pooler (sqlx's prepared statements hold in session mode).
    let out = Command::new(BIN)
        .args([
            "users",
            "add",
            "reader",
            "--scopes",
            "read:fleet",
            "--password",
            "a-long-password-1",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("users add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let http = fleet_testkit::http();
    let token: serde_json::Value = http
        .post(format!("http://{g}/api/auth/token"))
        .json(&serde_json::json!({"username": "reader", "password": "a-long-password-1"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("JSON");
    let access = token["access_token"].as_str().expect("a token");
    for _ in 0..3 {
        let live: serde_json::Value = http
            .get(format!("http://{g}/api/views/live"))
            .bearer_auth(access)
            .send()
            .await
            .expect("live view")
            .json()
            .await
            .expect("JSON");
        assert!(live.to_string().contains("862798050000888"), "{live}");
    }

    // The gateway's database is pgbouncer: stopping it turns the gateway unhealthy while the
    // directly connected worker stays healthy.
    bouncer.stop();
    until_health(&g, "gateway", 503).await;
    assert_eq!(health(&w, "worker").await, 200);

    for p in [&mut gateway, &mut cron, &mut worker] {
        p.signal("TERM");
        assert_eq!(p.wait_exit(Duration::from_secs(30)), 0);
    }
}

#[tokio::test]
async fn worker_and_cron_refuse_a_transaction_pooler_at_start() {
    let db = TestDb::new().await;
    let bouncer = Bouncer::start(&db.url, "transaction");
    let pooled = bouncer.url(&db.url);
    for role in ["worker", "cron"] {
        let out = Command::new(BIN)
            .arg(role)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &pooled)
            .env("FLEET_WORKER_LISTEN", "127.0.0.1:0")
            .env("FLEET_CRON_LISTEN", "127.0.0.1:0")
            .env("FLEET_LOG", "warn")
            .output()
            .expect("run fleet");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{role} started through a transaction pooler"
        );
        // Whichever shows first (a prepared statement lost at connect, or the LISTEN probe), the
        // refusal says what is wrong and what to do.
        let lost =
            err.contains("does not keep its session") && err.contains("pool_mode = transaction");
        let probe = err.contains(&format!(
            "{role}: a LISTEN on DATABASE_URL did not hear its own NOTIFY"
        )) && err.contains("transaction-pooling pgbouncer");
        assert!(lost || probe, "{err}");
    }
    // Directly, the same roles start: the probe is not what refuses them.
    let mut worker = Proc::spawn(
        &["worker"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_WORKER_LISTEN", "127.0.0.1:0"),
        ],
    );
    let w = worker.listen_addr();
    until_health(&w, "worker", 200).await;
    worker.signal("TERM");
    assert_eq!(worker.wait_exit(Duration::from_secs(30)), 0);
}
