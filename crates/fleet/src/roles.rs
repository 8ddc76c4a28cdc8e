//! Role wiring: which database, which loops, which listener, and orderly shutdown.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fleet_core::health::{Liveness, RoleResult};
use fleet_core::{Config, LogFormat, config::redact_url};
use fleet_serve::Health;
use fleet_store::cluster::{ClusterStatus, LocalCluster, PgInstall};
use fleet_store::sqlx::{self, PgPool};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
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
struct Database {
    pool: PgPool,
    url: String,
    cluster: Option<LocalCluster>,
    started_cluster: bool,
}

fn local_cluster(config: &Config) -> Result<LocalCluster> {
    let install = PgInstall::discover(config.pg_bindir.as_deref())?;
    Ok(LocalCluster::new(install, &config.fleet_home)?)
}

async fn open_database(config: &Config) -> Result<Database> {
    let (url, cluster, started_cluster) = match &config.database_url {
        Some(url) => (url.clone(), None, false),
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
fn shutdown_on_signal() -> CancellationToken {
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Gateway,
    Worker,
    Cron,
}

/// Runs `roles` in this process with one HTTP listener on `addr` until a signal arrives.
async fn run_roles(
    config: &Config,
    db: &Database,
    roles: &[Role],
    addr: std::net::SocketAddr,
    local_mode: Option<Local>,
) -> Result<()> {
    let banner = local_mode.is_some();
    let shutdown = shutdown_on_signal();
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
            token: config.jimi_push_token.clone().unwrap_or_default(),
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
                "loaded the built-in Monaco extract for the offline basemap"
            );
        }
        if config.fuel_feed.is_none() {
            let (pool, token, seed) = (db.pool.clone(), shutdown.clone(), config.sim_seed);
            tasks.spawn(async move { ("demo fuel log", demo_fuel_log(pool, seed, token).await) });
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
                let (pool, token) = (db.pool.clone(), shutdown.clone());
                tasks.spawn(async move {
                    ("worker", fleet_ingest::worker::run(pool, live, token).await)
                });
            }
            Role::Cron => {
                let live = fleet_cron::liveness();
                lives.push(live.clone());
                let (pool, token) = (db.pool.clone(), shutdown.clone());
                let ctx = cron_context(config, &db.pool, banner)?;
                tasks.spawn(async move {
                    (
                        "cron",
                        fleet_cron::run(pool, fleet_cron::jobs(&ctx), live, token).await,
                    )
                });
            }
        }
    }
    let health = Health::new(db.pool.clone(), lives);
    let router = if roles.contains(&Role::Gateway) {
        let push = fleet_serve::push::PushConfig {
            jimi_token: config.jimi_push_token.clone(),
            secrets: config.push_secrets.clone(),
            max_bytes: config.push_max_bytes,
            mirror_url: config.push_mirror_url.clone(),
        };
        let Some(secret) = &config.jwt_secret else {
            bail!(
                "the gateway signs API tokens with FLEET_JWT_SECRET, which is not set: set it to a long random string (e.g. openssl rand -hex 32) shared by every gateway"
            );
        };
        let areas = fleet_serve::gateway::areas(
            db.pool.clone(),
            fleet_serve::gateway::GatewayConfig {
                push,
                auth: fleet_serve::auth::AuthConfig {
                    secret: secret.as_bytes().to_vec(),
                    access_ttl: config.access_token_ttl,
                    refresh_ttl: config.refresh_token_ttl,
                },
                limits: fleet_serve::limit::RateLimits {
                    dashboard: config.rate_dashboard_per_min,
                    routes: config.rate_routes_per_min,
                    push: config.rate_push_per_min,
                    login: config.rate_login_per_min,
                },
                cors_origins: config.cors_origins.clone(),
                pages: fleet_serve::pages::PagesConfig {
                    map_style: config.map_style_url.clone(),
                },
            },
        );
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

/// What the cron jobs need: the vendor account from `JIMI_*` (or, in `fleet up` with the
/// simulator and no account configured, the simulated vendor), and the alert webhook.
fn cron_context(config: &Config, pool: &PgPool, simulated: bool) -> Result<fleet_cron::Context> {
    let vendor = match (&config.vendor, config.sim_vehicles > 0) {
        (Some(v), _) => Some(v.clone()),
        (None, true) if simulated => Some(
            fleet_jimi::sim::openapi::ApiConfig::default()
                .vendor(&format!("http://{}", config.sim_api_listen)),
        ),
        _ => None,
    };
    let vendor = match vendor {
        Some(v) => {
            tracing::info!(base = %v.base_url, targets = ?v.targets, "vendor polling is on");
            Some(Arc::new(fleet_cron::polls::Vendor::new(&v, pool)?))
        }
        None => {
            tracing::info!(
                "vendor polling is off: set JIMI_API_BASE and the JIMI_* credentials to poll the Open API"
            );
            None
        }
    };
    let fuel = match &config.fuel_feed {
        Some(f) => {
            tracing::info!(endpoint = %f.endpoint, bucket = %f.bucket, prefix = %f.prefix, "hourly fuel snapshot import is on");
            Some(Arc::new(fleet_fuel::s3::Bucket::new(f.clone())?))
        }
        None => None,
    };
    Ok(fleet_cron::Context {
        vendor,
        alert_webhook: config.alert_webhook_url.clone(),
        fuel,
    })
}

/// The local demo's fuel log: once the first vendor poll has registered the simulated vehicles,
/// a month of generated fills for them (only into an empty fuel log). Runs until shutdown, as
/// every role task does.
async fn demo_fuel_log(pool: PgPool, seed: u64, token: CancellationToken) -> RoleResult {
    use fleet_fuel::demo::{self, Seeded};
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let mut seen = -1i64;
    loop {
        // The first poll registers the vehicles one device at a time: wait until the count
        // holds still, so the month covers the whole fleet.
        let vehicles: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.vehicles")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        let settled = vehicles > 0 && vehicles == seen;
        seen = vehicles;
        let outcome = if settled {
            demo::seed(&pool, seed, 31).await
        } else {
            Ok(Seeded::NoVehicles)
        };
        let wait = match outcome {
            Ok(Seeded::Imported(r)) => {
                tracing::info!(
                    records = r.counts.records,
                    rejected = r.counts.rejected,
                    incomplete = r.counts.incomplete,
                    "demo fuel log: a month of generated fills imported"
                );
                None
            }
            Ok(Seeded::AlreadyHasRecords) => None,
            Ok(Seeded::NoVehicles) if tokio::time::Instant::now() < deadline => {
                Some(Duration::from_secs(5))
            }
            Ok(Seeded::NoVehicles) => {
                tracing::warn!(
                    "demo fuel log: no vehicles registered after 10 minutes; not seeded"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "demo fuel log: not seeded");
                None
            }
        };
        let Some(wait) = wait else { break };
        tokio::select! {
            _ = token.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
    token.cancelled().await;
    Ok(())
}

/// What only the local mode (`fleet up`) has.
struct Local {
    /// The generated admin password, when this run created the admin account.
    admin_password: Option<String>,
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
        (Some(t), false) => format!("http://{addr}/push/jimi/<path> (token for this run: {t})"),
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
    let login = match local.and_then(|l| l.admin_password.as_deref()) {
        Some(p) => format!("admin / {p}   (created now and shown only this once; `fleet users` manages accounts)"),
        None => "your accounts (`fleet users list`; `fleet users add NAME --scopes read:fleet` adds one)".to_string(),
    };
    println!(
        "\nFleet Platform is running at http://{addr}/\n  login:    {login}\n  token:    curl -s -X POST http://{addr}/api/auth/token -H 'content-type: application/json' -d '{{\"username\":\"admin\",\"password\":\"...\"}}'\n  health:   {}\n  api:      http://{addr}/api/docs (every endpoint; live view: http://{addr}/api/views/live with the token)\n  slo:      http://{addr}/api/slo (bearer token, read:fleet)\n  metrics:  http://{addr}/metrics\n  pushes:   {push}\n  fleet:    {sim}\n  database: {} ({where_db})\nPress Ctrl-C to stop.\n",
        health.join("  "),
        redact_url(&db.url),
    );
}

async fn close(db: Database, stop_cluster: bool) -> Result<()> {
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

pub async fn up(mut config: Config) -> Result<()> {
    // Local mode accepts vendor pushes (its own simulator's, at least): without a configured
    // token, one is made for this run.
    if config.jimi_push_token.is_none() {
        config.jimi_push_token = Some(fleet_store::cluster::random_hex(16)?);
    }
    // Tokens signed with a per-run key stop working when `fleet up` restarts: fine locally.
    if config.jwt_secret.is_none() {
        config.jwt_secret = Some(fleet_store::cluster::random_hex(32)?);
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

fn require_local(config: &Config, what: &str) -> Result<LocalCluster> {
    if config.database_url.is_some() {
        bail!(
            "`fleet db {what}` manages the local cluster, but DATABASE_URL is set, so fleet uses that server instead; unset DATABASE_URL to use the local cluster"
        );
    }
    local_cluster(config)
}

pub async fn db_start(config: Config) -> Result<()> {
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

pub fn db_stop(config: Config) -> Result<()> {
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

pub fn db_status(config: Config) -> Result<()> {
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

pub fn db_psql_url(config: Config) -> Result<()> {
    let cluster = require_local(&config, "psql-url")?;
    println!("{}", cluster.url(fleet_store::cluster::DATABASE)?);
    Ok(())
}

fn parse_bound(flag: &str, value: Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let Some(v) = value else { return Ok(None) };
    let with_time = if v.len() == 10 {
        format!("{v} 00:00:00")
    } else {
        v.clone()
    };
    fleet_core::jimi::parse_time(&with_time)
        .map(Some)
        .ok_or_else(|| anyhow::anyhow!("{flag} {v:?} is not a time: use 2026-11-01, \"2026-11-01 06:00:00\" (UTC) or RFC 3339"))
}

/// Who runs a CLI command, for the audit log.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

pub async fn users_add(
    config: Config,
    name: &str,
    scopes: &str,
    password: Option<String>,
    service: bool,
) -> Result<()> {
    use fleet_serve::auth;
    let scopes = auth::parse_scopes(scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
    let (password, generated) = match password.as_deref() {
        Some("-") => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            (line.trim_end_matches(['\r', '\n']).to_string(), false)
        }
        Some(p) => (p.to_string(), false),
        None => (
            auth::random_token(12).map_err(|e| anyhow::anyhow!(e))?,
            true,
        ),
    };
    let (pw, sc) = (&password, &scopes);
    with_current_db(&config, |pool| async move {
        auth::add_account(&pool, name, pw, sc, service, &cli_actor())
            .await
            .map_err(|e| anyhow::anyhow!(e))
    })
    .await?;
    println!("added {name} with scopes {}", scopes.join(","));
    if generated {
        println!("password: {password}   (shown only this once)");
    }
    Ok(())
}

pub async fn users_list(config: Config) -> Result<()> {
    let accounts = with_current_db(&config, |pool| async move {
        Ok(fleet_serve::auth::list_accounts(&pool).await?)
    })
    .await;
    println!("{:<24} {:<8} {:<36} status", "account", "kind", "scopes");
    for a in accounts? {
        let status = match a.disabled_at {
            Some(t) => format!("disabled {}", t.format("%Y-%m-%d %H:%M UTC")),
            None => "active".into(),
        };
        println!(
            "{:<24} {:<8} {:<36} {status}",
            a.username,
            a.kind,
            a.scopes.join(",")
        );
    }
    Ok(())
}

/// Disables an account (`scopes` = None) or replaces its scopes.
pub async fn users_change(config: Config, name: &str, scopes: Option<&str>) -> Result<()> {
    use fleet_serve::auth::{self, AccountChange};
    let parsed = match scopes {
        Some(s) => Some(auth::parse_scopes(s).map_err(|e| anyhow::anyhow!("scopes: {e}"))?),
        None => None,
    };
    let change = match &parsed {
        Some(s) => AccountChange::Scopes(s),
        None => AccountChange::Disable,
    };
    with_current_db(&config, |pool| async move {
        auth::change_account(&pool, name, change, &cli_actor())
            .await
            .map_err(|e| anyhow::anyhow!(e))
    })
    .await?;
    match parsed {
        Some(s) => println!("{name} now has scopes {}", s.join(",")),
        None => println!("{name} is disabled; its tokens no longer work"),
    }
    Ok(())
}

/// `fleet import devices`: reads and checks the file, shows what it would change, and with
/// `--apply` appends it to the event log and waits (briefly) for the worker to apply it.
pub async fn import_devices(
    config: Config,
    file: &std::path::Path,
    apply: bool,
    account: Option<&str>,
) -> Result<()> {
    use fleet_ingest::registry;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = fleet_core::registry::parse(&bytes, account)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (parsed, bytes) = (&parsed, &bytes);
    with_current_db(&config, |pool| async move {
        let plan = registry::plan(&pool, parsed).await?;
        let c = registry::count(&plan);
        println!(
            "registry import of {} ({})",
            file.display(),
            if apply { "applying" } else { "dry run: nothing is written; add --apply to import" }
        );
        println!(
            "  {} rows read, {} unreadable{}",
            parsed.rows.len(),
            parsed.errors.len(),
            if parsed.ignored_columns.is_empty() {
                String::new()
            } else {
                format!(", columns ignored: {}", parsed.ignored_columns.join(", "))
            }
        );
        println!(
            "  {}: {} new devices, {} account changes, {} new vehicles, {} vehicles updated, {} fittings, {} new drivers, {} driver changes; {} rows unchanged",
            if apply { "changes" } else { "would change" },
            c.new_devices, c.account_changes, c.new_vehicles, c.updated_vehicles, c.fittings, c.new_drivers, c.driver_changes, c.unchanged_rows
        );
        for p in plan.iter().filter(|p| !p.changes().is_empty()) {
            println!("  line {:<5} {:<16} {}", p.line, p.imei, p.changes().join("; "));
        }
        if !parsed.errors.is_empty() {
            println!("  unreadable lines (kept in the event log with the import, never applied):");
            for e in &parsed.errors {
                println!("  line {:<5} {}", e.line, e.error);
            }
        }
        if !apply {
            return Ok(());
        }
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let id = registry::append(&pool, bytes, &name, account).await?;
        let applied = wait_parsed(&pool, id).await?;
        match applied {
            Some(_) => println!("applied: event log row {id}; {} rows projected into the registry", parsed.rows.len()),
            None => println!(
                "appended as event log row {id}; no worker has applied it yet: it will be applied when `fleet worker` (or `fleet up`) runs"
            ),
        }
        Ok(())
    })
    .await
}

/// Waits up to 30 s for the worker to parse raw row `id`.
async fn wait_parsed(pool: &PgPool, id: i64) -> Result<Option<Option<String>>> {
    for _ in 0..300 {
        if let Some(state) = fleet_ingest::registry::parse_state(pool, id).await? {
            return Ok(Some(state));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(None)
}

pub async fn replay(
    config: Config,
    reparse: bool,
    from: Option<String>,
    to: Option<String>,
    only_version: Option<i32>,
    rebuild: Vec<String>,
) -> Result<()> {
    use fleet_ingest::{project, replay};
    if !reparse && rebuild.is_empty() {
        bail!(
            "say what to replay: --reparse (with --from/--to) and/or --rebuild TABLE (one of: {}, or all)",
            project::tables().join(", ")
        );
    }
    if !reparse && (from.is_some() || to.is_some() || only_version.is_some()) {
        bail!("--from, --to and --only-parser-version go with --reparse");
    }
    let (from, to) = (parse_bound("--from", from)?, parse_bound("--to", to)?);
    let tables: Vec<String> = if rebuild.iter().any(|t| t == "all") {
        project::tables().into_iter().map(String::from).collect()
    } else {
        rebuild
    };
    for t in &tables {
        if !project::tables().contains(&t.as_str()) {
            bail!(
                "--rebuild {t:?} is not a projected state table; choose one of: {}, or all",
                project::tables().join(", ")
            );
        }
    }
    with_current_db(&config, |pool| async move {
        if reparse {
            let started = std::time::Instant::now();
            let n = replay::reparse(
                &pool,
                from,
                to,
                only_version,
                &mut replay::printer("re-parse", "events"),
            )
            .await?;
            println!(
                "re-parsed {n} raw rows in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        for t in &tables {
            let started = std::time::Instant::now();
            let n = replay::rebuild(
                &pool,
                t,
                replay::BATCH,
                &mut replay::printer("rebuild", "events"),
            )
            .await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "rebuilt {t} from {n} events in {secs:.1} s ({:.0} events/s)",
                n as f64 / secs.max(1e-6)
            );
        }
        Ok(())
    })
    .await
}

/// Opens the database, waits until it is at this binary's migration, runs `f`, and closes the
/// pool whatever `f` returned (one-shot commands).
async fn with_current_db<T, F, Fut>(config: &Config, f: F) -> Result<T>
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
async fn with_scratch_db<T, F, Fut>(config: &Config, f: F) -> Result<T>
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

/// How a benchmark line ends.
fn verdict(met: bool) -> &'static str {
    if met { "meets target" } else { "MISSES target" }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

pub async fn bench_polls(config: Config, devices: usize) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_cron::bench::run(pool, devices, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench polls ({} cores, Postgres and the simulated vendor on this machine)",
        cores()
    );
    for j in &r.jobs {
        println!(
            "  {:<13} {:>8.0} ms  {:>5} calls  {:>6} rows",
            j.job, j.ms, j.calls, j.rows
        );
    }
    println!(
        "  full cycle of {} devices, end to end into state: {:.1} s ({} vendor calls; {} live positions, {} history rows)   target < 60 s: {}",
        r.devices,
        r.end_to_end_ms / 1000.0,
        r.calls,
        r.live_positions,
        r.history_rows,
        verdict(r.end_to_end_ms < 60_000.0)
    );
    let pace = Duration::from_millis(fleet_core::config::DEFAULT_VENDOR_PACE_MS.into());
    if let Some(slowest) = r.jobs.iter().max_by_key(|j| j.calls) {
        println!(
            "  with the default client pacing ({} ms between calls of one method), {} alone needs at least {:.0} s: polling is bound by the vendor, not the platform",
            pace.as_millis(),
            slowest.job,
            slowest.calls as f64 * pace.as_secs_f64()
        );
    }
    Ok(())
}

pub async fn bench_ingest(config: Config, params: fleet_serve::bench::BenchParams) -> Result<()> {
    let p = params.clone();
    let r = with_scratch_db(&config, |pool| async move {
        fleet_serve::bench::run(pool, &p, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench ingest ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  acceptance  {:>9.0} pushes/s   ack p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} accepted, {} failed)   target >= 5000/s, p99 < 25 ms: {}",
        r.pushes_per_s,
        r.ack_ms.p50,
        r.ack_ms.p95,
        r.ack_ms.p99,
        r.accepted,
        r.failed,
        verdict(r.pushes_per_s >= 5000.0 && r.ack_ms.p99 < 25.0)
    );
    println!(
        "  freshness   at {} pushes/s   push -> live p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} samples, {} never seen)   target p95 < 50 ms: {}",
        params.rate,
        r.freshness_ms.p50,
        r.freshness_ms.p95,
        r.freshness_ms.p99,
        r.fresh_samples,
        r.fresh_missing,
        verdict(r.freshness_ms.p95 < 50.0 && r.fresh_missing == 0)
    );
    println!(
        "  replay      {:>9.0} events/s  ({} events into state.position_history)   target >= 50000/s: {}",
        r.replay_events_per_s,
        r.replay_events,
        verdict(r.replay_events_per_s >= 50_000.0)
    );
    Ok(())
}

async fn sqlx_admin(pool: &PgPool, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(pool).await?;
    Ok(())
}

pub async fn simulate(
    gateway: String,
    token: String,
    vehicles: usize,
    seed: u64,
    speed: f64,
    api_listen: Option<std::net::SocketAddr>,
    api: fleet_jimi::sim::openapi::ApiConfig,
) -> Result<()> {
    if !(0.1..=1000.0).contains(&speed) {
        bail!(
            "--speed {speed} is out of range: use simulated seconds per real second from 0.1 to 1000"
        );
    }
    if !(gateway.starts_with("http://") || gateway.starts_with("https://")) {
        bail!("--gateway {gateway:?} must be a URL such as http://127.0.0.1:8080");
    }
    let shutdown = shutdown_on_signal();
    let stats = Arc::new(fleet_jimi::sim::push::SimStats::default());
    let opts = fleet_jimi::sim::push::SimOptions {
        gateway,
        token,
        vehicles,
        seed,
        speed,
        step_s: 1.0,
    };
    let report = {
        let (stats, token) = (stats.clone(), shutdown.clone());
        tokio::spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            let mut every = tokio::time::interval(Duration::from_secs(10));
            every.tick().await;
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = every.tick() => tracing::info!(
                        pushes = stats.pushes_ok.load(Relaxed), items = stats.items_ok.load(Relaxed),
                        retries = stats.retries.load(Relaxed), dropped = stats.dropped.load(Relaxed), "simulator"),
                }
            }
        })
    };
    let sim = fleet_jimi::sim::new_sim(vehicles, seed, chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!(e))?;
    let api_task = match api_listen {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--api-listen)"))?;
            println!(
                "simulated vendor Open API at http://{}/route/rest{}",
                listener.local_addr()?,
                if api.drift { " (drift mode)" } else { "" }
            );
            let router = fleet_jimi::sim::openapi::router(sim.clone(), api);
            Some(tokio::spawn(fleet_serve::serve(
                listener,
                router,
                shutdown.clone(),
            )))
        }
        None => None,
    };
    let r = fleet_jimi::sim::push::run(opts, sim, stats.clone(), shutdown.clone()).await;
    if let Some(t) = api_task {
        let _ = t.await;
    }
    shutdown.cancel();
    let _ = report.await;
    use std::sync::atomic::Ordering::Relaxed;
    println!(
        "simulator stopped: {} pushes ({} items) delivered, {} retries, {} dropped",
        stats.pushes_ok.load(Relaxed),
        stats.items_ok.load(Relaxed),
        stats.retries.load(Relaxed),
        stats.dropped.load(Relaxed)
    );
    r.map_err(|e| anyhow::anyhow!(e))
}

pub async fn bench_views(
    config: Config,
    params: fleet_serve::bench_views::ViewParams,
) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_serve::bench_views::run(pool, params, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench views ({} cores, Postgres on this machine, over HTTP through the gateway)",
        cores()
    );
    println!(
        "  live view, {} vehicles ({} trackers): p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} kB)   target p95 < 25 ms: {}",
        r.vehicles,
        r.devices,
        r.live_ms.p50,
        r.live_ms.p95,
        r.live_ms.p99,
        r.live_bytes / 1024,
        verdict(r.live_ms.p95 < 25.0)
    );
    println!(
        "  history, one vehicle, {} fixes: p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} track points at zoom 12, {} kB)   target p95 < 300 ms: {}",
        r.history_fixes,
        r.history_ms.p50,
        r.history_ms.p95,
        r.history_ms.p99,
        r.history_points,
        r.history_bytes / 1024,
        verdict(r.history_ms.p95 < 300.0)
    );
    Ok(())
}

/// Where `fleet import fuel` reads.
pub enum FuelFrom {
    Snapshot,
    Changes,
    File(std::path::PathBuf),
}

/// `fleet import fuel`: the plan (dry run) or the import, with a progress bar on a terminal.
pub async fn import_fuel(
    config: Config,
    from: FuelFrom,
    apply: bool,
    all_rejects: bool,
) -> Result<()> {
    use fleet_fuel::import;
    let bucket = match (&from, &config.fuel_feed) {
        (FuelFrom::File(_), _) => None,
        (_, Some(cfg)) => Some(fleet_fuel::s3::Bucket::new(cfg.clone())?),
        (_, None) => anyhow::bail!(
            "no fuel bucket is configured: set FLEET_FUEL_S3_ENDPOINT, FLEET_FUEL_S3_ACCESS_KEY and FLEET_FUEL_S3_SECRET_KEY (see .env.example), or import a file with --file PATH"
        ),
    };
    let report = with_current_db(&config, |pool| async move {
        let mut printer = fleet_ingest::replay::printer("fuel import", "records");
        let progress: Option<import::Progress<'_>> = Some(&mut printer);
        let r = match &from {
            FuelFrom::File(path) => import::file(&pool, path, apply, progress).await,
            FuelFrom::Snapshot | FuelFrom::Changes => {
                let b = bucket.as_ref().context("no fuel bucket is configured")?;
                if matches!(from, FuelFrom::Snapshot) {
                    import::snapshot(&pool, b, apply, progress).await
                } else {
                    import::changes(&pool, b, apply, progress).await
                }
            }
        };
        r.map_err(anyhow::Error::from)
    })
    .await?;
    let c = &report.counts;
    println!(
        "fuel import, {} ({}), run {}",
        match report.mode {
            import::Mode::Snapshot => "snapshot",
            import::Mode::Changes => "change files",
            import::Mode::File => "file",
        },
        if apply {
            "applied"
        } else {
            "dry run: nothing is written; add --apply to import"
        },
        report.run_id
    );
    if report.objects.is_empty() {
        println!(
            "  nothing new to read (watermark: {})",
            report.watermark.as_deref().unwrap_or("none yet")
        );
    }
    for o in &report.objects {
        println!("  read {o}");
    }
    println!(
        "  {} records: {} new, {} updated, {} deleted, {} unchanged; {} rejected (kept, listed in fuel.v_data_quality); {} incomplete (counted with a value missing)",
        c.records, c.inserted, c.updated, c.deleted, c.unchanged, c.rejected, c.incomplete
    );
    for (action, rows) in &report.samples {
        if action == "unchanged" {
            continue;
        }
        let limit = if action == "rejected" && all_rejects {
            usize::MAX
        } else {
            20
        };
        println!("  {action}:");
        for p in rows.iter().take(limit) {
            let problems: Vec<&str> = p
                .errors
                .iter()
                .chain(&p.warnings)
                .map(String::as_str)
                .collect();
            if problems.is_empty() {
                println!("    {}", p.record_id);
            } else {
                println!("    {}: {}", p.record_id, problems.join("; "));
            }
        }
    }
    if let Some(w) = &report.watermark {
        println!("  watermark: {w}");
    }
    Ok(())
}

/// `fleet import osm [FILE]`: roads and POIs from an OpenStreetMap extract.
pub async fn import_osm(config: Config, file: Option<&std::path::Path>) -> Result<()> {
    let bytes = match file {
        Some(f) => std::fs::read(f).with_context(|| {
            format!(
                "cannot read {}: give the path of an .osm.pbf extract",
                f.display()
            )
        })?,
        None => fleet_geo::MONACO_PBF.to_vec(),
    };
    let name = file.map_or("the built-in Monaco extract".to_string(), |f| {
        f.display().to_string()
    });
    let r = with_current_db(&config, |pool| async move {
        fleet_geo::osm::load(&pool, &bytes)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await
    .with_context(|| format!("loading {name}"))?;
    println!(
        "loaded {name}: {} road segments, {} junctions, {} points of interest",
        r.ways, r.vertices, r.pois
    );
    Ok(())
}

/// `fleet fuel generate`: a messy feed in the bucket's layout.
pub async fn fuel_generate(
    config: Config,
    out: &std::path::Path,
    vehicles: usize,
    from_registry: bool,
    days: u32,
    change_hours: u64,
    seed: u64,
) -> Result<()> {
    use fleet_fuel::feedgen;
    let fleet = if from_registry {
        let plates: Vec<String> = with_current_db(&config, |pool| async move {
            Ok(sqlx::query_scalar(
                "SELECT vehicle_number FROM domain.vehicles ORDER BY vehicle_number",
            )
            .fetch_all(&pool)
            .await?)
        })
        .await?;
        anyhow::ensure!(
            !plates.is_empty(),
            "the registry has no vehicles yet; import one (fleet import devices FILE --apply) or use --vehicles N"
        );
        plates
            .iter()
            .map(|p| feedgen::vehicle_for(seed, p))
            .collect()
    } else {
        feedgen::vehicles(seed, vehicles)
    };
    let written = feedgen::write_bucket_layout(
        out,
        "fuel_records",
        &feedgen::GenConfig {
            seed,
            vehicles: fleet,
            days,
            end: chrono::Utc::now(),
            messy: true,
        },
        change_hours,
    )?;
    println!(
        "wrote {} records to {} and {} change files under {}",
        written.records,
        written.snapshot.display(),
        written.change_files,
        written.changes_dir.display()
    );
    Ok(())
}

/// `fleet bench fuel`: the snapshot reconcile of a large generated feed.
pub async fn bench_fuel(config: Config, records: usize) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_fuel::bench::run(&pool, records, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench fuel ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  first load, {} records ({} MB): {:.2} s ({} rejected and kept)   target < 10 s: {}",
        r.records,
        r.bytes / 1_000_000,
        r.first_s,
        r.rejected,
        verdict(r.first_s < 10.0)
    );
    println!(
        "  re-run, nothing changed: {:.2} s   target < 10 s: {}",
        r.rerun_s,
        verdict(r.rerun_s < 10.0)
    );
    println!(
        "  re-run with {} edits and {} soft deletes: {:.2} s   target < 10 s: {}",
        r.edits,
        r.deletes,
        r.edited_s,
        verdict(r.edited_s < 10.0)
    );
    Ok(())
}
