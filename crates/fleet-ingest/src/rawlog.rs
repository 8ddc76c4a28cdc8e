//! Appending to `events.raw` from the gateway, with group commit.
//!
//! Each accepted push is one row, durable before its sender is answered (ARCHITECTURE §1 rule 2).
//! Committing every push in its own transaction caps throughput at the rate Postgres can commit
//! one-row transactions — and every `NOTIFY` takes a global lock at commit, serializing them.
//! So a few appender tasks take whatever requests have queued, write them with one multi-row
//! `INSERT` and one `NOTIFY` in one transaction, and answer each request after the commit.
//! There is no added wait: a batch is what arrived while the previous commit was in flight, so at
//! low load every push is a batch of one and at high load batches grow by themselves.
//! A failed batch fails every request in it (the senders retry); nothing is acknowledged early.

use std::net::IpAddr;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::worker::CHANNEL;

/// One row to append.
#[derive(Debug, Clone)]
pub struct NewRaw {
    pub source: String,
    pub kind: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub remote_addr: Option<IpAddr>,
    pub verification: &'static str,
}

/// Why a row was not appended. The database's error is shared by every row of its batch, so it
/// travels as its text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    #[error("the raw-log appender has stopped")]
    Stopped,
    #[error("the raw-log appender dropped the request")]
    Dropped,
    #[error("the row was not returned by the insert")]
    NotReturned,
    #[error("the database refused the batch: {0}")]
    Db(String),
}

type Reply = oneshot::Sender<Result<i64, AppendError>>;

/// Handle to the appender tasks.
#[derive(Clone)]
pub struct RawLog {
    tx: mpsc::Sender<(NewRaw, Reply)>,
}

/// Largest batch written in one transaction.
const MAX_BATCH: usize = 256;

impl RawLog {
    /// Starts `appenders` appender tasks on `pool`. They end when every handle is dropped.
    pub fn start(pool: PgPool, appenders: usize) -> Self {
        let (tx, rx) = mpsc::channel::<(NewRaw, Reply)>(MAX_BATCH * appenders.max(1) * 4);
        let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..appenders.max(1) {
            let (pool, rx) = (pool.clone(), rx.clone());
            tokio::spawn(async move {
                loop {
                    let mut batch = Vec::with_capacity(MAX_BATCH);
                    {
                        let mut rx = rx.lock().await;
                        match rx.recv().await {
                            Some(first) => batch.push(first),
                            None => return,
                        }
                        while batch.len() < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(item) => batch.push(item),
                                Err(_) => break,
                            }
                        }
                    }
                    write_batch(&pool, batch).await;
                }
            });
        }
        Self { tx }
    }

    /// Appends one row; returns its id once it is committed.
    pub async fn append(&self, row: NewRaw) -> Result<i64, AppendError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send((row, reply))
            .await
            .map_err(|_| AppendError::Stopped)?;
        rx.await.map_err(|_| AppendError::Dropped)?
    }
}

async fn write_batch(pool: &PgPool, batch: Vec<(NewRaw, Reply)>) {
    let n = batch.len();
    let mut sources = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut content_types = Vec::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    let mut addrs = Vec::with_capacity(n);
    let mut verifications = Vec::with_capacity(n);
    for (r, _) in &batch {
        sources.push(r.source.clone());
        kinds.push(r.kind.clone());
        content_types.push(r.content_type.clone());
        bodies.push(r.body.clone());
        addrs.push(r.remote_addr.map(|a| a.to_string()));
        verifications.push(r.verification.to_string());
    }
    // Ids are drawn in input order inside the statement, so each request learns its own id.
    let result: Result<Vec<(i64, i64)>, sqlx::Error> = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[])
                    WITH ORDINALITY AS u(source, kind, content_type, body, remote_addr, verification, ord)),
         numbered AS MATERIALIZED (
             SELECT nextval(pg_get_serial_sequence('events.raw', 'id')) AS id, input.* FROM input ORDER BY ord),
         ins AS (
             INSERT INTO events.raw (id, source, kind, content_type, body, remote_addr, verified, verification)
             OVERRIDING SYSTEM VALUE
             SELECT id, source, kind, content_type, body, remote_addr::inet, true, verification FROM numbered
             RETURNING id)
         SELECT n.id, n.ord FROM numbered n JOIN ins USING (id) CROSS JOIN (SELECT pg_notify($7, '')) AS wake",
    )
    .bind(&sources)
    .bind(&kinds)
    .bind(&content_types)
    .bind(&bodies)
    .bind(&addrs)
    .bind(&verifications)
    .bind(CHANNEL)
    .fetch_all(pool)
    .await;
    ::metrics::histogram!(fleet_core::metrics::RAW_APPEND_BATCH_SIZE).record(n as f64);
    match result {
        Ok(ids) => {
            let mut by_ord = vec![None; n];
            for (id, ord) in ids {
                if let Some(slot) = usize::try_from(ord - 1)
                    .ok()
                    .and_then(|i| by_ord.get_mut(i))
                {
                    *slot = Some(id);
                }
            }
            for ((_, reply), id) in batch.into_iter().zip(by_ord) {
                let _ = reply.send(id.ok_or(AppendError::NotReturned));
            }
        }
        Err(e) => {
            let e = AppendError::Db(e.to_string());
            for (_, reply) in batch {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// Appends one polled response (`source = jimi_poll`, `kind` = the method) with its request
/// context in `meta`, and wakes the workers. Polls are few, so they skip the group commit.
pub async fn append_poll(
    pool: &PgPool,
    method: &str,
    meta: &serde_json::Value,
    body: &[u8],
) -> Result<i64, sqlx::Error> {
    append_one(
        pool,
        TrustedRow {
            source: "jimi_poll",
            kind: method,
            content_type: "application/json",
            verification: "internal",
            meta,
            body,
        },
    )
    .await
}

/// A row the platform itself appends (polls, imports): trusted, so `verified`.
pub struct TrustedRow<'a> {
    pub source: &'a str,
    pub kind: &'a str,
    pub content_type: &'a str,
    /// How it was trusted: `internal` (our own poll), `operator` (a CLI import), ...
    pub verification: &'a str,
    pub meta: &'a serde_json::Value,
    pub body: &'a [u8],
}

/// Appends one row in its own transaction and wakes the workers; returns its id.
pub async fn append_one(pool: &PgPool, row: TrustedRow<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "WITH ins AS (
            INSERT INTO events.raw (source, kind, content_type, body, verified, verification, meta)
            VALUES ($1, $2, $3, $4, true, $5, $6)
            RETURNING id)
         SELECT id FROM ins, pg_notify($7, '') AS wake",
    )
    .bind(row.source)
    .bind(row.kind)
    .bind(row.content_type)
    .bind(row.body)
    .bind(row.verification)
    .bind(row.meta)
    .bind(CHANNEL)
    .fetch_one(pool)
    .await
}
