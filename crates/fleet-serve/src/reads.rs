//! Where the views and analytics read: the primary, or a hot standby (`DATABASE_READ_URL`) while
//! its replay lag is within `slo.targets` `replica_lag_sec`.
//!
//! A standby refuses writes, `LISTEN` and `FOR UPDATE`, so only the read endpoints of
//! [`crate::views`] go there; everything else keeps the primary pool. [`Reads::monitor`] measures
//! the lag every two seconds and decides: past the threshold, unreachable, or not streaming from
//! its primary (a standby cut off from the primary may be idle-looking and hours behind), reads go
//! to the primary until it is healthy again. A read that fails on the replica is retried on the
//! primary once, so a replica going away costs a request nothing but time. The decision and the
//! lag are in `/health/gateway` (fact `replica`), the live view (`read_from`), the answer header
//! `x-fleet-read-from` and the metrics `fleet_replica_lag_seconds` / `fleet_reads_on_replica`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fleet_core::health::Liveness;
use serde::Serialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Which database answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Primary,
    Replica,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
        }
    }
}

/// The replica as last measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaStatus {
    /// Where reads go now.
    pub reading_from: Source,
    /// Replay lag in seconds (0 when caught up); `None` when it could not be measured.
    pub lag_seconds: Option<f64>,
    /// The threshold of `slo.targets` `replica_lag_sec`.
    pub max_lag_seconds: f64,
    /// Why reads are on the primary, when they are.
    pub reason: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

struct Replica {
    pool: PgPool,
    status: RwLock<ReplicaStatus>,
}

/// The pools the read endpoints choose from.
#[derive(Clone)]
pub struct Reads {
    primary: PgPool,
    replica: Option<Arc<Replica>>,
}

/// Used until `slo.targets` has been read.
const DEFAULT_MAX_LAG: f64 = 30.0;

impl Reads {
    /// Every read on the primary.
    pub fn primary_only(primary: PgPool) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Reads on `replica` once [`Reads::check`] has found it healthy.
    pub fn with_replica(primary: PgPool, replica: PgPool) -> Self {
        Self {
            primary,
            replica: Some(Arc::new(Replica {
                pool: replica,
                status: RwLock::new(ReplicaStatus {
                    reading_from: Source::Primary,
                    lag_seconds: None,
                    max_lag_seconds: DEFAULT_MAX_LAG,
                    reason: Some("not measured yet".into()),
                    checked_at: None,
                }),
            })),
        }
    }

    pub fn primary(&self) -> &PgPool {
        &self.primary
    }

    /// The pool a read should use now, and which one it is.
    pub fn choose(&self) -> (&PgPool, Source) {
        match &self.replica {
            Some(r)
                if self
                    .status()
                    .is_some_and(|s| s.reading_from == Source::Replica) =>
            {
                (&r.pool, Source::Replica)
            }
            _ => (&self.primary, Source::Primary),
        }
    }

    /// The replica's status; `None` without a replica.
    pub fn status(&self) -> Option<ReplicaStatus> {
        let r = self.replica.as_ref()?;
        Some(
            r.status
                .read()
                .map(|s| s.clone())
                .unwrap_or_else(|e| e.into_inner().clone()),
        )
    }

    /// Measures the replica once and decides where reads go; returns the new status.
    pub async fn check(&self) -> Option<ReplicaStatus> {
        let r = self.replica.as_ref()?;
        let max_lag: f64 = sqlx::query_scalar(
            "SELECT threshold FROM slo.targets WHERE metric = 'replica_lag_sec'",
        )
        .fetch_optional(&self.primary)
        .await
        .ok()
        .flatten()
        .unwrap_or(DEFAULT_MAX_LAG);
        let measured = tokio::time::timeout(Duration::from_secs(2), lag(&r.pool)).await;
        let (lag_seconds, problem) = match measured {
            Err(_) => (
                None,
                Some("the replica did not answer within 2 s".to_string()),
            ),
            Ok(Err(e)) => (None, Some(format!("the replica cannot be read: {e}"))),
            Ok(Ok(Lag::NotStreaming(since))) => (
                since,
                Some("the replica is not streaming from its primary".to_string()),
            ),
            Ok(Ok(Lag::Seconds(s))) if s > max_lag => (
                Some(s),
                Some(format!(
                    "replay lag {s:.1} s is over the {max_lag} s threshold"
                )),
            ),
            Ok(Ok(Lag::Seconds(s))) => (Some(s), None),
        };
        let status = ReplicaStatus {
            reading_from: if problem.is_none() {
                Source::Replica
            } else {
                Source::Primary
            },
            lag_seconds: lag_seconds.map(|s| (s * 1000.0).round() / 1000.0),
            max_lag_seconds: max_lag,
            reason: problem,
            checked_at: Some(Utc::now()),
        };
        let previous = self.status();
        if previous.as_ref().map(|p| p.reading_from) != Some(status.reading_from) {
            match &status.reason {
                None => {
                    tracing::info!(lag_s = ?status.lag_seconds, "views and analytics read from the replica")
                }
                Some(why) => {
                    tracing::warn!(reason = %why, "views and analytics read from the primary")
                }
            }
        }
        if let Some(s) = status.lag_seconds {
            metrics::gauge!(fleet_core::metrics::REPLICA_LAG_SECONDS).set(s);
        }
        metrics::gauge!(fleet_core::metrics::READS_ON_REPLICA).set(
            if status.reading_from == Source::Replica {
                1.0
            } else {
                0.0
            },
        );
        if let Ok(mut s) = r.status.write() {
            *s = status.clone();
        }
        Some(status)
    }

    /// Checks the replica every two seconds until `token`, recording the status as the gateway's
    /// `replica` fact. Returns at once without a replica.
    pub async fn monitor(self, live: Arc<Liveness>, token: CancellationToken) {
        if self.replica.is_none() {
            return;
        }
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = every.tick() => {
                    if let Some(s) = self.check().await {
                        live.set_fact("replica", serde_json::to_value(&s).unwrap_or_default());
                    }
                }
            }
        }
    }
}

enum Lag {
    Seconds(f64),
    /// The standby has no streaming WAL receiver; seconds since it last replayed a transaction.
    NotStreaming(Option<f64>),
}

/// The replay lag of a standby: 0 when it has replayed all it received, else the time since the
/// last transaction it replayed committed. A server that is not in recovery has no lag.
async fn lag(pool: &PgPool) -> Result<Lag, sqlx::Error> {
    let (standby, streaming, caught_up, since): (bool, bool, bool, Option<f64>) = sqlx::query_as(
        "SELECT pg_is_in_recovery(),
                coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false),
                pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn(),
                extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8",
    )
    .fetch_one(pool)
    .await?;
    Ok(match (standby, streaming, caught_up) {
        (false, _, _) => Lag::Seconds(0.0),
        (true, false, _) => Lag::NotStreaming(since),
        (true, true, true) => Lag::Seconds(0.0),
        (true, true, false) => Lag::Seconds(since.unwrap_or(0.0).max(0.0)),
    })
}
