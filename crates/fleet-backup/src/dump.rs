//! Taking one backup: a snapshot, exact row counts in it, `pg_dump -Fc` of that snapshot,
//! upload, manifest last.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use fleet_s3::Bucket;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use tokio::io::AsyncReadExt;

use crate::{BackupError, Kind, Manifest, Partition, file_error, stamp, tools};

/// Where a backup run reads from and stages its dump.
pub struct Source<'a> {
    /// A direct connection URL (not a transaction pooler: the snapshot must outlive statements).
    pub url: &'a str,
    /// The folder the dump is written to before upload (removed after).
    pub staging: &'a Path,
    /// `FLEET_PG_BINDIR`.
    pub bindir: Option<&'a Path>,
}

/// The user tables of the database (or of one schema): `schema.table`, partitions as themselves,
/// partitioned parents and extensions' own tables (PostGIS's `spatial_ref_sys`) left out.
pub(crate) const TABLES: &str = "
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND ($1::text IS NULL OR n.nspname = $1)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1";

const PARTITIONS: &str = "
SELECT format('%I.%I', n.nspname, c.relname), format('%I.%I', pn.nspname, p.relname),
       pg_get_expr(c.relpartbound, c.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_inherits i ON i.inhrelid = c.oid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE c.relispartition AND c.relkind IN ('r', 'p') AND ($1::text IS NULL OR n.nspname = $1)
ORDER BY 1";

/// Exact row counts of `tables`, in the connection's current snapshot.
pub(crate) async fn count_rows(
    conn: &mut PgConnection,
    tables: &[String],
) -> Result<BTreeMap<String, i64>, BackupError> {
    let mut counts = BTreeMap::new();
    for t in tables {
        // names come from pg_class through format('%I.%I'): quoted identifiers
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM ONLY {t}"
        )))
        .fetch_one(&mut *conn)
        .await?;
        counts.insert(t.clone(), n);
    }
    Ok(counts)
}

/// Takes a backup of `kind` and stores it (dump, then manifest) in `bucket`.
pub async fn take(
    bucket: &Bucket,
    source: &Source<'_>,
    kind: Kind,
) -> Result<Manifest, BackupError> {
    let started_at = Utc::now();
    let key = bucket.key(&format!("{}/{}.dump", kind.name(), stamp(started_at)));
    let pg_dump = tools::find("pg_dump", source.bindir)?;
    tokio::fs::create_dir_all(source.staging)
        .await
        .map_err(file_error(source.staging))?;
    // unique: a scheduled and a manual run may start in the same second
    let file = source.staging.join(format!(
        "fleet-{}-{}-{}.dump",
        kind.name(),
        stamp(started_at),
        fleet_store::cluster::random_hex(4)?
    ));
    let _cleanup = Remove(file.clone());

    let mut conn = PgConnection::connect(source.url).await?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut conn)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await?;
    let (server_version, database): (String, String) =
        sqlx::query_as("SELECT current_setting('server_version'), current_database()")
            .fetch_one(&mut conn)
            .await?;
    let migration: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(version), 0) FROM ops.schema_migrations",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| {
        BackupError::Refused(format!(
            "{database} is not a Fleet Platform database (no ops.schema_migrations: {e}); run `fleet db migrate` first"
        ))
    })?;
    let tables: Vec<String> = sqlx::query_scalar(TABLES)
        .bind(kind.schema())
        .fetch_all(&mut conn)
        .await?;
    let partitions: Vec<Partition> = sqlx::query_as::<_, (String, String, String)>(PARTITIONS)
        .bind(kind.schema())
        .fetch_all(&mut conn)
        .await?
        .into_iter()
        .map(|(name, parent, bound)| Partition {
            name,
            parent,
            bound,
        })
        .collect();
    let counts = count_rows(&mut conn, &tables).await?;

    let (mut cmd, url) = tools::command(&pg_dump, source.url)?;
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", file.display()));
    if let Some(schema) = kind.schema() {
        cmd.arg(format!("--schema={schema}"));
    }
    cmd.arg(format!("--dbname={url}"));
    tools::output(cmd, "pg_dump").await?;
    // the snapshot may go once pg_dump has read it
    sqlx::query("COMMIT").execute(&mut conn).await?;
    let _ = conn.close().await;

    let sha256 = sha256_file(&file).await?;
    let size = bucket.upload(&key, &file).await?;
    let manifest = Manifest {
        format: 1,
        kind,
        key,
        started_at,
        finished_at: Utc::now(),
        size,
        sha256,
        database,
        server_version,
        migration,
        fleet_version: fleet_core::build::get().to_string(),
        tables: counts,
        partitions,
    };
    let body = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::BadManifest {
        key: manifest.manifest_key(),
        reason: e.to_string(),
    })?;
    bucket.put(&manifest.manifest_key(), body).await?;
    tracing::info!(
        kind = %kind, key = %manifest.key, bytes = size, rows = manifest.rows(),
        seconds = (manifest.finished_at - started_at).num_milliseconds() as f64 / 1000.0,
        "backup stored"
    );
    Ok(manifest)
}

/// SHA-256 of a file, hex.
pub async fn sha256_file(path: &Path) -> Result<String, BackupError> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(file_error(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await.map_err(file_error(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Removes a staged file when dropped, whatever the outcome.
pub(crate) struct Remove(pub PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
