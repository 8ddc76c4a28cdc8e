//! Postgres for Fleet Platform: the connection pool, the embedded migrations and the declarative
//! SQL objects ([`migrate`], [`objects`]), the managed local cluster ([`cluster`]), partition
//! maintenance ([`partitions`]) and the SLO rule ([`slo`]).
//!
//! **May depend on** `fleet-core` only. **Where a change goes**: a table, column, index or data
//! change is a new `migrations/NNNN_name.sql` (forward-only; never edit an applied one); a
//! function, view or trigger is a file under `sql/<schema>/` listed in [`objects::OBJECTS`] in
//! dependency order (edit it in place: it is re-applied when its checksum changes). Then
//! `make schema` regenerates `schema/schema.sql`.

pub mod cluster;
pub mod direct;
pub mod migrate;
pub mod objects;
pub mod partitions;
pub mod slo;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub use sqlx;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Migration(String),
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    /// The server lost a prepared statement between two statements of one client session: a
    /// transaction-pooling proxy is in between.
    #[error(
        "the database connection does not keep its session ({0}): DATABASE_URL goes through a \
         transaction-pooling proxy (pgbouncer with pool_mode = transaction?), which breaks prepared \
         statements, LISTEN/NOTIFY and advisory locks. Connect the worker and cron to Postgres \
         directly, and the gateway directly or through pgbouncer in session mode \
         (docs/operations.md, Connections)"
    )]
    SessionLost(String),
}

/// Whether `e` is the mark of a transaction pooler: the server does not know (or already has)
/// a statement sqlx prepared on what it took for the same session.
pub fn is_session_lost(e: &sqlx::Error) -> bool {
    let text = e.to_string();
    text.contains("prepared statement \"sqlx_s_")
        && (text.contains("already exists") || text.contains("does not exist"))
}

fn store_error(e: sqlx::Error) -> StoreError {
    if is_session_lost(&e) {
        StoreError::SessionLost(e.to_string())
    } else {
        StoreError::Db(e)
    }
}

/// Opens a pool to `url`. The first connection is made eagerly so a wrong URL or a down server is
/// reported at start, not at the first request.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(store_error)?;
    match check_server(&pool).await {
        Err(StoreError::Db(e)) => Err(store_error(e)),
        r => r.map(|()| pool),
    }
}

/// A pool to `url` that connects on first use: for a read replica, which may be down when the
/// gateway starts (reads fall back to the primary meanwhile). Fails only on an unreadable URL.
pub fn connect_lazy(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy(url)?)
}

/// Checks the server is new enough and has the extensions the schema needs, saying what is wrong.
pub async fn check_server(pool: &PgPool) -> Result<(), StoreError> {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(pool)
        .await?;
    if version < 150_000 {
        return Err(StoreError::Migration(format!(
            "PostgreSQL {} is too old: Fleet Platform needs 15 or newer",
            version / 10_000
        )));
    }
    let missing: Vec<String> = sqlx::query_scalar(
        "SELECT e FROM unnest(ARRAY['postgis', 'pgrouting']) e
          WHERE NOT EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = e)",
    )
    .fetch_all(pool)
    .await?;
    if !missing.is_empty() {
        return Err(StoreError::Migration(format!(
            "the Postgres server lacks the extension(s) {}; on Debian/Ubuntu install them with: {}",
            missing.join(", "),
            cluster::install_command((version / 10_000) as u32)
        )));
    }
    Ok(())
}

/// Why the database did not answer a ping.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("{0}")]
    Db(#[from] sqlx::Error),
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
}

/// Round-trips a trivial query, with a timeout: the database fact of every health endpoint.
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<Duration, PingError> {
    let started = std::time::Instant::now();
    match tokio::time::timeout(
        timeout,
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool),
    )
    .await
    {
        Ok(Ok(_)) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(PingError::Timeout(timeout)),
    }
}
