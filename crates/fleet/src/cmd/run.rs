//! Running roles in this process: which loops, which listener, the local mode's simulator and
//! banner, and orderly shutdown on a signal.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use fleet_core::health::{Liveness, RoleResult};
use fleet_core::{Config, config::redact_url};
use fleet_serve::Health;
use fleet_store::sqlx;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::{Database, shutdown_on_signal};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    Worker,
    Cron,
}

/// Runs `roles` in this process with one HTTP listener on `addr` until a signal arrives.
pub async fn run_roles(
    config: &Config,
    db: &Database,
    roles: &[Role],
    addr: std::net::SocketAddr,
    local_mode: Option<Local>,
) -> Result<()> {
    let banner = local_mode.is_some();
    let shutdown = shutdown_on_signal();
    // The recorder first: a metric a role records before it exists is lost (the cron role's
    // first SLO measurement, at start, would not reach /metrics until the next minute).
    fleet_serve::metrics::install();
    let mut lives: Vec<Arc<Liveness>> = Vec::new();
    let mut tasks: JoinSet<(&'static str, RoleResult)> = JoinSet::new();
    // The listener and the simulated vendor come first, so the first poll finds them up.
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}: is another fleet already running? Set FLEET_LISTEN / FLEET_WORKER_LISTEN / FLEET_CRON_LISTEN to another address")
    })?;
    let local = listener.local_addr()?;
    if banner && config.sim_vehicles > 0 {
        let opts = fleet_jimi::sim::push::SimOptions {
            gateway: format!("http://{local}"),
            token: config
                .jimi_push_token
                .as_ref()
                .map(|t| t.expose().to_string())
                .unwrap_or_default(),
            vehicles: config.sim_vehicles,
            seed: config.sim_seed,
            speed: config.sim_speed,
            step_s: 1.0,
        };
        let sim =
            fleet_jimi::sim::new_sim(config.sim_vehicles, config.sim_seed, chrono::Utc::now())
                .map_err(|e| anyhow::anyhow!(e))?;
        let api = fleet_jimi::sim::openapi::router(
            sim.clone(),
            fleet_jimi::sim::openapi::ApiConfig::default(),
        );
        let api_listener = TcpListener::bind(config.sim_api_listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} for the simulated vendor API (FLEET_SIM_API_LISTEN)",
                    config.sim_api_listen
                )
            })?;
        let token = shutdown.clone();
        tasks.spawn(async move {
            (
                "simulator api",
                fleet_serve::serve(api_listener, api, token)
                    .await
                    .map_err(|e| e.into()),
            )
        });
        let token = shutdown.clone();
        tasks.spawn(async move {
            let stats = Arc::new(fleet_jimi::sim::push::SimStats::default());
            let r = fleet_jimi::sim::push::run(opts, sim, stats, token)
                .await
                .map_err(|e| e.into());
            ("simulator", r)
        });
        let roads: bool = sqlx::query_scalar("SELECT EXISTS (SELECT FROM geo.ways)")
            .fetch_one(&db.pool)
            .await?;
        if !roads {
            let r = fleet_geo::osm::load(&db.pool, fleet_geo::MONACO_PBF)
                .await
                .map_err(|e| anyhow::anyhow!("loading the built-in Monaco extract: {e}"))?;
            tracing::info!(
                ways = r.ways,
                pois = r.pois,
                places = r.places,
                addresses = r.addresses,
                "loaded the built-in Monaco extract for the offline basemap"
            );
        }
        if config.fuel_feed.is_none() {
            let (pool, token, seed) = (db.pool.clone(), shutdown.clone(), config.sim_seed);
            tasks.spawn(async move {
                (
                    "demo fuel log",
                    fleet_fuel::demo::seed_when_registered(pool, seed, token).await,
                )
            });
        }
    }
    for role in roles {
        match role {
            Role::Gateway => {
                let live = Liveness::new("gateway", Duration::from_secs(30));
                lives.push(live.clone());
                let token = shutdown.clone();
                // The gateway's liveness fact: its runtime keeps scheduling work.
                tasks.spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_secs(1));
                    loop {
                        tokio::select! {
                            _ = token.cancelled() => break,
                            _ = every.tick() => live.tick(),
                        }
                    }
                    ("gateway", Ok(()))
                });
            }
            Role::Worker => {
                let live = fleet_ingest::worker::liveness();
                lives.push(live.clone());
                // the map matcher beside the parser and projectors: it only reports in the
                // worker's health facts, and ingest never waits for it
                let (pool, matcher_live, token) = (db.pool.clone(), live.clone(), shutdown.clone());
                tasks.spawn(async move {
                    fleet_geo::matching::project::run(pool, matcher_live, token).await;
                    ("map matcher", Ok(()))
                });
                // the geocoder likewise: addresses for what the views show, allowed to fall behind
                let (pool, geo_live, token) = (db.pool.clone(), live.clone(), shutdown.clone());
                let nominatim = config
                    .nominatim_url
                    .as_deref()
                    .map(fleet_geo::nominatim::Nominatim::new);
                tasks.spawn(async move {
                    fleet_geo::geocode::run(pool, geo_live, token, nominatim).await;
                    ("geocoder", Ok(()))
                });
                let (pool, token) = (db.pool.clone(), shutdown.clone());
                tasks.spawn(async move {
                    ("worker", fleet_ingest::worker::run(pool, live, token).await)
                });
            }
            Role::Cron => {
                let live = fleet_cron::liveness();
                lives.push(live.clone());
                let (pool, token) = (db.pool.clone(), shutdown.clone());
                let ctx = fleet_cron::Context::from_config(config, &db.pool, banner)?;
                tasks.spawn(async move {
                    (
                        "cron",
                        fleet_cron::run(pool, fleet_cron::jobs(&ctx), live, token).await,
                    )
                });
            }
        }
    }
    let health = Health::new(db.pool.clone(), lives.clone());
    let router = if roles.contains(&Role::Gateway) {
        let mut cfg = fleet_serve::gateway::GatewayConfig::from_config(config)?;
        cfg.shutdown = shutdown.clone();
        let reads = match &config.database_read_url {
            None => fleet_serve::reads::Reads::primary_only(db.pool.clone()),
            Some(url) => {
                let replica = fleet_store::connect_lazy(url.expose(), config.db_max_connections)
                    .with_context(|| format!("DATABASE_READ_URL {}", redact_url(url.expose())))?;
                let reads = fleet_serve::reads::Reads::with_replica(db.pool.clone(), replica);
                reads.check().await;
                if let Some(live) = lives.iter().find(|l| l.role() == "gateway") {
                    let (r, live, token) = (reads.clone(), live.clone(), shutdown.clone());
                    tasks.spawn(async move {
                        r.monitor(live, token).await;
                        ("replica monitor", Ok(()))
                    });
                }
                reads
            }
        };
        let areas = fleet_serve::gateway::areas_reading(db.pool.clone(), reads, cfg);
        fleet_serve::gateway_router(health, areas)
    } else {
        fleet_serve::finish(fleet_serve::ops_router(health))
    };
    let token = shutdown.clone();
    tasks.spawn(async move {
        let r = fleet_serve::serve(listener, router, token)
            .await
            .map_err(|e| e.into());
        ("http", r)
    });
    let names: Vec<&str> = roles
        .iter()
        .map(|r| match r {
            Role::Gateway => "gateway",
            Role::Worker => "worker",
            Role::Cron => "cron",
        })
        .collect();
    tracing::info!(listen = %local, roles = ?names, "fleet is running");
    if banner {
        print_banner(config, db, local, &names, local_mode.as_ref());
        if let Some(l) = &local_mode {
            l.shown.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let mut failure: Option<anyhow::Error> = None;
    while let Some(joined) = tasks.join_next().await {
        let (name, result) = match joined {
            Ok(v) => v,
            Err(e) => ("task", Err(e.into())),
        };
        if let Err(e) = result {
            tracing::error!(role = name, error = %e, "a role stopped with an error; shutting down");
            failure.get_or_insert_with(|| anyhow::anyhow!("{name}: {e}"));
        }
        shutdown.cancel();
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What only the local mode (`fleet up`) has.
pub struct Local {
    /// The admin account's name and generated password, when this run created it.
    pub admin: Option<(String, String)>,
    /// Set once the banner (with that password) is printed.
    pub shown: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn print_banner(
    config: &Config,
    db: &Database,
    addr: std::net::SocketAddr,
    roles: &[&str],
    local: Option<&Local>,
) {
    let health: Vec<String> = roles
        .iter()
        .map(|r| format!("http://{addr}/health/{r}"))
        .collect();
    let where_db = match &db.cluster {
        Some(c) => format!("managed local cluster under {}", c.root().display()),
        None => "DATABASE_URL".to_string(),
    };
    let push = match (
        &config.jimi_push_token,
        std::env::var("JIMI_PUSH_TOKEN").is_ok(),
    ) {
        (Some(_), true) => format!("http://{addr}/push/jimi/<path> (token from JIMI_PUSH_TOKEN)"),
        (Some(t), false) => format!(
            "http://{addr}/push/jimi/<path> (token for this run: {})",
            t.expose()
        ),
        (None, _) => "disabled: set JIMI_PUSH_TOKEN to accept vendor pushes".to_string(),
    };
    let sim = if config.sim_vehicles > 0 {
        let d = fleet_jimi::sim::openapi::ApiConfig::default();
        format!(
            "{} simulated vehicles on the streets of Monaco, at {}x real time (FLEET_SIM_VEHICLES=0 turns it off)\n  vendor:   simulated Open API at http://{}/route/rest (app_key {}, secret {}, user {} / {}), polled by the cron role{}",
            config.sim_vehicles,
            config.sim_speed,
            config.sim_api_listen,
            d.app_key,
            d.app_secret,
            d.user_id,
            d.password,
            if config.vendor.is_some() {
                " (JIMI_API_BASE is set: the cron role polls that instead)"
            } else {
                ""
            }
        )
    } else {
        "off (FLEET_SIM_VEHICLES=0)".to_string()
    };
    let login = match local.and_then(|l| l.admin.as_ref()) {
        Some((name, p)) => format!("{name} / {p}   (created now and shown only this once; `fleet users` manages accounts)"),
        None => "your accounts (`fleet users list`; `fleet users add NAME --scopes read:fleet` adds one)".to_string(),
    };
    println!(
        "\nFleet Platform is running at http://{addr}/\n  login:    {login}\n  token:    curl -s -X POST http://{addr}/api/auth/token -H 'content-type: application/json' -d '{{\"username\":\"admin\",\"password\":\"...\"}}'\n  health:   {}\n  api:      http://{addr}/api/docs (every endpoint; live view: http://{addr}/api/views/live with the token)\n  slo:      http://{addr}/api/slo (bearer token, read:fleet)\n  metrics:  http://{addr}/metrics\n  pushes:   {push}\n  fleet:    {sim}\n  database: {} ({where_db})\nPress Ctrl-C to stop.\n",
        health.join("  "),
        redact_url(&db.url),
    );
}
