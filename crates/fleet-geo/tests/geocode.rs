//! Offline reverse geocoding: the Monaco extract's house numbers, streets and places load, and
//! on a constructed town an address is made as Nominatim makes one: the house number near the
//! point with its street, else the nearest named street, then suburb and town by their spans.

use fleet_geo::{MONACO_PBF, osm};
use fleet_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;

mod common;
use common::at;

async fn reverse(pool: &PgPool, east: f64, north: f64) -> (Option<String>, Value) {
    let p = at(east, north);
    sqlx::query_as("SELECT address, parts FROM geo.reverse_geocode($1, $2)")
        .bind(p.lat)
        .bind(p.lng)
        .fetch_one(pool)
        .await
        .expect("reverse geocode")
}

async fn exec(pool: &PgPool, sql: &str, east: f64, north: f64) {
    let p = at(east, north);
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(p.lng)
        .bind(p.lat)
        .execute(pool)
        .await
        .expect(sql);
}

#[tokio::test]
async fn an_address_is_the_house_or_the_street_then_suburb_and_town() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    // Moi Avenue runs east from the origin for 2 km; Kenyatta Avenue north from 1 km east
    for (gid, name, wkt) in [
        (
            1,
            "Moi Avenue",
            format!(
                "LINESTRING({} {}, {} {})",
                at(0.0, 0.0).lng,
                at(0.0, 0.0).lat,
                at(2000.0, 0.0).lng,
                at(2000.0, 0.0).lat
            ),
        ),
        (
            2,
            "Kenyatta Avenue",
            format!(
                "LINESTRING({} {}, {} {})",
                at(1000.0, 0.0).lng,
                at(1000.0, 0.0).lat,
                at(1000.0, 3000.0).lng,
                at(1000.0, 3000.0).lat
            ),
        ),
    ] {
        sqlx::query("INSERT INTO geo.ways (gid, name, length_m, cost, reverse_cost, the_geom) VALUES ($1, $2, 1000, 100, 100, ST_GeomFromText($3, 4326))")
            .bind(gid)
            .bind(name)
            .bind(wkt)
            .execute(pool)
            .await
            .expect("street");
    }
    // an unnamed service road nearer than either at 2 km north
    sqlx::query("INSERT INTO geo.ways (gid, length_m, cost, reverse_cost, the_geom) VALUES (3, 100, 10, 10, ST_GeomFromText($1, 4326))")
        .bind(format!("LINESTRING({} {}, {} {})", at(1100.0, 2000.0).lng, at(1100.0, 2000.0).lat, at(1200.0, 2000.0).lng, at(1200.0, 2000.0).lat))
        .execute(pool)
        .await
        .expect("service road");
    let house = "INSERT INTO geo.addresses (osm_type, osm_id, housenumber, street, geom) VALUES ('node', 1, '12', 'Moi Avenue', ST_SetSRID(ST_MakePoint($1, $2), 4326))";
    exec(pool, house, 300.0, 15.0).await;
    let place = |id: i64, kind: &str, name: &str| {
        format!(
            "INSERT INTO geo.places (osm_type, osm_id, place, name, geom) VALUES ('node', {id}, '{kind}', '{name}', ST_SetSRID(ST_MakePoint($1, $2), 4326))"
        )
    };
    exec(pool, &place(1, "city", "Nairobi"), 1500.0, 1500.0).await;
    exec(pool, &place(2, "suburb", "Central"), 500.0, 200.0).await;
    exec(pool, &place(3, "suburb", "Ngara"), 1200.0, 2600.0).await;
    // a village 30 km out, and one 4.5 km out (nearer the city's edge than its own centre)
    exec(pool, &place(4, "village", "Kikuyu"), 30_000.0, 0.0).await;
    exec(pool, &place(5, "village", "Kabete"), 6000.0, 0.0).await;

    // by the house: its number and street, the suburb, the city
    let (a, parts) = reverse(pool, 305.0, 8.0).await;
    assert_eq!(
        a.as_deref(),
        Some("12 Moi Avenue, Central, Nairobi"),
        "{parts}"
    );
    assert_eq!(parts["housenumber"], "12");
    // 100 m along from it: the street only
    let (a, _) = reverse(pool, 420.0, 10.0).await;
    assert_eq!(a.as_deref(), Some("Moi Avenue, Central, Nairobi"));
    // up Kenyatta Avenue, by the unnamed road: the nearest *named* street, the other suburb
    let (a, parts) = reverse(pool, 1150.0, 2010.0).await;
    assert_eq!(
        a.as_deref(),
        Some("Kenyatta Avenue, Ngara, Nairobi"),
        "{parts}"
    );
    assert!(
        (parts["street_m"].as_f64().unwrap_or(0.0) - 150.0).abs() < 5.0,
        "{parts}"
    );
    // 1 km past the end of Moi Avenue, 3 km from Kabete and 2.1 km from the city's centre: a
    // village spans 4 km, a city 20: nearer the city for its size
    let (a, parts) = reverse(pool, 3000.0, 0.0).await;
    assert_eq!(
        a.as_deref(),
        Some("Nairobi"),
        "no street within 600 m, no suburb: {parts}"
    );
    // 1 km from Kikuyu and 28 km from the city (beyond its span): the village
    let (a, parts) = reverse(pool, 29_000.0, 0.0).await;
    assert_eq!(a.as_deref(), Some("Kikuyu"), "{parts}");
    // in the middle of nowhere: nothing
    let (a, parts) = reverse(pool, 0.0, 60_000.0).await;
    assert_eq!(a, None, "{parts}");
}

/// The constructed town of the test above, built by it: Moi Avenue with number 12, suburbs,
/// the city.
async fn town(pool: &PgPool) {
    sqlx::query("INSERT INTO geo.ways (gid, name, length_m, cost, reverse_cost, the_geom) VALUES (1, 'Moi Avenue', 2000, 100, 100, ST_GeomFromText($1, 4326))")
        .bind(format!("LINESTRING({} {}, {} {})", at(0.0, 0.0).lng, at(0.0, 0.0).lat, at(2000.0, 0.0).lng, at(2000.0, 0.0).lat))
        .execute(pool)
        .await
        .expect("street");
    exec(pool, "INSERT INTO geo.addresses (osm_type, osm_id, housenumber, street, geom) VALUES ('node', 1, '12', 'Moi Avenue', ST_SetSRID(ST_MakePoint($1, $2), 4326))", 300.0, 15.0).await;
    exec(pool, "INSERT INTO geo.places (osm_type, osm_id, place, name, geom) VALUES ('node', 1, 'city', 'Nairobi', ST_SetSRID(ST_MakePoint($1, $2), 4326))", 1500.0, 1500.0).await;
}

#[tokio::test]
async fn the_geocoder_caches_an_address_for_every_position_shown_once() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    town(pool).await;
    let (house, street, far) = (at(305.0, 8.0), at(1500.0, 10.0), at(0.0, 80_000.0));
    // a live position by the house; a trip from it along the street; a stop and an alarm on the
    // street (the same place twice: one address); a trip that ended in the middle of nowhere
    sqlx::query("INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ('g1', now(), now(), $1, $2, 't', 0)")
        .bind(house.lat).bind(house.lng).execute(pool).await.expect("live");
    sqlx::query(
        "INSERT INTO state.trips (imei, start_time, end_time, start_lat, start_lng, end_lat, end_lng, distance_m, duration_s, source, raw_id)
         VALUES ('g1', now() - interval '1 hour', now() - interval '50 minutes', $1, $2, $3, $4, 1200, 600, 't', 0),
                ('g1', now() - interval '3 hours', now() - interval '2 hours', $3, $4, $5, $6, 80000, 3600, 't', 0),
                ('g1', now() - interval '30 days', now() - interval '30 days', $5, $6, $5, $6, 0, 60, 't', 0)",
    )
    .bind(house.lat).bind(house.lng).bind(street.lat).bind(street.lng).bind(far.lat).bind(far.lng)
    .execute(pool).await.expect("trips");
    sqlx::query("INSERT INTO state.parking_events (imei, kind, start_time, end_time, duration_s, lat, lng, source, raw_id) VALUES ('g1', 'parking', now() - interval '50 minutes', now() - interval '10 minutes', 2400, $1, $2, 't', 0)")
        .bind(street.lat).bind(street.lng).execute(pool).await.expect("stop");
    sqlx::query("INSERT INTO state.alarms (imei, alarm_type, alarm_time, alarm_name, lat, lng, source, raw_id) VALUES ('g1', 'overSpeed', now() - interval '55 minutes', 'Overspeed', $1, $2, 't', 0)")
        .bind(street.lat + 2e-6).bind(street.lng).execute(pool).await.expect("alarm");

    // house, street, far: three places (the 30-day-old trip is outside the running window)
    assert_eq!(
        fleet_geo::geocode::pass(pool, chrono::Utc::now() - fleet_geo::geocode::WINDOW, 1000)
            .await
            .expect("pass"),
        3
    );
    assert_eq!(
        fleet_geo::geocode::pass(pool, chrono::Utc::now() - fleet_geo::geocode::WINDOW, 1000)
            .await
            .expect("again"),
        0
    );
    let address = |p: fleet_geo::Point| async move {
        sqlx::query_scalar::<_, Option<String>>("SELECT serve.address_at($1, $2)")
            .bind(p.lat)
            .bind(p.lng)
            .fetch_one(pool)
            .await
            .expect("address_at")
    };
    assert_eq!(
        address(house).await.as_deref(),
        Some("12 Moi Avenue, Nairobi")
    );
    assert_eq!(
        address(street).await.as_deref(),
        Some("Moi Avenue, Nairobi")
    );
    // within the ~11 m of the key, the same address
    assert_eq!(
        address(fleet_geo::Point {
            lat: street.lat + 3e-5,
            lng: street.lng
        })
        .await
        .as_deref(),
        Some("Moi Avenue, Nairobi")
    );
    assert_eq!(address(far).await, None);
    // a pass is limited; the rest waits for the next
    fleet_geo::geocode::forget(pool).await.expect("forget");
    assert_eq!(
        fleet_geo::geocode::pass(pool, chrono::Utc::now() - fleet_geo::geocode::WINDOW, 2)
            .await
            .expect("limited"),
        2
    );
    // the rebuild makes every address again, however old
    assert_eq!(fleet_geo::geocode::rebuild(pool).await.expect("rebuild"), 3);
    let cached: Vec<(Option<String>, Value)> = sqlx::query_as(
        "SELECT address, parts FROM state.geocoded_positions ORDER BY address NULLS LAST",
    )
    .fetch_all(pool)
    .await
    .expect("cache");
    assert_eq!(cached.len(), 3, "{cached:?}");
    assert_eq!(cached[0].1["housenumber"], "12");
    // a new extract forgets the old addresses
    osm::load(pool, MONACO_PBF).await.expect("Monaco");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM state.geocoded_positions")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn an_extract_loads_its_house_numbers_and_places() {
    let parsed = osm::parse(MONACO_PBF).expect("Monaco");
    let (_, places, addresses) = parsed.extras();
    assert!(
        places >= 5 && addresses >= 50,
        "{places} places, {addresses} house numbers"
    );
    let db = TestDb::new().await;
    let r = osm::load(&db.pool, MONACO_PBF).await.expect("load");
    assert_eq!((r.places, r.addresses), (places, addresses));
    // the Casino de Monte-Carlo's square
    let (a, parts): (Option<String>, Value) =
        sqlx::query_as("SELECT address, parts FROM geo.reverse_geocode(43.7394, 7.4283)")
            .fetch_one(&db.pool)
            .await
            .expect("reverse");
    assert!(parts["street"].is_string(), "{a:?} {parts}");
    assert!(
        parts["town"].is_string() || parts["suburb"].is_string(),
        "{a:?} {parts}"
    );
    // a second load replaces them, not adds
    let again = osm::load(&db.pool, MONACO_PBF).await.expect("reload");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM geo.addresses")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(n as usize, again.addresses);
}

/// A square boundary `size` metres a side with its south-west corner at (`east`, `north`).
async fn boundary(
    pool: &PgPool,
    id: i64,
    level: i16,
    name: &str,
    east: f64,
    north: f64,
    size: f64,
) {
    let c = [
        at(east, north),
        at(east + size, north),
        at(east + size, north + size),
        at(east, north + size),
        at(east, north),
    ];
    let wkt = format!(
        "POLYGON(({}))",
        c.iter()
            .map(|p| format!("{} {}", p.lng, p.lat))
            .collect::<Vec<_>>()
            .join(",")
    );
    sqlx::query("INSERT INTO geo.boundaries (osm_id, piece, admin_level, name, geom) VALUES ($1, 1, $2, $3, ST_GeomFromText($4, 4326))")
        .bind(id)
        .bind(level)
        .bind(name)
        .bind(wkt)
        .execute(pool)
        .await
        .expect("boundary");
}

#[tokio::test]
async fn admin_boundaries_name_the_region_and_keep_towns_on_their_side_of_a_border() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    town(pool).await;
    // Nairobi County: 20 km west and south of the origin to 2.5 km east and north; Kiambu east of it
    boundary(pool, 10, 2, "Kenya", -50_000.0, -50_000.0, 100_000.0).await;
    boundary(
        pool,
        11,
        4,
        "Nairobi County",
        -20_000.0,
        -20_000.0,
        22_500.0,
    )
    .await;
    boundary(pool, 12, 4, "Kiambu", 2_500.0, -20_000.0, 40_000.0).await;
    // a municipality inside Kiambu with no place node near its middle
    boundary(pool, 13, 8, "Ruaka", 8_000.0, 8_000.0, 4_000.0).await;
    osm::assign_regions(pool).await.expect("regions");
    // in the city: the region after the town (the country is not said)
    let (a, parts) = reverse(pool, 305.0, 8.0).await;
    assert_eq!(
        a.as_deref(),
        Some("12 Moi Avenue, Nairobi, Nairobi County"),
        "{parts}"
    );
    assert_eq!(parts["region"], "Nairobi County");
    assert_eq!(
        parts["admin"],
        serde_json::json!([{"level": 2, "name": "Kenya"}, {"level": 4, "name": "Nairobi County"}])
    );
    // 3 km east, across the border: Nairobi's centre is 2.1 km away, but not this county's town
    let (a, parts) = reverse(pool, 3000.0, 0.0).await;
    assert_eq!(a.as_deref(), Some("Kiambu"), "{parts}");
    // in Ruaka's boundary, no place node near: the municipality is the town
    let (a, parts) = reverse(pool, 10_000.0, 10_000.0).await;
    assert_eq!(a.as_deref(), Some("Ruaka, Kiambu"), "{parts}");
    assert_eq!(parts["town_kind"], "boundary");
    // a region named like its town is said once
    sqlx::query("UPDATE geo.boundaries SET name = 'Nairobi' WHERE osm_id = 11")
        .execute(pool)
        .await
        .expect("rename");
    let (a, _) = reverse(pool, 305.0, 8.0).await;
    assert_eq!(a.as_deref(), Some("12 Moi Avenue, Nairobi"));
}

#[tokio::test]
async fn an_extract_s_admin_boundaries_are_assembled_from_their_ways() {
    let pbf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/osm/andorra.osm.pbf"
    ))
    .expect("the Andorra extract");
    let db = TestDb::new().await;
    let pool = &db.pool;
    let r = osm::load(pool, &pbf).await.expect("Andorra");
    assert!(r.boundaries >= 8, "{r:?}");
    assert!(r.turn_restrictions >= 10, "{r:?}");
    // the seven parishes, each valid, in pieces of at most 256 points, together the country
    let (parishes, valid, most, share): (i64, bool, i32, f64) = sqlx::query_as(
        "SELECT count(DISTINCT osm_id) FILTER (WHERE admin_level = 7),
                bool_and(ST_IsValid(geom)), max(ST_NPoints(geom)),
                (SELECT sum(ST_Area(geom::geography)) FROM geo.boundaries WHERE admin_level = 7)
                  / (SELECT sum(ST_Area(geom::geography)) FROM geo.boundaries WHERE admin_level = 2)
           FROM geo.boundaries",
    )
    .fetch_one(pool)
    .await
    .expect("boundaries");
    assert_eq!(parishes, 7);
    assert!(valid);
    assert!(most <= 256, "{most} points in a piece");
    assert!(
        (share - 1.0).abs() < 0.01,
        "the parishes cover {share} of the country"
    );
    // each parish's own town (a place node of its name) is in it, and its addresses say so
    let towns: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT p.name, ST_Y(p.geom), ST_X(p.geom) FROM geo.places p
          WHERE p.name IN (SELECT name FROM geo.boundaries WHERE admin_level = 7)
            AND p.place IN ('town', 'village') ORDER BY p.name",
    )
    .fetch_all(pool)
    .await
    .expect("towns");
    assert!(towns.len() >= 5, "{towns:?}");
    for (name, lat, lng) in towns {
        let (region,): (Option<String>,) =
            sqlx::query_as("SELECT parts->>'region' FROM geo.reverse_geocode($1, $2)")
                .bind(lat)
                .bind(lng)
                .fetch_one(pool)
                .await
                .expect("reverse");
        assert_eq!(region.as_deref(), Some(name.as_str()));
    }
}

#[tokio::test]
async fn fuel_fills_get_the_address_of_where_the_vehicle_was() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    town(pool).await;
    let csv = "IMEI,Account,Number Plate,Vehicle Name,Driver,Phone,Employee No,Department,City\n\
               862798050000001,,KCA 542Q,Hilux 1,,,,Sales,Nairobi\n";
    fleet_ingest::registry::append(pool, csv.as_bytes(), "fleet.csv", Some("fireside"))
        .await
        .expect("registry");
    while fleet_ingest::worker::drain_once(pool, 100)
        .await
        .expect("drain")
        > 0
    {}
    let plate: String = sqlx::query_scalar("SELECT plate_key FROM domain.vehicles")
        .fetch_one(pool)
        .await
        .expect("vehicle");
    let (street, house) = (at(1500.0, 10.0), at(305.0, 8.0));
    // the vehicle stood on Moi Avenue 2 minutes before the fill, and was by the house 20 after
    sqlx::query(
        "INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, source, raw_id)
         VALUES ('862798050000001', now() - interval '62 minutes', now(), $1, $2, 't', 0),
                ('862798050000001', now() - interval '40 minutes', now(), $3, $4, 't', 0)",
    )
    .bind(street.lat)
    .bind(street.lng)
    .bind(house.lat)
    .bind(house.lng)
    .execute(pool)
    .await
    .expect("fixes");
    // a fill of the vehicle; one of a plate with no tracker that reports where it was; one
    // with neither; a month-old one imported just now (an ordinary pass looks at what was
    // imported lately, however old)
    sqlx::query(
        "INSERT INTO fuel.records (record_id, raw, car, plate_key, litres, amount_kes, filled_at, reported_lat, reported_lng)
         VALUES ('f1', '{}', 'KCA 542Q', $1, 40, 7000, now() - interval '1 hour', NULL, NULL),
                ('f2', '{}', 'KZZ 999Z', 'KZZ999Z', 30, 5000, now() - interval '2 hours', $2, $3),
                ('f3', '{}', 'KZZ 998Z', 'KZZ998Z', 30, 5000, now() - interval '3 hours', NULL, NULL),
                ('f4', '{}', 'KZZ 999Z', 'KZZ999Z', 30, 5000, now() - interval '30 days', $2, $3)",
    )
    .bind(&plate)
    .bind(house.lat)
    .bind(house.lng)
    .execute(pool)
    .await
    .expect("fills");
    let since = chrono::Utc::now() - fleet_geo::geocode::RECENT;
    fleet_geo::geocode::pass(pool, since, 1000)
        .await
        .expect("pass");
    let placed: Vec<(String, String)> =
        sqlx::query_as("SELECT record_id, source FROM state.fill_positions ORDER BY record_id")
            .fetch_all(pool)
            .await
            .expect("placed");
    assert_eq!(
        placed,
        [
            ("f1".into(), "gps".into()),
            ("f2".into(), "reported".into()),
            ("f4".into(), "reported".into())
        ]
    );
    let recent: Value = sqlx::query_scalar("SELECT serve.fn_fuel_recent('{}')")
        .fetch_one(pool)
        .await
        .expect("recent");
    let address = |id: &str| {
        recent["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["record_id"] == id))
            .map(|r| r["address"].clone())
    };
    assert_eq!(
        address("f1"),
        Some(Value::from("Moi Avenue, Nairobi")),
        "{recent}"
    );
    assert_eq!(address("f2"), Some(Value::from("12 Moi Avenue, Nairobi")));
    assert_eq!(address("f3"), Some(Value::Null));
    let old: Option<String> = sqlx::query_scalar(
        "SELECT g.address FROM state.fill_positions p
           JOIN state.geocoded_positions g ON g.lat_e5 = geo.geocode_key(p.lat) AND g.lng_e5 = geo.geocode_key(p.lng)
          WHERE p.record_id = 'f4'",
    )
    .fetch_one(pool)
    .await
    .expect("old fill");
    assert_eq!(old.as_deref(), Some("12 Moi Avenue, Nairobi"));
    // the fill's time corrected by the feed: placed again, by the fix nearest the new time
    sqlx::query(
        "UPDATE fuel.records SET filled_at = now() - interval '41 minutes' WHERE record_id = 'f1'",
    )
    .execute(pool)
    .await
    .expect("edit");
    assert_eq!(
        fleet_geo::geocode::place_fills(pool, since)
            .await
            .expect("again"),
        1
    );
    let (lat, lng): (f64, f64) =
        sqlx::query_as("SELECT lat, lng FROM state.fill_positions WHERE record_id = 'f1'")
            .fetch_one(pool)
            .await
            .expect("moved");
    assert!(fleet_geo::haversine_m(fleet_geo::Point { lat, lng }, house) < 1.0);
    // nothing changed: nothing placed
    assert_eq!(
        fleet_geo::geocode::place_fills(pool, since)
            .await
            .expect("idle"),
        0
    );
}

/// A Nominatim stand-in on loopback: answers `/reverse` like the real one (an address, or
/// "Unable to geocode" north of 5 km), or 500 when `broken`; records when each request came.
async fn nominatim_server(
    broken: bool,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, f64, f64)>>>,
) {
    use axum::extract::{Query, State};
    type Log = std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, f64, f64)>>>;
    let log: Log = Default::default();
    let app = axum::Router::new()
        .route(
            "/reverse",
            axum::routing::get(
                move |State(log): State<Log>,
                      Query(q): Query<std::collections::HashMap<String, String>>| async move {
                    let lat: f64 = q["lat"].parse().unwrap_or(0.0);
                    let lon: f64 = q["lon"].parse().unwrap_or(0.0);
                    log.lock().expect("log").push((std::time::Instant::now(), lat, lon));
                    assert_eq!(q.get("format").map(String::as_str), Some("jsonv2"));
                    if broken {
                        return Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                    }
                    Ok(axum::Json(if lat > at(0.0, 5000.0).lat {
                        serde_json::json!({"error": "Unable to geocode"})
                    } else {
                        serde_json::json!({
                            "display_name": "Moi Avenue, Central Business District, Nairobi, Kenya",
                            "address": {"road": "Moi Avenue", "suburb": "Central Business District",
                                        "city": "Nairobi", "county": "Nairobi County", "country": "Kenya"}})
                    }))
                },
            ),
        )
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, log)
}

#[tokio::test]
async fn nominatim_is_asked_once_per_position_at_most_once_a_second() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    town(pool).await;
    let (a, b, c) = (at(305.0, 8.0), at(1500.0, 10.0), at(0.0, 8000.0));
    for (imei, p) in [("g1", a), ("g2", b), ("g3", c)] {
        sqlx::query("INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ($1, now(), now(), $2, $3, 't', 0)")
            .bind(imei).bind(p.lat).bind(p.lng).execute(pool).await.expect("live");
    }
    // g2 is stopped where it is: its place is asked first
    sqlx::query("INSERT INTO state.parking_events (imei, kind, start_time, end_time, duration_s, lat, lng, source, raw_id) VALUES ('g2', 'parking', now() - interval '50 minutes', now(), 3000, $1, $2, 't', 0)")
        .bind(b.lat).bind(b.lng).execute(pool).await.expect("stop");
    let since = chrono::Utc::now() - fleet_geo::geocode::WINDOW;
    // the offline addresses first, at once
    assert_eq!(
        fleet_geo::geocode::pass(pool, since, 100)
            .await
            .expect("offline"),
        3
    );
    let (base, log) = nominatim_server(false).await;
    let mut nm = fleet_geo::nominatim::Nominatim::new(&base);
    assert_eq!(
        fleet_geo::nominatim::pass(pool, &mut nm, since, 10)
            .await
            .expect("pass"),
        3
    );
    let asked = log.lock().expect("log").clone();
    assert_eq!(asked.len(), 3);
    assert!(
        (asked[0].1 - b.lat).abs() < 1e-4,
        "the stop first: {asked:?}"
    );
    for w in asked.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            gap >= std::time::Duration::from_millis(990),
            "{gap:?} between requests"
        );
    }
    let cached = |p: fleet_geo::Point| async move {
        sqlx::query_as::<_, (Option<String>, String, Value)>(
            "SELECT address, provider, parts FROM state.geocoded_positions
              WHERE lat_e5 = geo.geocode_key($1) AND lng_e5 = geo.geocode_key($2)",
        )
        .bind(p.lat)
        .bind(p.lng)
        .fetch_one(pool)
        .await
        .expect("cached")
    };
    let (addr, provider, parts) = cached(a).await;
    assert_eq!(
        addr.as_deref(),
        Some("Moi Avenue, Central Business District, Nairobi, Nairobi County")
    );
    assert_eq!(
        (provider.as_str(), &parts["source"]),
        ("nominatim", &Value::from("nominatim"))
    );
    // where the server has nothing, the offline address (8 km out: the city) stays, marked as asked
    let (addr, provider, parts) = cached(c).await;
    assert_eq!(
        (addr.as_deref(), provider.as_str()),
        (Some("Nairobi"), "nominatim")
    );
    assert_eq!(parts["nothing"], true, "{parts}");
    // each position once
    assert_eq!(
        fleet_geo::nominatim::pass(pool, &mut nm, since, 10)
            .await
            .expect("again"),
        0
    );
    assert_eq!(log.lock().expect("log").len(), 3);
    // a new extract forgets its own addresses, not Nominatim's
    fleet_geo::geocode::forget(pool).await.expect("forget");
    assert_eq!(cached(a).await.1, "nominatim");

    // a broken server: the offline address stays, and asking pauses instead of hammering it
    let d = at(1900.0, 5.0);
    sqlx::query("INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ('g4', now(), now(), $1, $2, 't', 0)")
        .bind(d.lat).bind(d.lng).execute(pool).await.expect("live");
    fleet_geo::geocode::pass(pool, since, 100)
        .await
        .expect("offline");
    let (base, log) = nominatim_server(true).await;
    let mut broken = fleet_geo::nominatim::Nominatim::new(&base);
    assert_eq!(
        fleet_geo::nominatim::pass(pool, &mut broken, since, 10)
            .await
            .expect("a failure is not an error of the pass"),
        1
    );
    assert!(broken.paused());
    assert_eq!(
        fleet_geo::nominatim::pass(pool, &mut broken, since, 10)
            .await
            .expect("paused"),
        0
    );
    assert_eq!(log.lock().expect("log").len(), 1);
    let (addr, provider, _) = cached(d).await;
    assert_eq!(
        (addr.as_deref(), provider.as_str()),
        (Some("Moi Avenue, Nairobi"), "osm")
    );
}

#[tokio::test]
async fn search_finds_the_best_names_among_many_that_start_alike() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    // 3,000 streets that start alike and a place called just so
    sqlx::query(
        "INSERT INTO geo.search_names (kind, name, detail, geom)
         SELECT 'street', 'Moi Avenue Block ' || i, 'Nairobi', ST_SetSRID(ST_MakePoint(36.8, -1.28), 4326)
           FROM generate_series(1, 3000) i
         UNION ALL SELECT 'place', 'Moi', 'village', ST_SetSRID(ST_MakePoint(36.9, -1.3), 4326)
         UNION ALL SELECT 'poi', 'Kenol Kobil Moiben', 'fuel', ST_SetSRID(ST_MakePoint(35.3, 0.8), 4326)",
    )
    .execute(pool)
    .await
    .expect("names");
    osm::index_search_words(pool).await.expect("words");
    let search = |q: &'static str| async move {
        sqlx::query_scalar::<_, String>("SELECT name FROM geo.search($1, 5)")
            .bind(q)
            .fetch_all(pool)
            .await
            .expect("search")
    };
    assert_eq!(search("moi").await.first().map(String::as_str), Some("Moi"));
    assert_eq!(
        search("Moi Avenue Block 2717")
            .await
            .first()
            .map(String::as_str),
        Some("Moi Avenue Block 2717")
    );
    // a word inside the name, and a typo in it
    assert!(
        search("moibe")
            .await
            .contains(&"Kenol Kobil Moiben".to_string())
    );
    assert!(
        search("kobel")
            .await
            .contains(&"Kenol Kobil Moiben".to_string())
    );
}
