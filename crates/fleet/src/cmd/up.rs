//! `fleet up` (every role in one process, with the managed cluster and a simulated fleet), the
//! single roles `fleet gateway` / `worker` / `cron`, and `fleet migrate`.

use anyhow::Result;
use fleet_core::Config;

use super::run::{Local, Role, run_roles};
use super::{close, open_database};

pub async fn up(mut config: Config) -> Result<()> {
    // Local mode accepts vendor pushes (its own simulator's, at least): without a configured
    // token, one is made for this run.
    if config.jimi_push_token.is_none() {
        config.jimi_push_token = Some(fleet_store::cluster::random_hex(16)?.into());
    }
    // Tokens signed with a per-run key stop working when `fleet up` restarts: fine locally.
    if config.jwt_secret.is_none() {
        config.jwt_secret = Some(fleet_store::cluster::random_hex(32)?.into());
    }
    let db = open_database(&config).await?;
    let result = async {
        let report = fleet_store::migrate::run(&db.pool).await?;
        tracing::info!(
            applied = report.applied.len(),
            already = report.already,
            "database is current"
        );
        let admin = fleet_serve::auth::ensure_local_admin(&db.pool)
            .await
            .map_err(|e| anyhow::anyhow!("creating the local admin account: {e}"))?;
        run_roles(
            &config,
            &db,
            &[Role::Gateway, Role::Worker, Role::Cron],
            config.listen,
            Some(Local {
                admin_password: admin,
            }),
        )
        .await
    }
    .await;
    // Local mode owns its cluster: stop it whatever happened above.
    let closed = close(db, true).await;
    result.and(closed)
}

pub async fn gateway(config: Config) -> Result<()> {
    standalone(&config, Role::Gateway, config.listen).await
}

pub async fn worker(config: Config) -> Result<()> {
    standalone(&config, Role::Worker, config.worker_listen).await
}

pub async fn cron(config: Config) -> Result<()> {
    standalone(&config, Role::Cron, config.cron_listen).await
}

/// One role in its own process: the worker applies migrations, the others wait for them.
async fn standalone(config: &Config, role: Role, addr: std::net::SocketAddr) -> Result<()> {
    let db = open_database(config).await?;
    if let Some(name) = match role {
        Role::Worker => Some("worker"),
        Role::Cron => Some("cron"),
        Role::Gateway => None,
    } {
        fleet_store::direct::require_sessions(&db.pool, name, std::time::Duration::from_secs(5))
            .await?;
    }
    if role == Role::Worker {
        fleet_store::migrate::run(&db.pool).await?;
    } else {
        fleet_store::migrate::wait_until_current(&db.pool, config.migration_wait).await?;
    }
    let r = run_roles(config, &db, &[role], addr, None).await;
    close(db, false).await?;
    r
}

pub async fn migrate(config: Config) -> Result<()> {
    let db = open_database(&config).await?;
    let report = fleet_store::migrate::run(&db.pool).await?;
    for (v, name, took) in &report.applied {
        println!("applied {v:04}_{name} ({} ms)", took.as_millis());
    }
    println!(
        "database is at migration {} ({} applied now, {} already; {} partitions created)",
        fleet_store::migrate::latest_version(),
        report.applied.len(),
        report.already,
        report.partitions_created
    );
    close(db, false).await
}
