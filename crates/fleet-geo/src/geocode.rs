//! Geocoding: addresses for positions from the loaded OSM extract (the issue "Routing with
//! observed speeds, addresses, and the routes page").
//!
//! Reverse geocoding is the SQL function `geo.reverse_geocode(lat, lng)` (sql/geo/
//! reverse_geocode.sql): the house number within 40 m with its street, else the nearest named
//! street within 600 m, then the suburb and town from the extract's `place=*` points — the way
//! Nominatim's reverse search builds an address from the nearest street-level object and the
//! places around it. [`reverse_many`] answers many positions in one statement; [`bench`]
//! measures the rate.

use sqlx::PgPool;

use crate::Point;

/// An address and its parts (`housenumber`, `street`, `suburb`, `town`, `town_kind`,
/// `street_m`, `town_m`).
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub address: Option<String>,
    pub parts: serde_json::Value,
}

/// The addresses of `points`, in order, in one statement.
pub async fn reverse_many(pool: &PgPool, points: &[Point]) -> Result<Vec<Address>, sqlx::Error> {
    let lats: Vec<f64> = points.iter().map(|p| p.lat).collect();
    let lngs: Vec<f64> = points.iter().map(|p| p.lng).collect();
    let rows: Vec<(Option<String>, serde_json::Value)> = sqlx::query_as(
        "SELECT g.address, g.parts FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(lat, lng, i),
                LATERAL geo.reverse_geocode(p.lat, p.lng) g ORDER BY p.i",
    )
    .bind(&lats)
    .bind(&lngs)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(address, parts)| Address { address, parts })
        .collect())
}

/// What [`bench`] measured.
#[derive(Debug, Clone, Default)]
pub struct GeocodeBench {
    pub positions: usize,
    pub seconds: f64,
    pub with_street: usize,
    pub with_house: usize,
    pub with_town: usize,
}

/// Reverse-geocodes `n` positions near the loaded roads (a random junction moved up to 300 m),
/// in batches of 500 on `connections` connections at once.
pub async fn bench(
    pool: &PgPool,
    n: usize,
    connections: usize,
    seed: u64,
) -> Result<GeocodeBench, sqlx::Error> {
    let mut rng = fleet_core::rng::Rng(seed);
    let vs: Vec<(f64, f64)> =
        sqlx::query_as("SELECT ST_Y(the_geom), ST_X(the_geom) FROM geo.ways_vertices_pgr")
            .fetch_all(pool)
            .await?;
    if vs.is_empty() {
        return Ok(GeocodeBench::default());
    }
    let points: Vec<Point> = (0..n)
        .map(|_| {
            let (lat, lng) = *rng.pick(&vs);
            let (d, a) = (rng.range(0.0, 300.0), rng.range(0.0, std::f64::consts::TAU));
            Point {
                lat: lat + d * a.sin() / 111_320.0,
                lng: lng + d * a.cos() / (111_320.0 * lat.to_radians().cos()),
            }
        })
        .collect();
    let started = std::time::Instant::now();
    let chunks: Vec<Vec<Point>> = points.chunks(500).map(<[Point]>::to_vec).collect();
    let per = chunks.len().div_ceil(connections.max(1)).max(1);
    let mut tasks = Vec::new();
    for group in chunks.chunks(per) {
        let (pool, group) = (pool.clone(), group.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for c in group {
                out.extend(reverse_many(&pool, &c).await?);
            }
            Ok::<_, sqlx::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(
            t.await
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))??,
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let has = |k: &str| all.iter().filter(|a| a.parts.get(k).is_some()).count();
    Ok(GeocodeBench {
        positions: all.len(),
        seconds,
        with_street: has("street"),
        with_house: has("housenumber"),
        with_town: has("town"),
    })
}

/// Positions geocoded per pass at most.
pub const PER_PASS: i64 = 2_000;

/// Positions geocoded per sweep pass at most: a sweep reads the whole window whatever it then
/// geocodes, so a backlog (a new extract at 10,000 vehicles) is worked off in larger bites.
pub const PER_SWEEP: i64 = 20_000;

/// How far back trips, stops and alarms are geocoded by the running geocoder (older ones by
/// `fleet replay --rebuild geocoding`).
pub const WINDOW: chrono::Duration = chrono::Duration::days(7);

/// How far back an ordinary pass of the running geocoder looks; every [`SWEEP_EVERY`] a pass
/// looks back the whole [`WINDOW`] (what started earlier and ended or arrived late). Measured
/// with 10,000 vehicles' week of state (700,000 trips and 700,000 stops, all cached): a pass
/// over the week takes 14–15 s, over 2 hours about 0.3 s.
pub const RECENT: chrono::Duration = chrono::Duration::hours(2);

/// How often the running geocoder's pass looks back the whole [`WINDOW`].
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// One pass: the fills since `since` placed (where the vehicle was, [`place_fills`]), then up
/// to `limit` shown positions without a cached address (live positions; trips, stops, alarms
/// and fills since `since`) geocoded and cached. Returns how many were geocoded.
pub async fn pass(
    pool: &PgPool,
    since: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<i64, sqlx::Error> {
    place_fills(pool, since).await?;
    sqlx::query_scalar(include_str!("sql/geocode_pass.sql"))
        .bind(since)
        .bind(limit)
        .fetch_one(pool)
        .await
}

/// Places the fuel fills since `since` that have no place yet (or whose time or vehicle
/// changed): the vehicle's fix nearest the fill time, else the location the feed reported.
/// Returns how many were (re)placed.
pub async fn place_fills(
    pool: &PgPool,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(include_str!("sql/fill_positions.sql"))
        .bind(since)
        .fetch_one(pool)
        .await
}

/// Forgets every cached address of the extract (after a new extract is loaded, or for a
/// rebuild) so they are made again.
pub async fn forget(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM state.geocoded_positions WHERE provider = 'osm'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Geocodes everything shown, however old, until nothing is left (the rebuild).
pub async fn rebuild(pool: &PgPool) -> Result<i64, sqlx::Error> {
    forget(pool).await?;
    sqlx::query("DELETE FROM state.fill_positions")
        .execute(pool)
        .await?;
    let mut total = 0;
    loop {
        // before anything a tracker could have reported
        let n = pass(pool, chrono::DateTime::UNIX_EPOCH, 10_000).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// The geocoder the worker runs: a pass every 5 s (at once again while passes are full), beside
/// ingest and never in its way — it only reads state and writes its cache, so it may fall
/// behind and catch up. The offline pass does nothing while no roads are loaded; with a
/// Nominatim server (`FLEET_NOMINATIM_URL`) each round then asks it about a few positions at
/// its pace ([`crate::nominatim`]).
pub async fn run(
    pool: PgPool,
    live: std::sync::Arc<fleet_core::health::Liveness>,
    shutdown: tokio_util::sync::CancellationToken,
    mut nominatim: Option<crate::nominatim::Nominatim>,
) {
    // positions asked of Nominatim per round: a few seconds at its pace
    const ASK: i64 = 5;
    let (mut total, mut asked_total): (i64, usize) = (0, 0);
    let mut swept: Option<std::time::Instant> = None;
    while !shutdown.is_cancelled() {
        let sweep = swept.is_none_or(|t| t.elapsed() >= SWEEP_EVERY);
        let roads: Result<bool, _> =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM geo.ways WHERE name IS NOT NULL) OR EXISTS (SELECT 1 FROM geo.places)")
                .fetch_one(&pool)
                .await;
        let mut full = false;
        let since = chrono::Utc::now() - if sweep { WINDOW } else { RECENT };
        match roads {
            Ok(true) => match pass(&pool, since, if sweep { PER_SWEEP } else { PER_PASS }).await {
                Ok(n) => {
                    total += n;
                    full = n >= if sweep { PER_SWEEP } else { PER_PASS };
                    // a sweep that was cut short by the limit goes on until it is not
                    if sweep && !full {
                        swept = Some(std::time::Instant::now());
                    }
                    metrics::counter!("fleet_geocoded_total").increment(n as u64);
                }
                Err(e) => tracing::warn!(error = %e, "geocoder: a pass failed; retrying"),
            },
            Ok(false) => {
                // no extract: the fills still need placing for Nominatim
                if nominatim.is_some() {
                    match place_fills(&pool, since).await {
                        Ok(_) if sweep => swept = Some(std::time::Instant::now()),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "geocoder: placing fills failed; retrying")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "geocoder: reading geo.ways"),
        }
        if let Some(nm) = nominatim.as_mut() {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                r = crate::nominatim::pass(&pool, nm, since, ASK) => match r {
                    Ok(n) => {
                        asked_total += n;
                        full |= n as i64 >= ASK;
                    }
                    Err(e) => tracing::warn!(error = %e, "geocoder: writing Nominatim's answers failed; retrying"),
                },
            }
        }
        live.set_fact(
            "geocoder",
            match &nominatim {
                Some(nm) => serde_json::json!({"geocoded": total, "nominatim_asked": asked_total, "nominatim_paused": nm.paused()}),
                None => serde_json::json!({"geocoded": total}),
            },
        );
        let wait = if full {
            std::time::Duration::from_millis(50)
        } else {
            std::time::Duration::from_secs(5)
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// `GET /api/geo/search`'s query timed: `n` searches, one after another, each for the start
/// (3–8 characters) of a random name of the extract, a third of them with one letter changed
/// (a typo). Returns (p50 ms, p95 ms, share with an answer).
pub async fn bench_search(
    pool: &PgPool,
    n: usize,
    seed: u64,
) -> Result<(f64, f64, f64), sqlx::Error> {
    let mut rng = fleet_core::rng::Rng(seed);
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM geo.search_names")
        .fetch_all(pool)
        .await?;
    if names.is_empty() {
        return Ok((0.0, 0.0, 0.0));
    }
    let mut ms = Vec::with_capacity(n);
    let mut answered = 0;
    for i in 0..n {
        let name: Vec<char> = rng.pick(&names).chars().collect();
        let len = (3 + rng.below(6)).min(name.len());
        let mut q: Vec<char> = name[..len].to_vec();
        if i % 3 == 0 && q.len() > 3 {
            let at = 1 + rng.below(q.len() - 1);
            q[at] = if q[at] == 'e' { 'a' } else { 'e' };
        }
        let q: String = q.into_iter().collect();
        let started = std::time::Instant::now();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM geo.search($1, 10)")
            .bind(&q)
            .fetch_all(pool)
            .await?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        if !rows.is_empty() {
            answered += 1;
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    Ok((at(0.5), at(0.95), answered as f64 / n as f64))
}
