//! The commands of `fleet`, one module per command group. Each module holds its clap arguments
//! and the wiring from them to the library crates; what is shared by several commands (which
//! database, scratch databases for benches, shutdown on a signal, logging) is here.

pub mod backup;
pub mod bench;
pub mod db;
pub mod fuel;
pub mod geo;
pub mod healthcheck;
pub mod import;
pub mod replay;
pub mod retention;
pub mod run;
pub mod simulate;
pub mod up;
pub mod users;

use std::io::IsTerminal;

use anyhow::{Context, Result};
use fleet_core::{Config, LogFormat, config::redact_url};
use fleet_store::cluster::{LocalCluster, PgInstall};
use fleet_store::sqlx::{self, PgPool};
use tokio_util::sync::CancellationToken;

/// JSON logs unless on a terminal (or as FLEET_LOG_FORMAT says); filter from FLEET_LOG / RUST_LOG.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter).unwrap_or_else(|e| {
        eprintln!(
            "warning: FLEET_LOG/RUST_LOG {:?} is not a valid filter ({e}); using \"info\"",
            config.log_filter
        );
        tracing_subscriber::EnvFilter::new("info")
    });
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.compact().init();
    }
}

/// The database a command uses, and the managed cluster behind it (if any).
pub struct Database {
    pub pool: PgPool,
    pub url: String,
    pub cluster: Option<LocalCluster>,
    started_cluster: bool,
}

pub fn local_cluster(config: &Config) -> Result<LocalCluster> {
    let install = PgInstall::discover(config.pg_bindir.as_deref())?;
    Ok(LocalCluster::new(install, &config.fleet_home)?)
}

pub async fn open_database(config: &Config) -> Result<Database> {
    let (url, cluster, started_cluster) = match &config.database_url {
        Some(url) => (url.expose().to_string(), None, false),
        None => {
            let cluster = local_cluster(config)?;
            let started = cluster
                .start()
                .await
                .context("starting the managed local Postgres")?;
            if started {
                tracing::info!(home = %config.fleet_home.display(), "started the managed local Postgres");
            }
            (
                cluster.url(fleet_store::cluster::DATABASE)?,
                Some(cluster),
                started,
            )
        }
    };
    let pool = fleet_store::connect(&url, config.db_max_connections)
        .await
        .with_context(|| format!("connecting to {}", redact_url(&url)))?;
    Ok(Database {
        pool,
        url,
        cluster,
        started_cluster,
    })
}

/// Cancels the returned token on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        tracing::info!("shutdown requested: finishing in-flight work");
        t.cancel();
    });
    token
}

pub async fn close(db: Database, stop_cluster: bool) -> Result<()> {
    db.pool.close().await;
    if stop_cluster
        && db.started_cluster
        && let Some(cluster) = db.cluster
    {
        cluster
            .stop()
            .context("stopping the managed local Postgres")?;
        tracing::info!("stopped the managed local Postgres");
    }
    Ok(())
}

/// Who runs a CLI command, for the audit log.
pub fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Opens the database, waits until it is at this binary's migration, runs `f`, and closes the
/// pool whatever `f` returned (one-shot commands).
pub async fn with_current_db<T, F, Fut>(config: &Config, f: F) -> Result<T>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let db = open_database(config).await?;
    let result =
        match fleet_store::migrate::wait_until_current(&db.pool, config.migration_wait).await {
            Ok(()) => f(db.pool.clone()).await,
            Err(e) => Err(e.into()),
        };
    close(db, false).await?;
    result
}

/// Runs `f` against a freshly migrated scratch database `fleet_bench` on the configured server,
/// dropped afterwards whatever happens.
pub async fn with_scratch_db<T, F, Fut>(config: &Config, f: F) -> Result<T>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let db = open_database(config).await?;
    let (server, _) = db
        .url
        .rsplit_once('/')
        .context("the database URL names no database")?;
    let scratch_url = format!("{server}/fleet_bench");
    sqlx_admin(&db.pool, "DROP DATABASE IF EXISTS fleet_bench WITH (FORCE)").await?;
    sqlx_admin(&db.pool, "CREATE DATABASE fleet_bench")
        .await
        .context("creating the scratch database fleet_bench (the user needs CREATEDB)")?;
    let result = async {
        let pool = fleet_store::connect(&scratch_url, 40).await?;
        fleet_store::migrate::run(&pool).await?;
        let out = f(pool.clone()).await;
        pool.close().await;
        out
    }
    .await;
    let dropped = sqlx_admin(&db.pool, "DROP DATABASE IF EXISTS fleet_bench WITH (FORCE)").await;
    close(db, true).await?;
    let out = result?;
    dropped?;
    Ok(out)
}

async fn sqlx_admin(pool: &PgPool, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(pool).await?;
    Ok(())
}
