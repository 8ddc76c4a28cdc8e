//! Routing over HTTP: `POST /api/routes` on the Monaco roads from a vehicle's plate to a point
//! of interest, through stops and with alternatives; every bad request's answer; nearest
//! vehicles ranked by road, not by air, on a constructed river town; and a router rebuilt
//! beside the one serving when the roads change, with no request failing meanwhile.

use std::time::{Duration, Instant};

use fleet_serve::gateway::{GatewayConfig, areas};
use fleet_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;

mod common;

const SECRET: &[u8] = b"routes-test-secret-routes-test-secret-rt";

async fn serve(db: &TestDb, routes: axum::Router) -> String {
    common::serve(&db.pool, routes).await
}

async fn post(base: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = fleet_testkit::http()
        .post(format!("{base}/api/routes"))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let res = fleet_testkit::http()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A vehicle `plate` with tracker `imei` whose last fix was `age_s` ago at (lat, lng).
async fn vehicle(pool: &PgPool, plate: &str, imei: &str, lat: f64, lng: f64, age_s: i32) {
    sqlx::query("INSERT INTO domain.accounts (account) VALUES ('t') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .expect("account");
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO domain.vehicles (vehicle_number, plate_key) VALUES ($1, serve.normalize_plate($1)) RETURNING vehicle_id",
    )
    .bind(plate)
    .fetch_one(pool)
    .await
    .expect("vehicle");
    sqlx::query("INSERT INTO domain.devices (imei, account, lifecycle) VALUES ($1, 't', 'active')")
        .bind(imei)
        .execute(pool)
        .await
        .expect("device");
    sqlx::query(
        "INSERT INTO domain.device_assignments (imei, vehicle_id, during, assigned_by) VALUES ($1, $2, tstzrange('-infinity', NULL), 'test')",
    )
    .bind(imei)
    .bind(id)
    .execute(pool)
    .await
    .expect("assignment");
    sqlx::query(
        "INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, speed_kmh, acc_on, source, raw_id)
         VALUES ($1, now() - make_interval(secs => $4), now(), $2, $3, 0, true, 'test', 0)",
    )
    .bind(imei)
    .bind(lat)
    .bind(lng)
    .bind(age_s)
    .execute(pool)
    .await
    .expect("position");
}

fn shares_sum(b: &Value) -> f64 {
    ["observed", "maxspeed", "default"]
        .iter()
        .map(|k| b[k].as_f64().expect("share"))
        .sum()
}

#[tokio::test]
async fn routes_from_a_plate_to_a_place_with_steps_stops_and_alternatives() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(pool, &auth).await;
    let base = serve(&db, areas(pool.clone(), GatewayConfig::reads_only(auth))).await;
    let monaco = json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398]});

    let (status, _) = post(&base, None, &monaco).await;
    assert_eq!(status, 401);
    let (status, e) = post(&base, Some(&token), &monaco).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("fleet import osm"),
        "{e}"
    );

    fleet_geo::osm::load(pool, fleet_geo::MONACO_PBF)
        .await
        .expect("Monaco");
    vehicle(pool, "KDA 123A", "861000000000001", 43.7311, 7.4197, 20).await;
    let (poi, poi_name): (i64, Option<String>) = sqlx::query_as(
        "SELECT poi_id, name FROM geo.pois WHERE kind = 'fuel' ORDER BY poi_id LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a fuel station");

    // plate in another spelling → fuel station
    let (status, r) = post(
        &base,
        Some(&token),
        &json!({"origin": "kda123a", "destination": format!("poi:{poi}")}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["labels"]["origin"], "KDA 123A");
    if let Some(n) = poi_name {
        assert_eq!(r["labels"]["destination"], n.as_str());
    }
    let eta = r["eta_sec"].as_f64().expect("eta");
    let dist = r["distance_m"].as_f64().expect("distance");
    assert!(eta > 0.0 && dist > 0.0, "{r}");
    let coords = r["route_geojson"]["geometry"]["coordinates"]
        .as_array()
        .expect("line");
    assert!(coords.len() >= 2);
    assert!((shares_sum(&r["observed_basis"]) - 1.0).abs() < 1e-3, "{r}");
    assert!(
        (shares_sum(&r["observed_basis"]["by_time"]) - 1.0).abs() < 1e-3,
        "{r}"
    );
    // nothing observed yet: all limits and class defaults
    assert_eq!(r["observed_basis"]["observed"], 0.0);
    let steps = r["legs"][0]["steps"].as_array().expect("steps");
    assert_eq!(
        steps.first().map(|s| s["maneuver"]["type"].clone()),
        Some(json!("depart"))
    );
    assert_eq!(
        steps.last().map(|s| s["maneuver"]["type"].clone()),
        Some(json!("arrive"))
    );
    assert!(
        steps.iter().any(|s| s["name"].is_string()),
        "Monaco's streets have names: {steps:?}"
    );
    let step_m: f64 = steps
        .iter()
        .map(|s| s["distance_m"].as_f64().unwrap_or(0.0))
        .sum();
    assert!(
        (step_m - dist).abs() < 1.0,
        "steps {step_m} m, route {dist} m"
    );
    let arrive = chrono::DateTime::parse_from_rfc3339(r["arrive_at"].as_str().expect("arrive"))
        .expect("time");
    let depart = chrono::DateTime::parse_from_rfc3339(r["depart_at"].as_str().expect("depart"))
        .expect("time");
    assert!(((arrive - depart).num_milliseconds() as f64 / 1e3 - eta).abs() < 0.2);
    let basis_m: f64 = r["basis_geojson"]["features"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap_or(0.0))
        .sum();
    assert!((basis_m - dist).abs() < 1.0);

    // through a stop: two legs, the second leaving when the first arrives, longer than direct
    let (status, direct) = post(&base, Some(&token), &monaco).await;
    assert_eq!(status, 200, "{direct}");
    let (status, via) = post(
        &base,
        Some(&token),
        &json!({"origin": [7.4197, 43.7311], "via": [[7.4330, 43.7460]], "destination": [7.4275, 43.7398],
                "depart_at": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 200, "{via}");
    let legs = via["legs"].as_array().expect("legs");
    assert_eq!(legs.len(), 2);
    assert_eq!(legs[0]["arrive_at"], legs[1]["depart_at"]);
    assert!(via["distance_m"].as_f64() > direct["distance_m"].as_f64());
    assert_eq!(via["snapped"]["via"].as_array().map(Vec::len), Some(1));
    // alternatives: different routes, none much slower
    let (status, alt) = post(
        &base,
        Some(&token),
        &json!({"origin": [7.4197, 43.7311], "destination": [7.4330, 43.7460], "alternatives": 2}),
    )
    .await;
    assert_eq!(status, 200, "{alt}");
    let best = alt["eta_sec"].as_f64().expect("eta");
    for a in alt["alternatives"].as_array().expect("alternatives") {
        let t = a["eta_sec"].as_f64().expect("eta");
        assert!(t >= best - 1e-6 && t <= best * 1.4 + 30.0, "{t} vs {best}");
        assert_ne!(a["route_geojson"], alt["route_geojson"]);
    }

    // bad input: a clear 4xx each, saying what is wrong
    let past = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let many: Vec<Value> = (0..30)
        .map(|i| json!([7.42 + i as f64 * 1e-4, 43.735]))
        .collect();
    for (body, want, code) in [
        (
            json!({"origin": [7.50, 43.60], "destination": [7.4275, 43.7398]}),
            422,
            "no_road",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4197, 43.7311]}),
            422,
            "same_place",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "depart_at": past}),
            422,
            "depart_in_past",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "depart_at": far}),
            422,
            "depart_too_far",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "via": many}),
            400,
            "bad_request",
        ),
        (
            json!({"origin": "KXX 999Z", "destination": [7.4275, 43.7398]}),
            422,
            "unknown_vehicle",
        ),
        (
            json!({"origin": "poi:999999999", "destination": [7.4275, 43.7398]}),
            422,
            "unknown_place",
        ),
        (
            json!({"origin": [43.7311, 7.4197], "destination": [7.4275, 43.7398]}),
            422,
            "no_road",
        ),
        (
            json!({"origin": [200.0, 43.7], "destination": [7.4275, 43.7398]}),
            400,
            "bad_request",
        ),
        (json!({"origin": [7.4197, 43.7311]}), 400, "bad_request"),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "alternatives": 9}),
            400,
            "bad_request",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "speed": 3}),
            400,
            "bad_request",
        ),
        (
            json!({"origin": [7.4197, 43.7311], "destination": [7.4275, 43.7398], "depart_at": "soon"}),
            400,
            "bad_request",
        ),
    ] {
        let (status, e) = post(&base, Some(&token), &body).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (want, Some(code)),
            "{body} → {e}"
        );
        assert!(
            e["error"]["message"].as_str().is_some_and(|m| m.len() > 10),
            "{e}"
        );
    }
    let res = fleet_testkit::http()
        .post(format!("{base}/api/routes"))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 400);

    // every request is measured for route_p95_ms, with its outcome (written off the answer's path)
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT outcome, count(*) FROM ops.route_requests GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .expect("route requests");
        let n = |o: &str| rows.iter().find(|r| r.0 == o).map_or(0, |r| r.1);
        if n("ok") >= 4 && n("no_route") >= 8 && n("error") >= 6 {
            break;
        }
        assert!(Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A road from `a` to `b` (metres east, north of a point near Nairobi), inserted by hand.
async fn road(pool: &PgPool, gid: i64, pts: &[(f64, f64)], name: &str, kmh: f64) {
    let wkt = format!(
        "LINESTRING({})",
        pts.iter()
            .map(|&(e, n)| {
                let p = at(e, n);
                format!("{} {}", p.1, p.0)
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    sqlx::query(
        "INSERT INTO geo.ways (gid, name, highway, length_m, one_way, cost, reverse_cost, the_geom)
         SELECT $1, $2, 'residential', l, false, l / ($4 / 3.6), l / ($4 / 3.6), g
           FROM (SELECT ST_GeomFromText($3, 4326) AS g) x, LATERAL (SELECT ST_Length(g::geography) AS l) y",
    )
    .bind(gid)
    .bind(name)
    .bind(wkt)
    .bind(kmh)
    .execute(pool)
    .await
    .expect("road");
}

/// (lat, lng) of a point `east`, `north` metres from a point near Nairobi.
fn at(east: f64, north: f64) -> (f64, f64) {
    let lat0: f64 = -1.28;
    (
        lat0 + north / 111_320.0,
        36.82 + east / (111_320.0 * lat0.to_radians().cos()),
    )
}

#[tokio::test]
async fn nearest_vehicles_are_ranked_by_the_road_not_by_the_air() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(pool, &auth).await;
    let base = serve(&db, areas(pool.clone(), GatewayConfig::reads_only(auth))).await;
    // a river runs east-west along north = 150 m; one bridge 4 km east. South bank: 0..5000 m
    // at north = 0; north bank at north = 300; the bridge joins them at east = 4000.
    road(pool, 1, &[(0.0, 0.0), (4000.0, 0.0)], "South Road", 36.0).await;
    road(
        pool,
        2,
        &[(0.0, 300.0), (4000.0, 300.0)],
        "North Road",
        36.0,
    )
    .await;
    road(pool, 3, &[(4000.0, 0.0), (4000.0, 300.0)], "Bridge", 36.0).await;
    let dest = at(0.0, 0.0);
    // across the river, 300 m by air but 8.3 km by road
    let across = at(0.0, 300.0);
    vehicle(pool, "KAA 001A", "861000000000011", across.0, across.1, 30).await;
    // 1.5 km down the same road
    let down = at(1500.0, 0.0);
    vehicle(pool, "KAA 002A", "861000000000012", down.0, down.1, 30).await;
    // nearest of all, but its last fix is two days old: not available
    let here = at(50.0, 0.0);
    vehicle(
        pool,
        "KAA 003A",
        "861000000000013",
        here.0,
        here.1,
        2 * 86_400,
    )
    .await;

    let (status, r) = get(
        &base,
        &token,
        &format!("/api/routes/nearest?to={},{}&limit=5", dest.1, dest.0),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let ranked: Vec<&str> = r["vehicles"]
        .as_array()
        .expect("vehicles")
        .iter()
        .map(|v| v["vehicle_number"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ranked, ["KAA 002A", "KAA 001A"], "{r}");
    let v = &r["vehicles"];
    assert!(
        (v[0]["distance_m"].as_f64().unwrap_or(0.0) - 1500.0).abs() < 10.0,
        "{r}"
    );
    assert!(
        (v[1]["distance_m"].as_f64().unwrap_or(0.0) - 8300.0).abs() < 20.0,
        "{r}"
    );
    assert!(v[1]["straight_m"].as_f64() < v[0]["straight_m"].as_f64());
    assert!(
        (v[0]["eta_sec"].as_f64().unwrap_or(0.0) - 150.0).abs() < 2.0,
        "{r}"
    );

    // limit, a plate as the target, bad input
    let (status, r) = get(&base, &token, "/api/routes/nearest?to=KAA%20002A&limit=1").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["vehicles"][0]["vehicle_number"], "KAA 002A");
    for (q, want) in [
        ("to=0,0", 422),
        ("to=KZZ%20404Z", 422),
        (&*format!("to={},{}&limit=0", dest.1, dest.0), 400),
        (&*format!("to={},{}&limit=500", dest.1, dest.0), 400),
        ("limit=3", 400),
    ] {
        let (status, e) = get(&base, &token, &format!("/api/routes/nearest?{q}")).await;
        assert_eq!(status, want, "{q}: {e}");
    }
}

#[tokio::test]
async fn a_new_road_is_routed_on_without_a_failed_request_meanwhile() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(pool, &auth).await;
    let a = fleet_serve::auth::Auth::new(pool.clone(), auth.clone());
    let cache =
        fleet_serve::routes::RouterCache::checking_every(pool.clone(), Duration::from_millis(200));
    let routes = fleet_serve::routes::router(
        pool.clone(),
        a,
        fleet_serve::limit::Limiter::new("routes", 0),
        cache,
    );
    let base = serve(&db, routes).await;
    // a U: west leg, north leg, east leg; from the U's bottom left to bottom right
    road(pool, 1, &[(0.0, 0.0), (0.0, 2000.0)], "West", 36.0).await;
    road(pool, 2, &[(0.0, 2000.0), (1000.0, 2000.0)], "Top", 36.0).await;
    road(pool, 3, &[(1000.0, 2000.0), (1000.0, 0.0)], "East", 36.0).await;
    let (from, to) = (at(0.0, 0.0), at(1000.0, 0.0));
    let body = json!({"origin": [from.1, from.0], "destination": [to.1, to.0]});
    let (status, r) = post(&base, Some(&token), &body).await;
    assert_eq!(status, 200, "{r}");
    let long = r["distance_m"].as_f64().expect("distance");
    assert!((long - 5000.0).abs() < 10.0, "{r}");

    // requests keep coming while a shortcut is loaded
    let b2 = base.clone();
    let t2 = token.clone();
    let body2 = body.clone();
    let load = tokio::spawn(async move {
        let mut seen = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let (status, r) = post(&b2, Some(&t2), &body2).await;
            seen.push((status, r["distance_m"].as_f64()));
            if r["distance_m"].as_f64().is_some_and(|d| d < 2000.0) {
                break;
            }
        }
        seen
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    road(pool, 4, &[(0.0, 0.0), (1000.0, 0.0)], "Shortcut", 36.0).await;
    let seen = load.await.expect("requests");
    assert!(seen.iter().all(|s| s.0 == 200), "{seen:?}");
    assert!(
        seen.iter()
            .any(|s| s.1.is_some_and(|d| (d - long).abs() < 10.0)),
        "the old router served meanwhile: {seen:?}"
    );
    let last = seen.last().and_then(|s| s.1).expect("an answer");
    assert!(
        (last - 1000.0).abs() < 10.0,
        "the new road is used: {seen:?}"
    );
}

#[tokio::test]
async fn search_finds_plates_places_and_streets_by_prefix_word_and_typo() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let auth = common::auth_config(SECRET);
    let token = common::reader_token(pool, &auth).await;
    let base = serve(&db, areas(pool.clone(), GatewayConfig::reads_only(auth))).await;
    fleet_geo::osm::load(pool, fleet_geo::MONACO_PBF)
        .await
        .expect("Monaco");
    vehicle(pool, "KDA 123A", "861000000000021", 43.7311, 7.4197, 20).await;
    let search = |q: &str| {
        let (base, token) = (base.clone(), token.clone());
        let q = q.to_string();
        async move {
            let url = format!(
                "{base}/api/geo/search?{}",
                serde_urlencoded::to_string([("q", q.as_str())]).expect("query")
            );
            let res = fleet_testkit::http()
                .get(url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("search");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let first = |v: &Value| v["results"][0].clone();
    // a plate in another spelling, and its start
    let (status, r) = search("kda123a").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (first(&r)["kind"].as_str(), first(&r)["ref"].as_str()),
        (Some("vehicle"), Some("KDA 123A")),
        "{r}"
    );
    let (_, r) = search("KDA 1").await;
    assert_eq!(first(&r)["name"], "KDA 123A", "{r}");
    // a street by the start of one of its words, and with a typo
    let street: String = sqlx::query_scalar(
        "SELECT name FROM geo.search_names WHERE kind = 'street' AND name LIKE 'Boulevard %' ORDER BY length(name) DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a Monaco boulevard");
    let last_word = street.rsplit(' ').next().unwrap_or("").to_lowercase();
    let (_, r) = search(&last_word[..last_word.len().min(5)]).await;
    assert!(
        r["results"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["kind"] == "street")),
        "{last_word}: {r}"
    );
    let typo: String = street.replacen("Boulevard", "Bulevard", 1);
    let (_, r) = search(&typo).await;
    assert_eq!(first(&r)["name"], street.as_str(), "{typo}: {r}");
    assert!(first(&r)["point"].is_array());
    // a place of the extract; the fuel station as a POI with what routes take
    let place: String =
        sqlx::query_scalar("SELECT name FROM geo.places ORDER BY length(name) DESC LIMIT 1")
            .fetch_one(pool)
            .await
            .expect("a place");
    let (_, r) = search(&place).await;
    assert_eq!(
        (first(&r)["kind"].as_str(), first(&r)["name"].as_str()),
        (Some("place"), Some(place.as_str())),
        "{r}"
    );
    let poi: Option<(i64, String)> = sqlx::query_as(
        "SELECT poi_id, coalesce(name, brand) FROM geo.pois WHERE coalesce(name, brand) IS NOT NULL ORDER BY poi_id LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .expect("POIs");
    if let Some((id, name)) = poi {
        let (_, r) = search(&name).await;
        let hit = r["results"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["kind"] == "poi").cloned())
            .expect("the POI");
        assert_eq!(hit["ref"], format!("poi:{id}"));
        // and it routes to
        let (status, route) = post(
            &base,
            Some(&token),
            &json!({"origin": "KDA 123A", "destination": hit["ref"]}),
        )
        .await;
        assert_eq!(status, 200, "{route}");
    }
    // nothing like it: empty; no query: 400
    let (status, r) = search("zzqqxxw").await;
    assert_eq!(
        (status, r["results"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{r}"
    );
    let (status, _) = search("  ").await;
    assert_eq!(status, 400);
}
