//! Whether a connection reaches Postgres the way the worker and cron need: notifications
//! delivered to a `LISTEN`ing session, so session state (LISTEN, session advisory locks, named
//! prepared statements) lasts. A transaction-pooling proxy (pgbouncer's `pool_mode = transaction`)
//! hands each transaction to any server connection, and a `LISTEN` made through it never hears
//! its `NOTIFY` (ARCHITECTURE §7): the probe catches that at start, before a migration runs.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// A connection that does not keep sessions.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    #[error(
        "{role}: a LISTEN on DATABASE_URL did not hear its own NOTIFY within {} s{}. The {role} needs \
         a direct connection to Postgres (or a pooler in session mode): a transaction-pooling \
         pgbouncer breaks LISTEN/NOTIFY, advisory locks and prepared statements. Point DATABASE_URL \
         at Postgres itself; only the gateway may go through pgbouncer, and then in session mode \
         (docs/operations.md, Connections)",
        .timeout.as_secs(),
        .detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    NoNotifications {
        role: &'static str,
        timeout: Duration,
        /// What the connection said instead, if anything.
        detail: Option<String>,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Listens on a channel of its own, notifies it through the pool, and waits for the
/// notification.
pub async fn require_sessions(
    pool: &PgPool,
    role: &'static str,
    timeout: Duration,
) -> Result<(), DirectError> {
    let channel = format!("fleet_probe_{}", std::process::id());
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(&channel).await?;
    // The database answered the LISTEN; what goes wrong from here is the session not lasting
    // (through a transaction pooler the NOTIFY can even land on the pool's own connection).
    let no = |detail: Option<String>| DirectError::NoNotifications {
        role,
        timeout,
        detail,
    };
    // the channel name is ours (a fixed prefix and the process id)
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("NOTIFY {channel}")))
        .execute(pool)
        .await
        .map_err(|e| no(Some(e.to_string())))?;
    let heard = tokio::time::timeout(timeout, listener.recv()).await;
    let _ = listener.unlisten(&channel).await;
    match heard {
        Ok(Ok(n)) if n.channel() == channel => Ok(()),
        Ok(Ok(n)) => Err(no(Some(format!("heard {:?} instead", n.channel())))),
        Ok(Err(e)) => Err(no(Some(e.to_string()))),
        Err(_) => Err(no(None)),
    }
}
