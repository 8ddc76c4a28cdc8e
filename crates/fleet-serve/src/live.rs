//! The live stream (issue 20 item 2): `GET /api/views/live/stream`, Server-Sent Events that move
//! the live map's dots within a second of a fix reaching state, so the page polls no more.
//!
//! How a change gets to a page without a gap:
//! - `state.refresh_live_units` (run by triggers in the writer's transaction) gives every row it
//!   writes a new `seq` and NOTIFYs `fleet_live` with the range `lo,hi`; PostgreSQL delivers it at
//!   commit, so a range read after the notification is committed and complete.
//! - One hub per gateway process LISTENs (on its own task, so no read is ever cut short), and
//!   every 200 ms after a notification, or once a second when none came (the heartbeat, which also
//!   carries the time that passed: a unit whose age crossed a threshold changes state without a
//!   fix), broadcasts a *tick*: its number, the ranges and `[since, until)` on the database's
//!   clock. The newest ticks stay in a ring.
//! - A subscriber answers each tick with `serve.fn_live_changes(filters, ranges, since, until)`:
//!   the features of its filters that changed, and the units that went or left them. Subscribers
//!   with the same filters share one query per tick.
//! - Event ids are `<epoch>.<tick>`. A client that reconnects with `Last-Event-ID` of this
//!   process's epoch and a tick still in the ring gets the ticks it missed, answered now (a range
//!   read later holds the rows' newest versions, and a row written again sits in a later range);
//!   anything else (another process, a ring overrun, a subscriber that fell behind, a lost LISTEN)
//!   is a `reset`: the page reloads the snapshot and keeps the stream.
//!
//! Events: `hello` (`{"epoch", "tick", "resumed"}`: not resumed means load the snapshot now),
//! `changes` (`{"tick", "generated_at", "features": [...], "removed": [{"id", "seq"}]}`, or with
//! `?format=compact` `"columns"` and `"rows"` in place of `"features"`, one per
//! tick, empty ones included, which is the heartbeat proxies need), `reset` (`{"reason"}`) and
//! `bye` (`{"reason"}`: the token expired or the server is stopping; reconnect with a fresh token
//! and `Last-Event-ID`). Features carry `seq`: apply one only if it is at least as new as the
//! feature held (a snapshot and a tick may cross).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, broadcast, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::auth::Claims;
use crate::views::{ViewQuery, filters_of, sql_error};

/// The stream's path.
pub const PATH: &str = "/api/views/live/stream";
/// The NOTIFY channel `state.refresh_live_units` announces its seq ranges on.
const CHANNEL: &str = "fleet_live";
/// How long the hub gathers notifications before it sends them as one tick.
const COALESCE: Duration = Duration::from_millis(200);
/// The longest time between ticks (the heartbeat, and the time-driven state changes).
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Ticks kept for clients that reconnect (at most ~5 a second: a few minutes).
const RING: usize = 1200;
/// The newest ticks whose answers stay cached (at 5 ticks a second: 2 s).
const ANSWERS_KEPT: usize = 10;
/// How long a new stream waits for the hub to be listening before it gives up (503).
const READY_WAIT: Duration = Duration::from_secs(10);

/// The gateway process's live hub; cheap to clone. It starts listening with its first subscriber
/// and stops with `stop`, which also ends every stream (so a graceful shutdown is not held up).
#[derive(Clone)]
pub struct LiveHub(Arc<Hub>);

struct Hub {
    pool: PgPool,
    stop: CancellationToken,
    epoch: String,
    started: std::sync::Once,
    listening: watch::Sender<bool>,
    tx: broadcast::Sender<Arc<Tick>>,
    ring: Mutex<VecDeque<Arc<Tick>>>,
}

/// One tick: the seq ranges written since the last one and the time that passed.
pub struct Tick {
    n: u64,
    /// Set when what happened before this tick is not known (the LISTEN was lost).
    reset: Option<&'static str>,
    lo: Vec<i64>,
    hi: Vec<i64>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    /// The answer per filters text, computed by the first subscriber that needs it.
    answers: Mutex<HashMap<String, Arc<Answer>>>,
}

/// One tick's answer for one filters text: the `changes` body, or why it could not be read.
type Answer = OnceCell<Result<Arc<str>, String>>;

/// A new subscriber's receiver, the ticks it missed (None: it cannot resume), the newest tick.
type Subscription = (broadcast::Receiver<Arc<Tick>>, Option<Vec<Arc<Tick>>>, u64);

impl LiveHub {
    pub fn new(pool: PgPool, stop: CancellationToken) -> Self {
        let (tx, _) = broadcast::channel(256);
        let epoch = format!("{:x}", Utc::now().timestamp_micros());
        Self(Arc::new(Hub {
            pool,
            stop,
            epoch,
            started: std::sync::Once::new(),
            listening: watch::channel(false).0,
            tx,
            ring: Mutex::new(VecDeque::with_capacity(RING)),
        }))
    }

    /// Starts the hub's tasks once; waits until it listens.
    async fn ready(&self) -> bool {
        self.0.started.call_once(|| {
            let hub = self.0.clone();
            tokio::spawn(async move { hub.run().await });
        });
        let mut rx = self.0.listening.subscribe();
        tokio::time::timeout(READY_WAIT, rx.wait_for(|l| *l))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// What the listening task tells the hub.
enum Heard {
    Range(i64, i64),
    Listening,
    Lost,
}

impl Hub {
    async fn run(self: Arc<Self>) {
        let (heard_tx, mut heard) = mpsc::channel::<Heard>(4096);
        let pool = self.pool.clone();
        let stop = self.stop.clone();
        // The listener on its own task: a read of the connection is never cancelled halfway.
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = listen(pool, heard_tx) => {}
            }
        });
        let mut pending: Vec<(i64, i64)> = Vec::new();
        let mut reset: Option<&'static str> = None;
        let mut since: Option<DateTime<Utc>> = None;
        let mut due = Instant::now() + HEARTBEAT;
        let mut n = 0u64;
        let mut listening = false;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                h = heard.recv() => match h {
                    None => return,
                    Some(Heard::Range(lo, hi)) => {
                        if pending.is_empty() {
                            due = due.min(Instant::now() + COALESCE);
                        }
                        pending.push((lo, hi));
                    }
                    Some(Heard::Listening) => {
                        if n > 0 {
                            reset = Some("the live hub lost its database connection; what changed meanwhile is not known");
                        }
                        listening = true;
                        self.listening.send_replace(true);
                    }
                    Some(Heard::Lost) => {
                        listening = false;
                        self.listening.send_replace(false);
                    }
                },
                () = tokio::time::sleep_until(due) => {
                    due = Instant::now() + HEARTBEAT;
                    if !listening {
                        continue;
                    }
                    let until: DateTime<Utc> = match sqlx::query_scalar("SELECT now()").fetch_one(&self.pool).await {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::warn!(error = %e, "the live hub cannot read the database clock; the tick waits");
                            continue;
                        }
                    };
                    n += 1;
                    let (lo, hi) = pending.drain(..).unzip();
                    let tick = Arc::new(Tick {
                        n,
                        reset: reset.take(),
                        lo,
                        hi,
                        since: since.unwrap_or(until),
                        until,
                        answers: Mutex::new(HashMap::new()),
                    });
                    since = Some(until);
                    metrics::counter!(fleet_core::metrics::LIVE_STREAM_TICKS_TOTAL).increment(1);
                    let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
                    if ring.len() == RING {
                        ring.pop_front();
                    }
                    ring.push_back(tick.clone());
                    // the answers are kept for the subscribers working through the newest ticks;
                    // older ones (a resume, a slow client) are read again, so the ring holds
                    // ranges, not megabytes of features
                    if let Some(old) = ring.len().checked_sub(ANSWERS_KEPT + 1).and_then(|i| ring.get(i)) {
                        old.answers.lock().unwrap_or_else(|e| e.into_inner()).clear();
                    }
                    // sent under the ring's lock: a subscriber sees each tick either in the ring
                    // or on its receiver, never neither, never both
                    let _ = self.tx.send(tick);
                }
            }
        }
    }

    /// The ticks after `after` and a receiver for the later ones; `None` when the ring no longer
    /// holds the tick after `after` (or `after` is of no tick of this process).
    fn subscribe(&self, after: Option<u64>) -> Subscription {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let rx = self.tx.subscribe();
        let newest = ring.back().map_or(0, |t| t.n);
        let backlog = after.and_then(|a| {
            let oldest = ring.front().map_or(newest + 1, |t| t.n);
            (a <= newest && a + 1 >= oldest)
                .then(|| ring.iter().filter(|t| t.n > a).cloned().collect())
        });
        (rx, backlog, newest)
    }
}

/// LISTENs on `fleet_live` for as long as it runs, reconnecting after a loss; says when it
/// listens and when it lost the connection (what was sent meanwhile is lost with it).
async fn listen(pool: PgPool, heard: mpsc::Sender<Heard>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "the live hub cannot connect to listen; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "the live hub cannot LISTEN; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if heard.send(Heard::Listening).await.is_err() {
            return;
        }
        // None or an error: the connection is gone
        while let Ok(Some(note)) = listener.try_recv().await {
            if let Some((lo, hi)) = note.payload().split_once(',')
                && let (Ok(lo), Ok(hi)) = (lo.parse(), hi.parse())
                && heard.send(Heard::Range(lo, hi)).await.is_err()
            {
                return;
            }
        }
        tracing::warn!("the live hub lost its LISTEN connection; reconnecting");
        metrics::counter!(fleet_core::metrics::LIVE_STREAM_RESETS_TOTAL, "reason" => "listen_lost")
            .increment(1);
        if heard.send(Heard::Lost).await.is_err() {
            return;
        }
        drop(listener);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The stream's query string: the filters every view takes, and the last event id for clients
/// that cannot send the `Last-Event-ID` header.
#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    pub filters: Option<String>,
    pub last_event_id: Option<String>,
    /// `geojson` (the default) or `compact`: the ticks' units as rows of columns.
    pub format: Option<String>,
}

/// What one subscriber reads each tick: its filters (canonical text) in its encoding.
struct Wanted {
    filters: String,
    compact: bool,
}

impl Wanted {
    /// The format `serve.fn_live_changes` takes.
    fn format(&self) -> &'static str {
        if self.compact { "compact" } else { "geojson" }
    }

    /// Subscribers with the same key share one query per tick.
    fn key(&self) -> String {
        format!("{} {}", self.format(), self.filters)
    }
}

/// `GET /api/views/live/stream` (to be put behind the `read:fleet` guard by the caller).
pub fn router(hub: LiveHub) -> Router {
    Router::new().route(PATH, get(stream)).with_state(hub)
}

async fn stream(
    State(hub): State<LiveHub>,
    Extension(claims): Extension<Claims>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Response {
    let view = ViewQuery {
        filters: q.filters,
        period: None,
        department: None,
        vehicle: None,
        track: None,
        format: None,
    };
    let filters = match filters_of(&view) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    // checked by the views' own rules (a bad filter or format is a 400 now, not an error event
    // later), the filters made canonical: the key subscribers share answers by
    let format = q.format.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let key = match sqlx::query_as::<_, (String, bool)>(
        "SELECT serve.check_filters($1)::text, serve.live_format($2)",
    )
    .bind(&filters)
    .bind(format)
    .fetch_one(&hub.0.pool)
    .await
    {
        Ok((filters, compact)) => Wanted { filters, compact },
        Err(e) => return sql_error(e, "checking the live stream's filters"),
    };
    if !hub.ready().await {
        return crate::ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the live stream is not listening to the database yet; retry shortly",
        )
        .into_response();
    }
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.last_event_id);
    let after = last.as_deref().and_then(|id| {
        let (epoch, n) = id.trim().split_once('.')?;
        (epoch == hub.0.epoch).then(|| n.parse::<u64>().ok())?
    });
    let (rx, backlog, newest) = hub.0.subscribe(after);
    let (out, body) = mpsc::channel::<Bytes>(8);
    let expires = DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    tokio::spawn(serve_one(
        hub,
        key,
        rx,
        backlog,
        newest,
        last.is_some(),
        expires,
        out,
    ));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // nginx and the like: do not buffer the stream
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(Chunks(body)),
    )
        .into_response()
}

/// One subscriber: the hello, the backlog, then every tick until the client goes, its token
/// expires or the server stops.
#[allow(clippy::too_many_arguments)]
async fn serve_one(
    hub: LiveHub,
    key: Wanted,
    mut rx: broadcast::Receiver<Arc<Tick>>,
    backlog: Option<Vec<Arc<Tick>>>,
    newest: u64,
    asked_resume: bool,
    expires: DateTime<Utc>,
    out: mpsc::Sender<Bytes>,
) {
    let _clients = ClientGauge::new();
    let hub = &hub.0;
    let resumed = backlog.is_some();
    if asked_resume && !resumed {
        metrics::counter!(fleet_core::metrics::LIVE_STREAM_RESETS_TOTAL, "reason" => "not_resumable")
            .increment(1);
    }
    let hello = serde_json::json!({"epoch": hub.epoch, "tick": newest, "resumed": resumed});
    // the hello's id is the newest tick only when nothing before it is owed
    let hello_id = (!resumed).then(|| format!("{}.{newest}", hub.epoch));
    if out
        .send(event(hello_id.as_deref(), "hello", &hello.to_string()))
        .await
        .is_err()
    {
        return;
    }
    let mut last = newest;
    for tick in backlog.unwrap_or_default() {
        if !send_tick(hub, &key, &tick, &out).await {
            return;
        }
        last = tick.n;
    }
    let left = (expires - Utc::now()).to_std().unwrap_or_default();
    let expiry = tokio::time::sleep(left);
    tokio::pin!(expiry);
    loop {
        let tick = tokio::select! {
            () = &mut expiry => {
                let _ = out.send(event(None, "bye", r#"{"reason":"token_expired"}"#)).await;
                return;
            }
            () = hub.stop.cancelled() => {
                let _ = out.send(event(None, "bye", r#"{"reason":"server_stopping"}"#)).await;
                return;
            }
            () = out.closed() => return,
            t = rx.recv() => t,
        };
        match tick {
            Ok(tick) if tick.n > last => {
                if !send_tick(hub, &key, &tick, &out).await {
                    return;
                }
                last = tick.n;
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                metrics::counter!(fleet_core::metrics::LIVE_STREAM_RESETS_TOTAL, "reason" => "lagged")
                    .increment(1);
                let body =
                    r#"{"reason":"this client fell behind the stream; reload the snapshot"}"#;
                if out.send(event(None, "reset", body)).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Sends one tick's answer for `key`; false when the client has gone.
async fn send_tick(hub: &Hub, key: &Wanted, tick: &Tick, out: &mpsc::Sender<Bytes>) -> bool {
    let id = format!("{}.{}", hub.epoch, tick.n);
    if let Some(reason) = tick.reset {
        let body = serde_json::json!({"reason": reason}).to_string();
        if out.send(event(None, "reset", &body)).await.is_err() {
            return false;
        }
    }
    let cell = {
        let mut answers = tick.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.entry(key.key()).or_default().clone()
    };
    let answer = cell
        .get_or_init(|| async {
            sqlx::query_scalar::<_, String>(
                "SELECT serve.fn_live_changes($1::jsonb, $2, $3, $4, $5, $6)::text",
            )
            .bind(&key.filters)
            .bind(&tick.lo)
            .bind(&tick.hi)
            .bind(tick.since)
            .bind(tick.until)
            .bind(key.format())
            .fetch_one(&hub.pool)
            .await
            .map(|s| Arc::<str>::from(s.as_str()))
            .map_err(|e| e.to_string())
        })
        .await;
    let sent = match answer {
        Ok(a) => {
            // `{"tick":n,` and the answer's own members
            let body = format!(
                "{{\"tick\":{},{}",
                tick.n,
                a.trim_start().trim_start_matches('{')
            );
            out.send(event(Some(&id), "changes", &body)).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "a live stream tick could not be read");
            metrics::counter!(fleet_core::metrics::LIVE_STREAM_RESETS_TOTAL, "reason" => "read_failed")
                .increment(1);
            let body =
                serde_json::json!({"reason": "the changes could not be read; reload the snapshot"})
                    .to_string();
            out.send(event(None, "reset", &body)).await
        }
    };
    sent.is_ok()
}

/// One SSE event (`data` split into lines, as the format wants).
fn event(id: Option<&str>, name: &str, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 64);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    s.push_str("event: ");
    s.push_str(name);
    s.push('\n');
    for line in data.split('\n') {
        s.push_str("data: ");
        s.push_str(line.trim_end_matches('\r'));
        s.push('\n');
    }
    s.push('\n');
    Bytes::from(s)
}

/// The open streams, as a gauge.
struct ClientGauge;
impl ClientGauge {
    fn new() -> Self {
        metrics::gauge!(fleet_core::metrics::LIVE_STREAM_CLIENTS).increment(1.0);
        Self
    }
}
impl Drop for ClientGauge {
    fn drop(&mut self) {
        metrics::gauge!(fleet_core::metrics::LIVE_STREAM_CLIENTS).decrement(1.0);
    }
}

/// A channel's chunks as a response body.
struct Chunks(mpsc::Receiver<Bytes>);
impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|c| c.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::event;

    #[test]
    fn an_event_is_framed_as_server_sent_events_want() {
        let e = event(Some("a.3"), "changes", "{\"x\":1}\nline two\r");
        assert_eq!(
            std::str::from_utf8(&e).expect("utf-8"),
            "id: a.3\nevent: changes\ndata: {\"x\":1}\ndata: line two\n\n"
        );
    }
}
