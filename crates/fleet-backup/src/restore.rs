//! Restoring one backup: download, checksum, then `pg_restore`, in one transaction (a failed
//! restore leaves the target as it was).
//!
//! - A **full** backup goes into an empty database (no tables of its own; extensions allowed).
//! - A **slice** (`events`, `geo`) goes into a database that already has the platform's schema
//!   (`fleet db migrate`) and whose tables of that schema are empty: the slice's partitions are
//!   created as they were, then its rows are loaded (`--data-only`). After an `events` slice,
//!   `fleet replay --rebuild all` derives the state tables from it.

use std::collections::BTreeMap;
use std::path::Path;

use fleet_s3::Bucket;
use sqlx::{Connection, PgConnection};

use crate::dump::{Remove, count_rows, sha256_file};
use crate::{BackupError, Kind, Manifest, file_error, stamp, tools};

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub key: String,
    pub bytes: u64,
    /// Rows per table in the target after the restore, for the manifest's tables.
    pub tables: BTreeMap<String, i64>,
    pub seconds: f64,
}

/// The tables whose row count differs from the manifest: `(table, manifest, restored)`.
pub fn count_differences(
    m: &Manifest,
    restored: &BTreeMap<String, i64>,
) -> Vec<(String, i64, i64)> {
    m.tables
        .iter()
        .filter_map(|(t, &want)| {
            let got = restored.get(t).copied().unwrap_or(-1);
            (got != want).then(|| (t.clone(), want, got))
        })
        .collect()
}

/// Restores `m` into the database at `target` (see the module's rules), then checks the row
/// counts against the manifest.
pub async fn restore(
    bucket: &Bucket,
    m: &Manifest,
    target: &str,
    staging: &Path,
    bindir: Option<&Path>,
) -> Result<Restored, BackupError> {
    let started = std::time::Instant::now();
    let pg_restore = tools::find("pg_restore", bindir)?;
    let mut conn = PgConnection::connect(target).await?;
    check_target(&mut conn, m).await?;

    tokio::fs::create_dir_all(staging)
        .await
        .map_err(file_error(staging))?;
    let base = format!(
        "fleet-restore-{}-{}-{}",
        m.kind,
        stamp(chrono::Utc::now()),
        fleet_store::cluster::random_hex(4)?
    );
    let file = staging.join(format!("{base}.dump"));
    let list = staging.join(format!("{base}.list"));
    let _cleanup = (Remove(file.clone()), Remove(list.clone()));
    let bytes = bucket.download(&m.key, &file).await?;
    let got = sha256_file(&file).await?;
    if got != m.sha256 {
        return Err(BackupError::Checksum {
            key: m.key.clone(),
            got,
            want: m.sha256.clone(),
        });
    }

    // The table of contents, less what a restore by a non-superuser cannot do and need not:
    // comments on extensions (owned by whoever created the extension).
    let (mut cmd, _) = tools::command(&pg_restore, target)?;
    cmd.arg("--list").arg(&file);
    let toc = tools::output(cmd, "pg_restore --list").await?;
    let toc: String = String::from_utf8_lossy(&toc)
        .lines()
        .filter(|l| !l.contains(" COMMENT - EXTENSION "))
        .map(|l| format!("{l}\n"))
        .collect();
    tokio::fs::write(&list, toc)
        .await
        .map_err(file_error(&list))?;

    if let Kind::Events | Kind::Geo = m.kind {
        for p in &m.partitions {
            // names and bounds were written by pg_catalog (format %I, pg_get_expr) into our manifest
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} {}",
                p.name, p.parent, p.bound
            )))
            .execute(&mut conn)
            .await
            .map_err(|e| {
                BackupError::Refused(format!(
                    "creating partition {} of {} ({}) in the target failed: {e}; restore a slice into a \
                     freshly migrated database",
                    p.name, p.parent, p.bound
                ))
            })?;
        }
    }

    let (mut cmd, url) = tools::command(&pg_restore, target)?;
    cmd.arg("--no-owner")
        .arg("--no-privileges")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--no-password")
        .arg(format!("--use-list={}", list.display()));
    if m.kind != Kind::Full {
        cmd.arg("--data-only");
    }
    cmd.arg(format!("--dbname={url}")).arg(&file);
    tools::output(cmd, "pg_restore").await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;

    let tables: Vec<String> = m.tables.keys().cloned().collect();
    let present = existing(&mut conn, &tables).await?;
    let restored = count_rows(&mut conn, &present).await?;
    let _ = conn.close().await;
    Ok(Restored {
        key: m.key.clone(),
        bytes,
        tables: restored,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Those of `tables` that exist in the connected database.
async fn existing(conn: &mut PgConnection, tables: &[String]) -> Result<Vec<String>, BackupError> {
    let mut out = Vec::new();
    for t in tables {
        let there: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(t)
            .fetch_one(&mut *conn)
            .await?;
        if there.is_some() {
            out.push(t.clone());
        }
    }
    Ok(out)
}

async fn check_target(conn: &mut PgConnection, m: &Manifest) -> Result<(), BackupError> {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *conn)
        .await?;
    match m.kind.schema() {
        None => {
            let tables: Vec<String> = sqlx::query_scalar(crate::dump::TABLES)
                .bind(None::<String>)
                .fetch_all(&mut *conn)
                .await?;
            if !tables.is_empty() {
                return Err(BackupError::Refused(format!(
                    "database {db} is not empty ({} tables, e.g. {}); a full backup is restored into an \
                     empty database: create one (createdb, or CREATE DATABASE) and pass it with --into",
                    tables.len(),
                    tables
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Some(schema) => {
            let migration: Option<i32> = sqlx::query_scalar(
                "SELECT max(version) FROM ops.schema_migrations",
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|_| {
                BackupError::Refused(format!(
                    "database {db} has no Fleet Platform schema; the {schema} slice is restored into a \
                     migrated database: run `fleet db migrate` against it first"
                ))
            })?;
            let tables: Vec<String> = sqlx::query_scalar(crate::dump::TABLES)
                .bind(schema)
                .fetch_all(&mut *conn)
                .await?;
            for (t, n) in count_rows(conn, &tables).await? {
                if n > 0 {
                    return Err(BackupError::Refused(format!(
                        "{t} in database {db} already has {n} rows; the {schema} slice is restored into a \
                         database whose {schema} tables are empty"
                    )));
                }
            }
            if migration.unwrap_or(0) < m.migration {
                return Err(BackupError::Refused(format!(
                    "database {db} is at migration {}, the slice was taken at {}; migrate it with a \
                     fleet at least as new as {} first",
                    migration.unwrap_or(0),
                    m.migration,
                    m.fleet_version
                )));
            }
        }
    }
    Ok(())
}
