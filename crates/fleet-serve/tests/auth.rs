//! Authentication over real HTTP on loopback against a real database: logins, refresh, and the
//! scope guard's answers to every kind of bad token.

use std::time::Duration;

use fleet_core::health::Liveness;
use fleet_serve::Health;
use fleet_serve::auth::{self, Auth, AuthConfig, Claims};
use fleet_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;

const SECRET: &[u8] = b"test-signing-key-0123456789abcdef0123";

async fn spawn(pool: &PgPool) -> String {
    let auth = Auth::new(
        pool.clone(),
        AuthConfig {
            secret: SECRET.to_vec(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
        },
    );
    let live = Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let areas = auth::router(auth.clone()).merge(auth::require(
        fleet_serve::slo::router(pool.clone()),
        auth,
        auth::READ_FLEET,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(Health::new(pool.clone(), vec![live]), areas),
        tokio_util::sync::CancellationToken::new(),
    ));
    base
}

async fn login(base: &str, body: Value) -> (u16, Value) {
    let r = fleet_testkit::http()
        .post(format!("{base}/api/auth/token"))
        .json(&body)
        .send()
        .await
        .expect("request");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn slo(base: &str, auth_header: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = fleet_testkit::http().get(format!("{base}/api/slo"));
    if let Some(h) = auth_header {
        req = req.header("authorization", h);
    }
    let r = req.send().await.expect("request");
    let www = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        r.status().as_u16(),
        www,
        r.json().await.unwrap_or(Value::Null),
    )
}

fn forged(claims: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("encode")
}

#[tokio::test]
async fn every_bad_token_is_401_and_a_missing_scope_is_403() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let scopes = |s: &str| auth::parse_scopes(s).expect("scopes");
    auth::add_account(
        pool,
        "reader",
        "reader-password-1",
        &scopes("read:fleet"),
        false,
        "test",
    )
    .await
    .expect("add");
    auth::add_account(
        pool,
        "opsonly",
        "opsonly-password-1",
        &scopes("write:ops"),
        false,
        "test",
    )
    .await
    .expect("add");
    let base = spawn(pool).await;

    let (status, body) = login(
        &base,
        json!({"username": "reader", "password": "wrong-password-xx"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, body) = login(
        &base,
        json!({"username": "nobody", "password": "reader-password-1"}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = login(&base, json!({"user": "reader"})).await;
    assert_eq!(status, 400);

    let (status, ok) = login(
        &base,
        json!({"username": "reader", "password": "reader-password-1"}),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        (ok["token_type"].as_str(), ok["expires_in"].as_u64()),
        (Some("Bearer"), Some(900))
    );
    let token = ok["access_token"].as_str().expect("token").to_string();
    let (status, _, body) = slo(&base, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["slos"].is_array());

    // No token, a malformed header, a tampered token, another key, an expired token: all 401.
    let (status, www, body) = slo(&base, None).await;
    assert_eq!((status, www.as_deref()), (401, Some("Bearer")), "{body}");
    assert_eq!(slo(&base, Some(&token)).await.0, 401, "no Bearer prefix");
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_eq!(
        slo(&base, Some(&format!("Bearer {}", parts.join("."))))
            .await
            .0,
        401,
        "tampered"
    );
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: "reader".into(),
        scopes: vec!["read:fleet".into(), "admin:fleet".into()],
        iat: now,
        exp: now + 600,
        iss: "fleet-platform".into(),
    };
    assert_eq!(
        slo(
            &base,
            Some(&format!(
                "Bearer {}",
                forged(&claims, b"another-key-0123456789abcdef012345")
            ))
        )
        .await
        .0,
        401
    );
    let expired = Claims {
        iat: now - 1200,
        exp: now - 600,
        ..claims.clone()
    };
    assert_eq!(
        slo(&base, Some(&format!("Bearer {}", forged(&expired, SECRET))))
            .await
            .0,
        401,
        "expired"
    );

    // A valid token without the scope: 403.
    let (_, ops) = login(
        &base,
        json!({"username": "opsonly", "password": "opsonly-password-1"}),
    )
    .await;
    let (status, _, body) = slo(
        &base,
        Some(&format!(
            "Bearer {}",
            ops["access_token"].as_str().expect("t")
        )),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );

    // Disabling the account ends its tokens at once.
    auth::change_account(pool, "reader", auth::AccountChange::Disable, "test")
        .await
        .expect("disable");
    assert_eq!(slo(&base, Some(&format!("Bearer {token}"))).await.0, 401);

    // Every login attempt is audited with where it came from.
    let audited: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor, outcome, host(remote_addr) FROM auth.audit_log WHERE action = 'login' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("audit");
    assert_eq!(audited.len(), 4, "{audited:?}");
    assert_eq!(
        audited[0],
        ("reader".into(), "denied".into(), Some("127.0.0.1".into()))
    );
    assert_eq!(audited[2].1, "ok");
}

#[tokio::test]
async fn a_refresh_token_works_once() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    auth::add_account(
        pool,
        "svc",
        "service-password-1",
        &["read:fleet".to_string()],
        true,
        "test",
    )
    .await
    .expect("add");
    let base = spawn(pool).await;
    let (_, first) = login(
        &base,
        json!({"username": "svc", "password": "service-password-1"}),
    )
    .await;
    let refresh = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let (status, second) = login(&base, json!({"refresh_token": refresh})).await;
    assert_eq!(status, 200, "{second}");
    let (status, _, _) = slo(
        &base,
        Some(&format!(
            "Bearer {}",
            second["access_token"].as_str().expect("t")
        )),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        login(&base, json!({"refresh_token": refresh})).await.0,
        401,
        "single use"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM auth.refresh_tokens")
        .fetch_all(pool)
        .await
        .expect("stored");
    assert!(
        stored.iter().all(|h| h != &refresh && h.len() == 64),
        "only hashes are stored"
    );
}

#[test]
fn passwords_and_scopes_are_checked() {
    let h = auth::hash_password("correct horse battery").expect("hash");
    assert!(h.starts_with("$argon2id$"));
    assert!(auth::verify_password("correct horse battery", &h));
    assert!(!auth::verify_password("correct horse battery!", &h));
    assert!(!auth::verify_password("anything", "not a hash"));
    assert!(auth::parse_scopes("read:fleet, write:ops").is_ok());
    assert!(
        auth::parse_scopes("read:fleet,root")
            .expect_err("unknown")
            .to_string()
            .contains("admin:fleet")
    );
    assert!(auth::parse_scopes("").is_err());
}
