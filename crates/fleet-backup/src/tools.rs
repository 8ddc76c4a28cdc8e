//! Finding `pg_dump`, `pg_restore` and `psql`, and running them with the password out of sight.
//!
//! Order: `FLEET_PG_BINDIR`; the newest `/usr/lib/postgresql/<major>/bin` that has the tool
//! (Debian's layout, several majors side by side); the `PATH`. A `pg_dump` older than the server
//! refuses to dump it, and says so; that message is passed on whole.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::BackupError;

/// The path of `tool`, or a message saying how to install it.
pub fn find(tool: &str, bindir: Option<&Path>) -> Result<PathBuf, BackupError> {
    if let Some(dir) = bindir {
        let p = dir.join(tool);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(BackupError::Tool(format!(
                "{tool} is not in FLEET_PG_BINDIR ({}); install the client tools \
                 (apt-get install postgresql-client-15) or point FLEET_PG_BINDIR at their folder",
                dir.display()
            )))
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let p = e.path().join("bin").join(tool);
            p.is_file().then_some((major, p))
        })
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return Ok(p);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    on_path.ok_or_else(|| {
        BackupError::Tool(format!(
            "{tool} was not found (FLEET_PG_BINDIR, /usr/lib/postgresql/*/bin, PATH); install the \
             PostgreSQL client tools: apt-get install postgresql-client-15"
        ))
    })
}

/// A command for `tool` that connects with `url` (its password passed as `PGPASSWORD`).
pub fn command(path: &Path, url: &str) -> Result<(Command, String), BackupError> {
    let (url, password) = crate::split_password(url)?;
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    Ok((cmd, url))
}

/// Runs a command to its end; its standard output, or an error with its standard error.
pub async fn output(mut cmd: Command, what: &str) -> Result<Vec<u8>, BackupError> {
    let out = cmd
        .output()
        .await
        .map_err(|e| BackupError::Tool(format!("{what} could not be started: {e}")))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(BackupError::Tool(format!(
            "{what} failed ({}): {}",
            out.status,
            stderr.trim()
        )))
    }
}
