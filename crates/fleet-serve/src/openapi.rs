//! The OpenAPI document of the API (`GET /api/openapi.json`), generated from the Rust types and
//! handler annotations, and the docs page that renders it (`GET /api/docs`). The views come from
//! the one table that also routes them ([`crate::views::VIEWS`]), so a new view is documented by
//! being added.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::security::{HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, ObjectBuilder, OpenApi, PathsBuilder, Ref, Required,
    ResponseBuilder, Type,
};

/// The one JSON error shape: `{"error": {"code", "message"}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` and a message that says how to fix it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Fleet Platform API",
        description = "Live and historical fleet state, analytics and operator actions. Every `/api/*` call except `/api/auth/token`, `/api/openapi.json` and `/api/docs` needs `Authorization: Bearer <access_token>` with the scope named on the operation. Times in payloads are UTC (RFC 3339) with `*_local` twins formatted in EAT (Africa/Nairobi); days are EAT days.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(crate::auth::token, crate::slo::slo_status),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "auth", description = "Tokens"),
        (name = "views", description = "Render-ready views: {summary, geojson, slo_status}"),
        (name = "analytics", description = "Fleet analytics in EAT days"),
        (name = "actions", description = "Operator actions, recorded as events and audited"),
    )
)]
struct CoreDoc;

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn shorthand(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// The read views, from [`crate::views::VIEWS`].
fn views_doc() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for v in crate::views::VIEWS {
        let tag = if v.path.starts_with("/api/analytics/") {
            "analytics"
        } else {
            "views"
        };
        let op = OperationBuilder::new()
            .tag(tag)
            .summary(Some(v.summary))
            .operation_id(Some(v.path.trim_start_matches("/api/").replace(['/', '-'], "_")))
            .parameter(
                ParameterBuilder::new()
                    .name("filters")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "One JSON object: cost_centres, cities, vehicles (plates in any spelling or IMEIs), accounts, states (live view and current-state analytics), departments (fuel), from/to (EAT days, inclusive, or timestamps), period_days, zoom and track (history: raw or matched), bbox (live: [west, south, east, north]). Unknown keys are a 400.",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            )
            .parameter(shorthand("period", "Shorthand for period_days: 90d or 90."))
            .parameter(shorthand("department", "Shorthand for departments: comma-separated, any spelling."))
            .parameter(shorthand("vehicle", "Shorthand for vehicles: comma-separated plates in any spelling."))
            .parameter(shorthand("track", "Shorthand for track (history): matched draws the map-matched path, raw the fixes as received."));
        let op = if v.path == "/api/views/live" {
            op.parameter(shorthand(
                "format",
                "geojson (the default) or compact: columns and rows (arrays) instead of GeoJSON features, about half the bytes.",
            ))
        } else {
            op
        };
        let op = op
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The render-ready payload")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                            .build(),
                    )
                    .build(),
            )
            .response(
                "400",
                error_response("A bad filter; the message names it and the fix"),
            )
            .response("401", error_response("No valid token"))
            .response("403", error_response("The token lacks read:fleet"))
            .response("429", error_response("Rate limited; see Retry-After"))
            .security(SecurityRequirement::new("bearer", ["read:fleet"]))
            .build();
        paths = paths.path(v.path, PathItem::new(HttpMethod::Get, op));
    }
    paths = paths.path(
        crate::live::PATH,
        PathItem::new(HttpMethod::Get, stream_doc()),
    );
    utoipa::openapi::OpenApiBuilder::new()
        .paths(paths.build())
        .build()
}

/// The live stream (`crate::live`).
fn stream_doc() -> utoipa::openapi::path::Operation {
    OperationBuilder::new()
        .tag("views")
        .summary(Some("Live map updates as Server-Sent Events: the changes to what GET /api/views/live shows, within a second of a fix reaching state."))
        .description(Some(
            "Events: `hello` {epoch, tick, resumed} (not resumed: load GET /api/views/live now, after this event); `changes` {tick, generated_at, features, removed: [{id, seq}]} at least once a second (the heartbeat), with the features of the filters that changed (new fixes, and state changes that come with time alone) and the units that went or left the filters; `reset` {reason}: reload the snapshot and keep the stream; `bye` {reason: token_expired | server_stopping}: reconnect with a fresh token. Reconnect with the last event id (header Last-Event-ID, or ?last_event_id=) to get what was missed. Apply a feature or removal only when its seq is at least the one held.",
        ))
        .operation_id(Some("views_live_stream"))
        .parameter(
            ParameterBuilder::new()
                .name("filters")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some("The live view's filters object (cost_centres, cities, vehicles, accounts, states, bbox)."))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        )
        .parameter(shorthand("last_event_id", "The id of the last event received, for clients that cannot send the Last-Event-ID header."))
        .parameter(shorthand("format", "geojson (the default) or compact: each tick's units as columns and rows instead of features."))
        .response(
            "200",
            ResponseBuilder::new()
                .description("An endless text/event-stream")
                .content(
                    "text/event-stream",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
                .build(),
        )
        .response("400", error_response("A bad filter; the message names it and the fix"))
        .response("401", error_response("No valid token"))
        .response("403", error_response("The token lacks read:fleet"))
        .response("429", error_response("Rate limited; see Retry-After"))
        .response("503", error_response("The stream cannot listen to the database yet; retry"))
        .security(SecurityRequirement::new("bearer", ["read:fleet"]))
        .build()
}

/// The whole document: the core (auth, SLO, views) merged with `extra` (the actions).
pub fn document(extra: OpenApi) -> OpenApi {
    use utoipa::OpenApi as _;
    let mut doc = CoreDoc::openapi();
    doc.merge(views_doc());
    doc.merge(extra);
    let mut components = doc
        .components
        .take()
        .unwrap_or_else(|| ComponentsBuilder::new().build());
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            utoipa::openapi::security::HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /api/auth/token"))
                .build(),
        ),
    );
    doc.components = Some(components);
    doc
}

/// The API reference page: Swagger UI (vendored under `web/vendor/swagger-ui`, served from the
/// binary) over `/api/openapi.json`, with "Try it out" sending the pages' logged-in token
/// (`web/docs.js`).
pub const DOCS_PAGE: &str = include_str!("docs.html");

/// `GET /api/openapi.json` and `GET /api/docs` (both public: they describe, they do not read).
pub fn router(doc: OpenApi) -> Router {
    let json = doc.to_pretty_json().unwrap_or_else(|_| "{}".into());
    Router::new()
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json).into_response() }
            }),
        )
        .route(
            "/api/docs",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    DOCS_PAGE,
                )
                    .into_response()
            }),
        )
}
