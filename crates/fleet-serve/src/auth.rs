//! Authentication and access (ARCHITECTURE §1 rule 9): accounts with argon2 password hashes and
//! scopes, short-lived JWT access tokens (HS256) with refresh tokens, and the scope guard every
//! `/api/*` route sits behind.
//!
//! - `POST /api/auth/token` takes `{username, password}` (or `{refresh_token}`) and answers
//!   `{access_token, token_type: "Bearer", expires_in, refresh_token, scopes}`. Refresh tokens are
//!   random, stored only as their SHA-256, single use (each refresh revokes the old one).
//! - A request without a valid token gets 401 (missing, malformed, tampered, expired, or the
//!   account disabled since); a valid token without the route's scope gets 403. Both are the one
//!   JSON error shape, and 401 carries `WWW-Authenticate: Bearer`.
//! - Every login, failed or not, is written to `auth.audit_log` with the caller's address.
//! - Password checks run on the blocking pool: argon2 is meant to be slow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::{ApiError, error_response};

/// The scopes an account can hold.
pub const SCOPES: &[&str] = &["read:fleet", "write:ops", "admin:fleet"];
pub const READ_FLEET: &str = "read:fleet";
pub const WRITE_OPS: &str = "write:ops";
pub const ADMIN_FLEET: &str = "admin:fleet";

/// Token settings.
#[derive(Clone)]
pub struct AuthConfig {
    /// HS256 signing key (`FLEET_JWT_SECRET`).
    pub secret: Vec<u8>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// What a valid access token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The username.
    pub sub: String,
    pub scopes: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

const ISSUER: &str = "fleet-platform";

#[derive(Clone)]
pub struct Auth {
    pool: PgPool,
    cfg: Arc<AuthConfig>,
    limiter: Option<crate::limit::Limiter>,
}

impl Auth {
    pub fn new(pool: PgPool, cfg: AuthConfig) -> Self {
        Self {
            pool,
            cfg: Arc::new(cfg),
            limiter: None,
        }
    }

    /// Every guarded request also takes a token from `limiter`, keyed by the token's subject.
    pub fn with_limit(mut self, limiter: crate::limit::Limiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Signs an access token for `username` with `scopes`.
    pub fn issue(&self, username: &str, scopes: &[String]) -> Result<String, AuthError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: username.into(),
            scopes: scopes.to_vec(),
            iat: now,
            exp: now + self.cfg.access_ttl.as_secs() as i64,
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.cfg.secret),
        )
        .map_err(AuthError::from)
    }

    /// Checks a token's signature, expiry and issuer.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.cfg.secret), &v)
            .map(|d| d.claims)
            .map_err(AuthError::from)
    }
}

/// What goes wrong with accounts, passwords and tokens.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the system's random source failed: {0}")]
    Random(#[from] getrandom::Error),
    #[error("a password check could not run: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("unknown scope {name:?}; the scopes are {}", SCOPES.join(", "))]
    UnknownScope { name: String },
    #[error("give at least one scope: {}", SCOPES.join(", "))]
    NoScope,
    #[error("the password must have at least 12 characters")]
    ShortPassword,
    #[error("an account named {0:?} exists already")]
    Exists(String),
    #[error("{0:?} is not a valid account name: 1-64 letters, digits, and _ . @ -")]
    BadName(String),
    #[error("there is no account named {0:?} (see `fleet users list`)")]
    NoSuchAccount(String),
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret as hex (refresh tokens, generated passwords).
pub fn random_token(bytes: usize) -> Result<String, AuthError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Writes one audit line (never fails the caller; a lost audit line is logged).
pub async fn audit(
    pool: &PgPool,
    actor: &str,
    action: &str,
    target: Option<&str>,
    from: Option<SocketAddr>,
    outcome: &str,
    details: serde_json::Value,
) {
    let r = sqlx::query(
        "INSERT INTO auth.audit_log (actor, action, target, remote_addr, outcome, details) VALUES ($1, $2, $3, $4::inet, $5, $6)",
    )
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(from.map(|a| a.ip().to_string()))
    .bind(outcome)
    .bind(details)
    .execute(pool)
    .await;
    if let Err(e) = r {
        tracing::error!(error = %e, actor, action, "could not write the audit log");
    }
}

/// A login (`username` and `password`) or a refresh (`refresh_token`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

/// A new access token, and the refresh token that replaces the one used (if any).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Single use; trade it for a new pair before it expires.
    pub refresh_token: String,
    pub scopes: Vec<String>,
}

/// `POST /api/auth/token`.
pub fn router(auth: Auth) -> Router {
    Router::new()
        .route("/api/auth/token", post(token))
        .with_state(auth)
}

/// 503 with `message`; the cause is logged, never returned.
fn unavailable(doing: &str, cause: &dyn std::fmt::Display, message: &str) -> Response {
    ApiError::unavailable(doing, cause, message).into_response()
}

fn unauthorized(message: &str) -> Response {
    ApiError::unauthorized(message).into_response()
}

#[utoipa::path(post, path = "/api/auth/token", tag = "auth",
    summary = "Log in (username and password) or refresh (refresh_token)",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, description = "Neither a login nor a refresh", body = crate::openapi::ErrorBody),
        (status = 401, description = "Wrong username or password, or a used or expired refresh token", body = crate::openapi::ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = crate::openapi::ErrorBody),
    ))]
pub(crate) async fn token(
    State(auth): State<Auth>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected JSON {\"username\": ..., \"password\": ...} or {\"refresh_token\": ...}",
        );
    };
    let account = match (&req.username, &req.password, &req.refresh_token) {
        (Some(user), Some(password), None) => login(&auth, user, password).await,
        (None, None, Some(refresh)) => refreshed(&auth, refresh).await,
        _ => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give either username and password, or refresh_token",
            );
        }
    };
    let actor = req.username.clone().unwrap_or_else(|| "(refresh)".into());
    let (account_id, username, scopes) = match account {
        Ok(Some(a)) => a,
        Ok(None) => {
            audit(&auth.pool, &actor, "login", None, Some(from), "denied", json!({"grant": if req.refresh_token.is_some() { "refresh_token" } else { "password" }})).await;
            return unauthorized("wrong username or password, or the account is disabled");
        }
        Err(e) => {
            return unavailable("login failed", &e, "logins cannot be checked right now");
        }
    };
    let issued = async {
        let access = auth.issue(&username, &scopes)?;
        let refresh = random_token(32)?;
        sqlx::query("INSERT INTO auth.refresh_tokens (token_hash, account_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))")
            .bind(sha256_hex(&refresh))
            .bind(account_id)
            .bind(auth.cfg.refresh_ttl.as_secs_f64())
            .execute(&auth.pool)
            .await?;
        Ok::<_, AuthError>((access, refresh))
    }
    .await;
    match issued {
        Ok((access, refresh)) => {
            audit(&auth.pool, &username, "login", None, Some(from), "ok", json!({"grant": if req.refresh_token.is_some() { "refresh_token" } else { "password" }})).await;
            axum::Json(TokenResponse {
                access_token: access,
                token_type: "Bearer".into(),
                expires_in: auth.cfg.access_ttl.as_secs(),
                refresh_token: refresh,
                scopes,
            })
            .into_response()
        }
        Err(e) => unavailable(
            "issuing a token failed",
            &e,
            "a token cannot be issued right now",
        ),
    }
}

type Account = (i64, String, Vec<String>);

async fn login(auth: &Auth, user: &str, password: &str) -> Result<Option<Account>, AuthError> {
    let row: Option<(i64, String, String, Vec<String>)> = sqlx::query_as(
        "SELECT account_id, username, password_hash, scopes FROM auth.accounts WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(user)
    .fetch_optional(&auth.pool)
    .await?;
    // Unknown users cost a hash too, so timing does not tell which usernames exist.
    let (hash, found) = match &row {
        Some((_, _, h, _)) => (h.clone(), true),
        None => (dummy_hash(), false),
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await?;
    Ok(row
        .filter(|_| ok && found)
        .map(|(id, name, _, scopes)| (id, name, scopes)))
}

/// A hash of a random string, verified against when the username is unknown.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_token(16).unwrap_or_default()).unwrap_or_default())
        .clone()
}

async fn refreshed(auth: &Auth, refresh: &str) -> Result<Option<Account>, AuthError> {
    sqlx::query_as(
        "WITH used AS (
            UPDATE auth.refresh_tokens SET revoked_at = now()
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
             RETURNING account_id)
         SELECT a.account_id, a.username, a.scopes
           FROM used JOIN auth.accounts a USING (account_id)
          WHERE a.disabled_at IS NULL",
    )
    .bind(sha256_hex(refresh))
    .fetch_optional(&auth.pool)
    .await
    .map_err(AuthError::from)
}

/// Puts `router` behind a valid access token with `scope`; the request gets the [`Claims`] as
/// an extension. A token of an account disabled after it was issued is refused.
pub fn require(router: Router, auth: Auth, scope: &'static str) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let auth = auth.clone();
            async move { guard(auth, scope, req, next).await }
        },
    ))
}

async fn guard(auth: Auth, scope: &'static str, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return unauthorized("this endpoint needs a bearer token: POST /api/auth/token first");
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        return unauthorized("the Authorization header must be: Bearer <token>");
    };
    let claims = match auth.verify(token) {
        Ok(c) => c,
        Err(e) => return unauthorized(&format!("the token is not valid ({e})")),
    };
    let active: Result<Option<bool>, _> =
        sqlx::query_scalar("SELECT disabled_at IS NULL FROM auth.accounts WHERE username = $1")
            .bind(&claims.sub)
            .fetch_optional(&auth.pool)
            .await;
    match active {
        Ok(Some(true)) => {}
        Ok(_) => return unauthorized("the account of this token is disabled or gone"),
        Err(e) => {
            return unavailable(
                "checking a token's account",
                &e,
                "the token cannot be checked right now",
            );
        }
    }
    if !claims.scopes.iter().any(|s| s == scope) {
        return error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("this endpoint needs the {scope} scope"),
        );
    }
    if let Some(limiter) = &auth.limiter
        && let Err(wait) = limiter.check(&format!("sub:{}", claims.sub))
    {
        return limiter.refuse(wait);
    }
    req.extensions_mut().insert(claims);
    next.run(req).await
}

/// One account as `fleet users list` shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AccountInfo {
    pub username: String,
    pub kind: String,
    pub scopes: Vec<String>,
    pub disabled_at: Option<chrono::DateTime<Utc>>,
    pub created_at: chrono::DateTime<Utc>,
}

/// Checks a scope list (`read:fleet,write:ops`), saying what is allowed when it is wrong.
pub fn parse_scopes(list: &str) -> Result<Vec<String>, AuthError> {
    let mut out: Vec<String> = Vec::new();
    for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !SCOPES.contains(&s) {
            return Err(AuthError::UnknownScope {
                name: s.to_string(),
            });
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err(AuthError::NoScope);
    }
    Ok(out)
}

/// Creates an account; `actor` is recorded in the audit log.
pub async fn add_account(
    pool: &PgPool,
    username: &str,
    password: &str,
    scopes: &[String],
    service: bool,
    actor: &str,
) -> Result<(), AuthError> {
    if password.chars().count() < 12 {
        return Err(AuthError::ShortPassword);
    }
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
    let r = sqlx::query(
        "INSERT INTO auth.accounts (username, kind, password_hash, scopes) VALUES ($1, $2, $3, $4)",
    )
    .bind(username)
    .bind(if service { "service" } else { "user" })
    .bind(hash)
    .bind(scopes)
    .execute(pool)
    .await;
    match r {
        Ok(_) => {
            audit(
                pool,
                actor,
                "account.add",
                Some(username),
                None,
                "ok",
                json!({"scopes": scopes, "service": service}),
            )
            .await;
            Ok(())
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AuthError::Exists(username.to_string()))
        }
        Err(sqlx::Error::Database(e)) if e.is_check_violation() => {
            Err(AuthError::BadName(username.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes the admin account a `fleet up` made when that run failed before it could show the
/// password (no one can log in with it, and the next run makes one it shows).
pub async fn forget_unshown_admin(pool: &PgPool, username: &str) -> Result<(), AuthError> {
    let gone = sqlx::query(
        "DELETE FROM auth.accounts a WHERE a.username = $1
            AND NOT EXISTS (SELECT 1 FROM auth.refresh_tokens t WHERE t.account_id = a.account_id)",
    )
    .bind(username)
    .execute(pool)
    .await?
    .rows_affected();
    if gone > 0 {
        audit(
            pool,
            "fleet up",
            "account.remove",
            Some(username),
            None,
            "ok",
            json!({"why": "fleet up failed at start before showing the password"}),
        )
        .await;
    }
    Ok(())
}

/// Every account.
pub async fn list_accounts(pool: &PgPool) -> Result<Vec<AccountInfo>, sqlx::Error> {
    sqlx::query_as("SELECT username, kind, scopes, disabled_at, created_at FROM auth.accounts ORDER BY username")
        .fetch_all(pool)
        .await
}

/// Disables an account (its tokens stop working at once) or sets its scopes.
pub async fn change_account(
    pool: &PgPool,
    username: &str,
    change: AccountChange<'_>,
    actor: &str,
) -> Result<(), AuthError> {
    let (action, r) = match change {
        AccountChange::Disable => (
            "account.disable",
            sqlx::query("UPDATE auth.accounts SET disabled_at = coalesce(disabled_at, now()) WHERE username = $1")
                .bind(username)
                .execute(pool)
                .await,
        ),
        AccountChange::Scopes(scopes) => (
            "account.set_scopes",
            sqlx::query("UPDATE auth.accounts SET scopes = $2 WHERE username = $1")
                .bind(username)
                .bind(scopes)
                .execute(pool)
                .await,
        ),
    };
    match r {
        Ok(done) if done.rows_affected() == 1 => {
            audit(pool, actor, action, Some(username), None, "ok", json!({})).await;
            Ok(())
        }
        Ok(_) => Err(AuthError::NoSuchAccount(username.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// What `change_account` does.
pub enum AccountChange<'a> {
    Disable,
    Scopes(&'a [String]),
}

/// In local mode: an `admin` account with every scope when no enabled account can administer
/// (named `admin-2`, … when an operator disabled `admin`). Returns its name and the generated
/// password (to be shown once), or `None` when an admin exists.
pub async fn ensure_local_admin(pool: &PgPool) -> Result<Option<(String, String)>, AuthError> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM auth.accounts WHERE 'admin:fleet' = ANY (scopes) AND disabled_at IS NULL)")
        .fetch_one(pool)
        .await?;
    if exists {
        return Ok(None);
    }
    // the name `admin` may be taken by an account an operator disabled (or narrowed): that one
    // stays as it is, and the new admin takes the first free name after it
    let name: String = sqlx::query_scalar(
        "SELECT n FROM (SELECT 'admin' AS n, 0 AS i UNION ALL SELECT 'admin-' || i, i FROM generate_series(2, 1000) i) c
          WHERE NOT EXISTS (SELECT 1 FROM auth.accounts a WHERE a.username = c.n) ORDER BY i LIMIT 1",
    )
    .fetch_one(pool)
    .await?;
    let password = random_token(12)?;
    let scopes: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    add_account(pool, &name, &password, &scopes, false, "fleet up").await?;
    Ok(Some((name, password)))
}
