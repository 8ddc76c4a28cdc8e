//! Delivering the simulated fleet's pushes to a gateway the way the vendor does: IoT Hub paths with
//! form fields `token` and `data_list` (a JSON-array string of up to 50 items), and the Open API
//! alarm push (`msgType` + `data`, one alarm each, token in the URL); a failed push is
//! retried 3 times at 2-minute intervals (scaled by the simulation speed) and then dropped, and
//! drops are counted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::fleet::{Push, Sim};

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Base URL of the gateway, e.g. `http://127.0.0.1:8080`.
    pub gateway: String,
    pub token: String,
    pub vehicles: usize,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Simulated seconds per step.
    pub step_s: f64,
}

/// Delivery counters.
#[derive(Debug, Default)]
pub struct SimStats {
    pub pushes_ok: AtomicU64,
    pub items_ok: AtomicU64,
    pub retries: AtomicU64,
    pub dropped: AtomicU64,
}

/// Items per push, as the hub sends.
pub const MAX_ITEMS: usize = 50;
/// Tries per push: the first and 3 retries.
pub const TRIES: u32 = 4;

/// Groups pushes by path, keeping order, into `data_list` chunks.
pub fn batches(pushes: Vec<Push>) -> Vec<(&'static str, Vec<Value>)> {
    let mut by_path: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for p in pushes {
        by_path.entry(p.path).or_default().push(p.item);
    }
    by_path
        .into_iter()
        .flat_map(|(path, items)| {
            items
                .chunks(MAX_ITEMS)
                .map(|c| (path, c.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs the simulated fleet's pushes until `shutdown`.
pub async fn run(
    opts: SimOptions,
    sim: Arc<Mutex<Sim>>,
    stats: Arc<SimStats>,
    shutdown: CancellationToken,
) -> Result<(), reqwest::Error> {
    let devices = sim.lock().map(|s| s.devices.len()).unwrap_or(0);
    let client = fleet_core::http::client(Duration::from_secs(10)).build()?;
    let in_flight = Arc::new(Semaphore::new(32));
    let retry_every = Duration::from_secs_f64((120.0 / opts.speed.max(0.001)).clamp(0.05, 120.0));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(
        (opts.step_s / opts.speed.max(0.001)).max(0.01),
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(vehicles = opts.vehicles, devices, speed = opts.speed, gateway = %opts.gateway, "simulator started");
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let pushes = sim
            .lock()
            .map(|mut s| s.step(opts.step_s))
            .unwrap_or_default();
        for (path, items) in batches(pushes) {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                break;
            };
            let (client, stats, token, shutdown) = (
                client.clone(),
                stats.clone(),
                opts.token.clone(),
                shutdown.clone(),
            );
            let base = opts.gateway.trim_end_matches('/');
            // The Open API alarm push carries one alarm per request (msgType + data) and its token
            // in the registered URL; the hub paths carry token + data_list.
            let (url, forms): (String, Vec<Vec<(&'static str, String)>>) = if path == "alarm" {
                (
                    format!(
                        "{base}/push/jimi/alarm?{}",
                        serde_urlencoded::to_string([("token", &token)]).unwrap_or_default()
                    ),
                    items
                        .iter()
                        .map(|i| {
                            vec![
                                ("msgType", fleet_core::jimi::ALARM_PUSH_KIND.to_string()),
                                ("data", i.to_string()),
                            ]
                        })
                        .collect(),
                )
            } else {
                (
                    format!("{base}/push/jimi/{path}"),
                    vec![vec![
                        ("token", token),
                        ("data_list", Value::Array(items.clone()).to_string()),
                    ]],
                )
            };
            let per_form = if path == "alarm" {
                1
            } else {
                items.len() as u64
            };
            tokio::spawn(async move {
                let _permit = permit;
                'forms: for form in forms {
                    for attempt in 1..=TRIES {
                        let ok = client
                            .post(&url)
                            .form(&form)
                            .send()
                            .await
                            .is_ok_and(|r| r.status().is_success());
                        if ok {
                            stats.pushes_ok.fetch_add(1, Ordering::Relaxed);
                            stats.items_ok.fetch_add(per_form, Ordering::Relaxed);
                            continue 'forms;
                        }
                        if attempt == TRIES {
                            break;
                        }
                        stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(retry_every) => {}
                        }
                    }
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path,
                        items = per_form,
                        "push dropped after {TRIES} tries, as the vendor hub does"
                    );
                }
            });
        }
    }
    Ok(())
}
