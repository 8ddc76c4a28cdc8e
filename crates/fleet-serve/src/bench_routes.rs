//! `fleet bench routes`, over HTTP: `POST /api/routes` between random junctions of the loaded
//! roads, through the gateway's own routes on loopback (token check and rate-limit layer
//! included, the limit off), one request after another after a warm-up.

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
}

/// `requests` route requests between random junctions of `geo.ways_vertices_pgr`.
pub async fn run(
    pool: PgPool,
    requests: usize,
    seed: u64,
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
        let _ = r.bytes().await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        // the first requests build the router and warm up
        if i < 3 {
            continue;
        }
        if status != reqwest::StatusCode::OK {
            failed += 1;
        }
        times.push(ms);
    }
    gw.stop.cancel();
    let _ = gw.server.await;
    let p = crate::bench::percentiles(times);
    Ok(HttpRoutes {
        requests,
        failed,
        p50_ms: p.p50,
        p95_ms: p.p95,
    })
}
