//! The Jimi Open API client (jimi-api.md §1–4).
//!
//! - Every request is signed (see `sign`), with a fresh `timestamp` on every try.
//! - **One token for all processes.** The token lives in `ops.api_tokens`. Taking a token happens
//!   under a transaction-level advisory lock per app key: the first process to find it missing or
//!   near expiry refreshes it (or gets a new one) and stores it; the others wait on the lock and
//!   then read the stored token. Token-get is never called twice within a minute.
//! - **1004** (token invalid/expired): the stored token is marked expired, a new one is taken, the
//!   call is retried once. **1006** (too frequent): back off exponentially and retry with a new
//!   timestamp and signature, up to `max_busy_retries`. Busy (-1) is treated like 1006.
//! - Every call is recorded in `ops.ingestion_log` (method, target, rows, duration, outcome, code).
//! - The raw response body is returned with the parsed envelope, so callers can append it to
//!   `events.raw` verbatim.
//!
//! Vendor wire types stay here and in `fleet_core::jimi`; nothing above sees the envelope.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fleet_core::config::{DEFAULT_VENDOR_PACE_MS, DEFAULT_VENDOR_TIMEOUT_SECS, VendorConfig};
use fleet_core::jimi::{envelope_code, envelope_data};
use serde_json::Value;
use sqlx::PgPool;

use crate::sign::{password_md5, sign};

/// Account and endpoint settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `https://eu-open.tracksolidpro.com` (the client adds `/route/rest`).
    pub base_url: String,
    pub app_key: String,
    pub app_secret: fleet_core::secret::Secret,
    pub user_id: String,
    pub password: fleet_core::secret::Secret,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after 1006 / busy before giving up.
    pub max_busy_retries: u32,
    /// First back-off after a 1006 (doubles each time).
    pub busy_backoff: Duration,
    /// Refresh a token this long before it expires.
    pub refresh_margin: Duration,
    /// Least time between two token-gets (the vendor allows about one a minute).
    pub token_get_interval: Duration,
    /// Least time between two calls of one method from this process. The vendor publishes no
    /// rate limit but answers 1006 to bursts; pacing avoids the storm instead of backing off.
    pub pace: Duration,
}

impl ClientConfig {
    pub fn new(
        base_url: &str,
        app_key: &str,
        app_secret: &str,
        user_id: &str,
        password: &str,
    ) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            user_id: user_id.into(),
            password: password.into(),
            timeout: Duration::from_secs(DEFAULT_VENDOR_TIMEOUT_SECS.into()),
            max_busy_retries: 5,
            busy_backoff: Duration::from_secs(2),
            refresh_margin: Duration::from_secs(300),
            token_get_interval: Duration::from_secs(61),
            pace: Duration::from_millis(DEFAULT_VENDOR_PACE_MS.into()),
        }
    }
}

impl From<&VendorConfig> for ClientConfig {
    fn from(v: &VendorConfig) -> Self {
        let mut c = Self::new(
            &v.base_url,
            &v.app_key,
            v.app_secret.expose(),
            &v.user_id,
            v.password.expose(),
        );
        c.pace = v.pace;
        c.timeout = v.timeout;
        c
    }
}

/// The largest number of IMEIs the platform sends in one call (the vendor allows 100; the
/// current stack uses 50, which keeps responses small).
pub const IMEI_BATCH: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the vendor answered code {code}: {message}")]
    Vendor { code: i64, message: String },
    #[error("the vendor kept answering 'too frequent' (1006) after {0} retries")]
    TooFrequent(u32),
    #[error("HTTP error calling {method}: {detail}")]
    Http { method: String, detail: String },
    #[error("unreadable response to {method}: {detail}")]
    Envelope { method: String, detail: String },
    #[error("database error (token cache / ingestion log): {0}")]
    Db(#[from] sqlx::Error),
}

impl ClientError {
    fn code(&self) -> Option<String> {
        match self {
            ClientError::Vendor { code, .. } => Some(code.to_string()),
            ClientError::TooFrequent(_) => Some("1006".into()),
            _ => None,
        }
    }
}

/// A successful call: the verbatim body and the envelope's data (`result`, else `data`).
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: Vec<u8>,
    pub data: Value,
}

impl Reply {
    /// Rows in the data: array length, `rows` array length, or 1 for an object.
    pub fn rows(&self) -> usize {
        self.records().len()
    }

    /// The records of the data (`fleet_core::jimi::records`).
    pub fn records(&self) -> Vec<&Value> {
        fleet_core::jimi::records(&self.data)
    }
}

/// A cached token row: access token, refresh token, expiry, when it was obtained.
type StoredToken = (String, Option<String>, DateTime<Utc>, DateTime<Utc>);

/// The Open API client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    cfg: std::sync::Arc<ClientConfig>,
    http: reqwest::Client,
    pool: PgPool,
    who: String,
    /// Per method, the earliest moment the next call may go out (see `ClientConfig::pace`).
    next_call: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>,
}

impl Client {
    pub fn new(cfg: ClientConfig, pool: PgPool) -> Result<Self, ClientError> {
        let http =
            fleet_core::http::client(cfg.timeout)
                .build()
                .map_err(|e| ClientError::Http {
                    method: "(client)".into(),
                    detail: e.to_string(),
                })?;
        let who = format!(
            "{}:{}",
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .unwrap_or_default()
                .trim(),
            std::process::id()
        );
        Ok(Self {
            cfg: std::sync::Arc::new(cfg),
            http,
            pool,
            who,
            next_call: std::sync::Arc::default(),
        })
    }

    /// Calls `method` with `params` for `target` (recorded in the ingestion log).
    pub async fn call(
        &self,
        method: &str,
        params: &[(&str, &str)],
        target: Option<&str>,
    ) -> Result<Reply, ClientError> {
        let started = Instant::now();
        let result = self.call_inner(method, params).await;
        let (outcome, rows, code, detail) = match &result {
            Ok(r) => ("ok", Some(r.rows() as i32), None, None),
            Err(e) => ("error", None, e.code(), Some(e.to_string())),
        };
        let _ = sqlx::query(
            "INSERT INTO ops.ingestion_log (method, target, rows_returned, duration_ms, outcome, error_code, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(method)
        .bind(target)
        .bind(rows)
        .bind(i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX))
        .bind(outcome)
        .bind(code)
        .bind(detail)
        .execute(&self.pool)
        .await;
        result
    }

    async fn call_inner(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<Reply, ClientError> {
        let mut token = self.token().await?;
        let mut renewed = false;
        let mut busy = 0u32;
        loop {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            all.push(("access_token", &token));
            match self.post(method, &all).await {
                Ok(reply) => return Ok(reply),
                Err(ClientError::Vendor { code: 1004, .. }) if !renewed => {
                    renewed = true;
                    self.expire(&token).await?;
                    token = self.token().await?;
                }
                Err(ClientError::Vendor {
                    code: 1006 | -1, ..
                }) => {
                    if busy >= self.cfg.max_busy_retries {
                        return Err(ClientError::TooFrequent(busy));
                    }
                    tokio::time::sleep(self.cfg.busy_backoff * 2u32.pow(busy.min(6))).await;
                    busy += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits for this method's turn: calls of one method leave at least `pace` apart.
    async fn pace(&self, method: &str) {
        if self.cfg.pace.is_zero() {
            return;
        }
        let wait = {
            let mut next = self.next_call.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next.get(method).map_or(now, |t| (*t).max(now));
            next.insert(method.to_string(), at + self.cfg.pace);
            at - now
        };
        tokio::time::sleep(wait).await;
    }

    /// One signed POST; vendor errors (HTTP 200 with a non-zero code) become `Vendor`.
    async fn post(&self, method: &str, params: &[(&str, &str)]) -> Result<Reply, ClientError> {
        self.pace(method).await;
        let ts = fleet_core::jimi::format_time(Utc::now());
        let mut all: Vec<(&str, &str)> = vec![
            ("method", method),
            ("timestamp", &ts),
            ("app_key", &self.cfg.app_key),
            ("sign_method", "md5"),
            ("v", "1.0"),
            ("format", "json"),
        ];
        // Empty values are dropped from both the signature and the body (jimi-api.md §1).
        all.extend(params.iter().copied().filter(|(_, v)| !v.is_empty()));
        let signature = sign(all.iter().copied(), self.cfg.app_secret.expose());
        all.push(("sign", &signature));
        let http_err = |e: reqwest::Error| ClientError::Http {
            method: method.into(),
            detail: e.to_string(),
        };
        let res = self
            .http
            .post(format!("{}/route/rest", self.cfg.base_url))
            .form(&all)
            .send()
            .await
            .map_err(http_err)?;
        if !res.status().is_success() {
            return Err(ClientError::Http {
                method: method.into(),
                detail: format!("HTTP {}", res.status()),
            });
        }
        let body = res.bytes().await.map_err(http_err)?.to_vec();
        let v: Value = serde_json::from_slice(&body).map_err(|e| ClientError::Envelope {
            method: method.into(),
            detail: e.to_string(),
        })?;
        match envelope_code(&v) {
            Some(0) => Ok(Reply {
                body,
                data: envelope_data(v),
            }),
            Some(code) => Err(ClientError::Vendor {
                code,
                message: v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            }),
            None => Err(ClientError::Envelope {
                method: method.into(),
                detail: "no code in the envelope".into(),
            }),
        }
    }

    /// The current access token, taken from the shared cache or obtained under its lock.
    async fn token(&self) -> Result<String, ClientError> {
        // Refresh ahead of expiry: the configured margin, or a fifth of a short token's lifetime.
        let margin = |exp: DateTime<Utc>, obtained: DateTime<Utc>| {
            chrono::Duration::from_std(self.cfg.refresh_margin)
                .unwrap_or_default()
                .min((exp - obtained) / 5)
        };
        // Fast path: a valid token without taking the lock.
        if let Some((tok, exp, obtained)) = self.stored().await?
            && exp > Utc::now() + margin(exp, obtained)
        {
            return Ok(tok);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('jimi-token:' || $1))")
            .bind(&self.cfg.app_key)
            .execute(&mut *tx)
            .await?;
        let row: Option<StoredToken> =
            sqlx::query_as("SELECT access_token, refresh_token, expires_at, obtained_at FROM ops.api_tokens WHERE app_key = $1")
                .bind(&self.cfg.app_key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((tok, _, exp, obtained)) = &row
            && *exp > Utc::now() + margin(*exp, *obtained)
        {
            return Ok(tok.clone());
        }
        // Refresh when we hold a refresh token; token-get when there is none or refreshing fails.
        let mut fresh = None;
        if let Some((tok, Some(refresh), _, _)) = &row {
            let ttl = "7200".to_string();
            fresh = self
                .post(
                    "jimi.oauth.token.refresh",
                    &[
                        ("access_token", tok),
                        ("refresh_token", refresh),
                        ("expires_in", &ttl),
                    ],
                )
                .await
                .ok();
        }
        let reply = match fresh {
            Some(r) => r,
            None => {
                // token-get at most once a minute, across every process sharing this cache.
                if let Some((_, _, _, obtained)) = &row {
                    let interval =
                        chrono::Duration::from_std(self.cfg.token_get_interval).unwrap_or_default();
                    let wait = (*obtained + interval - Utc::now())
                        .to_std()
                        .unwrap_or_default();
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                }
                let pwd = password_md5(self.cfg.password.expose());
                self.post(
                    "jimi.oauth.token.get",
                    &[
                        ("user_id", &self.cfg.user_id),
                        ("user_pwd_md5", &pwd),
                        ("expires_in", "7200"),
                    ],
                )
                .await?
            }
        };
        let access = reply
            .data
            .get("accessToken")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if access.is_empty() {
            return Err(ClientError::Envelope {
                method: "jimi.oauth.token.get".into(),
                detail: "no accessToken in the result".into(),
            });
        }
        let refresh = reply
            .data
            .get("refreshToken")
            .and_then(Value::as_str)
            .map(String::from);
        // expiresIn may be a number or a string.
        let secs = fleet_core::jimi::lenient_number(
            &reply
                .data
                .get("expiresIn")
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_default(),
        )
        .unwrap_or(7200.0)
        .clamp(1.0, 86_400.0);
        sqlx::query(
            "INSERT INTO ops.api_tokens (app_key, access_token, refresh_token, expires_at, obtained_at, obtained_by)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4), now(), $5)
             ON CONFLICT (app_key) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
                 expires_at = excluded.expires_at, obtained_at = excluded.obtained_at, obtained_by = excluded.obtained_by",
        )
        .bind(&self.cfg.app_key)
        .bind(&access)
        .bind(&refresh)
        .bind(secs)
        .bind(&self.who)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(access)
    }

    async fn stored(&self) -> Result<Option<(String, DateTime<Utc>, DateTime<Utc>)>, ClientError> {
        Ok(sqlx::query_as(
            "SELECT access_token, expires_at, obtained_at FROM ops.api_tokens WHERE app_key = $1",
        )
        .bind(&self.cfg.app_key)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Marks `token` expired (after a 1004), unless another process already replaced it.
    async fn expire(&self, token: &str) -> Result<(), ClientError> {
        sqlx::query("UPDATE ops.api_tokens SET expires_at = now() - interval '1 second' WHERE app_key = $1 AND access_token = $2")
            .bind(&self.cfg.app_key)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `jimi.device.location.get` for any number of IMEIs, in batches of [`IMEI_BATCH`].
    pub async fn locations(
        &self,
        imeis: &[String],
        target: Option<&str>,
    ) -> Result<Vec<Reply>, ClientError> {
        let mut out = Vec::new();
        for chunk in imeis.chunks(IMEI_BATCH) {
            let list = chunk.join(",");
            out.push(
                self.call("jimi.device.location.get", &[("imeis", &list)], target)
                    .await?,
            );
        }
        Ok(out)
    }
}
