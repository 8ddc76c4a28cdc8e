//! The dashboards (issue 7): `/live` (also `/`), `/history`, `/routes`, `/fuel` and `/ops`, and their assets
//! under `/static/`, embedded in the binary. Vanilla ES modules, no bundler; the pages log in
//! with the token API and read the same `/api` endpoints as any client.
//!
//! Every response carries an ETag (a hash of the embedded bytes) and `Cache-Control: no-cache`,
//! so a browser revalidates and gets `304 Not Modified` until the binary changes.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{ApiError, error_response};

/// What the pages need to know about this deployment, served as `/static/config.json`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PagesConfig {
    /// A MapLibre style URL (`FLEET_MAP_STYLE_URL`); `None` = the offline basemap of our own
    /// vector tiles (`/tiles/{z}/{x}/{y}.pbf`).
    pub map_style: Option<String>,
}

struct Asset {
    path: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $mime:expr) => {
        Asset {
            path: $path,
            mime: $mime,
            body: include_bytes!(concat!("../web/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("fleet-core.js", JS),
    asset!("live.js", JS),
    asset!("history.js", JS),
    asset!("routes.js", JS),
    asset!("fuel.js", JS),
    asset!("ops.js", JS),
    asset!("fleet.css", CSS),
    asset!("vendor/maplibre-gl/maplibre-gl.mjs", JS),
    asset!("vendor/maplibre-gl/maplibre-gl-worker.mjs", JS),
    asset!("vendor/maplibre-gl/maplibre-gl.css", CSS),
    asset!("vendor/uplot/uPlot.esm.js", JS),
    asset!("vendor/uplot/uPlot.min.css", CSS),
    asset!("docs.js", JS),
    asset!("docs.css", CSS),
    asset!("vendor/swagger-ui/swagger-ui-bundle.js", JS),
    asset!("vendor/swagger-ui/swagger-ui.css", CSS),
];

/// A page: the shared frame (`web/page.html`: head, header) around its own `<main>`.
struct Page {
    routes: &'static [&'static str],
    title: &'static str,
    module: &'static str,
    styles: &'static [&'static str],
    main: &'static str,
}

const MAP_CSS: &str = "/static/vendor/maplibre-gl/maplibre-gl.css";
const FRAME: &str = include_str!("../web/page.html");

static PAGES: &[Page] = &[
    Page {
        routes: &["/", "/live"],
        title: "Live",
        module: "live.js",
        styles: &[MAP_CSS],
        main: include_str!("../web/live.main.html"),
    },
    Page {
        routes: &["/history"],
        title: "History",
        module: "history.js",
        styles: &[MAP_CSS],
        main: include_str!("../web/history.main.html"),
    },
    Page {
        routes: &["/routes"],
        title: "Routes",
        module: "routes.js",
        styles: &[MAP_CSS],
        main: include_str!("../web/routes.main.html"),
    },
    Page {
        routes: &["/fuel"],
        title: "Fuel log",
        module: "fuel.js",
        styles: &["/static/vendor/uplot/uPlot.min.css"],
        main: include_str!("../web/fuel.main.html"),
    },
    Page {
        routes: &["/ops"],
        title: "Operations",
        module: "ops.js",
        styles: &[],
        main: include_str!("../web/ops.main.html"),
    },
];

/// A response body with its type and ETag (a hash of the bytes).
struct Served {
    mime: &'static str,
    body: Vec<u8>,
    etag: String,
}

impl Served {
    fn new(mime: &'static str, body: Vec<u8>) -> Self {
        let etag = format!("\"{:016x}\"", fleet_core::fnv1a(body.iter().copied()));
        Self { mime, body, etag }
    }
}

fn render(p: &Page) -> String {
    let styles: String = p
        .styles
        .iter()
        .map(|href| format!("  <link rel=\"stylesheet\" href=\"{href}\">\n"))
        .collect();
    FRAME
        .replace("{title}", p.title)
        .replace("{styles}", &styles)
        .replace("{module}", p.module)
        .replace("{main}", p.main)
}

/// Static files by path, pages by route.
type ServedFiles = (HashMap<&'static str, Served>, HashMap<&'static str, Served>);

/// Every static file by path, and every page by route, made once.
fn served() -> &'static ServedFiles {
    static SERVED: OnceLock<ServedFiles> = OnceLock::new();
    SERVED.get_or_init(|| {
        let files = ASSETS
            .iter()
            .map(|a| (a.path, Served::new(a.mime, a.body.to_vec())))
            .collect();
        let pages = PAGES
            .iter()
            .flat_map(|p| {
                let html = render(p);
                p.routes
                    .iter()
                    .map(move |r| (*r, Served::new(HTML, html.clone().into_bytes())))
            })
            .collect();
        (files, pages)
    })
}

fn serve(s: &'static Served, headers: &HeaderMap) -> Response {
    let mut r = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == s.etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, s.mime)], s.body.as_slice()).into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&s.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn static_file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match served().0.get(path.as_str()) {
        Some(f) => serve(f, &headers),
        None => error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no static file {path:?}"),
        ),
    }
}

async fn config(State(cfg): State<PagesConfig>) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        axum::Json(cfg),
    )
        .into_response()
}

/// `GET /tiles/{z}/{x}/{y}.pbf`: the offline basemap, a vector tile of the loaded OSM roads and
/// POIs (`geo.tile`). Public, like the OpenStreetMap data it shows.
pub fn tiles_router(pool: sqlx::PgPool) -> Router {
    Router::new()
        .route("/tiles/{z}/{x}/{y}", get(tile))
        .with_state(pool)
}

async fn tile(
    State(pool): State<sqlx::PgPool>,
    Path((z, x, y)): Path<(u32, u32, String)>,
) -> Response {
    let id = y
        .strip_suffix(".pbf")
        .unwrap_or(&y)
        .parse::<u32>()
        .ok()
        .and_then(|y| fleet_geo::tiles::TileId::new(z, x, y));
    let Some(id) = id else {
        return error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "tiles are /tiles/{z}/{x}/{y}.pbf with z from 0 to 22 and x, y below 2^z",
        );
    };
    match fleet_geo::tiles::tile(&pool, id).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::unavailable(
            &format!("tile {}/{}/{}", id.z, id.x, id.y),
            e,
            "the tile could not be made; try again",
        )
        .into_response(),
    }
}

/// The pages and `/static/*`. Public: the pages hold no data; they log in to read the API.
pub fn router(cfg: PagesConfig) -> Router {
    let mut r = Router::new()
        .route("/static/config.json", get(config))
        .route("/static/{*path}", get(static_file));
    for route in PAGES.iter().flat_map(|p| p.routes) {
        let page = &served().1[route];
        r = r.route(
            route,
            get(move |headers: HeaderMap| async move { serve(page, &headers) }),
        );
    }
    r.with_state(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_a_page_or_module_refers_to_is_embedded() {
        // /static/ references and relative imports in our own files and the rendered pages
        // must resolve, or a page breaks in the browser with a console error only.
        let (files, pages) = served();
        let ours = ASSETS
            .iter()
            .filter(|a| !a.path.starts_with("vendor/"))
            .map(|a| {
                (
                    a.path,
                    std::str::from_utf8(a.body).expect("utf-8").to_string(),
                )
            })
            .chain(
                pages
                    .iter()
                    .map(|(r, p)| (*r, String::from_utf8(p.body.clone()).expect("utf-8"))),
            )
            .chain([("/api/docs", crate::openapi::DOCS_PAGE.to_string())]);
        for (name, text) in ours {
            for (i, _) in text.match_indices("/static/") {
                let rest = &text[i + "/static/".len()..];
                let end = rest
                    .find(['"', '\'', '`', ')', '?', ' '])
                    .unwrap_or(rest.len());
                let path = &rest[..end];
                if path.is_empty() || path == "config.json" || path.contains('$') {
                    continue;
                }
                assert!(files.contains_key(path), "{name} refers to /static/{path}");
            }
            for (i, _) in text.match_indices("from './") {
                let rest = &text[i + "from './".len()..];
                let path = &rest[..rest.find('\'').unwrap_or(rest.len())];
                assert!(files.contains_key(path), "{name} imports ./{path}");
            }
            assert!(
                !text.contains("{main}") && !text.contains("{title}"),
                "{name}: unfilled frame"
            );
        }
    }
}
