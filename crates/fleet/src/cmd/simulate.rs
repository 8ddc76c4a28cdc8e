//! `fleet simulate`: the vendor simulator, a fleet on the roads of Monaco pushing to a gateway
//! (and, with --api-listen, serving the simulated Open API).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use tokio::net::TcpListener;

use super::shutdown_on_signal;

#[derive(Args)]
pub struct SimulateArgs {
    /// Base URL of the gateway to push to.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// The gateway's push token (JIMI_PUSH_TOKEN).
    #[arg(long, env = "JIMI_PUSH_TOKEN", hide_env_values = true)]
    token: String,
    /// Vehicles in the fleet.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u64).range(1..=10000))]
    vehicles: u64,
    /// Seed: the same seed gives the same fleet and the same drives.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Simulated seconds per real second (10 = ten times faster than real time).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Also serve the simulated vendor Open API (POST /route/rest) on this address.
    #[arg(long, value_name = "ADDR")]
    api_listen: Option<std::net::SocketAddr>,
    /// Open API app key the simulator accepts.
    #[arg(long, env = "JIMI_APP_KEY", default_value = "fleet-sim-key")]
    app_key: String,
    /// Open API app secret (signing key).
    #[arg(
        long,
        env = "JIMI_APP_SECRET",
        default_value = "fleet-sim-secret",
        hide_env_values = true
    )]
    app_secret: String,
    /// Open API user.
    #[arg(long, env = "JIMI_USER_ID", default_value = "demo")]
    user_id: String,
    /// Open API password.
    #[arg(
        long,
        env = "JIMI_PASSWORD",
        default_value = "demo-password",
        hide_env_values = true
    )]
    password: String,
    /// Rename fields as an upstream change would (alertTypeId -> alertId, gpsTime -> gpsTimeUtc).
    #[arg(long)]
    drift: bool,
}

pub async fn run(args: SimulateArgs) -> Result<()> {
    let api = fleet_jimi::sim::openapi::ApiConfig {
        app_key: args.app_key,
        app_secret: args.app_secret,
        user_id: args.user_id,
        password: args.password,
        drift: args.drift,
        ..Default::default()
    };
    let (gateway, token, seed, speed, api_listen) = (
        args.gateway,
        args.token,
        args.seed,
        args.speed,
        args.api_listen,
    );
    let vehicles = args.vehicles as usize;
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
