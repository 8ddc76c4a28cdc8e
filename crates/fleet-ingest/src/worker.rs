//! The worker role: drains `events.raw` through the parser and projectors.
//!
//! - **Wake on data.** A `LISTEN fleet_raw` connection wakes the loop within milliseconds of a
//!   gateway's `NOTIFY`; a 5 s fallback sweep catches anything a dropped connection missed. NOTIFY
//!   is only a hint: work is found by row state, never by a "last id seen" cursor, so rows
//!   committed out of id order (slow transactions) are never skipped.
//! - **Claim by row state.** A batch is `parsed_at IS NULL … FOR UPDATE SKIP LOCKED`; several
//!   workers drain side by side without taking the same rows. A batch is up to [`BATCH`] small
//!   rows and at most one bulk row ([`BULK_BYTES`]), so a big import spreads over the workers.
//! - **One transaction per batch:** parse, insert `events.parsed`, project into `state.*`, mark the
//!   raw rows. A crash anywhere rolls the whole batch back, and it is claimed again: nothing is lost
//!   and, since projection is idempotent, nothing is doubled.
//! - **Poison rows.** If a batch fails, its rows are retried one per transaction; a row that still
//!   fails is marked with the error (dead letter) so it cannot block the queue.
//! - At start, rows that failed under an older parser version are re-queued, and so are the rows
//!   of a source whose parser output changed since ([`parser::REPARSE_BELOW`]).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fleet_core::health::{Liveness, RoleResult};
use fleet_core::metrics;
use serde_json::{Value, json};
use sqlx::postgres::PgListener;
use sqlx::{Acquire, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::parser::{self, PARSER_VERSION, RawRow};
use crate::project;

/// The NOTIFY channel the gateway signals after each insert into `events.raw`.
pub const CHANNEL: &str = "fleet_raw";

/// How long the worker loop may go without a tick before its health turns red.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// The fallback sweep period (ARCHITECTURE §1 rule 3).
pub const SWEEP: Duration = Duration::from_secs(5);

/// Rows claimed per transaction.
pub const BATCH: i64 = 500;

/// A raw row with a body larger than this (a fuel feed chunk of thousands of records, a registry
/// file) is a bulk row: a transaction takes at most one, after the small rows waiting. Several
/// workers (or an import's own lanes) then share a bulk load, and pushes never wait behind it.
pub const BULK_BYTES: i32 = 256 * 1024;

/// The worker's liveness record.
pub fn liveness() -> Arc<Liveness> {
    Liveness::new("worker", STALE_AFTER)
}

/// Re-queues rows whose last parse failed under an older parser version, and those of a source
/// whose parser output changed since they were parsed.
pub async fn requeue_failed_older(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let (sources, versions): (Vec<&str>, Vec<i32>) = parser::REPARSE_BELOW.iter().copied().unzip();
    Ok(sqlx::query(
        "UPDATE events.raw r SET parsed_at = NULL
          WHERE r.parsed_at IS NOT NULL AND r.verified
            AND ((r.parse_error IS NOT NULL AND r.parser_version < $1)
                 OR EXISTS (SELECT 1 FROM unnest($2::text[], $3::int[]) AS c(source, below)
                             WHERE c.source = r.source AND r.parser_version < c.below))",
    )
    .bind(PARSER_VERSION)
    .bind(&sources)
    .bind(&versions)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Runs the worker until `shutdown` is cancelled. Migrations must already be applied.
pub async fn run(pool: PgPool, live: Arc<Liveness>, shutdown: CancellationToken) -> RoleResult {
    let requeued = requeue_failed_older(&pool).await?;
    if requeued > 0 {
        tracing::info!(
            requeued,
            parser_version = PARSER_VERSION,
            "re-queued rows an older parser failed on or read otherwise"
        );
    }
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "worker").set(1.0);
    let mut listener = connect_listener(&pool).await;
    let mut last_sweep = Instant::now() - SWEEP;
    loop {
        // Drain everything that is waiting, then sleep until a notification or the sweep.
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match drain_once(&pool, BATCH).await {
                Ok(0) => break,
                Ok(_) => live.tick(),
                Err(e) => {
                    tracing::warn!(error = %e, "drain failed; retrying after a pause");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
        if last_sweep.elapsed() >= SWEEP {
            last_sweep = Instant::now();
            report_queue(&pool, &live).await;
        }
        live.tick();
        let wait = SWEEP
            .saturating_sub(last_sweep.elapsed())
            .max(Duration::from_millis(10));
        tokio::select! {
            _ = shutdown.cancelled() => break,
            notified = wait_notification(&mut listener, &pool, wait) => {
                if !notified {
                    continue;
                }
            }
        }
    }
    ::metrics::gauge!(metrics::ROLE_UP, "role" => "worker").set(0.0);
    tracing::info!("worker stopped");
    Ok(())
}

async fn connect_listener(pool: &PgPool) -> Option<PgListener> {
    match PgListener::connect_with(pool).await {
        Ok(mut l) => match l.listen(CHANNEL).await {
            Ok(()) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN failed; relying on the fallback sweep");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the LISTEN connection; relying on the fallback sweep");
            None
        }
    }
}

/// Waits up to `wait` for a notification; returns whether one (or a reconnect) happened.
async fn wait_notification(
    listener: &mut Option<PgListener>,
    pool: &PgPool,
    wait: Duration,
) -> bool {
    let Some(l) = listener else {
        tokio::time::sleep(wait).await;
        *listener = connect_listener(pool).await;
        return true;
    };
    match tokio::time::timeout(wait, l.try_recv()).await {
        Ok(Ok(Some(_))) => {
            // Several notifications may be queued: one drain covers them all.
            true
        }
        // The connection was lost and re-established: anything may have been missed.
        Ok(Ok(None)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "LISTEN connection failed; reconnecting");
            tokio::time::sleep(Duration::from_millis(200)).await;
            *listener = connect_listener(pool).await;
            true
        }
        Err(_) => false,
    }
}

async fn report_queue(pool: &PgPool, live: &Liveness) {
    let q: Result<(i64, Option<f64>, i64), _> = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE parsed_at IS NULL),
                extract(epoch FROM now() - min(received_at) FILTER (WHERE parsed_at IS NULL))::float8,
                (SELECT count(*) FROM events.raw WHERE parse_error IS NOT NULL)
           FROM events.raw WHERE parsed_at IS NULL AND verified",
    )
    .fetch_one(pool)
    .await;
    if let Ok((pending, oldest, dead)) = q {
        live.set_fact("raw_pending", pending.into());
        live.set_fact("oldest_pending_age_s", json!(oldest));
        live.set_fact("dead_letter_rows", dead.into());
        ::metrics::gauge!(metrics::RAW_PENDING).set(pending as f64);
    }
}

/// Claims up to `limit` waiting rows and carries them through parser and projectors in one
/// transaction. Returns how many raw rows were processed.
pub async fn drain_once(pool: &PgPool, limit: i64) -> Result<usize, sqlx::Error> {
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let rows = claim(&mut tx, limit).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len();
    match process(&mut tx, &rows).await {
        Ok(()) => {
            tx.commit().await?;
        }
        Err(e) if n > 1 => {
            tx.rollback().await?;
            tracing::warn!(error = %e, rows = n, "batch failed; retrying its rows one by one");
            return isolate(pool, limit).await;
        }
        Err(e) => {
            tx.rollback().await?;
            let raw = &rows[0];
            tracing::error!(error = %e, raw_id = raw.id, "row cannot be projected; moved to the dead letter");
            mark_failed(
                pool,
                raw.id,
                raw.received_at,
                &format!("projection failed: {e}"),
            )
            .await?;
        }
    }
    ::metrics::counter!(metrics::RAW_PROCESSED_TOTAL).increment(n as u64);
    ::metrics::histogram!(metrics::WORKER_BATCH_SECONDS).record(started.elapsed().as_secs_f64());
    Ok(n)
}

/// After a failed batch: process waiting rows one per transaction, so the bad one is isolated.
async fn isolate(pool: &PgPool, limit: i64) -> Result<usize, sqlx::Error> {
    let mut done = 0;
    for _ in 0..limit {
        let processed = Box::pin(drain_once(pool, 1)).await?;
        if processed == 0 {
            break;
        }
        done += processed;
    }
    Ok(done)
}

async fn claim(conn: &mut PgConnection, limit: i64) -> Result<Vec<RawRow>, sqlx::Error> {
    // Small rows (pushes, poll pages) in arrival order, then, if the batch has room, one bulk row.
    let mut rows: Vec<RawRow> = sqlx::query_as(
        "SELECT id, received_at, source, kind, content_type, body, meta FROM events.raw
          WHERE parsed_at IS NULL AND verified AND octet_length(body) <= $2
          ORDER BY received_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .bind(BULK_BYTES)
    .fetch_all(&mut *conn)
    .await?;
    if (rows.len() as i64) < limit {
        let bulk: Option<RawRow> = sqlx::query_as(
            "SELECT id, received_at, source, kind, content_type, body, meta FROM events.raw
              WHERE parsed_at IS NULL AND verified AND octet_length(body) > $1
              ORDER BY received_at, id
              LIMIT 1
              FOR UPDATE SKIP LOCKED",
        )
        .bind(BULK_BYTES)
        .fetch_optional(&mut *conn)
        .await?;
        rows.extend(bulk);
    }
    Ok(rows)
}

/// The batch's `events.parsed` rows as columns, each body its own JSON text: PostgreSQL reads
/// every body once, straight into its row (one JSON document of the whole batch was read twice:
/// into one `jsonb`, then apart into rows; 2.5 times slower for a fuel chunk of 5,000 records).
#[derive(Default)]
struct ParsedColumns<'a> {
    raw_id: Vec<i64>,
    raw_received_at: Vec<DateTime<Utc>>,
    item_index: Vec<i32>,
    kind: Vec<&'static str>,
    imei: Vec<Option<&'a str>>,
    event_time: Vec<Option<DateTime<Utc>>>,
    body: Vec<Cow<'a, str>>,
}

async fn process(conn: &mut PgConnection, rows: &[RawRow]) -> Result<(), sqlx::Error> {
    let mut marks = Vec::new();
    let mut outcomes = Vec::with_capacity(rows.len());
    for r in rows {
        let out = parser::parse(r);
        if out.error.is_some() {
            ::metrics::counter!(metrics::PARSE_ERRORS_TOTAL, "kind" => bounded_kind(&r.kind))
                .increment(1);
        }
        marks.push(json!({"id": r.id, "received_at": r.received_at, "err": out.error}));
        outcomes.push(out);
    }
    // Serialised straight from the parser's events: a fuel import hands over 100,000 record
    // bodies at once, and copying each into a new JSON tree first cost seconds.
    let mut parsed = ParsedColumns::default();
    for (r, out) in rows.iter().zip(&outcomes) {
        for e in &out.events {
            parsed.raw_id.push(r.id);
            parsed.raw_received_at.push(r.received_at);
            parsed.item_index.push(e.item_index);
            parsed.kind.push(e.kind);
            parsed.imei.push(e.imei.as_deref());
            parsed.event_time.push(e.event_time);
            parsed.body.push(
                e.text
                    .as_deref()
                    .map_or_else(|| e.body.to_string().into(), Cow::Borrowed),
            );
        }
    }
    if !parsed.body.is_empty() {
        sqlx::query(
            "INSERT INTO events.parsed (raw_id, raw_received_at, item_index, parser_version, kind, imei, event_time, body)
             SELECT raw_id, raw_received_at, item_index, $8, kind, imei, event_time, body::jsonb
               FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])
                    AS x(raw_id, raw_received_at, item_index, kind, imei, event_time, body)
             ON CONFLICT (raw_received_at, raw_id, item_index, parser_version) DO NOTHING",
        )
        .bind(&parsed.raw_id)
        .bind(&parsed.raw_received_at)
        .bind(&parsed.item_index)
        .bind(&parsed.kind)
        .bind(&parsed.imei)
        .bind(&parsed.event_time)
        .bind(&parsed.body)
        .bind(PARSER_VERSION)
        .execute(&mut *conn)
        .await?;
    }
    let inputs: Vec<project::Input> = rows
        .iter()
        .zip(&outcomes)
        .flat_map(|(r, out)| {
            out.events.iter().map(move |e| project::Input {
                raw_id: r.id,
                received_at: r.received_at,
                source: &r.source,
                kind: e.kind,
                body: &e.body,
            })
        })
        .collect();
    project::apply(&mut *conn, &inputs).await?;
    sqlx::query(
        "UPDATE events.raw r SET parsed_at = clock_timestamp(), parser_version = $2, parse_error = m.err
           FROM jsonb_to_recordset($1::jsonb) AS m(id bigint, received_at timestamptz, err text)
          WHERE r.id = m.id AND r.received_at = m.received_at",
    )
    .bind(Value::Array(marks))
    .bind(PARSER_VERSION)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn mark_failed(
    pool: &PgPool,
    id: i64,
    received_at: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE events.raw SET parsed_at = clock_timestamp(), parser_version = $3, parse_error = $4 WHERE id = $1 AND received_at = $2")
        .bind(id)
        .bind(received_at)
        .bind(PARSER_VERSION)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// Metric label for a raw kind, bounded to the known set.
fn bounded_kind(kind: &str) -> &'static str {
    fleet_core::jimi::IOT_HUB_PATHS
        .iter()
        .copied()
        .chain([fleet_core::jimi::ALARM_PUSH_KIND])
        .find(|k| *k == kind)
        .unwrap_or("other")
}
