//! The gateway's routes in one place, so the binary and the tests serve the same thing: vendor
//! push receivers (per-source secrets, limited per credential and, for failed attempts, per IP), `POST /api/auth/token` (limited
//! per IP), and every `/api/*` read and write behind its scope with a per-subject limit; CORS
//! for the configured origins over all of it; the OpenAPI document and its docs page. Health and metrics are added by
//! `crate::gateway_router` and are never limited.

use crate::auth::{self, Auth, AuthConfig};
use crate::limit::{Limiter, RateLimits, limit};
use axum::Router;
use sqlx::PgPool;

use crate::push::{self, PushConfig};
use crate::reads::Reads;

/// What the gateway's routes need besides the database.
pub struct GatewayConfig {
    pub push: PushConfig,
    pub auth: AuthConfig,
    pub limits: RateLimits,
    pub cors_origins: Vec<String>,
    pub pages: crate::pages::PagesConfig,
    /// Cancelled when the gateway stops: ends the live streams (a graceful shutdown waits for
    /// open responses, and a stream never ends by itself).
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// A gateway without its signing key: API tokens cannot be issued or checked.
#[derive(Debug, thiserror::Error)]
#[error(
    "the gateway signs API tokens with FLEET_JWT_SECRET, which is not set: set it to a long random string (e.g. openssl rand -hex 32) shared by every gateway"
)]
pub struct NoJwtSecret;

impl GatewayConfig {
    /// A gateway that signs tokens with `auth` and has nothing else configured: no push secrets
    /// (the shared push token refused), no rate limits, same-origin only, the default pages (the
    /// read benchmark and the tests of one area build it).
    pub fn reads_only(auth: AuthConfig) -> Self {
        Self {
            push: PushConfig {
                jimi_token: None,
                secrets: Vec::new(),
                max_bytes: 1 << 20,
                mirror_url: None,
            },
            auth,
            limits: RateLimits::OFF,
            cors_origins: Vec::new(),
            pages: Default::default(),
            shutdown: Default::default(),
        }
    }

    /// The gateway's settings from the process configuration.
    pub fn from_config(config: &fleet_core::Config) -> Result<Self, NoJwtSecret> {
        let secret = config.jwt_secret.as_ref().ok_or(NoJwtSecret)?;
        Ok(Self {
            push: PushConfig {
                jimi_token: config.jimi_push_token.clone(),
                secrets: config.push_secrets.clone(),
                max_bytes: config.push_max_bytes,
                mirror_url: config.push_mirror_url.clone(),
            },
            auth: AuthConfig {
                secret: secret.expose().as_bytes().to_vec(),
                access_ttl: config.access_token_ttl,
                refresh_ttl: config.refresh_token_ttl,
            },
            limits: RateLimits {
                dashboard: config.rate_dashboard_per_min,
                routes: config.rate_routes_per_min,
                push_source: config.rate_push_per_source_per_min,
                push_failed: config.rate_push_failed_per_min,
                login: config.rate_login_per_min,
            },
            cors_origins: config.cors_origins.clone(),
            pages: crate::pages::PagesConfig {
                map_style: config.map_style_url.clone(),
            },
            shutdown: Default::default(),
        })
    }
}

/// The gateway's routes (without the ops routes), every read on `pool`.
pub fn areas(pool: PgPool, cfg: GatewayConfig) -> Router {
    areas_reading(pool.clone(), Reads::primary_only(pool), cfg)
}

/// The gateway's routes, the views and analytics reading where `reads` says (a replica).
pub fn areas_reading(pool: PgPool, reads: Reads, cfg: GatewayConfig) -> Router {
    let auth = Auth::new(pool.clone(), cfg.auth)
        .with_limit(Limiter::new("dashboard", cfg.limits.dashboard));
    let hub = crate::live::LiveHub::new(pool.clone(), cfg.shutdown.clone());
    let reads = crate::slo::router(pool.clone())
        .merge(crate::views::router(reads))
        .merge(crate::live::router(hub));
    let api = auth::require(reads, auth.clone(), auth::READ_FLEET)
        .merge(crate::actions::router(pool.clone(), auth.clone()))
        .merge(crate::fuel_actions::router(pool.clone(), auth.clone()))
        .merge(crate::geo::router(pool.clone(), auth.clone()))
        .merge(crate::routes::router(
            pool.clone(),
            auth.clone(),
            Limiter::new("routes", cfg.limits.routes),
            crate::routes::RouterCache::new(pool.clone()),
        ));
    let pool_for_tiles = pool.clone();
    let areas = push::router_limited(
        pool,
        cfg.push,
        push::PushLimits::new(cfg.limits.push_source, cfg.limits.push_failed),
    )
    .merge(limit(
        auth::router(auth),
        Limiter::new("login", cfg.limits.login),
    ))
    .merge(api)
    .merge(crate::openapi::router(openapi()))
    .merge(crate::pages::router(cfg.pages))
    .merge(crate::pages::tiles_router(pool_for_tiles));
    crate::with_cors(areas, &cfg.cors_origins)
}

/// The OpenAPI document of everything [`areas`] serves under `/api`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut actions = crate::actions::ActionsDoc::openapi();
    actions.merge(crate::fuel_actions::FuelActionsDoc::openapi());
    actions.merge(crate::geo::GeoDoc::openapi());
    actions.merge(crate::routes::RoutesDoc::openapi());
    crate::openapi::document(actions)
}
