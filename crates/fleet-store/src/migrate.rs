//! The schema: forward-only migrations for what is data (tables, columns, indexes, types, rows),
//! then the declared SQL objects for what is code (functions, views, triggers: `sql/`,
//! [`crate::objects`]). Both are embedded in the binary.
//!
//! - **Migrations** run in order, each in its own transaction with its ledger row in
//!   `ops.schema_migrations`. An applied migration whose text has changed is an error (add a new
//!   one), with one exception: the migrations of before issue 16, whose function and view
//!   definitions moved into `sql/`, are recognised by their old checksums ([`SUPERSEDED`]).
//!   A migration cannot call a function of `sql/` (on a fresh database it does not exist yet):
//!   it writes plain SQL.
//! - **SQL objects** are applied after the migrations, in the declared order, in one
//!   transaction, whenever a migration ran or any file's checksum differs from the one recorded
//!   in `ops.schema_objects` (as Flyway re-applies a changed repeatable migration after the
//!   versioned ones). Every view is dropped and created again (views depend on functions and on
//!   each other, so re-creating all is what keeps a changed signature safe); each function is
//!   `CREATE OR REPLACE`d, or dropped and created when its signature or result type changed;
//!   functions, views and triggers in the platform's schemas that no file defines are dropped
//!   (a removed object goes, and a database upgraded in place ends up as a fresh one).
//!   Function bodies are not checked at creation (`check_function_bodies = off`), so files need
//!   only be ordered for what is resolved at once: a view's references, a type in a signature.
//!   Before pending migrations run, the views are dropped, so a migration may change the columns
//!   they read.
//!
//! The runner holds a session advisory lock, so several processes starting at once apply each
//! migration once and the objects once. After migrating, partition maintenance runs so the
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
    Migration {
        version: 21,
        name: "replica_lag",
        sql: include_str!("../../../migrations/0021_replica_lag.sql"),
    },
    Migration {
        version: 22,
        name: "matching",
        sql: include_str!("../../../migrations/0022_matching.sql"),
    },
    Migration {
        version: 23,
        name: "geocoding",
        sql: include_str!("../../../migrations/0023_geocoding.sql"),
    },
    Migration {
        version: 24,
        name: "search",
        sql: include_str!("../../../migrations/0024_search.sql"),
    },
    Migration {
        version: 25,
        name: "boundaries_turns",
        sql: include_str!("../../../migrations/0025_boundaries_turns.sql"),
    },
    Migration {
        version: 26,
        name: "live_units",
        sql: include_str!("../../../migrations/0026_live_units.sql"),
    },
    Migration {
        version: 27,
        name: "current_fitting_index",
        sql: include_str!("../../../migrations/0027_current_fitting_index.sql"),
    },
    Migration {
        version: 28,
        name: "live_cells",
        sql: include_str!("../../../migrations/0028_live_cells.sql"),
    },
];

/// The checksums migrations had before issue 16 moved their functions, views and triggers into
/// `sql/`: a database migrated by an older binary carries these in its ledger and is upgraded in
/// place (its ledger then records the current ones).
pub const SUPERSEDED: &[(i32, &str)] = &[
    (1, "4009b58977d0d0ff95c16c26cfc77e8d"),
    (2, "209224d7fbefbb8b57363ea759fea54d"),
    (3, "e6030697152e9256f91dacf0a2dba1a0"),
    (4, "8abb2f235a2b5c2f8853ee2cf51e9e3d"),
    (5, "a8ad4317484d75f1b612d0fe4c6b05a3"),
    (8, "27c9093962e8ac56000ac3d0ae528896"),
    (9, "c861ca4e12ef275c94f9408709b725df"),
    (10, "85bf545502195c2806a80a90bfa1695e"),
    (11, "426fff4e1deb283376768d55c876f8f6"),
    (12, "a61d2d04cdadd2324411ea2ea3c2dccb"),
    (13, "22e96e60ec18ebdf905e703ea7e85e8e"),
    (14, "f3be446393fa394881ab338d44f4a68d"),
    (15, "812bdf436300dda3a201fd4ec3e16f12"),
    (16, "1bf75d8e7c09cb5da976f3d9acb9450f"),
    (17, "1727b2ecf417c3750fdd9cf304005c27"),
    (18, "afbcae5c29763f919fa1e023bf6c93c2"),
    (19, "5dd4d7db658c2a102f500b3aa7821f33"),
];

/// The schemas whose functions, views and triggers the platform owns: `sql/` defines them all.
pub const SCHEMAS: &[&str] = &[
    "events", "state", "domain", "geo", "slo", "serve", "ops", "fuel", "auth",
];

/// The newest embedded migration version.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// A stable fingerprint of the embedded schema (FNV-1a over the migrations' names and texts and
/// the SQL objects' paths and texts), used by the test harness to name its template database: a
/// changed function makes a new template as a new migration does.
pub fn fingerprint() -> String {
    let h = fleet_core::fnv1a(
        MIGRATIONS
            .iter()
            .flat_map(|m| m.name.bytes().chain(m.sql.bytes()))
            .chain(
                crate::objects::OBJECTS
                    .iter()
                    .flat_map(|o| o.path.bytes().chain(o.sql.bytes())),
            ),
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
COMMENT ON TABLE ops.schema_migrations IS 'Ledger of applied migrations (forward-only, embedded in the binary).';
CREATE TABLE IF NOT EXISTS ops.schema_objects (
    path        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.schema_objects IS 'Ledger of the declared SQL objects (sql/) as last applied: a file whose checksum differs is applied again.';";

/// What a migration run did.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    pub applied: Vec<(i32, &'static str, Duration)>,
    pub already: usize,
    /// The SQL object files applied (all of them, when any changed; none when none did).
    pub objects_applied: usize,
    /// Functions, views and triggers no file defines any more, dropped.
    pub objects_dropped: Vec<String>,
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
    let mut views_dropped = false;
    for m in MIGRATIONS {
        let checksum: String = sqlx::query_scalar("SELECT md5($1)")
            .bind(m.sql)
            .fetch_one(&mut *conn)
            .await?;
        if let Some((_, stored)) = applied.iter().find(|(v, _)| *v == m.version) {
            if *stored != checksum {
                if !SUPERSEDED.contains(&(m.version, stored.as_str())) {
                    return Err(StoreError::Migration(format!(
                        "migration {:04}_{} was changed after it was applied; migrations are forward-only: restore it and add a new migration",
                        m.version, m.name
                    )));
                }
                // the same migration with its definitions moved into sql/
                sqlx::query("UPDATE ops.schema_migrations SET checksum = $2 WHERE version = $1")
                    .bind(m.version)
                    .bind(&checksum)
                    .execute(&mut *conn)
                    .await?;
            }
            report.already += 1;
            continue;
        }
        if !views_dropped {
            // what a migration changes may be read by a view; the objects phase recreates them
            let mut tx = conn.begin().await?;
            drop_views(&mut tx).await?;
            tx.commit().await?;
            views_dropped = true;
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
    apply_objects(&mut *conn, !report.applied.is_empty(), &mut report).await?;
    Ok(report)
}

/// The functions, views and triggers of [`crate::objects::OBJECTS`], applied when any changed
/// (or `force`, after migrations); stale ones dropped. One transaction.
async fn apply_objects(
    conn: &mut sqlx::PgConnection,
    force: bool,
    report: &mut MigrationReport,
) -> Result<(), StoreError> {
    use crate::objects::OBJECTS;
    let mut current: Vec<(&str, String)> = Vec::with_capacity(OBJECTS.len());
    for o in OBJECTS {
        let checksum: String = sqlx::query_scalar("SELECT md5($1)")
            .bind(o.sql)
            .fetch_one(&mut *conn)
            .await?;
        current.push((o.path, checksum));
    }
    let mut recorded: Vec<(String, String)> =
        sqlx::query_as("SELECT path, checksum FROM ops.schema_objects ORDER BY path")
            .fetch_all(&mut *conn)
            .await?;
    recorded.sort();
    let mut wanted: Vec<(String, String)> = current
        .iter()
        .map(|(p, c)| (p.to_string(), c.clone()))
        .collect();
    wanted.sort();
    if !force && recorded == wanted {
        return Ok(());
    }
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL check_function_bodies = off")
        .execute(&mut *tx)
        .await?;
    drop_views(&mut tx).await?;
    // every function of a declared name as it was: a CREATE OR REPLACE rewrites its catalogue
    // row (a new xmin), so one whose row is unchanged after the files ran is an overload no file
    // defines any more (a parameter added or removed), which must not linger beside the new one
    let before = declared_functions(&mut tx).await?;
    for o in OBJECTS {
        apply_object(&mut tx, o).await?;
    }
    let after = declared_functions(&mut tx).await?;
    let overloads: Vec<String> = before
        .into_iter()
        .filter(|f| after.contains(f))
        .map(|(name, _)| name)
        .collect();
    report.objects_dropped = drop_stale(&mut tx, overloads).await?;
    sqlx::query("DELETE FROM ops.schema_objects")
        .execute(&mut *tx)
        .await?;
    let (paths, sums): (Vec<&str>, Vec<String>) = current.into_iter().unzip();
    sqlx::query("INSERT INTO ops.schema_objects (path, checksum) SELECT * FROM unnest($1::text[], $2::text[])")
        .bind(&paths)
        .bind(&sums)
        .execute(&mut *tx)
        .await?;
    // tables kept by the objects are brought in line with their (possibly new) definition
    for sql in crate::objects::RECONCILE {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    report.objects_applied = OBJECTS.len();
    tracing::info!(
        objects = OBJECTS.len(),
        dropped = report.objects_dropped.len(),
        ms = started.elapsed().as_millis() as u64,
        "applied the SQL objects"
    );
    Ok(())
}

/// One file: `CREATE OR REPLACE` as written, or, when a function's signature or result type
/// changed (which `CREATE OR REPLACE` refuses), its old versions dropped first.
async fn apply_object(
    tx: &mut sqlx::PgConnection,
    o: &crate::objects::SqlObject,
) -> Result<(), StoreError> {
    let failed = |e: sqlx::Error| StoreError::Migration(format!("sql/{} failed: {e}", o.path));
    sqlx::query("SAVEPOINT fleet_object")
        .execute(&mut *tx)
        .await?;
    match sqlx::raw_sql(sqlx::AssertSqlSafe(o.sql))
        .execute(&mut *tx)
        .await
    {
        Ok(_) => {}
        // 42P13 invalid_function_definition: "cannot change return type of existing function",
        // "cannot change name of input parameter", "cannot remove parameter defaults"
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P13") => {
            sqlx::query("ROLLBACK TO SAVEPOINT fleet_object")
                .execute(&mut *tx)
                .await?;
            for name in crate::objects::functions_in(o.sql) {
                let old: Vec<String> = sqlx::query_scalar(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE n.nspname || '.' || p.proname = $1",
                )
                .bind(&name)
                .fetch_all(&mut *tx)
                .await?;
                for f in old {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP FUNCTION {f}")))
                        .execute(&mut *tx)
                        .await
                        .map_err(failed)?;
                }
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(o.sql))
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        Err(e) => return Err(failed(e)),
    }
    sqlx::query("RELEASE SAVEPOINT fleet_object")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Every view of the platform's schemas, with what depends on it (views, and functions whose
/// result is a view's row type: the objects phase creates them again).
async fn drop_views(tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    let views: Vec<String> = sqlx::query_scalar(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'v' AND n.nspname = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
          ORDER BY 1",
    )
    .bind(SCHEMAS)
    .fetch_all(&mut *tx)
    .await?;
    for v in views {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP VIEW IF EXISTS {v} CASCADE"
        )))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The qualified names of every function some file declares.
fn declared_names() -> Vec<String> {
    crate::objects::OBJECTS
        .iter()
        .flat_map(|o| crate::objects::functions_in(o.sql))
        .collect()
}

/// Every function (signature, catalogue row version) of a name some file declares.
async fn declared_functions(
    tx: &mut sqlx::PgConnection,
) -> Result<Vec<(String, String)>, StoreError> {
    let declared = declared_names();
    Ok(sqlx::query_as(
        "SELECT p.oid::regprocedure::text, p.xmin::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname || '.' || p.proname = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          ORDER BY 1",
    )
    .bind(&declared)
    .fetch_all(&mut *tx)
    .await?)
}

/// Functions and triggers of the platform's schemas that no declared file defines (removed
/// objects, what older migrations left behind, and `overloads`: signatures of a declared name
/// that no file wrote), dropped; returns what went.
async fn drop_stale(
    tx: &mut sqlx::PgConnection,
    overloads: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let declared = declared_names();
    let triggers: Vec<String> = crate::objects::OBJECTS
        .iter()
        .flat_map(|o| crate::objects::triggers_in(o.sql))
        .collect();
    let stale_functions: Vec<String> = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = ANY($1) AND NOT (n.nspname || '.' || p.proname = ANY($2))
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          ORDER BY 1",
    )
    .bind(SCHEMAS)
    .bind(&declared)
    .fetch_all(&mut *tx)
    .await?;
    let stale_functions: Vec<String> = stale_functions.into_iter().chain(overloads).collect();
    let stale_triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tgname::text, t.tgrelid::regclass::text FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND NOT t.tgisinternal AND t.tgparentid = 0
            AND NOT (t.tgrelid::regclass::text || '.' || t.tgname = ANY($2))
          ORDER BY 1, 2",
    )
    .bind(SCHEMAS)
    .bind(&triggers)
    .fetch_all(&mut *tx)
    .await?;
    let mut dropped = Vec::new();
    for (name, table) in stale_triggers {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER {} ON {table}",
            quote_ident(&name)
        )))
        .execute(&mut *tx)
        .await?;
        dropped.push(format!("trigger {name} on {table}"));
    }
    for f in stale_functions {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP FUNCTION {f}")))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::Migration(format!(
                    "{f} is defined by no file in sql/ and cannot be dropped ({e}); if a table uses it, keep it in sql/ or change the table in a migration"
                ))
            })?;
        dropped.push(format!("function {f}"));
    }
    if !dropped.is_empty() {
        tracing::info!(?dropped, "dropped SQL objects no file defines");
    }
    Ok(dropped)
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
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
