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
