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
    // one `fleet up` per FLEET_HOME: a second would share the first's cluster and lose it when
    // the first stops (the lock goes with the process, however it ends)
    let _lock = match &config.database_url {
        None => Some(lock_home(&config.fleet_home)?),
        Some(_) => None,
    };
    let db = open_database(&config).await?;
    // the managed cluster is started again if it stops under a running `fleet up`
    let keeper = db
        .cluster
        .clone()
        .map(|cluster| tokio::spawn(keep_running(cluster)));
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
        let made = admin.as_ref().map(|a| a.0.clone());
        let shown = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = run_roles(
            &config,
            &db,
            &[Role::Gateway, Role::Worker, Role::Cron],
            config.listen,
            Some(Local {
                admin,
                shown: shown.clone(),
            }),
        )
        .await;
        // failed before the banner showed the new admin's password: the account goes too
        if r.is_err()
            && !shown.load(std::sync::atomic::Ordering::SeqCst)
            && let Some(name) = made
            && let Err(e) = fleet_serve::auth::forget_unshown_admin(&db.pool, &name).await
        {
            tracing::warn!(error = %e, account = %name, "could not remove the admin account this failed run made");
        }
        r
    }
    .await;
    if let Some(k) = keeper {
        k.abort();
    }
    // Local mode owns its cluster: stop it whatever happened above.
    let closed = close(db, true).await;
    result.and(closed)
}

/// Holds `FLEET_HOME/fleet-up.lock` for as long as the process runs; refuses when another
/// `fleet up` holds it.
fn lock_home(home: &std::path::Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(home)
        .map_err(|e| anyhow::anyhow!("creating FLEET_HOME {}: {e}", home.display()))?;
    let path = home.join("fleet-up.lock");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another `fleet up` (pid {}) is running with FLEET_HOME={}: stop it first (Ctrl-C), or give this one its own FLEET_HOME and FLEET_LISTEN",
                pid.trim(),
                home.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            anyhow::bail!("locking {}: {e}", path.display())
        }
    }
    use std::io::{Seek, Write};
    let _ = file.set_len(0);
    let _ = file.seek(std::io::SeekFrom::Start(0));
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

/// Every 5 s: when the managed cluster has stopped (killed, crashed, stopped by hand), starts
/// it again; the roles' pools reconnect by themselves.
async fn keep_running(cluster: fleet_store::cluster::LocalCluster) {
    use fleet_store::cluster::ClusterStatus;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let c = cluster.clone();
        let status = tokio::task::spawn_blocking(move || c.status()).await;
        if matches!(status, Ok(Ok(ClusterStatus::Stopped))) {
            tracing::warn!("the managed local Postgres has stopped; starting it again");
            match cluster.start().await {
                Ok(_) => tracing::warn!("the managed local Postgres is running again"),
                Err(e) => {
                    tracing::error!(error = %e, "could not start the managed local Postgres again; retrying in 5 s")
                }
            }
        }
    }
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
