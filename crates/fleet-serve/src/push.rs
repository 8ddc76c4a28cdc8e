//! Gateway push receivers (ARCHITECTURE §1 rule 2): verify, one durable insert into
//! `events.raw` with a `NOTIFY` in the same statement, answer. Nothing else runs here.
//!
//! - `POST /push/jimi/{path}`: the IoT Hub paths (`pushgps`, `pushhb`, ...). The hub sends form
//!   fields `token` and `data_list`; `token` must equal `JIMI_PUSH_TOKEN` (constant-time compare).
//!   Answer `{"code":0,"msg":"success"}`.
//! - `POST /push/jimi/alarm`: the Open API alarm push (`msgType`, `data`). The vendor documents no
//!   signature, so the URL registered with the vendor carries the token: `…/push/jimi/alarm?token=…`
//!   (a `token` form field is accepted too).
//! - `POST /push/{source}`: any other signed source; header `X-Fleet-Signature: sha256=<hex>` is the
//!   HMAC-SHA256 of the body with that source's secret from `FLEET_PUSH_SECRETS`. Answer 202 with
//!   the raw row id.
//!
//! With `FLEET_PUSH_MIRROR_URL` set, every accepted push is also copied, unchanged and after its
//! commit, to `<mirror URL><original path and query>` (see `mirror`).
//!
//! Limits ([`PushLimits`]): verified pushes per source credential (sized for the design load: a
//! hub sends every device's pushes from a few addresses, so a per-IP figure would throttle it),
//! and attempts that fail (unknown path or source, wrong token or signature) per sending IP;
//! once an IP has spent its failures, its pushes are refused before they are checked until the
//! bucket refills. Either answers 429 with `Retry-After`.
//!
//! A request that fails verification is answered 401 and never reaches the log. Unknown paths are
//! 404, bodies over `FLEET_PUSH_MAX_BYTES` are 413, all counted by reason. If the database cannot
//! take the row the answer is 503, so the sender retries: an acknowledgement always means the row
//! is committed.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use fleet_core::jimi;
use fleet_core::metrics;
use hmac::{KeyInit, Mac};
use serde_json::json;
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use crate::limit::Limiter;
use crate::mirror::{Copy, Mirror};
use fleet_ingest::rawlog::{NewRaw, RawLog};

/// Push settings (from configuration).
#[derive(Clone, Default)]
pub struct PushConfig {
    pub jimi_token: Option<fleet_core::secret::Secret>,
    pub secrets: Vec<(String, fleet_core::secret::Secret)>,
    pub max_bytes: usize,
    /// Where to copy every accepted push (side-by-side cutover); `None` = no mirror.
    pub mirror_url: Option<String>,
}

/// The push receivers' limits: verified pushes per credential, failed attempts per IP.
#[derive(Clone)]
pub struct PushLimits {
    pub per_source: Limiter,
    pub failed: Limiter,
}

impl PushLimits {
    /// Limits of `per_source` verified pushes a minute per credential and `failed` failed
    /// attempts a minute per IP (0 = off).
    pub fn new(per_source: u32, failed: u32) -> Self {
        Self {
            per_source: Limiter::new("push_source", per_source),
            failed: Limiter::new("push_failed", failed),
        }
    }

    /// No limits (tests of the receivers themselves).
    pub fn off() -> Self {
        Self::new(0, 0)
    }
}

#[derive(Clone)]
struct PushState {
    log: RawLog,
    cfg: Arc<PushConfig>,
    mirror: Option<Mirror>,
    limits: PushLimits,
}

impl PushState {
    /// An IP that has spent its failed attempts is refused before anything is checked.
    fn barred(&self, addr: SocketAddr) -> Option<Response> {
        let wait = self.limits.failed.peek(&addr.ip().to_string()).err()?;
        Some(reject("rate_limited", self.limits.failed.refuse(wait)))
    }

    /// A failed attempt: spends one of the sending IP's failures, then answers `response`.
    fn failed(&self, addr: SocketAddr, reason: &'static str, response: Response) -> Response {
        let _ = self.limits.failed.check(&addr.ip().to_string());
        reject(reason, response)
    }

    /// A verified push spends one of its credential's pushes; `Some(429)` when there is none.
    fn over_limit(&self, credential: &str) -> Option<Response> {
        let wait = self.limits.per_source.check(credential).err()?;
        Some(reject("rate_limited", self.limits.per_source.refuse(wait)))
    }
}

impl PushState {
    /// After the row is committed: hand a copy to the mirror, if any (never waits).
    fn mirror(&self, uri: &Uri, headers: &HeaderMap, body: Bytes) {
        if let Some(m) = &self.mirror {
            m.forward(Copy {
                path_and_query: uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                content_type: headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body,
            });
        }
    }
}

/// Appender tasks writing accepted pushes (each holds one connection while committing).
const APPENDERS: usize = 4;

/// The push routes, to merge into the gateway router.
/// The push receivers without limits.
pub fn router(pool: PgPool, cfg: PushConfig) -> Router {
    router_limited(pool, cfg, PushLimits::off())
}

/// The push receivers behind `limits` (what the gateway serves).
pub fn router_limited(pool: PgPool, cfg: PushConfig, limits: PushLimits) -> Router {
    let limit = cfg.max_bytes.max(256);
    Router::new()
        .route("/push/jimi/{path}", post(jimi_push))
        .route("/push/{source}", post(signed_push))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(PushState {
            log: RawLog::start(pool, APPENDERS),
            mirror: cfg.mirror_url.clone().map(Mirror::start),
            cfg: Arc::new(cfg),
            limits,
        })
}

fn jimi_answer(status: StatusCode, code: i32, msg: &str) -> Response {
    (status, axum::Json(json!({"code": code, "msg": msg}))).into_response()
}

fn reject(reason: &'static str, response: Response) -> Response {
    ::metrics::counter!(metrics::PUSH_REJECTED_TOTAL, "reason" => reason).increment(1);
    response
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The `token` form field (the rest of the body is left to the parser).
fn form_token(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

async fn jimi_push(
    State(s): State<PushState>,
    Path(path): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = s.barred(addr) {
        return refused;
    }
    let kind = if path == "alarm" {
        jimi::ALARM_PUSH_KIND
    } else if let Some(k) = jimi::IOT_HUB_PATHS.iter().find(|p| **p == path) {
        k
    } else {
        return s.failed(
            addr,
            "unknown_path",
            jimi_answer(
                StatusCode::NOT_FOUND,
                404,
                &format!(
                    "unknown push path {path:?}; known: alarm, {}",
                    jimi::IOT_HUB_PATHS.join(", ")
                ),
            ),
        );
    };
    let Some(expected) = s.cfg.jimi_token.as_ref().map(|t| t.expose()) else {
        return reject(
            "not_configured",
            jimi_answer(
                StatusCode::SERVICE_UNAVAILABLE,
                -1,
                "JIMI_PUSH_TOKEN is not configured on this gateway",
            ),
        );
    };
    let token = query
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .or_else(|| form_token(&body));
    if !token.is_some_and(|t| constant_time_eq(&t, expected)) {
        return s.failed(
            addr,
            "bad_token",
            jimi_answer(StatusCode::UNAUTHORIZED, 401, "invalid or missing token"),
        );
    }
    if let Some(refused) = s.over_limit("jimi_push") {
        return refused;
    }
    match store(
        &s.log,
        "jimi_push",
        kind,
        &headers,
        body.clone(),
        addr,
        "token",
    )
    .await
    {
        Ok(_) => {
            s.mirror(&uri, &headers, body);
            ::metrics::counter!(metrics::PUSH_ACCEPTED_TOTAL, "source" => "jimi_push").increment(1);
            jimi_answer(StatusCode::OK, 0, "success")
        }
        Err(e) => {
            tracing::error!(error = %e, kind, "cannot store a push; answering 503 so the sender retries");
            reject(
                "storage",
                jimi_answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    -1,
                    "temporarily unable to store the push; retry",
                ),
            )
        }
    }
}

async fn signed_push(
    State(s): State<PushState>,
    Path(source): Path<String>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = s.barred(addr) {
        return refused;
    }
    let Some((source, secret)) = s.cfg.secrets.iter().find(|(name, _)| *name == source) else {
        return s.failed(
            addr,
            "unknown_source",
            crate::error_response(
                StatusCode::NOT_FOUND,
                "unknown_source",
                &format!("no push source named {source:?} is configured (FLEET_PUSH_SECRETS)"),
            ),
        );
    };
    let signature = headers
        .get("x-fleet-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="));
    let valid = signature
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
        .is_some_and(|sig| {
            let Ok(mut mac) =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose().as_bytes())
            else {
                return false;
            };
            mac.update(&body);
            mac.verify_slice(&sig).is_ok()
        });
    if !valid {
        return s.failed(
            addr,
            "bad_signature",
            crate::error_response(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                "X-Fleet-Signature must be sha256=<hex HMAC-SHA256 of the body with this source's secret>",
            ),
        );
    }
    let kind = headers
        .get("x-fleet-kind")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 100)
        .unwrap_or("push");
    if let Some(refused) = s.over_limit(&format!("source:{source}")) {
        return refused;
    }
    match store(
        &s.log,
        source,
        kind,
        &headers,
        body.clone(),
        addr,
        "hmac_sha256",
    )
    .await
    {
        Ok(id) => {
            s.mirror(&uri, &headers, body);
            ::metrics::counter!(metrics::PUSH_ACCEPTED_TOTAL, "source" => "signed").increment(1);
            (
                StatusCode::ACCEPTED,
                axum::Json(json!({"accepted": true, "id": id})),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, source, "cannot store a push; answering 503 so the sender retries");
            reject(
                "storage",
                crate::error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "temporarily unable to store the push; retry",
                ),
            )
        }
    }
}

/// Appends the verbatim body; returns once the row is committed (group commit, see `rawlog`).
async fn store(
    log: &RawLog,
    source: &str,
    kind: &str,
    headers: &HeaderMap,
    body: Bytes,
    addr: SocketAddr,
    verification: &'static str,
) -> Result<i64, fleet_ingest::rawlog::AppendError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    log.append(NewRaw {
        source: source.to_string(),
        kind: kind.to_string(),
        content_type,
        body: body.to_vec(),
        remote_addr: Some(addr.ip()),
        verification,
    })
    .await
}
