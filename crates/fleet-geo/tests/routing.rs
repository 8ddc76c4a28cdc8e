//! The router: time-dependent cost on a constructed road (a band that changes mid-segment, the
//! all-hours fallback, limits and class defaults), one-way streets, bad points; and on the
//! Monaco roads the cross-check against pgRouting's `pgr_dijkstra` on the same weights.

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use fleet_geo::matching::MatchGraph;
use fleet_geo::routing::{Basis, RouteError, Router, hour_of_week};
use fleet_geo::{MONACO_PBF, osm};
use fleet_testkit::TestDb;

mod common;
use common::{at, way};

/// West to east: 1 → 2 → 3, 1,000 m each at 10 m/s free flow; then 3 → 4 one-way east.
fn road() -> Router {
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 0.0), (1000.0, 0.0)], false),
        way(2, 2, 3, &[(1000.0, 0.0), (2000.0, 0.0)], false),
        way(3, 3, 4, &[(2000.0, 0.0), (3000.0, 0.0)], true),
    ]);
    Router::new(g, &HashSet::from([2]))
}

#[test]
fn each_segment_is_driven_at_the_speed_of_the_hour_the_route_is_on_it() {
    let mut r = road();
    // Monday 07:59:30 EAT = 04:59:30 UTC
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 4, 59, 30)
        .single()
        .expect("time");
    let t0 = depart.timestamp() as f64;
    let (h7, h8) = (hour_of_week(t0), hour_of_week(t0 + 60.0));
    assert_eq!((h7, h8), (31, 32));
    // segment 1 eastbound: 72 km/h at 07:00, 18 km/h from 08:00; segment 2: 18 km/h all hours
    r.set_observed([
        (1, true, Some(h7), 72.0),
        (1, true, Some(h8), 18.0),
        (2, true, None, 18.0),
    ]);
    let route = r
        .route(at(0.0, 0.0), at(3000.0, 0.0), depart)
        .expect("route");
    let legs: Vec<(i64, f64, Basis)> = route
        .pieces
        .iter()
        .map(|p| (p.gid, p.left - p.entered, p.basis))
        .collect();
    // (each segment is l ≈ 1,000 m long, as the Earth measures it)
    // 30 s at 20 m/s (600 m), the rest at 5 m/s; all at 5 m/s; all at 10 m/s
    let l = r.graph().edges[0].length_m;
    let expect = [30.0 + (l - 600.0) / 5.0, l / 5.0, l / 10.0];
    assert_eq!(legs.len(), 3, "{legs:?}");
    for (leg, want) in legs.iter().zip(expect) {
        assert!((leg.1 - want).abs() < 1e-6, "{legs:?} vs {expect:?}");
    }
    assert_eq!(
        legs.iter().map(|l| l.2).collect::<Vec<_>>(),
        [Basis::Observed, Basis::Observed, Basis::Default]
    );
    assert!((route.eta_s - expect.iter().sum::<f64>()).abs() < 1e-6);
    assert!((route.distance_m - 3.0 * l).abs() < 1e-6);
    let observed = route
        .basis
        .iter()
        .find(|b| b.0 == Basis::Observed)
        .expect("observed");
    assert!((observed.1 - 2.0 * l).abs() < 1e-6);
    assert!((observed.2 - expect[0] - expect[1]).abs() < 1e-6);
    // an hour earlier: 30 s of 06:00 at the class speed (no band, no all-hours figure), then 72 km/h
    let early = r
        .route(
            at(0.0, 0.0),
            at(1000.0, 0.0),
            depart - chrono::Duration::hours(1),
        )
        .expect("route");
    assert!(
        (early.eta_s - (30.0 + (l - 300.0) / 20.0)).abs() < 1e-6,
        "{}",
        early.eta_s
    );
    // westbound nothing is observed: the limit of segment 2, the class speed of segment 1
    let back = r
        .route(at(2000.0, 0.0), at(0.0, 0.0), depart)
        .expect("route");
    assert_eq!(
        back.pieces
            .iter()
            .map(|p| (p.gid, p.basis))
            .collect::<Vec<_>>(),
        [(2, Basis::Maxspeed), (1, Basis::Default)]
    );
}

#[test]
fn routes_start_and_end_along_roads_and_keep_to_one_way_streets() {
    let r = road();
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    // from the middle of segment 1 to the middle of segment 3: 500 + 1,000 + 500 m
    let route = r
        .route(at(500.0, 8.0), at(2500.0, -8.0), depart)
        .expect("route");
    assert!(
        (route.distance_m - 2000.0).abs() < 3.0,
        "{}",
        route.distance_m
    );
    assert!((route.eta_s - route.distance_m / 10.0).abs() < 1e-6);
    let (a, b) = route.snapped;
    assert!(fleet_geo::haversine_m(a, at(500.0, 0.0)) < 0.5);
    assert!(fleet_geo::haversine_m(b, at(2500.0, 0.0)) < 0.5);
    assert!(route.line.len() >= 4);
    // along one segment, ahead: one piece
    let short = r
        .route(at(100.0, 0.0), at(900.0, 0.0), depart)
        .expect("route");
    assert_eq!(short.pieces.len(), 1);
    assert!(
        (short.distance_m - 800.0).abs() < 2.0,
        "{}",
        short.distance_m
    );
    // against the one-way street: no way round
    assert_eq!(
        r.route(at(2900.0, 0.0), at(2100.0, 0.0), depart),
        Err(RouteError::Unreachable)
    );
    assert_eq!(
        r.route(at(0.0, 5_000.0), at(2100.0, 0.0), depart),
        Err(RouteError::NoRoad("origin"))
    );
    let empty = Router::new(MatchGraph::new(&[]), &HashSet::new());
    assert_eq!(
        empty.route(at(0.0, 0.0), at(1.0, 0.0), depart),
        Err(RouteError::NoGraph)
    );
}

#[tokio::test]
async fn on_real_roads_the_cost_is_pgroutings_on_the_same_weights() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    osm::load(pool, MONACO_PBF).await.expect("Monaco");
    let r = Router::load(pool).await.expect("router");
    // junctions with no other road within about 2.5 m (a bridge over one would snap to the bridge)
    let vs: Vec<(i64, f64, f64)> = sqlx::query_as(
        "SELECT v.id, ST_Y(v.the_geom), ST_X(v.the_geom) FROM geo.ways_vertices_pgr v
          WHERE NOT EXISTS (SELECT 1 FROM geo.ways w WHERE ST_DWithin(w.the_geom, v.the_geom, 0.00003)
                               AND w.source <> v.id AND w.target <> v.id)
          ORDER BY md5(v.id::text) LIMIT 16",
    )
    .fetch_all(pool)
    .await
    .expect("vertices");
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    let (mut compared, mut unreachable) = (0, 0);
    for pair in vs.chunks(2) {
        let [(a, alat, alng), (b, blat, blng)] = [pair[0], pair[1]];
        let pgr: Option<f64> = sqlx::query_scalar(
            "SELECT max(agg_cost) FROM pgr_dijkstra('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways', $1, $2, true)",
        )
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await
        .expect("pgr_dijkstra");
        let ours = r.route(
            fleet_geo::Point {
                lat: alat,
                lng: alng,
            },
            fleet_geo::Point {
                lat: blat,
                lng: blng,
            },
            depart,
        );
        match (pgr, ours) {
            (Some(cost), Ok(route)) => {
                assert!(
                    (route.eta_s - cost).abs() < 0.01 * cost.max(1.0),
                    "{a} → {b}: ours {} s, pgr_dijkstra {cost} s",
                    route.eta_s
                );
                compared += 1;
            }
            (None, Err(RouteError::Unreachable)) => unreachable += 1,
            (p, o) => panic!("{a} → {b}: pgr_dijkstra {p:?}, ours {o:?}"),
        }
    }
    assert!(
        compared >= 5,
        "{compared} compared, {unreachable} unreachable"
    );
    // observed speeds follow geo.observed_speed: a band with enough traversals, else all hours
    let gid: i64 =
        sqlx::query_scalar("SELECT gid FROM geo.ways WHERE cost > 0 ORDER BY gid LIMIT 1")
            .fetch_one(pool)
            .await
            .expect("a segment");
    sqlx::query(
        "INSERT INTO geo.segment_speed_band (segment_id, forward, dow, hod, samples, mean_kmh, median_kmh, p85_kmh)
         VALUES ($1, true, 1, 8, 6, 30, 30, 35), ($1, true, 1, 9, 2, 70, 70, 70), ($1, true, -1, -1, 9, 40, 40, 45)",
    )
    .bind(gid)
    .execute(pool)
    .await
    .expect("bands");
    let r = Router::load(pool).await.expect("router");
    let e = r
        .graph()
        .edges
        .iter()
        .position(|x| x.gid == gid && x.forward)
        .expect("the edge") as u32;
    for (dow, hod, want) in [(1, 8, 30.0), (1, 9, 40.0), (3, 14, 40.0)] {
        let (sql, basis): (Option<f32>, Option<String>) =
            sqlx::query_as("SELECT speed_kmh, basis FROM geo.observed_speed($1, true, $2, $3)")
                .bind(gid)
                .bind(dow)
                .bind(hod)
                .fetch_one(pool)
                .await
                .expect("observed speed");
        let (mps, b) = r.speed(e, dow as usize * 24 + hod as usize);
        assert_eq!(b, Basis::Observed, "{basis:?}");
        assert_eq!(sql, Some(want), "{dow} {hod}: {basis:?}");
        assert!(
            (mps * 3.6 - f64::from(want)).abs() < 1e-3,
            "{dow} {hod}: router {} km/h, SQL {sql:?}",
            mps * 3.6
        );
    }
}
