//! A real hot standby of the shared test server, for read-replica tests: `pg_basebackup -R`
//! (streaming replication from the test server, which allows replication from loopback), then a
//! second postmaster on a free port. Stopped and deleted when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fleet_store::cluster::{PgInstall, running_as_root};

pub struct Standby {
    dir: PathBuf,
    pg_ctl: PathBuf,
    port: u16,
    /// The test server's admin URL with the standby's port.
    admin_url: String,
    running: bool,
}

fn command(prog: &std::path::Path) -> Command {
    fleet_store::cluster::server_user_command(prog, running_as_root())
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Standby {
    /// Clones the test server and starts the clone as a streaming standby; returns once it
    /// accepts connections.
    pub async fn start() -> Self {
        let admin = crate::server_admin_url();
        let url = reqwest::Url::parse(&admin).expect("admin URL");
        let (host, primary_port) = (
            url.host_str().expect("host").to_string(),
            url.port().unwrap_or(5432),
        );
        let user = url.username().to_string();
        let password = url.password().unwrap_or_default().to_string();
        let install = PgInstall::discover(None).expect("Postgres server binaries");
        let dir = std::env::temp_dir().join(format!(
            "fleet-standby-{}-{}",
            std::process::id(),
            fleet_store::cluster::random_hex(4).expect("random")
        ));
        std::fs::create_dir_all(&dir).expect("standby folder");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        if running_as_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:").arg(&dir);
                    c
                },
                "chown the standby folder",
            );
        }
        let mut backup = command(&install.bin("pg_basebackup"));
        backup
            .env("PGPASSWORD", &password)
            .args(["-h", &host, "-p", &primary_port.to_string(), "-U", &user])
            .arg("-D")
            .arg(&dir)
            .args(["-R", "-X", "stream", "-c", "fast"]);
        // runuser keeps the environment, so PGPASSWORD reaches pg_basebackup
        run(backup, "pg_basebackup of the test server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // later settings win: the clone's own port and socket folder, no archiving, and the
        // primary's limits (a standby refuses to run with lower ones; the test server may set
        // them on its command line, which the clone does not inherit)
        let mut conf = format!(
            "\n# standby of the test server\nport = {port}\nunix_socket_directories = '{}'\nhot_standby = on\narchive_mode = off\n",
            dir.display()
        );
        {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("connect");
            for name in [
                "max_connections",
                "max_worker_processes",
                "max_wal_senders",
                "max_prepared_transactions",
                "max_locks_per_transaction",
            ] {
                let v: String = sqlx::query_scalar("SELECT current_setting($1)")
                    .bind(name)
                    .fetch_one(&mut c)
                    .await
                    .expect("setting");
                conf.push_str(&format!("{name} = {v}\n"));
            }
            let _ = c.close().await;
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("postgresql.conf"))
            .expect("postgresql.conf");
        std::io::Write::write_all(&mut f, conf.as_bytes()).expect("write conf");
        let pg_ctl = install.bin("pg_ctl");
        let mut start = command(&pg_ctl);
        start
            .arg("-D")
            .arg(&dir)
            .arg("-l")
            .arg(dir.join("standby.log"))
            .args(["-w", "-t", "60", "start"]);
        let out = start.output().expect("pg_ctl start");
        if !out.status.success() {
            let log = std::fs::read_to_string(dir.join("standby.log")).unwrap_or_default();
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "starting the standby failed: {}\nlog:\n{log}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let mut standby_url = url.clone();
        standby_url.set_port(Some(port)).expect("port");
        let s = Self {
            dir,
            pg_ctl,
            port,
            admin_url: standby_url.to_string(),
            running: true,
        };
        fleet_store::cluster::wait_until_ready(&s.admin_url, Duration::from_secs(30))
            .await
            .expect("the standby accepts connections");
        s
    }

    /// The URL of database `db` on the standby.
    pub fn url(&self, db: &str) -> String {
        let (base, _) = self.admin_url.rsplit_once('/').expect("a database");
        format!("{base}/{db}")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the standby now (immediate shutdown), as if its host went away.
    pub fn stop(&mut self) {
        if self.running {
            let mut c = command(&self.pg_ctl);
            c.arg("-D")
                .arg(&self.dir)
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = c.output();
            self.running = false;
        }
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
