//! Forward-only SQL migrations, embedded in the binary and recorded in `ops.schema_migrations`.
//!
//! The runner holds a session advisory lock, so several processes starting at once apply each
//! migration exactly once; every migration runs in its own transaction together with its ledger
//! row. An applied migration whose text has changed is an error (migrations are never edited
//! after they land: add a new one). After migrating, partition maintenance runs so the
//! partitions the new schema needs exist at once.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgPool};

use crate::StoreError;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. A new migration is a new file plus one line here.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schemas_and_partitioning",
        sql: include_str!("../../../migrations/0001_schemas_and_partitioning.sql"),
    },
    Migration {
        version: 2,
        name: "events",
        sql: include_str!("../../../migrations/0002_events.sql"),
    },
    Migration {
        version: 3,
        name: "domain",
        sql: include_str!("../../../migrations/0003_domain.sql"),
    },
    Migration {
        version: 4,
        name: "state",
        sql: include_str!("../../../migrations/0004_state.sql"),
    },
    Migration {
        version: 5,
        name: "geo_slo",
        sql: include_str!("../../../migrations/0005_geo_slo.sql"),
    },
    Migration {
        version: 6,
        name: "ops_fuel_auth",
        sql: include_str!("../../../migrations/0006_ops_fuel_auth.sql"),
    },
    Migration {
        version: 7,
        name: "api_tokens",
        sql: include_str!("../../../migrations/0007_api_tokens.sql"),
    },
    Migration {
        version: 8,
        name: "merge_value",
        sql: include_str!("../../../migrations/0008_merge_value.sql"),
    },
    Migration {
        version: 9,
        name: "polls_contract_slo",
        sql: include_str!("../../../migrations/0009_polls_contract_slo.sql"),
    },
    Migration {
        version: 10,
        name: "registry",
        sql: include_str!("../../../migrations/0010_registry.sql"),
    },
    Migration {
        version: 11,
        name: "serve",
        sql: include_str!("../../../migrations/0011_serve.sql"),
    },
    Migration {
        version: 12,
        name: "inline_helpers",
        sql: include_str!("../../../migrations/0012_inline_helpers.sql"),
    },
    Migration {
        version: 13,
        name: "fuel",
        sql: include_str!("../../../migrations/0013_fuel.sql"),
    },
    Migration {
        version: 14,
        name: "fuel_first_load",
        sql: include_str!("../../../migrations/0014_fuel_first_load.sql"),
    },
    Migration {
        version: 15,
        name: "pages",
        sql: include_str!("../../../migrations/0015_pages.sql"),
    },
    Migration {
        version: 16,
        name: "fuel_lanes",
        sql: include_str!("../../../migrations/0016_fuel_lanes.sql"),
    },
    Migration {
        version: 17,
        name: "department_vocabulary",
        sql: include_str!("../../../migrations/0017_department_vocabulary.sql"),
    },
    Migration {
        version: 18,
        name: "fix_clock_ahead",
        sql: include_str!("../../../migrations/0018_fix_clock_ahead.sql"),
    },
    Migration {
        version: 19,
        name: "fix_age_from_arrival",
        sql: include_str!("../../../migrations/0019_fix_age_from_arrival.sql"),
    },
    Migration {
        version: 20,
        name: "fuel_reading",
        sql: include_str!("../../../migrations/0020_fuel_reading.sql"),
    },
];

/// The newest embedded migration version.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// A stable fingerprint of the embedded migration set (FNV-1a over names and texts), used by the
/// test harness to name its template database.
pub fn fingerprint() -> String {
    let h = fleet_core::fnv1a(
        MIGRATIONS
            .iter()
            .flat_map(|m| m.name.bytes().chain(m.sql.bytes())),
    );
    format!("{h:016x}")
}

const LOCK_KEY: i64 = 0x666c_6565_745f_6d67; // "fleet_mg"

const LEDGER_DDL: &str = "CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL
);
COMMENT ON TABLE ops.schema_migrations IS 'Ledger of applied migrations (forward-only, embedded in the binary).';";

/// What a migration run did.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    pub applied: Vec<(i32, &'static str, Duration)>,
    pub already: usize,
    pub partitions_created: usize,
}

/// Applies every pending migration, then runs partition maintenance.
pub async fn run(pool: &PgPool) -> Result<MigrationReport, StoreError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    let result = apply_all(&mut conn).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    let mut report = result?;
    drop(conn);
    report.partitions_created = crate::partitions::maintain(pool)
        .await?
        .iter()
        .filter(|p| p.action == "created")
        .count();
    Ok(report)
}

async fn apply_all(conn: &mut sqlx::PgConnection) -> Result<MigrationReport, StoreError> {
    sqlx::raw_sql(LEDGER_DDL).execute(&mut *conn).await?;
    let applied: Vec<(i32, String)> =
        sqlx::query_as("SELECT version, checksum FROM ops.schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    if let Some((v, _)) = applied.iter().find(|(v, _)| *v > latest_version()) {
        return Err(StoreError::Migration(format!(
            "the database has migration {v}, newer than this binary knows ({}): run a newer fleet binary",
            latest_version()
        )));
    }
    let mut report = MigrationReport::default();
    for m in MIGRATIONS {
        let checksum: String = sqlx::query_scalar("SELECT md5($1)")
            .bind(m.sql)
            .fetch_one(&mut *conn)
            .await?;
        if let Some((_, stored)) = applied.iter().find(|(v, _)| *v == m.version) {
            if *stored != checksum {
                return Err(StoreError::Migration(format!(
                    "migration {:04}_{} was changed after it was applied; migrations are forward-only: restore it and add a new migration",
                    m.version, m.name
                )));
            }
            report.already += 1;
            continue;
        }
        let started = Instant::now();
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::Migration(format!("migration {:04}_{} failed: {e}", m.version, m.name))
            })?;
        let took = started.elapsed();
        sqlx::query("INSERT INTO ops.schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)")
            .bind(m.version)
            .bind(m.name)
            .bind(&checksum)
            .bind(i32::try_from(took.as_millis()).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            name = m.name,
            ms = took.as_millis() as u64,
            "applied migration"
        );
        report.applied.push((m.version, m.name, took));
    }
    Ok(report)
}

/// The newest applied migration version (0 when none, or no ledger yet).
pub async fn applied_version(pool: &PgPool) -> Result<i32, StoreError> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('ops.schema_migrations') IS NOT NULL")
            .fetch_one(pool)
            .await?;
    if !exists {
        return Ok(0);
    }
    Ok(
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM ops.schema_migrations")
            .fetch_one(pool)
            .await?,
    )
}

/// Waits until the worker (or `fleet migrate`) has applied every migration this binary knows.
pub async fn wait_until_current(pool: &PgPool, timeout: Duration) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut logged = false;
    loop {
        let v = applied_version(pool).await?;
        if v >= latest_version() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Migration(format!(
                "the database is at migration {v} but this binary needs {}; start a worker (it migrates on start) or run `fleet migrate`",
                latest_version()
            )));
        }
        if !logged {
            tracing::info!(
                applied = v,
                needed = latest_version(),
                "waiting for migrations to be applied by the worker"
            );
            logged = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
