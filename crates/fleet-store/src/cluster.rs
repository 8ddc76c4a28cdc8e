//! The managed local Postgres cluster: what `fleet up` and `fleet db` use when no `DATABASE_URL`
//! is set, and what the test harness starts once per test run.
//!
//! Design:
//! - Binaries come from the system (`FLEET_PG_BINDIR`, else `pg_config --bindir`, else the newest
//!   `/usr/lib/postgresql/*/bin`); PostGIS and pgRouting are checked before anything is created,
//!   and a missing piece is reported with the exact package install command.
//! - Layout under `FLEET_HOME/pg`: `data/` (PGDATA), `run/` (unix socket, mode 0700),
//!   `postgres.log`, and `cluster.json` (port and the generated superuser password, mode 0600).
//! - The server listens on 127.0.0.1 and a free port chosen at first start (re-chosen if taken
//!   later) plus the private socket; the superuser `fleet` authenticates with scram over TCP, so
//!   the URL from `fleet db psql-url` works with `psql` and with the app alike.
//! - `initdb` refuses to run as root: as root every Postgres command runs as the `postgres` system
//!   user (`runuser -u postgres --`), which owns `pg/data` and `pg/run`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The superuser of managed clusters and the application database's name.
pub const SUPERUSER: &str = "fleet";
pub const DATABASE: &str = "fleet";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Missing(String),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Where the Postgres programs are and which major version they are.
#[derive(Debug, Clone)]
pub struct PgInstall {
    pub bindir: PathBuf,
    pub sharedir: Option<PathBuf>,
    pub major: u32,
}

impl PgInstall {
    /// Finds the system's Postgres binaries and checks PostGIS and pgRouting are installed.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, ClusterError> {
        let bindir = match explicit {
            Some(dir) => dir.to_path_buf(),
            None => find_bindir().ok_or_else(|| {
                ClusterError::Missing(format!(
                    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with:\n    {}\n\
                     or set FLEET_PG_BINDIR to the folder that holds initdb, or set DATABASE_URL to use an existing server.",
                    install_command(15)
                ))
            })?,
        };
        for prog in ["initdb", "pg_ctl", "postgres"] {
            if !bindir.join(prog).is_file() {
                return Err(ClusterError::Missing(format!(
                    "{} is missing from {}; install the server with:\n    {}",
                    prog,
                    bindir.display(),
                    install_command(15)
                )));
            }
        }
        let version = run_capture(
            Command::new(bindir.join("postgres")).arg("--version"),
            "postgres --version",
        )?;
        let major = parse_major(&version).ok_or_else(|| {
            ClusterError::Invalid(format!("cannot read the Postgres version from {version:?}"))
        })?;
        if major < 15 {
            return Err(ClusterError::Missing(format!(
                "PostgreSQL {major} found in {}, but Fleet Platform needs 15 or newer",
                bindir.display()
            )));
        }
        let sharedir = sharedir_for(&bindir, major);
        let install = Self {
            bindir,
            sharedir,
            major,
        };
        install.check_extensions()?;
        Ok(install)
    }

    fn check_extensions(&self) -> Result<(), ClusterError> {
        let Some(share) = &self.sharedir else {
            return Ok(());
        };
        let missing: Vec<&str> = [("postgis", "PostGIS"), ("pgrouting", "pgRouting")]
            .into_iter()
            .filter(|(ext, _)| {
                !share
                    .join("extension")
                    .join(format!("{ext}.control"))
                    .is_file()
            })
            .map(|(_, name)| name)
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ClusterError::Missing(format!(
                "{} not installed for PostgreSQL {}. Install with:\n    {}",
                missing.join(" and "),
                self.major,
                install_command(self.major)
            )))
        }
    }

    /// The path of one of the server's programs (`pg_ctl`, `pg_basebackup`, …).
    pub fn bin(&self, prog: &str) -> PathBuf {
        self.bindir.join(prog)
    }
}

/// The Debian/Ubuntu command that installs everything the platform needs from Postgres.
pub fn install_command(major: u32) -> String {
    format!(
        "sudo apt-get install -y postgresql-{major} postgresql-{major}-postgis-3 postgresql-{major}-pgrouting"
    )
}

fn parse_major(version_line: &str) -> Option<u32> {
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let after = version_line.split(')').nth(1)?.trim();
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn find_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn sharedir_for(bindir: &Path, major: u32) -> Option<PathBuf> {
    let debian = PathBuf::from(format!("/usr/share/postgresql/{major}"));
    if debian.is_dir() {
        return Some(debian);
    }
    // Source builds: <prefix>/bin next to <prefix>/share/postgresql or <prefix>/share.
    let prefix = bindir.parent()?;
    [prefix.join("share/postgresql"), prefix.join("share")]
        .into_iter()
        .find(|p| p.join("extension").is_dir())
}

/// Persistent facts about a managed cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClusterFile {
    port: u16,
    password: String,
}

/// What `fleet db status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterStatus {
    NotCreated,
    Stopped,
    Running { port: u16 },
}

/// A managed cluster under a home folder.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    install: PgInstall,
    root: PathBuf,
    as_postgres_user: bool,
}

impl LocalCluster {
    /// A cluster under `home/pg` (nothing is created until [`LocalCluster::start`]).
    pub fn new(install: PgInstall, home: &Path) -> Result<Self, ClusterError> {
        std::fs::create_dir_all(home)
            .map_err(|e| ClusterError::Io(format!("creating {}", home.display()), e))?;
        let home = std::fs::canonicalize(home)
            .map_err(|e| ClusterError::Io(format!("resolving {}", home.display()), e))?;
        Ok(Self {
            install,
            root: home.join("pg"),
            as_postgres_user: running_as_root(),
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    fn file_path(&self) -> PathBuf {
        self.root.join("cluster.json")
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    fn read_file(&self) -> Result<Option<ClusterFile>, ClusterError> {
        match std::fs::read_to_string(self.file_path()) {
            Ok(s) => serde_json::from_str(&s).map(Some).map_err(|e| {
                ClusterError::Invalid(format!(
                    "{} is unreadable ({e}); remove the folder {} to start afresh",
                    self.file_path().display(),
                    self.root.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClusterError::Io(
                format!("reading {}", self.file_path().display()),
                e,
            )),
        }
    }

    fn write_file(&self, f: &ClusterFile) -> Result<(), ClusterError> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.file_path();
        let tmp = path.with_extension("json.tmp");
        let body =
            serde_json::to_vec_pretty(f).map_err(|e| ClusterError::Invalid(e.to_string()))?;
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            std::io::Write::write_all(&mut file, &body)?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| ClusterError::Io(format!("writing {}", path.display()), e))
    }

    /// Whether the server of this cluster is running (per `pg_ctl status`).
    pub fn status(&self) -> Result<ClusterStatus, ClusterError> {
        let Some(file) = self.read_file()? else {
            return Ok(ClusterStatus::NotCreated);
        };
        if !self.data_dir().join("PG_VERSION").is_file() {
            return Ok(ClusterStatus::NotCreated);
        }
        let out = self
            .pg_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(ClusterStatus::Running { port: file.port }),
            Ok(_) => Ok(ClusterStatus::Stopped),
            Err(e) => Err(ClusterError::Io("running pg_ctl status".into(), e)),
        }
    }

    /// Creates the cluster on first use, starts it if it is not running, and makes sure the
    /// application database exists. Returns true when this call started the server.
    pub async fn start(&self) -> Result<bool, ClusterError> {
        let file = match self.read_file()? {
            Some(f) if self.data_dir().join("PG_VERSION").is_file() => f,
            _ => self.init()?,
        };
        let started = match self.status()? {
            ClusterStatus::Running { .. } => false,
            _ => {
                let port = if port_is_free(file.port) {
                    file.port
                } else {
                    free_port()?
                };
                let file = ClusterFile { port, ..file };
                self.write_file(&file)?;
                self.pg_ctl_start(port)?;
                true
            }
        };
        self.ensure_database().await?;
        Ok(started)
    }

    fn init(&self) -> Result<ClusterFile, ClusterError> {
        if self.data_dir().exists() {
            std::fs::remove_dir_all(self.data_dir()).map_err(|e| {
                ClusterError::Io(
                    format!("clearing a half-created {}", self.data_dir().display()),
                    e,
                )
            })?;
        }
        std::fs::create_dir_all(self.run_dir())
            .map_err(|e| ClusterError::Io(format!("creating {}", self.run_dir().display()), e))?;
        std::fs::create_dir_all(self.data_dir())
            .map_err(|e| ClusterError::Io(format!("creating {}", self.data_dir().display()), e))?;
        set_mode(&self.run_dir(), 0o700)?;
        set_mode(&self.data_dir(), 0o700)?;
        let password = random_hex(24)?;
        let pwfile = self.root.join(".pwfile");
        std::fs::write(&pwfile, &password)
            .map_err(|e| ClusterError::Io("writing the initdb password file".into(), e))?;
        if self.as_postgres_user {
            self.hand_to_postgres_user(&pwfile)?;
        }
        let result = run_output(
            self.pg_command("initdb")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-U")
                .arg(SUPERUSER)
                .arg("--pwfile")
                .arg(&pwfile)
                .arg("--auth-host=scram-sha-256")
                .arg("--auth-local=trust")
                .arg("--encoding=UTF8")
                .arg("--locale=C.UTF-8"),
            "initdb",
        );
        let _ = std::fs::remove_file(&pwfile);
        result?;
        let file = ClusterFile {
            port: free_port()?,
            password,
        };
        self.write_file(&file)?;
        Ok(file)
    }

    /// As root, the server runs as `postgres`: give it the data and socket folders, and check it
    /// can reach them through every parent folder.
    fn hand_to_postgres_user(&self, pwfile: &Path) -> Result<(), ClusterError> {
        for path in [self.data_dir(), self.run_dir(), pwfile.to_path_buf()] {
            run_output(
                Command::new("chown").arg("postgres:").arg(&path),
                "chown to the postgres user",
            )
            .map_err(|e| {
                ClusterError::Missing(format!(
                    "running as root, the cluster must run as the `postgres` system user, but {e}. \
                     Install the server package (it creates that user): {}",
                    install_command(self.install.major)
                ))
            })?;
        }
        let probe = Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(self.data_dir())
            .status()
            .map_err(|e| ClusterError::Io("running runuser".into(), e))?;
        if !probe.success() {
            return Err(ClusterError::Invalid(format!(
                "the postgres system user cannot reach {}: a parent folder is closed to other users. \
                 Set FLEET_HOME to a folder under a path others can enter (e.g. /var/lib/fleet), or set DATABASE_URL.",
                self.data_dir().display()
            )));
        }
        Ok(())
    }

    fn pg_ctl_start(&self, port: u16) -> Result<(), ClusterError> {
        let opts = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' -c unix_socket_permissions=0700 \
             -c max_connections=200 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on",
            self.run_dir().display()
        );
        let log = self.log_path();
        if self.as_postgres_user {
            // pg_ctl writes the log as the server user.
            let _ = std::fs::File::create(&log);
            let _ = Command::new("chown").arg("postgres:").arg(&log).status();
        }
        run_output(
            self.pg_command("pg_ctl")
                .arg("start")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(&log)
                .arg("-w")
                .arg("-t")
                .arg("60")
                .arg("-o")
                .arg(opts),
            "pg_ctl start",
        )
        .map_err(|e| match e {
            ClusterError::Command { what, detail } => ClusterError::Command {
                what,
                detail: format!("{detail}\n(server log: {})", log.display()),
            },
            other => other,
        })?;
        Ok(())
    }

    /// Stops the server (fast shutdown: clients are disconnected, data is flushed).
    pub fn stop(&self) -> Result<bool, ClusterError> {
        match self.status()? {
            ClusterStatus::Running { .. } => {
                run_output(
                    self.pg_command("pg_ctl")
                        .arg("stop")
                        .arg("-D")
                        .arg(self.data_dir())
                        .arg("-m")
                        .arg("fast")
                        .arg("-w")
                        .arg("-t")
                        .arg("60"),
                    "pg_ctl stop",
                )?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Connection URL of `db` as the superuser over TCP (accepted by psql and by the app).
    pub fn url(&self, db: &str) -> Result<String, ClusterError> {
        let file = self.read_file()?.ok_or_else(|| {
            ClusterError::Invalid(
                "the local cluster has not been created yet: run `fleet db start`".into(),
            )
        })?;
        Ok(format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{db}",
            file.password, file.port
        ))
    }

    async fn ensure_database(&self) -> Result<(), ClusterError> {
        use sqlx::Connection;
        let url = self.url("postgres")?;
        let mut conn =
            sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| ClusterError::Command {
                    what: "connecting to the local cluster".into(),
                    detail: e.to_string(),
                })?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await
                .map_err(|e| ClusterError::Command {
                    what: "checking the database".into(),
                    detail: e.to_string(),
                })?;
        if !exists {
            sqlx::query("CREATE DATABASE fleet")
                .execute(&mut conn)
                .await
                .map_err(|e| ClusterError::Command {
                    what: "creating the database".into(),
                    detail: e.to_string(),
                })?;
        }
        let _ = conn.close().await;
        Ok(())
    }

    fn pg_command(&self, prog: &str) -> Command {
        server_user_command(&self.install.bin(prog), self.as_postgres_user)
    }

    /// Deletes the whole cluster folder (stop it first). Used by throwaway test clusters.
    pub fn destroy(&self) -> Result<(), ClusterError> {
        let _ = self.stop();
        std::fs::remove_dir_all(&self.root)
            .map_err(|e| ClusterError::Io(format!("removing {}", self.root.display()), e))
    }

    /// The folder holding data, socket, log and `cluster.json`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The command line that stops this cluster (for watchdogs outliving the caller).
    pub fn stop_command(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.as_postgres_user {
            v.extend(["runuser", "-u", "postgres", "--"].map(String::from));
        }
        v.push(self.install.bin("pg_ctl").display().to_string());
        v.extend(["stop", "-D"].map(String::from));
        v.push(self.data_dir().display().to_string());
        v.extend(["-m", "immediate"].map(String::from));
        v
    }
}

/// A command running `program` as the server's user: through `runuser -u postgres` when
/// `as_postgres` (root may not run the server's programs on its data), else directly.
pub fn server_user_command(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        // The server's cwd must be readable by its user.
        c.current_dir("/");
        c
    } else {
        Command::new(program)
    }
}

/// Whether this process runs as root (by the owner of its /proc entry: no unsafe libc call).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ClusterError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| ClusterError::Io(format!("chmod {}", path.display()), e))
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port() -> Result<u16, ClusterError> {
    let l = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| ClusterError::Io("finding a free loopback port".into(), e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| ClusterError::Io("finding a free loopback port".into(), e))
}

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> Result<String, ClusterError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| ClusterError::Invalid(format!("no randomness available: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn run_capture(cmd: &mut Command, what: &str) -> Result<String, ClusterError> {
    let out = run_output(cmd, what)?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn run_output(cmd: &mut Command, what: &str) -> Result<Output, ClusterError> {
    let out = cmd
        .output()
        .map_err(|e| ClusterError::Io(format!("running {what}"), e))?;
    if out.status.success() {
        Ok(out)
    } else {
        let mut detail = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
        Err(ClusterError::Command {
            what: what.to_string(),
            detail,
        })
    }
}

/// Waits until `url` accepts connections, for at most `timeout`.
pub async fn wait_until_ready(url: &str, timeout: Duration) -> Result<(), ClusterError> {
    use sqlx::Connection;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match sqlx::PgConnection::connect(url).await {
            Ok(c) => {
                let _ = c.close().await;
                return Ok(());
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(ClusterError::Command {
                    what: "connecting to Postgres".into(),
                    detail: e.to_string(),
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_major_version() {
        assert_eq!(
            parse_major("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("postgres (PostgreSQL) 17beta1"), Some(17));
        assert_eq!(parse_major("garbage"), None);
    }

    #[test]
    fn install_command_names_the_packages() {
        let c = install_command(16);
        assert!(
            c.contains("postgresql-16-postgis-3") && c.contains("postgresql-16-pgrouting"),
            "{c}"
        );
    }

    #[test]
    fn random_hex_is_random_and_sized() {
        let a = random_hex(16).expect("random");
        let b = random_hex(16).expect("random");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
