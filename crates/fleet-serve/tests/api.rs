//! The serve layer over real HTTP on loopback against a real database, through the gateway's
//! own route set (`fleet_serve::gateway::areas`): every endpoint's auth, the live and history
//! views (dedup of two devices on one plate, state from the thresholds table, filters), the
//! analytics in EAT days, the operator actions as events, rate limits and CORS.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use fleet_core::health::Liveness;
use fleet_ingest::{registry, worker};
use fleet_serve::Health;
use fleet_serve::auth::{AuthConfig, Claims};
use fleet_serve::gateway::{GatewayConfig, areas};
use fleet_serve::limit::RateLimits;
use fleet_serve::push::PushConfig;
use fleet_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"api-test-signing-key-0123456789abcdef";

struct Gw {
    base: String,
}

fn auth_config() -> AuthConfig {
    AuthConfig {
        secret: SECRET.to_vec(),
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(3600),
    }
}

async fn gateway(pool: &PgPool, limits: RateLimits, cors: &[&str]) -> Gw {
    let live = Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let routes = areas(
        pool.clone(),
        GatewayConfig {
            push: PushConfig {
                jimi_token: Some("push-token-123".into()),
                secrets: Vec::new(),
                max_bytes: 1 << 20,
                mirror_url: None,
            },
            auth: auth_config(),
            limits,
            cors_origins: cors.iter().map(|s| s.to_string()).collect(),
            pages: Default::default(),
            shutdown: Default::default(),
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(Health::new(pool.clone(), vec![live]), routes),
        CancellationToken::new(),
    ));
    Gw { base }
}

/// An account with `scopes` and a valid token for it (the hash is never checked: no login).
async fn token(pool: &PgPool, user: &str, scopes: &[&str]) -> String {
    sqlx::query(
        "INSERT INTO auth.accounts (username, password_hash, scopes) VALUES ($1, 'x', $2)
         ON CONFLICT (username) DO UPDATE SET scopes = excluded.scopes",
    )
    .bind(user)
    .bind(scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    .execute(pool)
    .await
    .expect("account");
    sign(&claims(user, scopes, 900), SECRET)
}

fn claims(user: &str, scopes: &[&str], ttl: i64) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub: user.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        iat: now - 10,
        exp: now + ttl,
        iss: "fleet-platform".into(),
    }
}

fn sign(c: &Claims, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        c,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

impl Gw {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let c = fleet_testkit::http();
        let mut req = match method {
            "GET" => c.get(url),
            "POST" => c.post(url),
            "PUT" => c.put(url),
            other => panic!("method {other}"),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn view(&self, path: &str, token: &str, filters: Value) -> (u16, Value) {
        let q = serde_urlencoded::to_string([("filters", filters.to_string())]).expect("query");
        self.call("GET", &format!("{path}?{q}"), Some(token), None)
            .await
    }
}

async fn drain(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

/// The registry of these tests, imported the real way (a CSV through the log): two trackers on
/// KCA 542Q (OPS), one each on KBZ 001A (OPS, Mombasa), KDD 300C (SALES), KDE 400D (SALES),
/// KDF 500E (SALES, to be suspended) and KDG 600F (to be decommissioned).
const REGISTRY: &str = "IMEI,Number Plate,Driver,Phone,Department,City\n\
862798050000001,KCA 542Q,John Otieno,+254700000001,OPS,Nairobi\n\
862798050000002,KCA 542Q,,,,\n\
862798050000003,KBZ 001A,Grace Wanjiku,+254700000002,OPS,Mombasa\n\
862798050000004,KDD 300C,,,SALES,Nairobi\n\
862798050000005,KDE 400D,,,SALES,Nairobi\n\
862798050000006,KDF 500E,,,SALES,Nairobi\n\
862798050000007,KDG 600F,,,SALES,Nairobi\n";

async fn import_registry(pool: &PgPool) {
    registry::append(pool, REGISTRY.as_bytes(), "fleet.csv", Some("fireside"))
        .await
        .expect("append");
    drain(pool).await;
}

async fn fix(pool: &PgPool, imei: &str, age_s: i64, speed: f32, lat: f64, lng: f64) {
    sqlx::query(
        "INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, speed_kmh, acc_on, source, raw_id)
         VALUES ($1, now() - make_interval(secs => $2), now() - make_interval(secs => $2), $3, $4, $5, $5 > 0, 'test', 0)
         ON CONFLICT (imei) DO UPDATE SET fix_time = excluded.fix_time, received_at = excluded.received_at,
                lat = excluded.lat, lng = excluded.lng, speed_kmh = excluded.speed_kmh",
    )
    .bind(imei)
    .bind(age_s as f64)
    .bind(lat)
    .bind(lng)
    .bind(speed)
    .execute(pool)
    .await
    .expect("fix");
}

async fn set_lifecycle(pool: &PgPool, imei: &str, to: &str) {
    sqlx::query("UPDATE domain.devices SET lifecycle = $2 WHERE imei = $1")
        .bind(imei)
        .bind(to)
        .execute(pool)
        .await
        .expect("lifecycle");
}

fn feature<'a>(live: &'a Value, plate: &str) -> Option<&'a Value> {
    live["geojson"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["vehicle_number"] == plate)
}

fn plates(live: &Value) -> Vec<String> {
    let mut v: Vec<String> = live["geojson"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            f["properties"]["vehicle_number"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_endpoint_needs_a_valid_token_with_its_scope() {
    let db = TestDb::new().await;
    let gw = gateway(&db.pool, RateLimits::OFF, &[]).await;
    let reader = token(&db.pool, "reader", &["read:fleet"]).await;
    let operator = token(&db.pool, "operator", &["write:ops"]).await;
    let expired = sign(&claims("reader", &["read:fleet"], -120), SECRET);
    let tampered = sign(
        &claims("reader", &["read:fleet", "admin:fleet"], 900),
        b"another-key-0123456789abcdef0123456",
    );
    let mut endpoints: Vec<(&str, String, &str)> = fleet_serve::views::VIEWS
        .iter()
        .map(|v| ("GET", v.path.to_string(), "read:fleet"))
        .collect();
    endpoints.extend([
        ("GET", "/api/slo".to_string(), "read:fleet"),
        ("GET", "/api/devices".to_string(), "read:fleet"),
        (
            "GET",
            "/api/devices/862798050000001/lifecycle".to_string(),
            "read:fleet",
        ),
        (
            "GET",
            "/api/vehicles/KCA542Q/service".to_string(),
            "read:fleet",
        ),
        (
            "POST",
            "/api/devices/862798050000001/lifecycle".to_string(),
            "admin:fleet",
        ),
        (
            "PUT",
            "/api/devices/862798050000001/vehicle".to_string(),
            "write:ops",
        ),
        (
            "PUT",
            "/api/vehicles/KCA542Q/driver".to_string(),
            "write:ops",
        ),
        ("POST", "/api/alarms/ack".to_string(), "write:ops"),
        ("POST", "/api/fuel/mappings".to_string(), "write:ops"),
        ("POST", "/api/fuel/fills/1/review".to_string(), "write:ops"),
        (
            "POST",
            "/api/vehicles/KCA542Q/service".to_string(),
            "write:ops",
        ),
    ]);
    for (method, path, scope) in &endpoints {
        for (label, tok) in [
            ("no token", None),
            ("expired", Some(&expired)),
            ("tampered", Some(&tampered)),
        ] {
            let (status, body) = gw
                .call(method, path, tok.map(String::as_str), Some(json!({})))
                .await;
            assert_eq!(status, 401, "{method} {path} with {label}: {body}");
            assert!(
                body["error"]["message"].is_string(),
                "{method} {path}: JSON error"
            );
        }
        let wrong = if *scope == "read:fleet" {
            &operator
        } else {
            &reader
        };
        let (status, body) = gw.call(method, path, Some(wrong), Some(json!({}))).await;
        assert_eq!(status, 403, "{method} {path} without {scope}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(scope),
            "{method} {path}: the 403 names the scope: {body}"
        );
    }
    // With the scope, a read answers.
    let (status, body) = gw.call("GET", "/api/views/live", Some(&reader), None).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_live_view_shows_each_vehicle_once_with_its_state_from_the_thresholds_table() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    import_registry(pool).await;
    let gw = gateway(pool, RateLimits::OFF, &[]).await;
    let t = token(pool, "reader", &["read:fleet"]).await;
    // Two trackers on KCA 542Q: the fresher one speaks for the vehicle.
    fix(pool, "862798050000001", 300, 0.0, -1.30, 36.80).await;
    fix(pool, "862798050000002", 20, 42.0, -1.29, 36.81).await;
    fix(pool, "862798050000003", 90, 0.0, -4.05, 39.66).await; // parked, but older than fresh (60 s)
    fix(pool, "862798050000004", 1200, 0.0, -1.28, 36.82).await; // stale: unknown
    fix(pool, "862798050000005", 3 * 86_400, 0.0, -1.27, 36.83).await; // offline
    fix(pool, "862798050000006", 10, 30.0, -1.26, 36.84).await;
    fix(pool, "862798050000007", 10, 30.0, -1.25, 36.85).await;
    set_lifecycle(pool, "862798050000006", "suspended").await;
    set_lifecycle(pool, "862798050000007", "decommissioned").await;

    let (status, live) = gw.view("/api/views/live", &t, json!({})).await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(
        plates(&live),
        ["KBZ 001A", "KCA 542Q", "KDD 300C", "KDE 400D", "KDF 500E"],
        "one feature per vehicle; the decommissioned device's vehicle is gone"
    );
    let kca = feature(&live, "KCA 542Q").expect("KCA 542Q").clone();
    let p = &kca["properties"];
    assert_eq!(p["imei"], "862798050000002", "the freshest fix wins");
    assert_eq!(p["devices"], 2);
    assert_eq!(p["state"], "moving");
    assert_eq!(p["style_class"], "vehicle-moving");
    assert_eq!(p["plate_tail"], "542Q");
    assert_eq!(p["cost_centre"], "OPS");
    assert_eq!(p["driver_name"], "John Otieno");
    assert_eq!(kca["geometry"]["coordinates"], json!([36.81, -1.29]));
    let local: DateTime<Utc> = p["fix_time"]
        .as_str()
        .expect("fix_time")
        .parse()
        .expect("time");
    let eat = local.with_timezone(&chrono::FixedOffset::east_opt(3 * 3600).expect("EAT"));
    assert_eq!(
        p["fix_time_local"],
        eat.format("%Y-%m-%d %H:%M:%S").to_string()
    );
    assert_eq!(
        p["colour"],
        feature(&live, "KBZ 001A").expect("KBZ")["properties"]["colour"],
        "one colour per cost centre"
    );
    let state = |plate: &str| feature(&live, plate).map(|f| f["properties"]["state"].clone());
    assert_eq!(state("KBZ 001A"), Some(json!("parked")));
    assert_eq!(state("KDD 300C"), Some(json!("unknown")));
    assert_eq!(state("KDE 400D"), Some(json!("offline")));
    assert_eq!(state("KDF 500E"), Some(json!("suspended")));
    let s = &live["summary"];
    assert_eq!(
        (
            s["vehicles"].clone(),
            s["moving"].clone(),
            s["parked"].clone(),
            s["unknown"].clone(),
            s["offline"].clone(),
            s["suspended"].clone()
        ),
        (json!(5), json!(1), json!(1), json!(1), json!(1), json!(1))
    );
    // KBZ (90 s) and KDD (20 min) are older than the fresh threshold; offline and suspended
    // vehicles are not counted against freshness.
    assert_eq!(s["below_freshness"], 2);
    let badges = live["slo_status"]["badges"].as_array().expect("badges");
    assert!(
        badges
            .iter()
            .any(|b| b["text"] == "2 vehicles below freshness SLO"),
        "{badges:?}"
    );

    // The thresholds come from slo.targets: a longer stale limit makes KDD parked.
    sqlx::query("UPDATE slo.targets SET threshold = 3600 WHERE metric = 'stale_gps_sec'")
        .execute(pool)
        .await
        .expect("update");
    let (_, live) = gw.view("/api/views/live", &t, json!({})).await;
    assert_eq!(
        feature(&live, "KDD 300C").expect("KDD")["properties"]["state"],
        "parked"
    );
    assert_eq!(live["summary"]["thresholds"]["stale_s"], 3600.0);

    // Filters: cost centre (any case), city, plate in another spelling, state.
    let (_, ops) = gw
        .view("/api/views/live", &t, json!({"cost_centres": ["ops"]}))
        .await;
    assert_eq!(plates(&ops), ["KBZ 001A", "KCA 542Q"]);
    let (_, msa) = gw
        .view("/api/views/live", &t, json!({"cities": ["MOMBASA"]}))
        .await;
    assert_eq!(plates(&msa), ["KBZ 001A"]);
    let (_, one) = gw
        .view("/api/views/live", &t, json!({"vehicles": "kca 542-q"}))
        .await;
    assert_eq!(plates(&one), ["KCA 542Q"]);
    let (_, moving) = gw
        .view(
            "/api/views/live",
            &t,
            json!({"states": ["moving", "suspended"]}),
        )
        .await;
    assert_eq!(plates(&moving), ["KCA 542Q", "KDF 500E"]);
    // A bad filter names itself.
    let (status, e) = gw
        .view("/api/views/live", &t, json!({"cost_center": "OPS"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("cost_center"),
        "{e}"
    );
    let (status, e) = gw.view("/api/views/live", &t, json!({"zoom": "far"})).await;
    assert_eq!(status, 400, "{e}");

    // The dedup: when the moving tracker goes quiet, the other one speaks for the vehicle.
    fix(pool, "862798050000002", 7200, 0.0, -1.29, 36.81).await;
    let (_, live) = gw.view("/api/views/live", &t, json!({})).await;
    assert_eq!(
        feature(&live, "KCA 542Q").expect("KCA")["properties"]["imei"],
        "862798050000001"
    );

    // Filters list the registry.
    let (status, f) = gw
        .view("/api/filters", &t, json!({"cost_centres": ["SALES"]}))
        .await;
    assert_eq!(status, 200, "{f}");
    let ccs: Vec<&str> = f["cost_centres"]
        .as_array()
        .expect("ccs")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(ccs, ["OPS", "SALES"]);
    let vs: Vec<&str> = f["vehicles"]
        .as_array()
        .expect("vs")
        .iter()
        .filter_map(|c| c["vehicle_number"].as_str())
        .collect();
    assert_eq!(
        vs,
        ["KDD 300C", "KDE 400D", "KDF 500E", "KDG 600F"],
        "vehicles narrowed by the other filters"
    );

    // A tracker whose last fix is stamped hours ahead but arrived 20 minutes ago is as old as its
    // arrival: stale, not fresh and moving.
    sqlx::query("UPDATE slo.targets SET threshold = 600 WHERE metric = 'stale_gps_sec'")
        .execute(pool)
        .await
        .expect("update");
    fix(pool, "862798050000004", 1200, 50.0, -1.28, 36.82).await;
    sqlx::query(
        "UPDATE state.live_positions SET fix_time = now() + interval '3 hours' WHERE imei = '862798050000004'",
    )
    .execute(pool)
    .await
    .expect("clock ahead");
    let (_, live) = gw.view("/api/views/live", &t, json!({})).await;
    let kdd = &feature(&live, "KDD 300C").expect("KDD")["properties"];
    assert_eq!(kdd["state"], "unknown", "{kdd}");
    let age = kdd["age_s"].as_i64().expect("age");
    assert!((1199..1300).contains(&age), "aged from arrival: {age}");
}

fn eat(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(3 * 3600)
        .expect("EAT")
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
}

async fn history_fixes(pool: &PgPool, imei: &str, from: DateTime<Utc>, n: i64, step_s: i64) {
    // A zig-zag eastwards: simplification has corners to keep at high zoom and drop at low zoom.
    sqlx::query(
        "INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, speed_kmh, source, raw_id)
         SELECT $1, $2 + make_interval(secs => i * $4), $2 + make_interval(secs => i * $4),
                -1.30 + CASE WHEN i % 2 = 0 THEN 0 ELSE 0.0004 END, 36.80 + i * 0.0004, 30, 'test', 0
           FROM generate_series(0, $3 - 1) i",
    )
    .bind(imei)
    .bind(from)
    .bind(n)
    .bind(step_s as f64)
    .execute(pool)
    .await
    .expect("history");
}

async fn trip(pool: &PgPool, imei: &str, start: DateTime<Utc>, minutes: i64, km: f64) {
    sqlx::query(
        "INSERT INTO state.trips (imei, start_time, end_time, start_lat, start_lng, end_lat, end_lng, distance_m,
                                  duration_s, max_speed_kmh, source, raw_id)
         VALUES ($1, $2, $2 + make_interval(mins => $3::int), -1.3, 36.8, -1.29, 36.9, $4, $3 * 60, 80, 'test', 0)",
    )
    .bind(imei)
    .bind(start)
    .bind(minutes)
    .bind(km * 1000.0)
    .execute(pool)
    .await
    .expect("trip");
}

async fn alarm(pool: &PgPool, imei: &str, at: DateTime<Utc>, kind: &str, name: &str) {
    sqlx::query(
        "INSERT INTO state.alarms (imei, alarm_type, alarm_time, alarm_name, lat, lng, source, raw_id)
         VALUES ($1, $2, $3, $4, -1.3, 36.8, 'test', 0)",
    )
    .bind(imei)
    .bind(kind)
    .bind(at)
    .bind(name)
    .execute(pool)
    .await
    .expect("alarm");
}

/// `track=matched`: the history line is the map matcher's path, on the roads, not the fixes.
#[tokio::test]
async fn history_draws_the_matched_track_on_the_roads() {
    use fleet_geo::matching::{Params, project, truth};
    let db = TestDb::new().await;
    let pool = &db.pool;
    import_registry(pool).await;
    fleet_geo::osm::load(pool, fleet_geo::MONACO_PBF)
        .await
        .expect("Monaco");
    let gw = gateway(pool, RateLimits::OFF, &[]).await;
    let t = token(pool, "reader", &["read:fleet"]).await;
    let mut st = project::State::new(Params::default());
    assert!(st.refresh_graph(pool).await.expect("graph"));
    let mut rng = fleet_core::rng::Rng(11);
    let drive = truth::drive(st.graph(), &mut rng, 3_000.0).expect("drive");
    let sampled = truth::sample(
        st.graph(),
        drive,
        truth::Sampling {
            interval_s: 10.0,
            noise_m: 10.0,
            outlier_rate: 0.0,
        },
        &mut rng,
    );
    let start = eat(2026, 11, 2, 8, 0);
    let (times, lats, lngs): (Vec<DateTime<Utc>>, Vec<f64>, Vec<f64>) = sampled
        .fixes
        .iter()
        .map(|f| {
            (
                start + chrono::Duration::milliseconds((f.time * 1000.0) as i64),
                f.at.lat,
                f.at.lng,
            )
        })
        .fold((vec![], vec![], vec![]), |mut acc, (t, a, b)| {
            acc.0.push(t);
            acc.1.push(a);
            acc.2.push(b);
            acc
        });
    let store = |from: usize, to: usize| {
        let (t, a, b) = (&times[from..to], &lats[from..to], &lngs[from..to]);
        async move {
            sqlx::query(
                "INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, speed_kmh, source, raw_id)
                 SELECT '862798050000001', t, t, lat, lng, 30, 'test', 0 FROM unnest($1::timestamptz[], $2::float8[], $3::float8[]) AS x(t, lat, lng)",
            )
            .bind(t)
            .bind(a)
            .bind(b)
            .execute(pool)
            .await
            .expect("fixes");
        }
    };
    // the last 10 fixes come after the matcher's pass: drawn raw after the matched path
    let tail = times.len() - 10;
    store(0, tail).await;
    let range = |track: &str| json!({"vehicles": ["KCA 542Q"], "from": "2026-11-02", "to": "2026-11-02", "zoom": 22, "track": track});
    let track_of = |h: &Value| -> Value {
        h["geojson"]["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["properties"]["kind"] == "track")
            .cloned()
            .expect("a track")
    };
    // furthest a point of the drawn line is from a road, m
    let off_road = |geometry: &Value| {
        let g = geometry.to_string();
        async move {
            sqlx::query_scalar::<_, f64>(
                "SELECT max((SELECT min(ST_Distance(d.geom::geography, w.the_geom::geography))
                               FROM geo.ways w WHERE ST_DWithin(w.the_geom, d.geom, 0.001)))
                   FROM ST_DumpPoints(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326)) d",
            )
            .bind(g)
            .fetch_one(pool)
            .await
            .expect("distance")
        }
    };
    let (status, raw) = gw.view("/api/views/history", &t, range("raw")).await;
    assert_eq!(status, 200, "{raw}");
    let raw_track = track_of(&raw);
    assert_eq!(raw_track["properties"]["matched"], false);
    assert!(off_road(&raw_track["geometry"]).await > 5.0, "10 m noise");
    // nothing matched yet: the matched view is the raw line
    let (_, early) = gw.view("/api/views/history", &t, range("matched")).await;
    assert_eq!(track_of(&early)["properties"]["matched"], false);

    project::rematch_all(pool).await.expect("queue");
    while project::pass(pool, &st, Utc::now(), 100)
        .await
        .expect("pass")
        .buckets
        > 0
    {}
    let (status, m) = gw.view("/api/views/history", &t, range("matched")).await;
    assert_eq!(status, 200, "{m}");
    let track = track_of(&m);
    assert_eq!(track["properties"]["matched"], true, "{track}");
    assert_eq!(
        track["properties"]["matched_fixes"].as_i64(),
        Some(tail as i64)
    );
    let d = off_road(&track["geometry"]).await;
    assert!(d < 0.5, "the matched line is on the roads: {d} m off");
    assert_eq!(m["summary"]["fixes"], tail as i64);
    store(tail, times.len()).await;
    let (status, m) = gw.view("/api/views/history", &t, range("matched")).await;
    assert_eq!(status, 200, "{m}");
    let track = track_of(&m);
    assert_eq!(
        track["properties"]["matched_fixes"].as_i64(),
        Some(tail as i64)
    );
    assert_eq!(m["summary"]["fixes"], times.len() as i64);
    let lines = track["geometry"]["coordinates"].as_array().expect("lines");
    assert_eq!(track["geometry"]["type"], "MultiLineString");
    let last = lines
        .last()
        .and_then(|l| l.as_array()?.last())
        .expect("a last point");
    let (x, y) = (lngs[times.len() - 1], lats[times.len() - 1]);
    assert!(
        (last[0].as_f64().unwrap_or_default() - x).abs() < 1e-5
            && (last[1].as_f64().unwrap_or_default() - y).abs() < 1e-5,
        "the line ends at the newest fix, not matched yet: {last:?} vs {x} {y}"
    );
    // the shorthand says the same, and a bad value names the choices
    let q = serde_urlencoded::to_string([
        (
            "filters",
            json!({"vehicles": ["KCA 542Q"], "from": "2026-11-02", "to": "2026-11-02"}).to_string(),
        ),
        ("track", "snapped".to_string()),
    ])
    .expect("query");
    let (status, e) = gw
        .call("GET", &format!("/api/views/history?{q}"), Some(&t), None)
        .await;
    assert_eq!(status, 400);
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("\"matched\""), "{e}");
}

#[tokio::test]
async fn history_and_analytics_count_each_vehicle_once_in_eat_days() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    import_registry(pool).await;
    let gw = gateway(pool, RateLimits::OFF, &[]).await;
    let t = token(pool, "reader", &["read:fleet"]).await;
    // KCA 542Q carries two trackers that both report the same trips; the one with more fixes in
    // the range speaks for the vehicle, so nothing is counted twice.
    let day1 = eat(2026, 11, 2, 8, 0);
    history_fixes(pool, "862798050000001", day1, 600, 10).await;
    history_fixes(pool, "862798050000002", day1, 100, 60).await;
    for imei in ["862798050000001", "862798050000002"] {
        trip(pool, imei, day1, 45, 20.0).await;
        // 23:30 EAT on 2 Nov is 20:30 UTC: an EAT day of its own (2 Nov), not UTC's.
        trip(pool, imei, eat(2026, 11, 2, 23, 30), 20, 5.5).await;
        // 00:30 EAT on 3 Nov is still 2 Nov in UTC.
        trip(pool, imei, eat(2026, 11, 3, 0, 30), 30, 10.0).await;
        alarm(
            pool,
            imei,
            eat(2026, 11, 2, 9, 0),
            "41",
            "Harsh acceleration",
        )
        .await;
    }
    trip(pool, "862798050000003", eat(2026, 11, 3, 10, 0), 60, 40.0).await;
    alarm(
        pool,
        "862798050000003",
        eat(2026, 11, 3, 10, 5),
        "overSpeed",
        "Overspeed",
    )
    .await;

    let range =
        json!({"vehicles": ["KCA542Q"], "from": "2026-11-02", "to": "2026-11-02", "zoom": 18});
    let (status, h) = gw.view("/api/views/history", &t, range.clone()).await;
    assert_eq!(status, 200, "{h}");
    let s = &h["summary"];
    assert_eq!(s["vehicles"], 1);
    assert_eq!(s["trips"], 2, "the 2 Nov EAT trips of one tracker: {s}");
    assert_eq!(s["distance_km"], 25.5);
    assert_eq!(s["fixes"], 600);
    assert_eq!(s["alarms"], 1);
    assert_eq!(s["from_local"], "2026-11-02 00:00:00");
    assert_eq!(s["to_local"], "2026-11-03 00:00:00");
    let close_points = s["track_points"].as_i64().expect("points");
    let (_, far) = gw
        .view(
            "/api/views/history",
            &t,
            json!({"vehicles": ["KCA542Q"], "from": "2026-11-02", "to": "2026-11-02", "zoom": 8}),
        )
        .await;
    let far_points = far["summary"]["track_points"].as_i64().expect("points");
    assert!(
        far_points < close_points && close_points <= 600,
        "the track is simplified for the zoom: {far_points} at zoom 8, {close_points} at 18"
    );
    let kinds: Vec<&str> = h["geojson"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"track") && kinds.contains(&"trip") && kinds.contains(&"alarm"),
        "{kinds:?}"
    );
    // Limits say how to fix the request.
    let (status, e) = gw
        .view(
            "/api/views/history",
            &t,
            json!({"from": "2026-09-01", "to": "2026-11-02"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("31 days"),
        "{e}"
    );

    let two_days = json!({"from": "2026-11-02", "to": "2026-11-03"});
    let (_, km) = gw
        .view("/api/analytics/fleet-km-daily", &t, two_days.clone())
        .await;
    assert_eq!(
        km["rows"],
        json!([
            {"day": "2026-11-02", "km": 25.5, "trips": 2, "driving_s": 65 * 60, "vehicles": 1},
            {"day": "2026-11-03", "km": 50.0, "trips": 2, "driving_s": 90 * 60, "vehicles": 2},
        ]),
        "km per EAT day, each vehicle once"
    );
    let (_, drivers) = gw
        .view("/api/analytics/drivers-daily", &t, two_days.clone())
        .await;
    let john = drivers["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["driver"] == "John Otieno" && r["day"] == "2026-11-02")
        .expect("John on 2 Nov")
        .clone();
    assert_eq!(
        (john["harsh_events"].clone(), john["trips"].clone()),
        (json!(1), json!(2))
    );
    let (_, alarms) = gw
        .view("/api/analytics/alarms-daily", &t, two_days.clone())
        .await;
    assert_eq!(alarms["summary"]["alarms"], 2, "{alarms}");
    let (_, util) = gw
        .view("/api/analytics/utilisation", &t, two_days.clone())
        .await;
    let kca = util["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["vehicle_number"] == "KCA 542Q")
        .expect("KCA")
        .clone();
    assert_eq!(
        (kca["active_days"].clone(), kca["days"].clone()),
        (json!(2), json!(2))
    );
    for path in [
        "/api/analytics/fleet-today",
        "/api/analytics/not-moved-today",
        "/api/analytics/idle",
        "/api/analytics/ingest-health",
    ] {
        let (status, body) = gw.view(path, &t, json!({})).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body["summary"].is_object(), "{path}: {body}");
    }
}

/// Rows the actions wrote: lifecycle events, fittings, service entries.
async fn action_rows(pool: &PgPool) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM domain.device_lifecycle_events), (SELECT count(*) FROM domain.device_assignments),
                (SELECT count(*) FROM ops.service_log)",
    )
    .fetch_one(pool)
    .await
    .expect("counts")
}

async fn audit_outcomes(pool: &PgPool, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT actor, outcome FROM auth.audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(pool)
        .await
        .expect("audit")
}

#[tokio::test]
async fn operator_actions_are_events_legal_only_and_audited() {
    let db = TestDb::new().await;
    let pool = db.pool.clone();
    import_registry(&pool).await;
    let gw = gateway(&pool, RateLimits::OFF, &[]).await;
    let admin = token(&pool, "alice", &["read:fleet", "write:ops", "admin:fleet"]).await;

    // A tracker whose clock runs ahead is named in the device list; an honest one is not.
    fix(&pool, "862798050000002", 30, 0.0, -1.29, 36.82).await;
    sqlx::query(
        "UPDATE state.live_positions SET fix_time = received_at + interval '3 hours' WHERE imei = '862798050000002'",
    )
    .execute(&pool)
    .await
    .expect("clock ahead");
    fix(&pool, "862798050000001", 30, 0.0, -1.29, 36.82).await;
    let (status, body) = gw.call("GET", "/api/devices", Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    let ahead = |imei: &str| {
        body["devices"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["imei"] == imei))
            .map(|d| d["clock_ahead_s"].clone())
    };
    assert_eq!(ahead("862798050000002"), Some(json!(10800)));
    assert_eq!(ahead("862798050000001"), Some(Value::Null));

    // With no worker running, an action is kept and answered 202; it applies when one runs.
    let (status, body) = gw
        .call(
            "POST",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            Some(json!({"to": "suspended", "reason": "unpaid"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "queued");
    let stop = CancellationToken::new();
    let w = tokio::spawn(worker::run(pool.clone(), worker::liveness(), stop.clone()));
    fleet_testkit::eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT lifecycle FROM domain.devices WHERE imei = '862798050000004'",
            )
            .fetch_one(&pool)
            .await
            .ok()
            .filter(|l| l == "suspended")
        }
    })
    .await
    .expect("the queued transition applies once a worker runs");

    // Legal transitions apply at once and are recorded with the actor; illegal ones are refused.
    let (status, body) = gw
        .call(
            "POST",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["from"].clone(),
            body["to"].clone(),
            body["actor"].clone()
        ),
        (json!("suspended"), json!("active"), json!("alice"))
    );
    let (status, body) = gw
        .call(
            "POST",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            Some(json!({"to": "provisioned"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("suspended or decommissioned")
            || body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("decommissioned or suspended"),
        "{body}"
    );
    let (status, _) = gw
        .call(
            "POST",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            Some(json!({"to": "decommissioned", "reason": "stolen"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = gw
        .call(
            "POST",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(status, 409, "decommissioned is final: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("final"),
        "{body}"
    );
    let (status, _) = gw
        .call(
            "POST",
            "/api/devices/000000000000000/lifecycle",
            Some(&admin),
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, hist) = gw
        .call(
            "GET",
            "/api/devices/862798050000004/lifecycle",
            Some(&admin),
            None,
        )
        .await;
    let steps: Vec<(Value, Value)> = hist["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["to"].clone(), h["actor"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (json!("active"), json!("registry import")),
            (json!("suspended"), json!("alice")),
            (json!("active"), json!("alice")),
            (json!("decommissioned"), json!("alice")),
        ]
    );
    assert_eq!(hist["allowed"], json!([]));
    // Each applied transition is an operator event in the log, with the actor.
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events.raw WHERE source = 'operator' AND kind = 'lifecycle' AND convert_from(body, 'UTF8')::jsonb->>'actor' = 'alice'",
    ).fetch_one(&pool).await.expect("raw");
    assert_eq!(logged, 3);
    assert_eq!(
        audit_outcomes(&pool, "device.lifecycle")
            .await
            .iter()
            .map(|(_, o)| o.as_str())
            .collect::<Vec<_>>(),
        ["queued", "ok", "refused", "ok", "refused", "refused"]
    );

    // Device ↔ vehicle: move tracker 3 onto KCA 542Q (any spelling); history keeps the old fitting.
    let (status, body) = gw
        .call(
            "PUT",
            "/api/devices/862798050000003/vehicle",
            Some(&admin),
            Some(json!({"vehicle_number": "kca542q"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vehicle_number"], "KCA 542Q");
    assert_eq!(body["assigned_by"], "alice");
    let fittings: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM domain.device_assignments WHERE imei = '862798050000003'",
    )
    .fetch_one(&pool)
    .await
    .expect("fittings");
    assert_eq!(fittings, 2);
    let (status, _) = gw
        .call(
            "PUT",
            "/api/devices/862798050000003/vehicle",
            Some(&admin),
            Some(json!({"vehicle_number": "ZZZ 999"})),
        )
        .await;
    assert_eq!(status, 404);

    // Driver assignment by name, any case.
    let (status, body) = gw
        .call(
            "PUT",
            "/api/vehicles/KDD%20300C/driver",
            Some(&admin),
            Some(json!({"driver_name": "grace wanjiku"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["driver_name"], "Grace Wanjiku");
    let grace_open: Vec<String> = sqlx::query_scalar(
        "SELECT v.vehicle_number FROM domain.driver_assignments a JOIN domain.vehicles v USING (vehicle_id)
           JOIN domain.drivers d USING (driver_id) WHERE d.name = 'Grace Wanjiku' AND upper_inf(a.during)",
    ).fetch_all(&pool).await.expect("grace");
    assert_eq!(
        grace_open,
        ["KDD 300C"],
        "a driver drives one vehicle at a time"
    );

    // Alarm acknowledgement: once.
    let at = eat(2026, 11, 2, 9, 0);
    alarm(&pool, "862798050000001", at, "41", "Harsh acceleration").await;
    let ack = json!({"imei": "862798050000001", "alarm_type": "41", "alarm_time": at, "note": "spoke to driver"});
    let (status, body) = gw
        .call("POST", "/api/alarms/ack", Some(&admin), Some(ack.clone()))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acked_by"], "alice");
    let (status, body) = gw
        .call("POST", "/api/alarms/ack", Some(&admin), Some(ack))
        .await;
    assert_eq!(status, 409, "{body}");

    // Service log.
    let (status, body) = gw.call("POST", "/api/vehicles/KCA-542Q/service", Some(&admin),
        Some(json!({"serviced_at": "2026-11-20T08:00:00Z", "description": "Oil and filters", "odometer_km": 57000, "cost_kes": 4500}))).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = gw
        .call(
            "POST",
            "/api/vehicles/KCA-542Q/service",
            Some(&admin),
            Some(json!({"serviced_at": "2026-11-20T08:00:00Z", "description": "  "})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // A body that is not the request's JSON is a 400 in the one error shape, saying what is wrong.
    let (status, body) = gw
        .call(
            "POST",
            "/api/vehicles/KCA-542Q/service",
            Some(&admin),
            Some(json!({"serviced_at": "yesterday", "description": "Oil"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("serviced_at")),
        "{body}"
    );
    let (_, list) = gw
        .call("GET", "/api/vehicles/kca542q/service", Some(&admin), None)
        .await;
    assert_eq!(list["entries"][0]["description"], "Oil and filters");

    // Every write is audited with who and from where.
    let from: Vec<Option<String>> =
        sqlx::query_scalar("SELECT host(remote_addr) FROM auth.audit_log WHERE actor = 'alice'")
            .fetch_all(&pool)
            .await
            .expect("audit");
    assert!(
        from.len() >= 10 && from.iter().all(|a| a.as_deref() == Some("127.0.0.1")),
        "{from:?}"
    );

    // A re-parse of the whole log changes nothing (each action applies once).
    let before = action_rows(&pool).await;
    stop.cancel();
    w.await.expect("join").expect("worker");
    fleet_ingest::replay::reparse(&pool, None, None, None, &mut |_, _, _| {})
        .await
        .expect("reparse");
    let after = action_rows(&pool).await;
    assert_eq!(before, after);
    let lifecycle: String =
        sqlx::query_scalar("SELECT lifecycle FROM domain.devices WHERE imei = '862798050000004'")
            .fetch_one(&pool)
            .await
            .expect("lifecycle");
    assert_eq!(lifecycle, "decommissioned");
}

/// Fuel records through the log as an import appends them (one raw row of records), projected
/// by the running worker.
async fn fuel_records(pool: &PgPool, records: Value) {
    let body = json!({"object": "test.json", "records": records}).to_string();
    let id = fleet_ingest::rawlog::append_one(
        pool,
        fleet_ingest::rawlog::TrustedRow {
            source: "fuel_feed",
            kind: "fuel_records",
            content_type: "application/json",
            verification: "internal",
            meta: &json!({}),
            body: body.as_bytes(),
        },
    )
    .await
    .expect("fuel records");
    fleet_testkit::eventually(Duration::from_secs(20), || async {
        sqlx::query_scalar::<_, bool>("SELECT parsed_at IS NOT NULL FROM events.raw WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .ok()
            .filter(|p| *p)
    })
    .await
    .expect("the worker projected the fuel records");
}

#[tokio::test]
async fn fuel_mappings_and_reviews_are_operator_actions_that_apply_at_once() {
    let db = TestDb::new().await;
    let pool = db.pool.clone();
    import_registry(&pool).await;
    let gw = gateway(&pool, RateLimits::OFF, &[]).await;
    let ops = token(&pool, "olive", &["read:fleet", "write:ops"]).await;
    let stop = CancellationToken::new();
    let w = tokio::spawn(worker::run(pool.clone(), worker::liveness(), stop.clone()));
    let day = Utc::now() - chrono::Duration::days(3);
    let at = |h: i64| (day + chrono::Duration::hours(h)).to_rfc3339();
    let mut recs = Vec::new();
    for (i, (dept, plate, fuel)) in [
        ("Tech", "KCA 542Q", "diesel"),
        ("Tech", "KCA 542Q", "diesel"),
        ("Technical", "KBZ 001A", "diesel"),
        ("Technical", "KBZ 001A", "diesel"),
        ("Technical", "KBZ 001A", "diesel"),
        ("Technology", "KDD 300C", "petrol"),
        ("Technology", "KDD 300C", "petrol"),
        ("Technology", "KDD 300C", "petrol"),
        ("Technical", "KBZ 001A", "see slip?"),
    ]
    .into_iter()
    .enumerate()
    {
        recs.push(
            json!({"id": i + 1, "car": plate, "litres": "40 L", "amount": "Ksh 7,000/=",
                         "record_datetime": at(i as i64), "department": dept, "fuel_type": fuel}),
        );
    }
    fuel_records(&pool, Value::Array(recs)).await;
    let (status, sp) = gw
        .view("/api/fuel/department-spellings", &ops, json!({}))
        .await;
    assert_eq!(status, 200, "{sp}");
    assert_eq!(sp["summary"]["suggestions"], 1, "{sp}");
    assert_eq!(sp["suggestions"][0]["spelling"], "Tech");
    assert_eq!(sp["suggestions"][0]["suggestion"], "Technical");

    // Confirm the suggestion: a mapping, recorded and audited, applied at once.
    let (status, body) = gw
        .call(
            "POST",
            "/api/fuel/mappings",
            Some(&ops),
            Some(json!({"kind": "department", "raw_value": "TECH ", "canonical": "Technical"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mapping"]["canonical"], "Technical");
    assert_eq!(body["mapping"]["actor"], "olive");
    assert_eq!(body["records"], 2);
    assert_eq!(body["spellings"][0]["decided_by"], "mapping");
    let (_, sp) = gw
        .view("/api/fuel/department-spellings", &ops, json!({}))
        .await;
    assert_eq!(sp["summary"]["suggestions"], 0, "{sp}");
    let (_, fills) = gw
        .view(
            "/api/analytics/fuel-fills",
            &ops,
            json!({"departments": ["technical"]}),
        )
        .await;
    assert_eq!(fills["totals"]["fills"], 6, "{fills}");

    // An unknown fuel type counts with a warning until it is mapped; the records follow.
    let fuel_of = |id: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (Option<String>, Vec<String>)>(
                "SELECT fuel_type, warnings FROM fuel.records WHERE record_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .expect("record")
        }
    };
    let (ft, warnings) = fuel_of("9").await;
    assert_eq!(ft, None);
    assert!(
        warnings[0].contains("fuel type 'see slip?' not recognised"),
        "{warnings:?}"
    );
    let (status, body) = gw
        .call(
            "POST",
            "/api/fuel/mappings",
            Some(&ops),
            Some(json!({"kind": "fuel_type", "raw_value": "see slip?", "canonical": "PMS"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mapping"]["canonical"], "petrol");
    assert_eq!(fuel_of("9").await, (Some("petrol".into()), Vec::new()));
    for (req, code, says) in [
        (
            json!({"kind": "colour", "raw_value": "x", "canonical": "y"}),
            400,
            "kind must be",
        ),
        (
            json!({"kind": "fuel_type", "raw_value": "water", "canonical": "water"}),
            422,
            "not a fuel type",
        ),
        (
            json!({"kind": "plate", "raw_value": "x", "canonical": "--"}),
            422,
            "not a number plate",
        ),
        (
            json!({"kind": "department", "raw_value": "!!", "canonical": "Ops"}),
            400,
            "letters or digits",
        ),
    ] {
        let (status, body) = gw
            .call("POST", "/api/fuel/mappings", Some(&ops), Some(req))
            .await;
        assert_eq!(status, code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(says),
            "{body}"
        );
    }

    // Void a fill: it stays listed, marked, and leaves the totals; reopen: it counts again.
    let totals = |f: &Value| {
        (
            f["totals"]["fills"].as_i64(),
            f["totals"]["litres"].as_f64(),
        )
    };
    let (_, before) = gw.view("/api/analytics/fuel-fills", &ops, json!({})).await;
    let (status, body) = gw
        .call(
            "POST",
            "/api/fuel/fills/3/review",
            Some(&ops),
            Some(json!({"action": "void", "reason": "entered twice"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["review"].clone(), body["reviewed_by"].clone()),
        (json!("voided"), json!("olive"))
    );
    let (_, after) = gw.view("/api/analytics/fuel-fills", &ops, json!({})).await;
    assert_eq!(
        totals(&after),
        (
            totals(&before).0.map(|n| n - 1),
            totals(&before).1.map(|l| l - 40.0)
        )
    );
    assert_eq!(after["totals"]["voided"], 1);
    let row = after["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["record_id"] == "3")
        .cloned();
    assert_eq!(
        row.map(|r| (r["voided"].clone(), r["review"].clone())),
        Some((json!(true), json!("voided")))
    );
    let (_, flagged) = gw
        .view("/api/analytics/fuel-flagged", &ops, json!({}))
        .await;
    assert_eq!(flagged["summary"]["voided"], 1, "{flagged}");
    for (path, req, code) in [
        (
            "/api/fuel/fills/3/review",
            json!({"action": "approve"}),
            400,
        ),
        (
            "/api/fuel/fills/3/review",
            json!({"action": "delete", "reason": "x"}),
            400,
        ),
        (
            "/api/fuel/fills/999/review",
            json!({"action": "void", "reason": "x"}),
            404,
        ),
    ] {
        let (status, body) = gw.call("POST", path, Some(&ops), Some(req)).await;
        assert_eq!(status, code, "{path}: {body}");
    }
    let (status, _) = gw
        .call(
            "POST",
            "/api/fuel/fills/3/review",
            Some(&ops),
            Some(json!({"action": "reopen"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, again) = gw.view("/api/analytics/fuel-fills", &ops, json!({})).await;
    assert_eq!(totals(&again), totals(&before));
    // Replay rebuilds the same review state from the log.
    let reviews = || async {
        sqlx::query_as::<_, (String, String, Option<String>, String)>(
            "SELECT record_id, state, reason, actor FROM fuel.fill_reviews ORDER BY record_id",
        )
        .fetch_all(&pool)
        .await
        .expect("reviews")
    };
    let live = reviews().await;
    assert_eq!(
        live,
        vec![(
            "3".to_string(),
            "open".to_string(),
            None,
            "olive".to_string()
        )]
    );
    fleet_ingest::replay::rebuild(&pool, "fuel.fill_reviews", 2, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    assert_eq!(reviews().await, live);
    assert_eq!(
        audit_outcomes(&pool, "fuel.review").await.len(),
        5,
        "every review, refused or not, is audited"
    );
    assert!(audit_outcomes(&pool, "fuel.mapping").await.len() >= 6);

    // Cost per km: the month's spend over the tracker's GPS km.
    trip(
        &pool,
        "862798050000003",
        day - chrono::Duration::hours(4),
        60,
        50.0,
    )
    .await;
    let (status, cost) = gw
        .view("/api/analytics/fuel-cost-per-km", &ops, json!({}))
        .await;
    assert_eq!(status, 200, "{cost}");
    let kbz = cost["by_vehicle"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["vehicle_number"] == "KBZ 001A")
        .cloned()
        .expect("KBZ 001A");
    assert_eq!(kbz["spend_kes"], 28000, "{kbz}");
    assert_eq!(kbz["gps_km"], 50.0, "{kbz}");
    assert_eq!(kbz["kes_per_gps_km"], 560.0, "{kbz}");
    let kca = cost["by_vehicle"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["vehicle_number"] == "KCA 542Q")
        .cloned()
        .expect("KCA 542Q");
    assert!(
        kca["flags"][0].as_str().unwrap_or("").contains("no GPS km"),
        "{kca}"
    );
    let dept = cost["by_department"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["department"] == "Technical")
        .cloned()
        .expect("Technical");
    assert_eq!(dept["gps_km"], 50.0, "{dept}");
    stop.cancel();
    w.await.expect("worker").expect("worker ran");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_cors_follows_the_config() {
    let db = TestDb::new().await;
    let limits = RateLimits {
        dashboard: 3,
        routes: 10,
        push_source: 2,
        push_failed: 2,
        login: 2,
    };
    let gw = gateway(&db.pool, limits, &["https://ops.example.com"]).await;
    let a = token(&db.pool, "a", &["read:fleet"]).await;
    let b = token(&db.pool, "b", &["read:fleet"]).await;
    for _ in 0..3 {
        assert_eq!(gw.call("GET", "/api/slo", Some(&a), None).await.0, 200);
    }
    let r = fleet_testkit::http()
        .get(format!("{}/api/views/live", gw.base))
        .bearer_auth(&a)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=20).contains(&retry), "one request every 20 s: {retry}");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    // Per subject: another token is not affected; health and metrics are never limited.
    assert_eq!(gw.call("GET", "/api/slo", Some(&b), None).await.0, 200);
    for _ in 0..5 {
        let r = fleet_testkit::http()
            .get(format!("{}/health/gateway", gw.base))
            .send()
            .await
            .expect("health");
        assert_ne!(r.status().as_u16(), 429);
    }
    // Logins per IP.
    let login = json!({"username": "nobody", "password": "wrong-password-123"});
    assert_eq!(
        gw.call("POST", "/api/auth/token", None, Some(login.clone()))
            .await
            .0,
        401
    );
    assert_eq!(
        gw.call("POST", "/api/auth/token", None, Some(login.clone()))
            .await
            .0,
        401
    );
    assert_eq!(
        gw.call("POST", "/api/auth/token", None, Some(login))
            .await
            .0,
        429
    );

    // CORS: the configured origin may call the API from a browser; another may not.
    let pre = |origin: &str| {
        fleet_testkit::http()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/views/live", gw.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = pre("https://ops.example.com").await.expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://ops.example.com")
    );
    let other = pre("https://evil.example.com").await.expect("preflight");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

/// A heartbeat push to `gw` from the loopback address `from` with `token`: the status and any
/// `Retry-After`.
async fn push_from(gw: &Gw, from: [u8; 4], path: &str, token: &str) -> (u16, Option<u64>) {
    let client = fleet_core::http::client(Duration::from_secs(30))
        .local_address(std::net::IpAddr::from(from))
        .build()
        .expect("client");
    let r = client
        .post(format!("{}/push/jimi/{path}?token={token}", gw.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("data_list=%5B%5D")
        .send()
        .await
        .expect("push");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

#[tokio::test]
async fn pushes_are_limited_per_credential_and_failed_attempts_per_ip() {
    let db = TestDb::new().await;
    let stored = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events.raw WHERE source = 'jimi_push'")
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    // Verified pushes per credential, whichever address they come from (a hub uses a few).
    let gw = gateway(
        &db.pool,
        RateLimits {
            push_source: 3,
            ..RateLimits::OFF
        },
        &[],
    )
    .await;
    for from in [[127, 0, 0, 1], [127, 0, 0, 2], [127, 0, 0, 3]] {
        assert_eq!(
            push_from(&gw, from, "pushhb", "push-token-123").await.0,
            200
        );
    }
    let (status, retry) = push_from(&gw, [127, 0, 0, 4], "pushhb", "push-token-123").await;
    assert_eq!(status, 429, "the credential's fourth push in a minute");
    assert!(
        retry.is_some_and(|s| (1..=20).contains(&s)),
        "one push every 20 s: {retry:?}"
    );
    assert_eq!(
        stored(db.pool.clone()).await,
        3,
        "a refused push is not stored"
    );

    // Failed attempts per IP: past them the IP is refused even with the right token, others not.
    let gw = gateway(
        &db.pool,
        RateLimits {
            push_failed: 2,
            ..RateLimits::OFF
        },
        &[],
    )
    .await;
    let guesser = [127, 0, 0, 5];
    assert_eq!(push_from(&gw, guesser, "pushhb", "guess-1").await.0, 401);
    assert_eq!(
        push_from(&gw, guesser, "nosuchpath", "guess-2").await.0,
        404
    );
    let (status, retry) = push_from(&gw, guesser, "pushhb", "guess-3").await;
    assert_eq!(status, 429, "two failures spent");
    assert!(retry.is_some_and(|s| (1..=30).contains(&s)), "{retry:?}");
    assert_eq!(
        push_from(&gw, guesser, "pushhb", "push-token-123").await.0,
        429,
        "a barred IP is refused before its token is checked"
    );
    for _ in 0..5 {
        assert_eq!(
            push_from(&gw, [127, 0, 0, 6], "pushhb", "push-token-123")
                .await
                .0,
            200
        );
    }
    assert_eq!(stored(db.pool.clone()).await, 3 + 5);
}

#[tokio::test]
async fn route_requests_have_their_own_rate_limit() {
    let db = TestDb::new().await;
    let limits = RateLimits {
        dashboard: 0,
        routes: 2,
        push_source: 0,
        push_failed: 0,
        login: 0,
    };
    let gw = gateway(&db.pool, limits, &[]).await;
    let a = token(&db.pool, "a", &["read:fleet"]).await;
    let body = json!({"origin": [36.82, -1.28], "destination": [36.83, -1.29]});
    // no roads loaded: answered (409) and counted
    for _ in 0..2 {
        let (status, _) = gw
            .call("POST", "/api/routes", Some(&a), Some(body.clone()))
            .await;
        assert_eq!(status, 409);
    }
    let (status, e) = gw
        .call("GET", "/api/routes/nearest?to=36.82,-1.28", Some(&a), None)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (429, Some("rate_limited")),
        "{e}"
    );
    // the other reads are another class
    assert_eq!(gw.call("GET", "/api/slo", Some(&a), None).await.0, 200);
    // and without a token a route is 401 before any limit
    assert_eq!(
        gw.call("POST", "/api/routes", None, Some(body)).await.0,
        401
    );
}

/// The checked-in OpenAPI document (`docs/openapi.json`) is what the code generates: a change
/// to the API shows in review. `make openapi` rewrites it.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let doc = fleet_serve::gateway::openapi();
    let json = doc.to_pretty_json().expect("json") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOT").is_some() {
        std::fs::write(path, &json).expect("write the snapshot");
    }
    let snapshot = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        snapshot == json,
        "docs/openapi.json is not what the code generates: run `make openapi` and review the diff"
    );
    // Every route is documented, with its scope.
    let v: Value = serde_json::from_str(&json).expect("parse");
    for view in fleet_serve::views::VIEWS {
        let op = &v["paths"][view.path]["get"];
        assert_eq!(
            op["security"][0]["bearer"],
            json!(["read:fleet"]),
            "{}",
            view.path
        );
    }
    for (path, method, scope) in [
        ("/api/devices/{imei}/lifecycle", "post", "admin:fleet"),
        ("/api/devices/{imei}/lifecycle", "get", "read:fleet"),
        ("/api/devices/{imei}/vehicle", "put", "write:ops"),
        ("/api/vehicles/{plate}/driver", "put", "write:ops"),
        ("/api/alarms/ack", "post", "write:ops"),
        ("/api/vehicles/{plate}/service", "post", "write:ops"),
        ("/api/slo", "get", "read:fleet"),
        ("/api/routes", "post", "read:fleet"),
        ("/api/routes/nearest", "get", "read:fleet"),
    ] {
        assert_eq!(
            v["paths"][path][method]["security"][0]["bearer"],
            json!([scope]),
            "{method} {path}"
        );
    }
    assert!(v["paths"]["/api/auth/token"]["post"]["requestBody"].is_object());
    assert!(v["components"]["schemas"]["TransitionRequest"].is_object());
}

#[tokio::test]
async fn the_api_document_and_its_docs_page_are_public() {
    let db = TestDb::new().await;
    let gw = gateway(&db.pool, RateLimits::OFF, &[]).await;
    let (status, doc) = gw.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["info"]["title"], "Fleet Platform API");
    let page = fleet_testkit::http()
        .get(format!("{}/api/docs", gw.base))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("/api/openapi.json")
    );
}

/// The views' per-row helpers (local times, unit keys, filter checks, ...) must be inlined by the
/// planner; a helper whose body is more volatile than its declaration, or a filter range pulled
/// into per-row join conditions, runs as a separate statement per row and costs the live view a
/// fifth of its time. Counted with `track_functions`, which sees only calls that were not inlined.
#[tokio::test]
async fn view_helpers_are_inlined_not_called_per_row() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    import_registry(pool).await;
    for (i, imei) in ["862798050000001", "862798050000003", "862798050000004"]
        .iter()
        .enumerate()
    {
        fix(pool, imei, 5 + i as i64, 30.0, -1.3, 36.8).await;
    }
    // Enough rows that a per-row call shows (a helper is called a constant handful of times per
    // query): 50 trackers no registry knows yet, 40 trips and 40 alarms today.
    for i in 0..50 {
        fix(pool, &format!("35000000000{i:04}"), 20, 0.0, -1.2, 36.9).await;
    }
    for i in 0..20 {
        let at = Utc::now() - chrono::Duration::minutes(5 + i * 3);
        for imei in ["862798050000001", "862798050000003"] {
            trip(pool, imei, at, 2, 1.0).await;
            alarm(pool, imei, at, "41", "Harsh acceleration").await;
        }
    }
    let views = [
        ("fn_live_view", json!({})),
        (
            "fn_history_view",
            json!({"vehicles": ["KCA542Q"], "zoom": 14}),
        ),
        ("fn_fleet_today", json!({})),
        ("fn_not_moved_today", json!({})),
        ("fn_currently_idle", json!({})),
        ("fn_driver_daily", json!({})),
        ("fn_fleet_km_daily", json!({})),
        ("fn_alarms_daily", json!({})),
        ("fn_utilisation", json!({})),
        ("fn_ingest_health", json!({})),
        ("fn_filters", json!({})),
    ];
    for (view, filters) in views {
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SET LOCAL track_functions = 'all'")
            .execute(&mut *tx)
            .await
            .expect("track");
        let sql = format!("SELECT serve.{view}($1)::text");
        let out: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&filters)
            .fetch_one(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{view}: {e}"));
        assert!(out.len() > 2, "{view} answered {out}");
        let per_row: Vec<(String, i64)> = sqlx::query_as(
            "SELECT funcid::regprocedure::text, calls FROM pg_stat_xact_user_functions
              WHERE schemaname = 'serve' AND funcname NOT LIKE 'fn\\_%' AND calls >= 40
              ORDER BY calls DESC",
        )
        .fetch_all(&mut *tx)
        .await
        .expect("function stats");
        assert!(
            per_row.is_empty(),
            "{view} calls these helpers per row instead of inlining them: {per_row:?}"
        );
        tx.rollback().await.expect("rollback");
    }
}

#[tokio::test]
async fn pages_and_their_assets_are_served_with_types_and_etags_and_tiles_are_checked() {
    let db = TestDb::new().await;
    let gw = gateway(&db.pool, RateLimits::OFF, &[]).await;
    let http = fleet_testkit::http();
    for (page, script) in [
        ("/", "/static/live.js"),
        ("/live", "/static/live.js"),
        ("/history", "/static/history.js"),
        ("/fuel", "/static/fuel.js"),
        ("/ops", "/static/ops.js"),
    ] {
        let r = http
            .get(format!("{}{page}", gw.base))
            .send()
            .await
            .expect("page");
        assert_eq!(r.status(), 200, "{page}");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let html = r.text().await.expect("html");
        assert!(
            html.contains(&format!("<script type=\"module\" src=\"{script}\">")),
            "{page}"
        );
    }
    let r = http
        .get(format!("{}/static/fleet-core.js", gw.base))
        .send()
        .await
        .expect("asset");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let etag = r.headers()["etag"].to_str().expect("etag").to_string();
    assert!(
        r.text()
            .await
            .expect("js")
            .contains("export async function api(")
    );
    let again = http
        .get(format!("{}/static/fleet-core.js", gw.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("revalidate");
    assert_eq!(again.status(), 304);
    for missing in [
        "/static/nope.js",
        "/static/live.html",
        "/static/../Cargo.toml",
    ] {
        let r = http
            .get(format!("{}{missing}", gw.base))
            .send()
            .await
            .expect("404");
        assert_eq!(r.status(), 404, "{missing}");
    }
    let cfg: Value = http
        .get(format!("{}/static/config.json", gw.base))
        .send()
        .await
        .expect("config")
        .json()
        .await
        .expect("json");
    assert_eq!(cfg, json!({"map_style": null}));
    // Tiles: public, vector-tile typed (empty with no OSM loaded), and bad coordinates say why.
    let r = http
        .get(format!("{}/tiles/0/0/0.pbf", gw.base))
        .send()
        .await
        .expect("tile");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    for bad in ["/tiles/23/0/0.pbf", "/tiles/2/4/0.pbf", "/tiles/2/0/x.pbf"] {
        let r = http
            .get(format!("{}{bad}", gw.base))
            .send()
            .await
            .expect("bad tile");
        assert_eq!(r.status(), 404, "{bad}");
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("/tiles/{z}/{x}/{y}.pbf"),
            "{bad}"
        );
    }
}
