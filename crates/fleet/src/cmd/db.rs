//! `fleet db`: the managed local Postgres cluster under FLEET_HOME.

use anyhow::{Result, bail};
use clap::Subcommand;
use fleet_core::{Config, config::redact_url};
use fleet_store::cluster::{ClusterStatus, LocalCluster};

use super::local_cluster;

#[derive(Subcommand)]
pub enum DbAction {
    /// Create (first time) and start the local cluster, and create the `fleet` database.
    Start,
    /// Stop the local cluster.
    Stop,
    /// Say whether the local cluster exists and runs, and where.
    Status,
    /// Print a connection URL for the `fleet` database that `psql` accepts: psql "$(fleet db psql-url)".
    PsqlUrl,
}

pub async fn run(config: Config, action: DbAction) -> Result<()> {
    match action {
        DbAction::Start => start(config).await,
        DbAction::Stop => stop(config),
        DbAction::Status => status(config),
        DbAction::PsqlUrl => psql_url(config),
    }
}

fn require_local(config: &Config, what: &str) -> Result<LocalCluster> {
    if config.database_url.is_some() {
        bail!(
            "`fleet db {what}` manages the local cluster, but DATABASE_URL is set, so fleet uses that server instead; unset DATABASE_URL to use the local cluster"
        );
    }
    local_cluster(config)
}

async fn start(config: Config) -> Result<()> {
    let cluster = require_local(&config, "start")?;
    let started = cluster.start().await?;
    let url = cluster.url(fleet_store::cluster::DATABASE)?;
    println!(
        "{} the local cluster under {}\n  {}",
        if started {
            "started"
        } else {
            "already running:"
        },
        cluster.root().display(),
        redact_url(&url)
    );
    Ok(())
}

fn stop(config: Config) -> Result<()> {
    let cluster = require_local(&config, "stop")?;
    if cluster.stop()? {
        println!(
            "stopped the local cluster under {}",
            cluster.root().display()
        );
    } else {
        println!(
            "the local cluster under {} is not running",
            cluster.root().display()
        );
    }
    Ok(())
}

fn status(config: Config) -> Result<()> {
    let cluster = require_local(&config, "status")?;
    match cluster.status()? {
        ClusterStatus::NotCreated => println!(
            "not created (under {}): `fleet db start` creates it",
            cluster.root().display()
        ),
        ClusterStatus::Stopped => println!("stopped (under {})", cluster.root().display()),
        ClusterStatus::Running { port } => println!(
            "running on 127.0.0.1:{port} (under {})",
            cluster.root().display()
        ),
    }
    Ok(())
}

fn psql_url(config: Config) -> Result<()> {
    let cluster = require_local(&config, "psql-url")?;
    println!("{}", cluster.url(fleet_store::cluster::DATABASE)?);
    Ok(())
}
