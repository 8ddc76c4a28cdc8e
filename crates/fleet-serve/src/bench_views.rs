//! `fleet bench views`: the two views the pages live on, measured over real HTTP on loopback
//! through the gateway's own routes (token check included), against a scratch database:
//!
//! 1. Live: a fleet of `vehicles` vehicles (every tenth carrying a second tracker, so the dedup
//!    does real work), each with a latest fix of random age and speed; `GET /api/views/live`.
//! 2. History: one vehicle over `days` days of 10-s fixes, with trips, stops and alarms;
//!    `GET /api/views/history` for the whole range at a city zoom.
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
}

/// What the benchmark measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewReport {
    pub vehicles: usize,
    pub devices: i64,
    pub live_ms: Percentiles,
    pub live_bytes: usize,
    pub history_fixes: i64,
    pub history_ms: Percentiles,
    pub history_points: i64,
    pub history_bytes: usize,
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
    progress("measuring the history view…");
    let (history_ms, history_bytes, body) =
        measure(&client, &history_url, &token, (p.requests / 4).max(10)).await?;
    let history_points = body["summary"]["track_points"].as_i64().unwrap_or(0);
    stop.cancel();
    let _ = server.await;
    Ok(ViewReport {
        vehicles: p.vehicles,
        devices,
        live_ms,
        live_bytes,
        history_fixes,
        history_ms,
        history_points,
        history_bytes,
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
        let routes = areas(pool.clone(), GatewayConfig::reads_only(cfg));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let stop = CancellationToken::new();
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
