//! Routing over HTTP (read:fleet, the `routes` rate-limit class): `POST /api/routes` and
//! `GET /api/routes/nearest`, answered by [`fleet_geo::routing::Router`].
//!
//! - **Points** are `[lng, lat]`, a point of interest of the extract as `"poi:ID"` (the ids
//!   `GET /api/geo/search` gives), or a vehicle's plate (or a tracker's IMEI): its live position.
//! - **The router** is built in memory on first use and kept. Every [`RouterCache::check`]
//!   interval (30 s) the gateway looks whether `geo.ways` or the speed bands changed; a new
//!   router is then built *beside* the one serving, and swapped in when it is ready, so requests
//!   never wait for a reload (only the very first one waits for the first build). A change of
//!   the speed bands alone rebuilds at most every [`BANDS_EVERY`] or twenty builds' time,
//!   whichever is longer, so a country's graph is not rebuilt every time the bands refresh.
//! - **Every route request** is written to `ops.route_requests` (its latency and outcome), which
//!   the `route_p95_ms` SLO is measured from, and counted in `fleet_routes_total{outcome}`.

use std::sync::{Arc, Mutex as StdMutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use fleet_geo::Point;
use fleet_geo::routing::{Route, RouteError, Router as Graph};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::ApiError;
use crate::auth::{self, Auth};
use crate::limit::{Limiter, limit};

/// The most stops a route may go through.
pub const MAX_VIA: usize = 25;
/// The most alternatives asked for.
pub const MAX_ALTERNATIVES: u64 = 3;
/// How far ahead a departure may be.
pub const MAX_AHEAD_DAYS: i64 = 30;
/// How long ago a departure may be (clocks differ).
pub const PAST_GRACE: Duration = Duration::from_secs(300);
/// The least time between rebuilds for a change of the speed bands alone.
pub const BANDS_EVERY: Duration = Duration::from_secs(60);
/// The most vehicles `nearest` ranks.
pub const MAX_NEAREST: u64 = 50;

/// The OpenAPI paths of routing.
#[derive(utoipa::OpenApi)]
#[openapi(paths(route, nearest))]
pub struct RoutesDoc;

/// What the roads and bands were when a router was built: row count and largest gid of
/// `geo.ways`, band rows and their latest refresh.
type Version = (i64, i64, i64, Option<DateTime<Utc>>);

struct Built {
    version: Version,
    graph: Arc<Graph>,
    took: Duration,
    at: Instant,
    loaded_at: DateTime<Utc>,
}

/// The router the gateway serves, rebuilt beside itself when the roads or bands change.
#[derive(Clone)]
pub struct RouterCache {
    pool: PgPool,
    current: Arc<RwLock<Option<Arc<Built>>>>,
    /// When the version was last looked at, and whether a rebuild is under way.
    state: Arc<StdMutex<(Option<Instant>, bool)>>,
    first: Arc<tokio::sync::Mutex<()>>,
    every: Duration,
}

impl RouterCache {
    pub fn new(pool: PgPool) -> Self {
        Self::checking_every(pool, Duration::from_secs(30))
    }

    /// A cache that looks for changes every `every` (tests use a short one).
    pub fn checking_every(pool: PgPool, every: Duration) -> Self {
        Self {
            pool,
            current: Arc::new(RwLock::new(None)),
            state: Arc::new(StdMutex::new((None, false))),
            first: Arc::new(tokio::sync::Mutex::new(())),
            every,
        }
    }

    fn now_serving(&self) -> Option<Arc<Built>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    async fn version(pool: &PgPool) -> Result<Version, sqlx::Error> {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM geo.ways), (SELECT coalesce(max(gid), 0) FROM geo.ways),
                    (SELECT count(*) FROM geo.segment_speed_band), (SELECT max(refreshed_at) FROM geo.segment_speed_band)",
        )
        .fetch_one(pool)
        .await
    }

    async fn build(pool: &PgPool) -> Result<Built, sqlx::Error> {
        let version = Self::version(pool).await?;
        let started = Instant::now();
        let graph = Arc::new(Graph::load(pool).await?);
        Ok(Built {
            version,
            graph,
            took: started.elapsed(),
            at: Instant::now(),
            loaded_at: Utc::now(),
        })
    }

    /// The router to answer with now: the one serving (a rebuild is started beside it when the
    /// roads or bands changed), or on the first request the first one built.
    async fn get(&self) -> Result<Arc<Built>, sqlx::Error> {
        if let Some(b) = self.now_serving()
            && !b.graph.graph().is_empty()
        {
            self.maybe_refresh(&b);
            return Ok(b);
        }
        // none yet, or an empty one: roads just loaded are used at once
        let _first = self.first.lock().await;
        if let Some(b) = self.now_serving()
            && (!b.graph.graph().is_empty() || Self::version(&self.pool).await? == b.version)
        {
            return Ok(b);
        }
        let b = Arc::new(Self::build(&self.pool).await?);
        if let Ok(mut c) = self.current.write() {
            *c = Some(b.clone());
        }
        if let Ok(mut s) = self.state.lock() {
            s.0 = Some(Instant::now());
        }
        Ok(b)
    }

    fn maybe_refresh(&self, serving: &Arc<Built>) {
        {
            let Ok(mut s) = self.state.lock() else { return };
            let due = s.0.is_none_or(|t| t.elapsed() >= self.every);
            if !due || s.1 {
                return;
            }
            *s = (Some(Instant::now()), true);
        }
        let me = self.clone();
        let serving = serving.clone();
        tokio::spawn(async move {
            let outcome = async {
                let v = Self::version(&me.pool).await?;
                let roads_changed = (v.0, v.1) != (serving.version.0, serving.version.1);
                let bands_changed = (v.2, v.3) != (serving.version.2, serving.version.3);
                let bands_due = serving.at.elapsed() >= BANDS_EVERY.max(serving.took * 20);
                if roads_changed || (bands_changed && bands_due) {
                    let b = Self::build(&me.pool).await?;
                    tracing::info!(
                        edges = b.graph.graph().edges.len(),
                        seconds = b.took.as_secs_f64(),
                        "router rebuilt"
                    );
                    if let Ok(mut c) = me.current.write() {
                        *c = Some(Arc::new(b));
                    }
                }
                Ok::<(), sqlx::Error>(())
            }
            .await;
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "checking the road graph for changes");
            }
            if let Ok(mut s) = me.state.lock() {
                s.1 = false;
            }
        });
    }
}

#[derive(Clone)]
struct Routes {
    pool: PgPool,
    cache: RouterCache,
}

/// Routing's routes, behind `read:fleet` and the `routes` limiter.
pub fn router(pool: PgPool, auth: Auth, limiter: Limiter, cache: RouterCache) -> Router {
    let r = Router::new()
        .route("/api/routes", post(route))
        .route("/api/routes/nearest", get(nearest))
        .with_state(Routes { pool, cache });
    auth::require(limit(r, limiter), auth, auth::READ_FLEET)
}

/// A point of a request, resolved.
#[derive(Debug, Clone)]
struct Place {
    at: Point,
    /// What it was given as, for the answer: a plate, a POI's name.
    label: Option<String>,
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::bad_request(m)
}

fn unprocessable(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, m)
}

fn db_down(e: sqlx::Error) -> ApiError {
    ApiError::unavailable(
        "routing",
        e,
        "the roads or the fleet cannot be read right now; try again shortly",
    )
}

/// `[lng, lat]`, `"poi:ID"`, or a plate / IMEI.
async fn resolve(pool: &PgPool, what: &str, v: &Value) -> Result<Place, ApiError> {
    match v {
        Value::Array(xy) => {
            let nums: Vec<f64> = xy.iter().filter_map(Value::as_f64).collect();
            let [lng, lat] = nums[..] else {
                return Err(bad(format!(
                    "{what}: expected [lng, lat] (two numbers), a \"poi:ID\" or a plate, got {v}"
                )));
            };
            if !(-180.0..=180.0).contains(&lng) || !(-90.0..=90.0).contains(&lat) {
                return Err(bad(format!(
                    "{what}: [{lng}, {lat}] is not on Earth: [lng, lat] with lng in -180..180 and lat in -90..90 (longitude first)"
                )));
            }
            Ok(Place {
                at: Point { lat, lng },
                label: None,
            })
        }
        Value::String(s) if s.trim().is_empty() => Err(bad(format!("{what}: empty"))),
        Value::String(s) => {
            let s = s.trim();
            if let Some(id) = s.strip_prefix("poi:") {
                let id: i64 = id.trim().parse().map_err(|_| {
                    bad(format!(
                        "{what}: \"{s}\": a point of interest is \"poi:\" and its number"
                    ))
                })?;
                let row: Option<(f64, f64, Option<String>, String)> = sqlx::query_as(
                    "SELECT ST_Y(geom), ST_X(geom), name, kind FROM geo.pois WHERE poi_id = $1",
                )
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db_down)?;
                let (lat, lng, name, kind) = row.ok_or_else(|| {
                    unprocessable(
                        "unknown_place",
                        format!("{what}: no point of interest {id}"),
                    )
                })?;
                return Ok(Place {
                    at: Point { lat, lng },
                    label: Some(name.unwrap_or(kind)),
                });
            }
            let row: Option<(String, Option<f64>, Option<f64>)> = sqlx::query_as(
                "SELECT vehicle_number, lat, lng FROM serve.fleet_units(serve.check_filters(
                        jsonb_build_object('vehicles', jsonb_build_array($1::text))))
                  ORDER BY fix_time DESC NULLS LAST LIMIT 1",
            )
            .bind(s)
            .fetch_optional(pool)
            .await
            .map_err(db_down)?;
            match row {
                None => Err(unprocessable(
                    "unknown_vehicle",
                    format!(
                        "{what}: no vehicle or tracker \"{s}\" in the fleet (a plate in any spelling, an IMEI, [lng, lat] or \"poi:ID\")"
                    ),
                )),
                Some((plate, Some(lat), Some(lng))) => Ok(Place {
                    at: Point { lat, lng },
                    label: Some(plate),
                }),
                Some((plate, _, _)) => Err(unprocessable(
                    "no_position",
                    format!("{what}: {plate} has not reported a position yet"),
                )),
            }
        }
        _ => Err(bad(format!(
            "{what}: expected [lng, lat], a \"poi:ID\" or a plate, got {v}"
        ))),
    }
}

/// A departure time: RFC 3339, or without a zone as EAT; `None` is now.
fn depart_at(v: Option<&Value>, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(now);
    };
    let Some(s) = v.as_str() else {
        return Err(bad(format!(
            "depart_at: expected an ISO 8601 time, got {v}"
        )));
    };
    let t = match DateTime::parse_from_rfc3339(s.trim()) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "depart_at: \"{s}\" is not a time: ISO 8601 like 2026-12-02T08:30:00+03:00 (EAT when no zone is given)"
                    ))
                })?;
            naive
                .and_local_timezone(EAT)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| bad(format!("depart_at: \"{s}\" is not a time")))?
        }
    };
    if t < now - PAST_GRACE {
        return Err(unprocessable(
            "depart_in_past",
            format!(
                "depart_at {} is in the past: routes are planned from now on (leave it out to leave now)",
                eat_time(t)
            ),
        ));
    }
    if t > now + chrono::Duration::days(MAX_AHEAD_DAYS) {
        return Err(unprocessable(
            "depart_too_far",
            format!(
                "depart_at {} is more than {MAX_AHEAD_DAYS} days ahead",
                eat_time(t)
            ),
        ));
    }
    Ok(t)
}

/// East Africa Time (UTC+3, no daylight saving), the zone the fleet lives in.
const EAT: FixedOffset = match FixedOffset::east_opt(3 * 3600) {
    Some(z) => z,
    None => panic!("UTC+3 is a valid offset"),
};

fn eat_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&EAT)
        .format("%Y-%m-%d %H:%M EAT")
        .to_string()
}

fn at_time(epoch: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros((epoch * 1e6).round() as i64).unwrap_or_default()
}

fn route_error(e: RouteError, places: &[(&str, Point)]) -> ApiError {
    match e {
        RouteError::NoGraph => ApiError::new(
            StatusCode::CONFLICT,
            "no_roads",
            "no roads are loaded to route on: load an extract with `fleet import osm FILE.osm.pbf`",
        ),
        RouteError::NoRoad(what) => {
            let p = places.iter().find(|p| p.0 == what).map(|p| p.1);
            unprocessable(
                "no_road",
                match p {
                    Some(p) => format!(
                        "no road within {} m of the {what} [{:.6}, {:.6}]: at sea, or off the loaded extract",
                        fleet_geo::routing::SNAP_M,
                        p.lng,
                        p.lat
                    ),
                    None => e.to_string(),
                },
            )
        }
        RouteError::Unreachable => unprocessable(
            "unreachable",
            "no route: the destination cannot be reached from the origin by road (they are on parts of the road network that do not connect, or one-way streets lead away)",
        ),
    }
}

fn round(x: f64, d: i32) -> f64 {
    let k = 10f64.powi(d);
    (x * k).round() / k
}

fn coords(points: &[Point]) -> Vec<[f64; 2]> {
    points
        .iter()
        .map(|p| [round(p.lng, 6), round(p.lat, 6)])
        .collect()
}

/// Shares of length and time per basis, every basis named (0 when absent).
fn basis_shares(routes: &[&Route]) -> Value {
    let (mut m, mut s) = ([0.0f64; 3], [0.0f64; 3]);
    for r in routes {
        for &(b, metres, secs) in &r.basis {
            let i = b as usize;
            m[i] += metres;
            s[i] += secs;
        }
    }
    let share = |x: [f64; 3]| {
        let t: f64 = x.iter().sum();
        let f = |i: usize| if t > 0.0 { round(x[i] / t, 4) } else { 0.0 };
        json!({"observed": f(0), "maxspeed": f(1), "default": f(2)})
    };
    let mut v = share(m);
    v["by_time"] = share(s);
    v
}

/// The route's line in runs of one basis, for colouring.
fn basis_runs(r: &Route) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < r.pieces.len() {
        let b = r.pieces[i].basis;
        let mut j = i;
        while j + 1 < r.pieces.len() && r.pieces[j + 1].basis == b {
            j += 1;
        }
        let (a, z) = (r.pieces[i].line.0, r.pieces[j].line.1);
        let m: f64 = r.pieces[i..=j].iter().map(|p| p.to_m - p.from_m).sum();
        out.push(json!({"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords(&r.line[a..=z.min(r.line.len() - 1)])},
            "properties": {"basis": b.as_str(), "distance_m": round(m, 1)}}));
        i = j + 1;
    }
    out
}

/// One route's answer (legs: the legs of a route through stops, or the route itself).
fn answer(g: &Graph, legs: &[Route]) -> Value {
    let refs: Vec<&Route> = legs.iter().collect();
    let mut line: Vec<Point> = Vec::new();
    for l in legs {
        for p in &l.line {
            if line.last() != Some(p) {
                line.push(*p);
            }
        }
    }
    let distance: f64 = legs.iter().map(|l| l.distance_m).sum();
    let depart = legs.first().map_or(0.0, |l| l.depart);
    let arrive = legs.last().map_or(depart, |l| l.depart + l.eta_s);
    let eta = arrive - depart;
    json!({
        "route_geojson": {"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords(&line)},
            "properties": {"distance_m": round(distance, 1), "eta_sec": round(eta, 1)}},
        "basis_geojson": {"type": "FeatureCollection",
            "features": legs.iter().flat_map(basis_runs).collect::<Vec<_>>()},
        "eta_sec": round(eta, 1),
        "distance_m": round(distance, 1),
        "depart_at": at_time(depart),
        "arrive_at": at_time(arrive),
        "depart_at_local": eat_time(at_time(depart)),
        "arrive_at_local": eat_time(at_time(arrive)),
        "observed_basis": basis_shares(&refs),
        "legs": legs.iter().map(|l| json!({
            "distance_m": round(l.distance_m, 1),
            "eta_sec": round(l.eta_s, 1),
            "depart_at": at_time(l.depart),
            "arrive_at": at_time(l.depart + l.eta_s),
            "observed_basis": basis_shares(&[l]),
            "steps": g.steps(l).into_iter().map(|s| json!({
                "name": s.name, "distance_m": round(s.distance_m, 1), "eta_sec": round(s.eta_sec, 1),
                "basis": s.basis.as_str(),
                "maneuver": {"type": s.maneuver.kind, "modifier": s.maneuver.modifier,
                             "location": [round(s.maneuver.location[0], 6), round(s.maneuver.location[1], 6)],
                             "bearing_before": s.maneuver.bearing_before, "bearing_after": s.maneuver.bearing_after},
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Writes a route request's latency and outcome (never holding up the answer).
fn record(pool: &PgPool, started: Instant, outcome: &'static str) {
    let ms = started.elapsed().as_secs_f64() * 1e3;
    metrics::counter!("fleet_routes_total", "outcome" => outcome).increment(1);
    metrics::histogram!("fleet_route_duration_seconds").record(ms / 1e3);
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Err(e) =
            sqlx::query("INSERT INTO ops.route_requests (duration_ms, outcome) VALUES ($1, $2)")
                .bind(ms)
                .bind(outcome)
                .execute(&pool)
                .await
        {
            tracing::warn!(error = %e, "recording a route request");
        }
    });
}

fn outcome_of(status: StatusCode) -> &'static str {
    if status.is_success() {
        "ok"
    } else if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT {
        "no_route"
    } else {
        "error"
    }
}

#[utoipa::path(post, path = "/api/routes", tag = "routes",
    summary = "The fastest route, leaving at a time, on observed speeds per hour of the week",
    request_body(content = Object, description = "`{\"origin\": P, \"destination\": P, \"via\": [P…]?, \"depart_at\": ISO?, \"alternatives\": 0-3?}`; P is `[lng, lat]`, `\"poi:ID\"` or a plate; depart_at without a zone is EAT, left out is now"),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{route_geojson, basis_geojson, eta_sec, distance_m, depart_at, arrive_at, depart_at_local, arrive_at_local, observed_basis: {observed, maxspeed, default, by_time}, legs: [{distance_m, eta_sec, steps: [{name, distance_m, eta_sec, basis, maneuver}]}], snapped: {origin, destination, via}, alternatives: [...], graph}`", body = Object),
        (status = 400, description = "Not a request the router reads (says what is wrong)", body = crate::openapi::ErrorBody),
        (status = 409, description = "No roads are loaded (fleet import osm)", body = crate::openapi::ErrorBody),
        (status = 422, description = "Unroutable: no road near a point, no connection, same origin and destination, unknown plate or POI, departure in the past or too far ahead", body = crate::openapi::ErrorBody),
        (status = 429, description = "Over the routes rate limit", body = crate::openapi::ErrorBody),
    ))]
async fn route(State(st): State<Routes>, body: axum::body::Bytes) -> Response {
    let started = Instant::now();
    let r = route_inner(&st, &body).await;
    let resp = match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    };
    record(&st.pool, started, outcome_of(resp.status()));
    resp
}

async fn route_inner(st: &Routes, body: &[u8]) -> Result<Value, ApiError> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let Some(obj) = doc.as_object() else {
        return Err(bad(
            "expected a JSON object {\"origin\": …, \"destination\": …}",
        ));
    };
    const KNOWN: [&str; 5] = ["origin", "destination", "via", "depart_at", "alternatives"];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown field \"{k}\": expected {}",
            KNOWN.join(", ")
        )));
    }
    let need = |k: &str| {
        obj.get(k).filter(|v| !v.is_null()).ok_or_else(|| {
            bad(format!(
                "\"{k}\" is missing: [lng, lat], \"poi:ID\" or a plate"
            ))
        })
    };
    let via_vals: Vec<Value> = match obj.get("via") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(v) => return Err(bad(format!("via: expected a list of points, got {v}"))),
    };
    if via_vals.len() > MAX_VIA {
        return Err(bad(format!(
            "via: {} stops; at most {MAX_VIA} per route: split the trip",
            via_vals.len()
        )));
    }
    let alternatives = match obj.get("alternatives") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64().or_else(|| v.as_bool().map(u64::from)) {
            Some(n) if n <= MAX_ALTERNATIVES => n as usize,
            _ => {
                return Err(bad(format!(
                    "alternatives: expected 0 to {MAX_ALTERNATIVES}, got {v}"
                )));
            }
        },
    };
    if alternatives > 0 && !via_vals.is_empty() {
        return Err(bad(
            "alternatives are offered for a route without stops only: leave out via or alternatives",
        ));
    }
    let depart = depart_at(obj.get("depart_at"), Utc::now())?;
    let origin = resolve(&st.pool, "origin", need("origin")?).await?;
    let destination = resolve(&st.pool, "destination", need("destination")?).await?;
    let mut stops = Vec::with_capacity(via_vals.len());
    for (i, v) in via_vals.iter().enumerate() {
        stops.push(resolve(&st.pool, &format!("via[{i}]"), v).await?);
    }
    let mut points: Vec<Point> = vec![origin.at];
    points.extend(stops.iter().map(|s| s.at));
    points.push(destination.at);
    if points
        .windows(2)
        .any(|w| fleet_geo::haversine_m(w[0], w[1]) < 1.0)
    {
        return Err(unprocessable(
            "same_place",
            "the route starts where it ends (or a stop repeats the point before it): nothing to route",
        ));
    }
    let built = st.cache.get().await.map_err(db_down)?;
    let g = built.graph.clone();
    let places = [("origin", origin.at), ("destination", destination.at)];
    let pts = points.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Value, RouteError> {
        if alternatives > 0 {
            let routes = g.alternatives(pts[0], pts[1], depart, alternatives)?;
            let mut v = answer(&g, &routes[..1]);
            v["alternatives"] = routes[1..].iter().map(|r| answer(&g, std::slice::from_ref(r))).collect::<Vec<_>>().into();
            v["snapped"] = json!({"origin": coords(&[routes[0].snapped.0])[0], "destination": coords(&[routes[0].snapped.1])[0], "via": []});
            Ok(v)
        } else {
            let legs = g.route_via(&pts, depart)?;
            let mut v = answer(&g, &legs);
            v["alternatives"] = json!([]);
            let snapped_via: Vec<[f64; 2]> = legs.iter().skip(1).map(|l| coords(&[l.snapped.0])[0]).collect();
            v["snapped"] = json!({
                "origin": legs.first().map(|l| coords(&[l.snapped.0])[0]),
                "destination": legs.last().map(|l| coords(&[l.snapped.1])[0]),
                "via": snapped_via});
            Ok(v)
        }
    })
    .await
    .map_err(|e| ApiError::unavailable("routing", e, "the route could not be computed; try again"))?;
    let mut v = result.map_err(|e| route_error(e, &places))?;
    v["labels"] = json!({"origin": origin.label, "destination": destination.label,
                         "via": stops.iter().map(|s| s.label.clone()).collect::<Vec<_>>()});
    v["graph"] = json!({"edges": built.graph.graph().edges.len(), "loaded_at": built.loaded_at});
    Ok(v)
}

/// The query of `nearest`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NearestQuery {
    /// Where to: `lng,lat`, `poi:ID` or a plate.
    pub to: String,
    /// How many vehicles (default 5, at most 50).
    pub limit: Option<u64>,
    /// Leaving at (default now; ISO 8601, EAT without a zone).
    pub depart_at: Option<String>,
}

/// Vehicles considered for `nearest`: this many times `limit` nearest by air, at least 20; the
/// route ETA ranks them.
const NEAREST_FACTOR: usize = 4;

#[utoipa::path(get, path = "/api/routes/nearest", tag = "routes",
    summary = "Live, available vehicles ranked by route ETA to a point (not straight-line distance)",
    params(NearestQuery),
    security(("bearer" = ["read:fleet"])),
    responses(
        (status = 200, description = "`{to, snapped, depart_at, vehicles: [{vehicle_number, unit_key, state, eta_sec, distance_m, straight_m, arrive_at, observed_basis}], considered, unreachable}`", body = Object),
        (status = 400, description = "A parameter the router does not read", body = crate::openapi::ErrorBody),
        (status = 409, description = "No roads are loaded", body = crate::openapi::ErrorBody),
        (status = 422, description = "The point has no road near it, or is an unknown plate or POI", body = crate::openapi::ErrorBody),
    ))]
async fn nearest(State(st): State<Routes>, Query(q): Query<NearestQuery>) -> Response {
    let started = Instant::now();
    let resp = match nearest_inner(&st, q).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    };
    record(&st.pool, started, outcome_of(resp.status()));
    resp
}

async fn nearest_inner(st: &Routes, q: NearestQuery) -> Result<Value, ApiError> {
    let limit = q.limit.unwrap_or(5);
    if !(1..=MAX_NEAREST).contains(&limit) {
        return Err(bad(format!(
            "limit: expected 1 to {MAX_NEAREST}, got {limit}"
        )));
    }
    let to_v = {
        let parts: Vec<&str> = q.to.split(',').map(str::trim).collect();
        match parts[..] {
            [a, b] if a.parse::<f64>().is_ok() && b.parse::<f64>().is_ok() => {
                json!([
                    a.parse::<f64>().unwrap_or(0.0),
                    b.parse::<f64>().unwrap_or(0.0)
                ])
            }
            _ => Value::String(q.to.clone()),
        }
    };
    let to = resolve(&st.pool, "to", &to_v).await?;
    let depart = depart_at(q.depart_at.map(Value::String).as_ref(), Utc::now())?;
    // live and available: moving or parked on a fresh fix, not suspended
    let fleet: Vec<(String, String, String, f64, f64)> = sqlx::query_as(
        "SELECT unit_key, vehicle_number, state, lat, lng FROM serve.fleet_units(serve.check_filters('{}'::jsonb))
          WHERE state IN ('moving', 'parked') AND lifecycle = 'active' AND lat IS NOT NULL",
    )
    .fetch_all(&st.pool)
    .await
    .map_err(db_down)?;
    let mut by_air: Vec<(f64, usize)> = fleet
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                fleet_geo::haversine_m(Point { lat: f.3, lng: f.4 }, to.at),
                i,
            )
        })
        .collect();
    by_air.sort_by(|a, b| a.0.total_cmp(&b.0));
    by_air.truncate((limit as usize * NEAREST_FACTOR).max(20));
    let built = st.cache.get().await.map_err(db_down)?;
    let g = built.graph.clone();
    let target = to.at;
    let cands: Vec<(f64, Point)> = by_air
        .iter()
        .map(|&(d, i)| {
            (
                d,
                Point {
                    lat: fleet[i].3,
                    lng: fleet[i].4,
                },
            )
        })
        .collect();
    let routed = tokio::task::spawn_blocking(move || {
        cands
            .iter()
            .map(|&(_, p)| g.route(p, target, depart))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| {
        ApiError::unavailable("routing", e, "the routes could not be computed; try again")
    })?;
    // the destination itself has no road: say so rather than answer that no one can get there
    if let Some(Err(RouteError::NoRoad("destination")) | Err(RouteError::NoGraph)) = routed.first()
    {
        let e = routed
            .into_iter()
            .next()
            .and_then(Result::err)
            .unwrap_or(RouteError::NoGraph);
        return Err(route_error(e, &[("destination", to.at)]));
    }
    let mut ranked: Vec<(f64, Value)> = Vec::new();
    let mut unreachable = 0;
    let mut snapped = None;
    for ((air, i), r) in by_air.iter().zip(routed) {
        let f = &fleet[*i];
        match r {
            Ok(r) => {
                snapped.get_or_insert(r.snapped.1);
                ranked.push((
                    r.eta_s,
                    json!({
                        "unit_key": f.0, "vehicle_number": f.1, "state": f.2,
                        "position": [round(f.4, 6), round(f.3, 6)],
                        "eta_sec": round(r.eta_s, 1), "distance_m": round(r.distance_m, 1),
                        "straight_m": round(*air, 1),
                        "arrive_at": at_time(r.depart + r.eta_s),
                        "arrive_at_local": eat_time(at_time(r.depart + r.eta_s)),
                        "observed_basis": basis_shares(&[&r]),
                    }),
                ));
            }
            Err(_) => unreachable += 1,
        }
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    ranked.truncate(limit as usize);
    Ok(json!({
        "to": [round(to.at.lng, 6), round(to.at.lat, 6)],
        "to_label": to.label,
        "snapped": snapped.map(|p| [round(p.lng, 6), round(p.lat, 6)]),
        "depart_at": depart,
        "vehicles": ranked.into_iter().map(|r| r.1).collect::<Vec<_>>(),
        "considered": by_air.len(),
        "available": fleet.len(),
        "unreachable": unreachable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departures_read_as_people_write_them() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T05:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("now");
        let t = |s: &str| depart_at(Some(&Value::String(s.into())), now);
        assert_eq!(
            t("2026-12-02T09:30:00+03:00").expect("zone").to_rfc3339(),
            "2026-12-02T06:30:00+00:00"
        );
        // no zone: EAT
        assert_eq!(
            t("2026-12-02 09:30").expect("naive").to_rfc3339(),
            "2026-12-02T06:30:00+00:00"
        );
        assert_eq!(
            t("2026-12-02T06:30:00Z").expect("Z").to_rfc3339(),
            "2026-12-02T06:30:00+00:00"
        );
        assert_eq!(depart_at(None, now).expect("now"), now);
        assert_eq!(
            t("2026-12-01T08:00:00Z").expect_err("past").code(),
            "depart_in_past"
        );
        assert_eq!(
            t("2029-01-01T08:00:00Z").expect_err("ahead").code(),
            "depart_too_far"
        );
        assert_eq!(t("tomorrow").expect_err("words").code(), "bad_request");
        // a few minutes of clock difference are not "the past"
        assert!(t("2026-12-02T04:57:00Z").is_ok());
    }
}
