//! `POST /api/geo/match` (read:fleet): a trace as GeoJSON matched to the roads of `geo.ways`,
//! answered as `fleet geo match` prints it ([`fleet_geo::matching::report`]); and
//! `GET /api/geo/search` (read:fleet): plates, places, points of interest and streets by name
//! (`geo.search`).
//!
//! The road graph is built in memory on first use and kept; it is built again when `geo.ways`
//! changes (checked at most every 30 s, at every request while it is empty: row count and
//! largest gid). Matching runs on a blocking
//! thread. A body over [`MAX_BODY`] or a trace over [`MAX_FIXES`] fixes is a 413; no roads loaded
//! is a 409 that says what to load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fleet_geo::matching::{self, MatchGraph, Matcher, Params};
use serde::Deserialize;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::ApiError;
use crate::auth::{self, Auth};

/// The largest request body, bytes.
pub const MAX_BODY: usize = 4 << 20;
/// The most fixes one request may carry.
pub const MAX_FIXES: usize = 20_000;

/// The OpenAPI path of the matcher.
#[derive(utoipa::OpenApi)]
#[openapi(paths(match_trace, search))]
pub struct GeoDoc;

type Version = (i64, i64);

#[derive(Default)]
struct Cached {
    graph: Option<(Version, Arc<MatchGraph>)>,
    checked: Option<Instant>,
}

#[derive(Clone)]
struct Geo {
    pool: PgPool,
    cache: Arc<Mutex<Cached>>,
}

impl Geo {
    /// The graph of `geo.ways` as it is now (rebuilt when it changed).
    async fn graph(&self) -> Result<Arc<MatchGraph>, sqlx::Error> {
        let mut c = self.cache.lock().await;
        let fresh = c
            .checked
            .is_some_and(|t| t.elapsed() < Duration::from_secs(30));
        // an empty graph is checked every time: roads just loaded are used at once
        if let (true, Some((_, g))) = (fresh, &c.graph)
            && !g.is_empty()
        {
            return Ok(g.clone());
        }
        let version: Version =
            sqlx::query_as("SELECT count(*), coalesce(max(gid), 0) FROM geo.ways")
                .fetch_one(&self.pool)
                .await?;
        c.checked = Some(Instant::now());
        if let Some((v, g)) = &c.graph
            && *v == version
        {
            return Ok(g.clone());
        }
        let g = Arc::new(matching::load(&self.pool).await?);
        c.graph = Some((version, g.clone()));
        Ok(g)
    }
}

/// The matcher's route, behind `read:fleet`.
pub fn router(pool: PgPool, auth: Auth) -> Router {
    let r = Router::new()
        .route("/api/geo/match", post(match_trace))
        .route("/api/geo/search", get(search))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Geo {
            pool,
            cache: Arc::new(Mutex::new(Cached::default())),
        });
    auth::require(r, auth, auth::READ_FLEET)
}

/// The matcher's parameters in the query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MatchQuery {
    /// GPS noise σ, metres (default 10).
    pub sigma: Option<f64>,
    /// Candidate search radius, metres (default 50).
    pub radius: Option<f64>,
}

#[utoipa::path(post, path = "/api/geo/match", tag = "geo",
    summary = "Match a GPS trace to the loaded roads: a GeoJSON FeatureCollection of Points with properties.time, or a LineString Feature with properties.times",
    params(MatchQuery),
    request_body(content = Object, description = "GeoJSON; times as ISO 8601 or epoch seconds; at most 20,000 fixes and 4 MiB"),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{edges, forward, fixes: [{i, gid, forward, offset_m, distance_m}], breaks, skipped: [{i, reason}], rejected: [{line, reason}], path: [{gid, forward, entered, left, driven_m}], fixes_per_second}`", body = Object),
        (status = 400, description = "Not GeoJSON the matcher reads, or a parameter out of range", body = crate::openapi::ErrorBody),
        (status = 409, description = "No roads are loaded (fleet import osm)", body = crate::openapi::ErrorBody),
        (status = 413, description = "More than 20,000 fixes or 4 MiB", body = crate::openapi::ErrorBody),
    ))]
async fn match_trace(
    State(geo): State<Geo>,
    Query(q): Query<MatchQuery>,
    body: axum::body::Bytes,
) -> Response {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m).into_response();
    let d = Params::default();
    let (sigma, radius) = (q.sigma.unwrap_or(d.sigma_m), q.radius.unwrap_or(d.radius_m));
    if !(sigma > 0.0 && sigma <= 500.0) {
        return bad(format!(
            "sigma {sigma}: expected the GPS noise in metres, more than 0 and at most 500"
        ));
    }
    if !(1.0..=2000.0).contains(&radius) {
        return bad(format!("radius {radius}: expected metres from 1 to 2000"));
    }
    let doc: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("the body is not JSON: {e}")),
    };
    let trace = match matching::trace::from_geojson(&doc) {
        Ok(t) => t,
        Err(e) => return bad(e.to_string()),
    };
    if trace.fixes.len() > MAX_FIXES {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_fixes",
            format!(
                "{} fixes; at most {MAX_FIXES} per request: split the trace",
                trace.fixes.len()
            ),
        )
        .into_response();
    }
    let graph = match geo.graph().await {
        Ok(g) => g,
        Err(e) => {
            return ApiError::unavailable(
                "loading the road graph",
                e,
                "the roads cannot be read right now; try again shortly",
            )
            .into_response();
        }
    };
    if graph.is_empty() {
        return ApiError::new(
            StatusCode::CONFLICT,
            "no_roads",
            "no roads are loaded to match against: load an extract with `fleet import osm FILE.osm.pbf`",
        )
        .into_response();
    }
    let params = Params {
        sigma_m: sigma,
        radius_m: radius,
        ..d
    };
    let answer = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let r = Matcher::new(&graph, params).match_trace(&trace.fixes);
        matching::report(&trace, &r, started.elapsed().as_secs_f64())
    })
    .await;
    match answer {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => ApiError::unavailable(
            "matching a trace",
            e,
            "the trace could not be matched; try again",
        )
        .into_response(),
    }
}

/// The query of `search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// What to look for: a plate (any spelling), or a name or the start of one (typos allowed).
    pub q: Option<String>,
    /// How many answers (default 10, at most 50).
    pub limit: Option<i64>,
    /// `lng,lat`: on a tie, nearer first.
    pub near: Option<String>,
}

#[utoipa::path(get, path = "/api/geo/search", tag = "geo",
    summary = "Plates, places, points of interest and streets of the loaded extract by name: prefix, word and fuzzy (trigram) matches, best first",
    params(SearchQuery),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{q, results: [{kind: vehicle/place/poi/street, name, detail, ref, point: [lng, lat] | null, score}]}`; `ref` (a plate, or `poi:ID`) or `point` is what `POST /api/routes` takes", body = Object),
        (status = 400, description = "No query, or a parameter out of range", body = crate::openapi::ErrorBody),
    ))]
async fn search(State(geo): State<Geo>, Query(q): Query<SearchQuery>) -> Response {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m).into_response();
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() {
        return bad(
            "q: say what to look for (a plate, a place, a street or a point of interest)".into(),
        );
    }
    if text.chars().count() > 100 {
        return bad("q: at most 100 characters".into());
    }
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return bad(format!("limit: expected 1 to 50, got {limit}"));
    }
    let near = match q.near.as_deref() {
        None | Some("") => None,
        Some(s) => {
            let xy: Vec<f64> = s.split(',').filter_map(|v| v.trim().parse().ok()).collect();
            match xy[..] {
                [lng, lat] if (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat) => {
                    Some((lng, lat))
                }
                _ => return bad(format!("near: expected lng,lat, got {s:?}")),
            }
        }
    };
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<f64>,
        f32,
    );
    let rows: Result<Vec<Row>, _> = sqlx::query_as(
        "SELECT kind, name, detail, ref, lng, lat, score FROM geo.search($1, $2::int,
                CASE WHEN $3::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($3, $4), 4326) END)",
    )
    .bind(text)
    .bind(limit)
    .bind(near.map(|n| n.0))
    .bind(near.map(|n| n.1))
    .fetch_all(&geo.pool)
    .await;
    match rows {
        Ok(rows) => axum::Json(serde_json::json!({
            "q": text,
            "results": rows.into_iter().map(|(kind, name, detail, r, lng, lat, score)| serde_json::json!({
                "kind": kind, "name": name, "detail": detail, "ref": r,
                "point": lng.zip(lat).map(|(x, y)| [x, y]),
                "score": (f64::from(score) * 1000.0).round() / 1000.0,
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => ApiError::unavailable("searching", e, "search is unavailable right now; try again shortly").into_response(),
    }
}
