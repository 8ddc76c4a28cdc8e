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
