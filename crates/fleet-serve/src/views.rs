//! The read contract (ARCHITECTURE §6): the views and analytics the pages render. Each endpoint
//! is one `serve.fn_*` SQL function that takes the filters object and answers a complete,
//! render-ready JSON document; this module only checks the query string, runs the function, and
//! passes its text through (no decode and re-encode of large GeoJSON).
//!
//! `?filters=` carries one JSON object (URL-encoded), e.g.
//! `{"cost_centres":["OPS"],"vehicles":["KCA 542Q"],"from":"2026-11-01","to":"2026-11-07","zoom":13}`.
//! A bad filter is a 400 whose message names the key and the fix (the SQL checks them, so a new
//! filter is one SQL change).

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::PgPool;

use crate::reads::{Reads, Source};
use crate::{ApiError, error_response};

/// One read endpoint: its path, the SQL that answers it (`$1` = the filters object), and what it
/// returns (for the docs and the OpenAPI document).
pub struct View {
    pub path: &'static str,
    pub sql: &'static str,
    pub summary: &'static str,
}

/// Every view and analytic, in the order the docs list them.
pub const VIEWS: &[View] = &[
    View {
        path: "/api/views/live",
        sql: "SELECT serve.fn_live_view($1, $2)::text",
        summary: "Live map: one feature per vehicle (freshest device wins) with state, style_class, colour, plate tail, EAT times and seq; KPIs and SLO badges. `filters.bbox` [west, south, east, north] keeps the vehicles in the map's bounds; `format=compact` answers `columns` and `rows` (arrays) instead of GeoJSON; a `filters.zoom` below the live_vehicles_from_zoom threshold (10) answers `cells`, vehicle counts per grid cell. GET /api/views/live/stream carries the changes after it.",
    },
    View {
        path: "/api/views/history",
        sql: "SELECT serve.fn_history_view($1)::text",
        summary: "History of a vehicle set over a date range: tracks per EAT day simplified for `zoom` (`track=matched`: the map-matched path, raw fixes after the last matched bucket), trips, stops, alarms, totals. At most 31 days and 50 vehicles.",
    },
    View {
        path: "/api/analytics/fleet-today",
        sql: "SELECT serve.fn_fleet_today($1)::text",
        summary: "Per vehicle today (EAT): trips, km, driving time, first and last movement, state now.",
    },
    View {
        path: "/api/analytics/not-moved-today",
        sql: "SELECT serve.fn_not_moved_today($1)::text",
        summary: "Vehicles with no trip today that are not moving now.",
    },
    View {
        path: "/api/analytics/idle",
        sql: "SELECT serve.fn_currently_idle($1)::text",
        summary: "Vehicles idling now (ignition on, stationary, fresh fix), longest idle first.",
    },
    View {
        path: "/api/analytics/drivers-daily",
        sql: "SELECT serve.fn_driver_daily($1)::text",
        summary: "Per driver and EAT day: trips, km, driving time, harsh and speeding events, events per 100 km.",
    },
    View {
        path: "/api/analytics/fleet-km-daily",
        sql: "SELECT serve.fn_fleet_km_daily($1)::text",
        summary: "Fleet km, trips, driving time and active vehicles per EAT day.",
    },
    View {
        path: "/api/analytics/alarms-daily",
        sql: "SELECT serve.fn_alarms_daily($1)::text",
        summary: "Alarms per EAT day and type, with their class (harsh, speeding, other) and how many were acknowledged.",
    },
    View {
        path: "/api/analytics/utilisation",
        sql: "SELECT serve.fn_utilisation($1)::text",
        summary: "Per vehicle over the range: active days, driving time and km, as shares of the range.",
    },
    View {
        path: "/api/analytics/ingest-health",
        sql: "SELECT serve.fn_ingest_health($1)::text",
        summary: "Per source and kind: last arrival, rows and parse errors in the last hour, rows waiting; latest run of each cron job; SLOs.",
    },
    View {
        path: "/api/analytics/contract-checks",
        sql: "SELECT serve.fn_contract_checks($1)::text",
        summary: "The vendor contract check: per target the latest run with each method's outcome and the fields that broke the typed contract; the 20 newest runs.",
    },
    View {
        path: "/api/filters",
        sql: "SELECT serve.fn_filters($1)::text",
        summary: "The values each filter can take (cost centres with colours, cities, accounts, departments, states, and the vehicles the other filters leave).",
    },
    View {
        path: "/api/analytics/fuel-fills",
        sql: "SELECT serve.fn_fuel_fills($1)::text",
        summary: "Fuel fills over a period (default 90 days): totals (spend, litres, fills, KES/L, km/L), every fill with its efficiency, by department, by vehicle (km/L, L/100 km, KES/km) and the daily trend.",
    },
    View {
        path: "/api/analytics/fuel-fills/recent",
        sql: "SELECT serve.fn_fuel_recent($1)::text",
        summary: "The 50 newest fuel fills.",
    },
    View {
        path: "/api/analytics/fuel-efficiency",
        sql: "SELECT serve.fn_fuel_efficiency($1)::text",
        summary: "Efficiency between consecutive full fills per vehicle (odometer and GPS), with outliers flagged and left out of the figures.",
    },
    View {
        path: "/api/analytics/fuel-flagged",
        sql: "SELECT serve.fn_fuel_flagged($1)::text",
        summary: "Fills checked against telematics (where the vehicle stood at the fill time, nearest fuel station, GPS km vs odometer, litres vs expected, price per litre) with the reasons they are suspicious and their review state (approve or void them with POST /api/fuel/fills/{record_id}/review); the feed records that cannot be used, and those that count with a value missing.",
    },
    View {
        path: "/api/analytics/fuel-cost-per-km",
        sql: "SELECT serve.fn_fuel_cost_per_km($1)::text",
        summary: "Fuel spend per GPS km (and per odometer km where the odometer is trusted) per vehicle and per department and EAT month, with the month's median and the outliers flagged.",
    },
    View {
        path: "/api/fuel/department-spellings",
        sql: "SELECT serve.fn_fuel_department_spellings($1)::text",
        summary: "Every department spelling of the fuel feed with its canonical name, record count and how it was decided (mapping, cost centre, common name, learned group, own, or a suggestion to confirm or reject with POST /api/fuel/mappings).",
    },
];

/// The query string every view takes.
#[derive(Debug, Deserialize)]
pub struct ViewQuery {
    /// The filters object as JSON.
    pub filters: Option<String>,
    /// Shorthand for `period_days`: `90d` or `90`.
    pub period: Option<String>,
    /// Shorthand for `departments`: one or several, comma-separated.
    pub department: Option<String>,
    /// Shorthand for `vehicles`: one or several plates, comma-separated.
    pub vehicle: Option<String>,
    /// Shorthand for `track`: `matched` (history drawn on the roads) or `raw`.
    pub track: Option<String>,
    /// The live view's encoding: `geojson` (the default) or `compact`.
    pub format: Option<String>,
}

/// Every view's `GET` route (to be put behind the auth guard by the caller), reading where
/// `reads` says: the primary, or the replica while it is within its lag threshold.
pub fn router(reads: Reads) -> Router {
    let mut r = Router::new();
    for v in VIEWS {
        let (sql, live) = (v.sql, v.path == LIVE);
        r = r.route(
            v.path,
            get(
                move |State(reads): State<Reads>, Query(q): Query<ViewQuery>| async move {
                    answer(&reads, sql, q, live).await
                },
            ),
        );
    }
    r.with_state(reads)
}

/// The live view, which also says where it was read and how far behind that is (`read_from`).
const LIVE: &str = "/api/views/live";

/// Parses `?filters=` (absent or empty is `{}`) and merges the shorthands `period`,
/// `department`, `vehicle` and `track` into it.
pub fn filters_of(q: &ViewQuery) -> Result<serde_json::Value, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_filters", m);
    let mut filters = match q.filters.as_deref().map(str::trim) {
        None | Some("") => serde_json::json!({}),
        Some(s) => serde_json::from_str(s).map_err(|e| {
            bad(format!(
                "filters must be a JSON object, e.g. filters={{\"cost_centres\":[\"OPS\"]}} ({e})"
            ))
        })?,
    };
    let Some(obj) = filters.as_object_mut() else {
        return Ok(filters);
    };
    if let Some(p) = q.period.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        let days: u32 = p.strip_suffix('d').unwrap_or(p).parse().map_err(|_| {
            bad(format!(
                "period must be a number of days such as 90d, not {p:?}"
            ))
        })?;
        obj.insert("period_days".into(), days.into());
    }
    let list = |v: &str| -> serde_json::Value {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::Value::String(s.to_string()))
            .collect()
    };
    if let Some(d) = q.department.as_deref() {
        obj.insert("departments".into(), list(d));
    }
    if let Some(v) = q.vehicle.as_deref() {
        obj.insert("vehicles".into(), list(v));
    }
    if let Some(t) = q.track.as_deref().map(str::trim) {
        obj.insert("track".into(), t.into());
    }
    Ok(filters)
}

async fn answer(reads: &Reads, sql: &'static str, q: ViewQuery, live: bool) -> Response {
    let filters = match filters_of(&q) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let format = q.format.as_deref().map(str::trim).filter(|f| !f.is_empty());
    if format.is_some() && !live {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "format applies to /api/views/live only (geojson or compact)",
        )
        .into_response();
    }
    let (pool, mut source) = reads.choose();
    let mut result = run(pool, sql, &filters, live.then_some(format)).await;
    if source == Source::Replica
        && let Err(e) = &result
        && !is_bad_filter(e)
    {
        tracing::warn!(error = %e, "a view failed on the replica; reading it from the primary");
        source = Source::Primary;
        result = run(reads.primary(), sql, &filters, live.then_some(format)).await;
    }
    match result {
        Ok(mut text) => {
            if live {
                text = with_read_from(text, source, reads.status().and_then(|s| s.lag_seconds));
            }
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (HeaderName::from_static("x-fleet-read-from"), source.name()),
                ],
                Body::from(text),
            )
                .into_response()
        }
        Err(e) => sql_error(e, "reading a view"),
    }
}

/// Runs a view's SQL; `format` (the live view only) is its second parameter.
async fn run(
    pool: &PgPool,
    sql: &'static str,
    filters: &serde_json::Value,
    format: Option<Option<&str>>,
) -> Result<String, sqlx::Error> {
    let q = sqlx::query_scalar::<_, String>(sql).bind(filters);
    match format {
        Some(f) => q.bind(f),
        None => q,
    }
    .fetch_one(pool)
    .await
}

fn is_bad_filter(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.code().as_deref() == Some("22023"))
}

/// The document with `"read_from": {"source": …, "lag_seconds": …}` as its first member (the
/// view's own members untouched; a document that is not an object is left as it is).
fn with_read_from(text: String, source: Source, lag: Option<f64>) -> String {
    let Some(rest) = text.trim_start().strip_prefix('{') else {
        return text;
    };
    let lag = match (source, lag) {
        (Source::Primary, _) => serde_json::json!(0),
        (Source::Replica, l) => serde_json::json!(l),
    };
    let member = serde_json::json!({"source": source.name(), "lag_seconds": lag});
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    format!("{{\"read_from\":{member}{sep}{rest}")
}

/// A database error as an answer: a rejected parameter (SQLSTATE 22023, raised by the serve
/// functions with a message meant for the caller) is a 400; anything else is logged and a 503.
pub fn sql_error(e: sqlx::Error, doing: &str) -> Response {
    if is_bad_filter(&e)
        && let Some(db) = e.as_database_error()
    {
        return error_response(StatusCode::BAD_REQUEST, "bad_filters", db.message());
    }
    ApiError::unavailable(
        doing,
        e,
        "the data cannot be read right now; try again shortly",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_view_says_where_it_was_read() {
        let t = with_read_from(
            r#"{"geojson":{"type":"FeatureCollection"}}"#.into(),
            Source::Replica,
            Some(1.5),
        );
        let v: serde_json::Value = serde_json::from_str(&t).expect("still JSON");
        assert_eq!(
            v["read_from"],
            serde_json::json!({"source": "replica", "lag_seconds": 1.5})
        );
        assert_eq!(v["geojson"]["type"], "FeatureCollection");
        let t = with_read_from("{}".into(), Source::Primary, Some(9.0));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&t).expect("JSON"),
            serde_json::json!({"read_from": {"source": "primary", "lag_seconds": 0}})
        );
        assert_eq!(with_read_from("[1]".into(), Source::Primary, None), "[1]");
    }
}
