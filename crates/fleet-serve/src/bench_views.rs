//! `fleet bench views`: the two views the pages live on, measured over real HTTP on loopback
//! through the gateway's own routes (token check included), against a scratch database:
//!
//! 1. Live: a fleet of `vehicles` vehicles (every tenth carrying a second tracker, so the dedup
//!    does real work), each with a latest fix of random age and speed; `GET /api/views/live`.
//! 2. History: one vehicle over `days` days of 10-s fixes, with trips, stops and alarms;
//!    `GET /api/views/history` for the whole range at a city zoom.
//! 3. The live stream: `stream_clients` clients on `GET /api/views/live/stream` while fixes are
//!    written to state as the positions projector writes them (a statement every 100 ms, the
//!    fleet reporting every 10 s), for `stream_seconds`; each batch moves one probe vehicle to a
//!    position of its own, and every client timestamps the event that carries it: commit → event
//!    at the client, per client and batch.
//!
//! The registry and state rows are generated in SQL (the views read them, they do not care how
//! they arrived); requests run one after another after a warm-up, so the figures are latencies,
//! not throughput under contention.

use std::time::{Duration, Instant};

use crate::auth::{Auth, AuthConfig};
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bench::{Percentiles, percentiles};
use crate::gateway::{GatewayConfig, areas};

/// Benchmark parameters.
#[derive(Debug, Clone)]
pub struct ViewParams {
    pub vehicles: usize,
    pub days: u32,
    pub requests: usize,
    pub stream_clients: usize,
    pub stream_seconds: u64,
}

/// What the benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewReport {
    pub vehicles: usize,
    pub devices: i64,
    pub live_ms: Percentiles,
    pub live_bytes: usize,
    /// `format=compact`.
    pub compact_ms: Percentiles,
    pub compact_bytes: usize,
    /// A map showing a sixteenth of the fleet's area (`filters.bbox`).
    pub bbox_ms: Percentiles,
    pub bbox_bytes: usize,
    pub bbox_vehicles: i64,
    pub history_fixes: i64,
    pub history_ms: Percentiles,
    pub history_points: i64,
    pub history_bytes: usize,
    pub stream_clients: usize,
    pub stream_fixes_per_s: f64,
    /// Commit of a batch → its event read by a client, every client and batch.
    pub stream_ms: Percentiles,
    pub stream_events: usize,
    /// Batches some client never saw (a gap: must be 0).
    pub stream_missed: usize,
    pub stream_kb_per_client_s: f64,
}

const SETUP_FLEET: &str = "
WITH acc AS (INSERT INTO domain.accounts (account) VALUES ('bench') ON CONFLICT DO NOTHING RETURNING 1),
cc AS (INSERT INTO domain.cost_centres (code, name)
       SELECT 'CC' || i, 'Cost centre ' || i FROM generate_series(1, 8) i ON CONFLICT DO NOTHING RETURNING 1),
city AS (INSERT INTO domain.assigned_cities (city, country_code)
         VALUES ('Nairobi', 'KE'), ('Mombasa', 'KE'), ('Kampala', 'UG') ON CONFLICT DO NOTHING RETURNING 1)
INSERT INTO domain.vehicles (vehicle_number, plate_key, cost_centre, assigned_city)
SELECT 'KB' || chr(65 + i % 26) || ' ' || lpad(i::text, 4, '0') || 'X',
       'KB' || chr(65 + i % 26) || lpad(i::text, 4, '0') || 'X',
       'CC' || (1 + i % 8), (ARRAY['Nairobi', 'Mombasa', 'Kampala'])[1 + i % 3]
  FROM generate_series(1, $1::int) i";

const SETUP_DEVICES: &str = "
WITH v AS (SELECT vehicle_id, row_number() OVER (ORDER BY vehicle_id) AS n FROM domain.vehicles),
d AS (SELECT v.vehicle_id, '86' || lpad((v.n * 10 + k)::text, 13, '0') AS imei
        FROM v, generate_series(0, 1) k WHERE k = 0 OR v.n % 10 = 0),
ins AS (INSERT INTO domain.devices (imei, account, lifecycle)
        SELECT imei, 'bench', 'active' FROM d RETURNING imei),
fit AS (INSERT INTO domain.device_assignments (imei, vehicle_id, during, assigned_by)
        SELECT d.imei, d.vehicle_id, tstzrange('-infinity', NULL), 'bench' FROM d RETURNING 1)
INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, speed_kmh, acc_on, source, raw_id)
SELECT imei, now() - make_interval(secs => (random() * 900)::int), now(),
       -1.29 + random() * 0.2, 36.8 + random() * 0.2, (random() * 80)::real, random() > 0.3, 'bench', 0
  FROM d";

const SETUP_HISTORY: &str = "
WITH dev AS (SELECT a.imei FROM domain.device_assignments a ORDER BY a.vehicle_id, a.imei LIMIT 1)
INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, source, raw_id)
SELECT dev.imei, t, t, -1.29 + 0.05 * sin(i / 900.0) + 0.002 * sin(i / 7.0),
       36.82 + 0.05 * cos(i / 1100.0) + 0.002 * cos(i / 5.0), (20 + 40 * random())::real, (i % 360)::smallint,
       true, 'bench', 0
  FROM dev, generate_series(0, $1::int * 8640 - 1) i,
       LATERAL (SELECT date_trunc('day', now()) - make_interval(days => $1::int) + make_interval(secs => i * 10) AS t) x";

const SETUP_EVENTS: &str = "
WITH dev AS (SELECT a.imei FROM domain.device_assignments a ORDER BY a.vehicle_id, a.imei LIMIT 1),
slots AS (SELECT date_trunc('day', now()) - make_interval(days => $1::int) + make_interval(hours => h) AS t
            FROM generate_series(0, $1::int * 24 - 1, 4) h),
trips AS (INSERT INTO state.trips (imei, start_time, end_time, start_lat, start_lng, end_lat, end_lng, distance_m,
                                   duration_s, avg_speed_kmh, max_speed_kmh, source, raw_id)
          SELECT dev.imei, t, t + interval '50 minutes', -1.29, 36.82, -1.27, 36.85, 18000, 3000, 21.6, 74, 'bench', 0
            FROM dev, slots RETURNING 1),
stops AS (INSERT INTO state.parking_events (imei, kind, start_time, end_time, duration_s, lat, lng, source, raw_id)
          SELECT dev.imei, 'parking', t + interval '1 hour', t + interval '3 hours', 7200, -1.27, 36.85, 'bench', 0
            FROM dev, slots RETURNING 1)
INSERT INTO state.alarms (imei, alarm_type, alarm_time, alarm_name, lat, lng, source, raw_id)
SELECT dev.imei, 'overSpeed', t + interval '20 minutes', 'Overspeed', -1.28, 36.83, 'bench', 0
  FROM dev, slots";

/// Runs the benchmark against `pool` (a scratch database).
pub async fn run(
    pool: PgPool,
    p: ViewParams,
    progress: &mut dyn FnMut(&str),
) -> Result<ViewReport, Box<dyn std::error::Error + Send + Sync>> {
    progress(&format!(
        "generating {} vehicles and {} days of 10-s fixes for one of them…",
        p.vehicles, p.days
    ));
    sqlx::query(SETUP_FLEET)
        .bind(p.vehicles as i32)
        .execute(&pool)
        .await?;
    sqlx::query(SETUP_DEVICES).execute(&pool).await?;
    sqlx::query(SETUP_HISTORY)
        .bind(p.days as i32)
        .execute(&pool)
        .await?;
    sqlx::query(SETUP_EVENTS)
        .bind(p.days as i32)
        .execute(&pool)
        .await?;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    let devices: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.devices")
        .fetch_one(&pool)
        .await?;
    let history_fixes: i64 = sqlx::query_scalar("SELECT count(*) FROM state.position_history")
        .fetch_one(&pool)
        .await?;
    let plate: String = sqlx::query_scalar(
        "SELECT vehicle_number FROM domain.vehicles ORDER BY vehicle_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;

    let Gateway {
        base,
        token,
        stop,
        server,
    } = Gateway::start(&pool, "bench").await?;
    let client = fleet_core::http::client(Duration::from_secs(60)).build()?;

    let live_url = format!("{base}/api/views/live");
    let history_url = format!(
        "{base}/api/views/history?{}",
        serde_urlencoded::to_string([(
            "filters",
            json!({"vehicles": [plate], "period_days": p.days, "zoom": 12}).to_string()
        )])?
    );
    progress("measuring the live view…");
    let (live_ms, live_bytes, _) = measure(&client, &live_url, &token, p.requests).await?;
    let (compact_ms, compact_bytes, _) = measure(
        &client,
        &format!("{live_url}?format=compact"),
        &token,
        p.requests,
    )
    .await?;
    // the fleet lies in 0.2° × 0.2°: a quarter of each side
    let bbox_url = format!(
        "{live_url}?{}",
        serde_urlencoded::to_string([("filters", r#"{"bbox":[36.8,-1.29,36.85,-1.24]}"#)])?
    );
    let (bbox_ms, bbox_bytes, bbox_body) = measure(&client, &bbox_url, &token, p.requests).await?;
    let bbox_vehicles = bbox_body["summary"]["vehicles"].as_i64().unwrap_or(0);
    progress("measuring the history view…");
    let (history_ms, history_bytes, body) =
        measure(&client, &history_url, &token, (p.requests / 4).max(10)).await?;
    let history_points = body["summary"]["track_points"].as_i64().unwrap_or(0);
    progress(&format!(
        "measuring the live stream: {} clients, {} s of fixes…",
        p.stream_clients, p.stream_seconds
    ));
    let streamed = stream(
        &pool,
        &base,
        &token,
        p.vehicles,
        p.stream_clients,
        p.stream_seconds,
    )
    .await?;
    stop.cancel();
    let _ = server.await;
    Ok(ViewReport {
        vehicles: p.vehicles,
        devices,
        live_ms,
        live_bytes,
        compact_ms,
        compact_bytes,
        bbox_ms,
        bbox_bytes,
        bbox_vehicles,
        history_fixes,
        history_ms,
        history_points,
        history_bytes,
        stream_clients: p.stream_clients,
        stream_fixes_per_s: streamed.fixes_per_s,
        stream_ms: streamed.latency,
        stream_events: streamed.events,
        stream_missed: streamed.missed,
        stream_kb_per_client_s: streamed.kb_per_client_s,
    })
}

struct Streamed {
    fixes_per_s: f64,
    latency: Percentiles,
    events: usize,
    missed: usize,
    kb_per_client_s: f64,
}

/// The probe batch `k` puts the probe vehicle at this latitude (never a random fix's).
fn probe_lat(k: u64) -> f64 {
    10.0 + k as f64 / 10_000.0
}

async fn stream(
    pool: &PgPool,
    base: &str,
    token: &str,
    vehicles: usize,
    clients: usize,
    seconds: u64,
) -> Result<Streamed, Box<dyn std::error::Error + Send + Sync>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let probe: String = sqlx::query_scalar(
        "SELECT l.imei FROM state.live_positions l JOIN state.live_units u ON u.imei = l.imei AND u.imeis = ARRAY[l.imei]
          ORDER BY l.imei LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    // (batch, client) → when the client read it
    let seen: Arc<Mutex<HashMap<(u64, usize), Instant>>> = Arc::default();
    let bytes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = fleet_core::http::client(Duration::from_secs(seconds + 120)).build()?;
    let done = CancellationToken::new();
    let mut readers = Vec::new();
    for c in 0..clients {
        let resp = http
            .get(format!("{base}/api/views/live/stream"))
            .bearer_auth(token)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(format!("the stream answered {}", resp.status()).into());
        }
        let (seen, bytes, done, probe) = (seen.clone(), bytes.clone(), done.clone(), probe.clone());
        readers.push(tokio::spawn(async move {
            let mut resp = resp;
            let mut buf = String::new();
            loop {
                let chunk = tokio::select! {
                    () = done.cancelled() => return,
                    c = resp.chunk() => c,
                };
                let Ok(Some(chunk)) = chunk else { return };
                let at = Instant::now();
                bytes.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                        continue;
                    };
                    if !block.contains("event: changes") || !data.contains(probe.as_str()) {
                        continue;
                    }
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
                        continue;
                    };
                    for f in v["features"].as_array().into_iter().flatten() {
                        if f["properties"]["imei"] == probe.as_str()
                            && let Some(lat) = f["geometry"]["coordinates"][1].as_f64()
                        {
                            let k = ((lat - 10.0) * 10_000.0).round() as u64;
                            seen.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .entry((k, c))
                                .or_insert(at);
                        }
                    }
                }
            }
        }));
    }
    // every tracker reports every 10 s: a tenth of the fleet each second, in 10 statements
    let per_batch = (vehicles / 100).max(1) as i64;
    let mut committed: Vec<(u64, Instant)> = Vec::new();
    let started = Instant::now();
    let mut k = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        k += 1;
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE state.live_positions SET fix_time = now(), received_at = now(),
                    lat = lat + (random() - 0.5) / 1000, lng = lng + (random() - 0.5) / 1000,
                    speed_kmh = (random() * 80)::real
              WHERE imei IN (SELECT imei FROM state.live_positions WHERE imei <> $1 ORDER BY random() LIMIT $2)",
        )
        .bind(&probe)
        .bind(per_batch)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE state.live_positions SET fix_time = now(), received_at = now(), lat = $2 WHERE imei = $1")
            .bind(&probe)
            .bind(probe_lat(k))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        committed.push((k, Instant::now()));
    }
    let elapsed = started.elapsed().as_secs_f64();
    // the last batches' events are on their way
    tokio::time::sleep(Duration::from_secs(3)).await;
    done.cancel();
    for r in readers {
        let _ = r.await;
    }
    // A tick carries a unit as it is when the tick is read, so batches that land in one tick show
    // as the newest of them: batch k reached a client with the first event holding batch k or a
    // later one. A batch no event ever covered is a gap.
    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    let events = seen.len();
    let mut per_client: Vec<Vec<(u64, Instant)>> = vec![Vec::new(); clients];
    for ((k, c), at) in seen.iter() {
        per_client[*c].push((*k, *at));
    }
    let mut latency = Vec::new();
    let mut missed = 0;
    for got in &mut per_client {
        got.sort_by_key(|(_, at)| *at);
        for (k, at) in &committed {
            match got.iter().find(|(g, _)| g >= k) {
                Some((_, t)) => {
                    latency.push(t.saturating_duration_since(*at).as_secs_f64() * 1000.0)
                }
                None => missed += 1,
            }
        }
    }
    Ok(Streamed {
        fixes_per_s: committed.len() as f64 * (per_batch + 1) as f64 / elapsed,
        latency: percentiles(latency),
        events,
        missed,
        kb_per_client_s: bytes.load(std::sync::atomic::Ordering::Relaxed) as f64
            / 1024.0
            / clients.max(1) as f64
            / (elapsed + 3.0),
    })
}

/// The gateway's routes on loopback against the scratch database, with a `read:fleet` token of
/// account `user` (the rate limits off): what the HTTP benchmarks measure through.
pub(crate) struct Gateway {
    pub base: String,
    pub token: String,
    pub stop: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Gateway {
    pub async fn start(
        pool: &PgPool,
        user: &str,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let cfg = AuthConfig {
            secret: crate::auth::random_token(32)?.into_bytes(),
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(3600),
        };
        sqlx::query(
            "INSERT INTO auth.accounts (username, password_hash, scopes) VALUES ($1, '!', ARRAY['read:fleet'])
             ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .execute(pool)
        .await?;
        let token =
            Auth::new(pool.clone(), cfg.clone()).issue(user, &["read:fleet".to_string()])?;
        let stop = CancellationToken::new();
        let mut gw = GatewayConfig::reads_only(cfg);
        gw.shutdown = stop.clone();
        let routes = areas(pool.clone(), gw);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(crate::serve(listener, routes, stop.clone()));
        Ok(Self {
            base,
            token,
            stop,
            server,
        })
    }
}

/// Latencies of `n` sequential GETs after 3 warm-ups; the size and body of the last answer.
async fn measure(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
) -> Result<(Percentiles, usize, serde_json::Value), Box<dyn std::error::Error + Send + Sync>> {
    let mut times = Vec::with_capacity(n);
    let mut last = (0, serde_json::Value::Null);
    for i in 0..n + 3 {
        let started = Instant::now();
        let r = client.get(url).bearer_auth(token).send().await?;
        let status = r.status();
        let bytes = r.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            return Err(format!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
            .into());
        }
        if i >= 3 {
            times.push(ms);
        }
        last = (
            bytes.len(),
            serde_json::from_slice(&bytes).unwrap_or_default(),
        );
    }
    Ok((percentiles(times), last.0, last.1))
}
