//! `fleet backup verify`: a backup is only as good as its restore. Restores a backup into a
//! scratch database on the same server, compares every table's row count with the manifest,
//! brings the restored schema up to this binary's migrations (an upgrade from the backup), and
//! replays every state table from the restored event log: the rows a replay derives must be the
//! rows the backup holds (bookkeeping columns — time stamps filled by `now()`, generated ids —
//! left out of the comparison).

use std::path::Path;

use chrono::{DateTime, Utc};
use fleet_s3::Bucket;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool};

use crate::restore::{count_differences, restore};
use crate::{BackupError, Kind, Manifest, database_of, stamp, with_database};

/// One state table replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub table: String,
    pub rows: i64,
    /// Whether the replayed rows are the restored rows.
    pub same: bool,
    pub events: u64,
}

/// What a verification found; stored as `{prefix}/verify/{stamp}.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub key: String,
    pub kind: Kind,
    pub verified_at: DateTime<Utc>,
    pub scratch_database: String,
    pub restore_seconds: f64,
    pub rows: i64,
    /// `(table, manifest, restored)` for every count that differs.
    pub count_differences: Vec<(String, i64, i64)>,
    /// Migrations applied to the restored database to reach this binary's schema.
    pub migrations_applied: usize,
    pub replayed: Vec<Replayed>,
    pub ok: bool,
}

/// Options of a verification.
pub struct Options<'a> {
    /// A URL of the server to restore on (any database there; the scratch one is created beside it).
    pub server_url: &'a str,
    pub staging: &'a Path,
    pub bindir: Option<&'a Path>,
    /// Replay the state tables (a full backup only).
    pub replay: bool,
    /// Keep the scratch database (its name is in the report) instead of dropping it.
    pub keep: bool,
}

/// Verifies `m` (see the module).
pub async fn verify(bucket: &Bucket, m: &Manifest, o: &Options<'_>) -> Result<Report, BackupError> {
    let scratch = format!(
        "fleet_verify_{}_{}",
        stamp(Utc::now()).to_lowercase(),
        fleet_store::cluster::random_hex(3)?
    );
    let mut admin = PgConnection::connect(o.server_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {scratch}")))
        .execute(&mut admin)
        .await
        .map_err(|e| {
            BackupError::Refused(format!(
                "cannot create the scratch database {scratch} beside {}: {e}; the backup user needs CREATEDB",
                database_of(o.server_url)
            ))
        })?;
    let url = with_database(o.server_url, &scratch)?;
    let result = check(bucket, m, o, &url, &scratch).await;
    if !o.keep {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
    let _ = admin.close().await;
    let report = result?;
    let key = bucket.key(&format!("verify/{}.json", stamp(report.verified_at)));
    if let Ok(body) = serde_json::to_vec_pretty(&report) {
        bucket.put(&key, body).await?;
    }
    Ok(report)
}

async fn check(
    bucket: &Bucket,
    m: &Manifest,
    o: &Options<'_>,
    url: &str,
    scratch: &str,
) -> Result<Report, BackupError> {
    let pool = fleet_store::connect(url, 2).await?;
    let mut migrations_applied = 0;
    if m.kind != Kind::Full {
        migrations_applied += fleet_store::migrate::run(&pool).await?.applied.len();
    }
    let restored = restore(bucket, m, url, o.staging, o.bindir).await?;
    let differences = count_differences(m, &restored.tables);
    if m.kind == Kind::Full {
        migrations_applied += fleet_store::migrate::run(&pool).await?.applied.len();
    }
    let mut replayed = Vec::new();
    if o.replay && m.kind == Kind::Full {
        for table in fleet_ingest::project::tables() {
            let before = fingerprint(&pool, table).await?;
            let events = fleet_ingest::replay::rebuild(
                &pool,
                table,
                fleet_ingest::replay::BATCH,
                &mut |_, _, _| {},
            )
            .await
            .map_err(|e| BackupError::Replay {
                table: table.to_string(),
                reason: e.to_string(),
            })?;
            let after = fingerprint(&pool, table).await?;
            replayed.push(Replayed {
                table: table.to_string(),
                rows: after.0,
                same: before == after,
                events,
            });
        }
    }
    pool.close().await;
    let ok = differences.is_empty() && replayed.iter().all(|r| r.same);
    Ok(Report {
        key: m.key.clone(),
        kind: m.kind,
        verified_at: Utc::now(),
        scratch_database: scratch.to_string(),
        restore_seconds: restored.seconds,
        rows: restored.tables.values().sum(),
        count_differences: differences,
        migrations_applied,
        replayed,
        ok,
    })
}

/// Rows and an MD5 over a table's rows as JSON, less its bookkeeping columns (defaults that are
/// the clock or a sequence), order-independent.
pub async fn fingerprint(pool: &PgPool, table: &str) -> Result<(i64, String), BackupError> {
    let (schema, name) = table.split_once('.').unwrap_or(("public", table));
    let skip: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2
           AND (is_identity = 'YES'
                OR column_default ~* '(now\\(\\)|clock_timestamp\\(\\)|current_timestamp|nextval\\()')",
    )
    .bind(schema)
    .bind(name)
    .fetch_all(pool)
    .await?;
    // `table` is one of the projector list's fixed names
    let row: (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), md5(coalesce(string_agg(r, E'\\n' ORDER BY r), ''))
         FROM (SELECT (to_jsonb(t) - $1::text[])::text AS r FROM {table} t) s"
    )))
    .bind(&skip)
    .fetch_one(pool)
    .await?;
    Ok(row)
}
