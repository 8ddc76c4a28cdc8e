//! What the gateway tests of one area share.
#![allow(dead_code)]

use std::time::Duration;

use fleet_serve::auth::{Auth, AuthConfig};
use sqlx::PgPool;

/// Token settings signing with `secret` (15-minute tokens).
pub fn auth_config(secret: &[u8]) -> AuthConfig {
    AuthConfig {
        secret: secret.to_vec(),
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(900),
    }
}

/// An account `reader` with `read:fleet`, and a token for it signed as `auth` says.
pub async fn reader_token(pool: &PgPool, auth: &AuthConfig) -> String {
    sqlx::query("INSERT INTO auth.accounts (username, password_hash, scopes) VALUES ('reader', '!', ARRAY['read:fleet'])")
        .execute(pool)
        .await
        .expect("account");
    Auth::new(pool.clone(), auth.clone())
        .issue("reader", &["read:fleet".to_string()])
        .expect("token")
}

/// `routes` behind the gateway's frame (health, metrics) on a loopback port; its base URL.
pub async fn serve(pool: &PgPool, routes: axum::Router) -> String {
    let live = fleet_core::health::Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(fleet_serve::Health::new(pool.clone(), vec![live]), routes),
        tokio_util::sync::CancellationToken::new(),
    ));
    base
}
