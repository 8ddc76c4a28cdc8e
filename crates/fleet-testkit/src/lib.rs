//! Integration-test harness: real Postgres, one throwaway cluster per test run, one database per test.
//!
//! - `make test` (via `scripts/test`) starts one throwaway cluster with `fleet db start` under a
//!   temporary `FLEET_HOME`, exports its admin URL as `FLEET_TEST_DATABASE_URL`, and removes it on
//!   exit whatever the outcome (a shell `trap`). Every test binary then shares that one server.
//! - When the variable is unset (a bare `cargo test`), the first test of a binary starts a
//!   private cluster in a temporary folder, with a watchdog process that stops and deletes it when
//!   the test process exits, even on a panic or abort.
//! - The schema is migrated once into a template database named after the migration set's
//!   fingerprint; each test gets `CREATE DATABASE … TEMPLATE` (a fast file copy) and the database
//!   is dropped when the [`TestDb`] is dropped, including during a panic.

pub mod s3;
pub mod standby;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use fleet_store::cluster::{LocalCluster, PgInstall};
use sqlx::{Connection, PgConnection, PgPool};

/// The server every test of this process uses: its admin URL (database `postgres`).
fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("FLEET_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => start_private_cluster(),
    })
}

fn start_private_cluster() -> String {
    // A thread with its own runtime: this may be called from inside a test's runtime.
    std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let base = std::env::temp_dir().join(format!("fleet-test-{}", std::process::id()));
            std::fs::create_dir_all(&base).expect("temp dir");
            make_traversable(&base);
            let install = PgInstall::discover(None)
                .expect("Postgres with PostGIS and pgRouting (run scripts/bootstrap)");
            let cluster = LocalCluster::new(install, &base).expect("cluster");
            cluster
                .start()
                .await
                .expect("start the throwaway test cluster");
            spawn_watchdog(&cluster, &base);
            cluster.url("postgres").expect("url")
        })
    })
    .join()
    .expect("cluster start thread")
}

/// As root, the cluster runs as `postgres`, which must be able to enter the temp folder.
fn make_traversable(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
}

/// Stops and deletes the private cluster once this test process is gone.
// The watchdog must outlive this process, so it is deliberately never waited for.
#[allow(clippy::zombie_processes)]
fn spawn_watchdog(cluster: &LocalCluster, base: &std::path::Path) {
    let stop = cluster
        .stop_command()
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = shell_quote(&base.display().to_string()),
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the test-cluster watchdog");
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let (base, _) = admin.rsplit_once('/').expect("admin URL has a database");
    format!("{base}/{db}")
}

const TEMPLATE_LOCK: i64 = 0x666c_6565_745f_7470;

/// Creates (once per server and migration set) the migrated template database.
async fn ensure_template(admin: &mut PgConnection) -> String {
    let name = format!("fleet_tpl_{}", fleet_store::migrate::fingerprint());
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .expect("lock");
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)",
    )
    .bind(&name)
    .fetch_one(&mut *admin)
    .await
    .expect("template lookup");
    if !exists {
        let building = format!("{name}_building");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {building} WITH (FORCE)"
        )))
        .execute(&mut *admin)
        .await
        .expect("drop stale");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .execute(&mut *admin)
            .await
            .expect("create template");
        {
            let pool = fleet_store::connect(&url_for(&building), 2)
                .await
                .expect("connect template");
            fleet_store::migrate::run(&pool)
                .await
                .expect("migrate template");
            pool.close().await;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {building} RENAME TO {name}"
        )))
        .execute(&mut *admin)
        .await
        .expect("rename");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE {name} WITH IS_TEMPLATE true"
        )))
        .execute(&mut *admin)
        .await
        .expect("mark template");
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut *admin)
        .await
        .expect("unlock");
    name
}

/// A migrated database of its own for one test; dropped with the value.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    pub name: String,
}

impl TestDb {
    /// A fresh database with the whole schema applied.
    pub async fn new() -> Self {
        Self::create(true).await
    }

    /// A fresh empty database (for tests of the migration runner itself).
    pub async fn empty() -> Self {
        Self::create(false).await
    }

    async fn create(migrated: bool) -> Self {
        let mut admin = PgConnection::connect(admin_url())
            .await
            .expect("connect to the test server");
        let name = format!(
            "fleet_test_{}",
            fleet_store::cluster::random_hex(8).expect("random")
        );
        let sql = if migrated {
            let template = ensure_template(&mut admin).await;
            format!("CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        } else {
            format!("CREATE DATABASE {name}")
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = url_for(&name);
        let pool = fleet_store::connect(&url, 10)
            .await
            .expect("connect to the test database");
        Self { pool, url, name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run during unwinding, inside or outside a runtime: use a thread of its own.
        // FORCE ends this test's own pool connections server-side.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The admin URL of the shared test server (database `postgres`).
pub fn server_admin_url() -> String {
    admin_url().to_string()
}

/// Polls `f` until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An HTTP client for tests (loopback calls to the gateway, the simulator, pages).
pub fn http() -> reqwest::Client {
    fleet_core::http::client(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Stores one vendor `pushgps` with `fixes` (the `data_list` array) in `events.raw` as the
/// gateway would after checking its token, for tests that start at the event log.
pub async fn store_pushgps(pool: &PgPool, fixes: &serde_json::Value) {
    let body = serde_urlencoded::to_string([("token", "t"), ("data_list", &fixes.to_string())])
        .expect("form");
    sqlx::query(
        "INSERT INTO events.raw (source, kind, body, verified, verification)
         VALUES ('jimi_push', 'pushgps', $1, true, 'token')",
    )
    .bind(body.into_bytes())
    .execute(pool)
    .await
    .expect("store a raw pushgps");
}
