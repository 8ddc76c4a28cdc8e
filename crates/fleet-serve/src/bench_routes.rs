//! `fleet bench routes`, over HTTP: `POST /api/routes` between random junctions of the loaded
//! roads, through the gateway's own routes on loopback (token check and rate-limit layer
//! included, the limit off), one request after another after a warm-up. With peers (OSRM's
//! `osrm-routed` on the same extract, for measurement only), the same pairs are then asked of
//! each with the same client, for what our answer carries (the full geometry as GeoJSON and the
//! steps): latency side by side, and how far the distances agree (the routes differ where the
//! speeds do: OSRM's car profile against our class defaults, limits and observed speeds).

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

/// What the HTTP part measured.
#[derive(Debug, Clone, Default)]
pub struct HttpRoutes {
    pub requests: usize,
    /// Answers other than 200 (422 for pairs that do not connect among them).
    pub failed: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub peers: Vec<Peer>,
}

/// A pair we routed: origin and destination `(lng, lat)`, and our route's distance, m.
type Routed = ((f64, f64), (f64, f64), f64);

/// A peer timed on the same pairs.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub url: String,
    /// Pairs it did not route.
    pub failed: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The same pairs asked for the bare answer (no geometry, no steps): its search alone, nearly.
    pub bare_p50_ms: f64,
    pub bare_p95_ms: f64,
    /// Median of |ours − its| / its route distance.
    pub median_distance_diff: f64,
    /// Share of pairs whose distances agree within 5 %.
    pub within_5pct: f64,
}

/// `requests` route requests between random junctions of `geo.ways_vertices_pgr`.
pub async fn run(
    pool: PgPool,
    requests: usize,
    seed: u64,
    peers: &[String],
) -> Result<HttpRoutes, Box<dyn std::error::Error + Send + Sync>> {
    let points: Vec<(f64, f64)> = sqlx::query_as(
        "SELECT ST_X(the_geom), ST_Y(the_geom) FROM geo.ways_vertices_pgr ORDER BY md5(id::text || $1::text) LIMIT $2",
    )
    .bind(seed.to_string())
    .bind((2 * requests + 6) as i64)
    .fetch_all(&pool)
    .await?;
    if points.len() < 2 {
        return Err("no roads are loaded".into());
    }
    let gw = crate::bench_views::Gateway::start(&pool, "bench-routes").await?;
    let (token, url) = (gw.token.clone(), format!("{}/api/routes", gw.base));
    let client = fleet_core::http::client(Duration::from_secs(120)).build()?;
    let mut times = Vec::with_capacity(requests);
    let mut failed = 0;
    let mut routed: Vec<Routed> = Vec::new();
    for (i, pair) in points.chunks_exact(2).take(requests + 3).enumerate() {
        let body = json!({"origin": [pair[0].0, pair[0].1], "destination": [pair[1].0, pair[1].1]});
        let started = Instant::now();
        let r = client
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let answer = r.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        // the first requests build the router and warm up
        if i < 3 {
            continue;
        }
        if status == reqwest::StatusCode::OK {
            let a: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            if let Some(d) = a["distance_m"].as_f64() {
                routed.push((pair[0], pair[1], d));
            }
        }
        if status != reqwest::StatusCode::OK {
            failed += 1;
        }
        times.push(ms);
    }
    gw.stop.cancel();
    let _ = gw.server.await;
    let mut timed = Vec::new();
    for url in peers {
        timed.push(peer(&client, url.trim_end_matches('/'), &routed).await?);
    }
    let p = crate::bench::percentiles(times);
    Ok(HttpRoutes {
        requests,
        failed,
        p50_ms: p.p50,
        p95_ms: p.p95,
        peers: timed,
    })
}

/// OSRM's `/route` on the pairs we routed, one after another after a warm-up.
async fn peer(
    client: &reqwest::Client,
    base: &str,
    routed: &[Routed],
) -> Result<Peer, Box<dyn std::error::Error + Send + Sync>> {
    let (mut times, mut diffs, mut failed) = (Vec::new(), Vec::new(), 0);
    for (i, &(a, b, ours)) in routed.iter().take(3).chain(routed).enumerate() {
        let url = format!(
            "{base}/route/v1/driving/{:.7},{:.7};{:.7},{:.7}?overview=full&geometries=geojson&steps=true",
            a.0, a.1, b.0, b.1
        );
        let started = Instant::now();
        let r = client.get(&url).send().await?;
        let body = r.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if i < 3 {
            continue;
        }
        times.push(ms);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        match v["routes"][0]["distance"].as_f64() {
            Some(d) if v["code"] == "Ok" => diffs.push((ours - d).abs() / d.max(1.0)),
            _ => failed += 1,
        }
    }
    if times.is_empty() {
        return Err(format!("no pairs to time OSRM at {base} on").into());
    }
    let mut bare = Vec::new();
    for (i, &(a, b, _)) in routed.iter().take(3).chain(routed).enumerate() {
        let url = format!(
            "{base}/route/v1/driving/{:.7},{:.7};{:.7},{:.7}?overview=false",
            a.0, a.1, b.0, b.1
        );
        let started = Instant::now();
        let _ = client.get(&url).send().await?.bytes().await?;
        if i >= 3 {
            bare.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let bare = crate::bench::percentiles(bare);
    let within = diffs.iter().filter(|&&d| d <= 0.05).count() as f64 / diffs.len().max(1) as f64;
    diffs.sort_by(f64::total_cmp);
    let p = crate::bench::percentiles(times);
    Ok(Peer {
        url: base.to_string(),
        failed,
        p50_ms: p.p50,
        p95_ms: p.p95,
        bare_p50_ms: bare.p50,
        bare_p95_ms: bare.p95,
        median_distance_diff: diffs.get(diffs.len() / 2).copied().unwrap_or(f64::NAN),
        within_5pct: within,
    })
}
