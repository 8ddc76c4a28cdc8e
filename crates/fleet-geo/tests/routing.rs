//! The router: time-dependent cost on a constructed road (a band that changes mid-segment, the
//! all-hours fallback, limits and class defaults), one-way streets, bad points; and on the
//! Monaco roads the cross-check against pgRouting's `pgr_dijkstra` on the same weights.

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use fleet_geo::matching::MatchGraph;
use fleet_geo::routing::{Basis, RouteError, Router, TurnRestriction, hour_of_week};
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
    // with the extract's turn restrictions (pgr_trsp's cross-check), and without (pgr_dijkstra's)
    let r = Router::load(pool).await.expect("router");
    let banned = r.banned_turns();
    assert!(
        banned.len() >= 10,
        "Monaco's turn restrictions are read: {} banned turns",
        banned.len()
    );
    let mut free = Router::load(pool).await.expect("router");
    assert_eq!(free.set_restrictions([]), 0);
    let restrictions_sql = format!(
        "SELECT row_number() OVER () AS id, 1e7::float8 AS cost, ARRAY[a, b]::bigint[] AS path FROM (VALUES {}) v(a, b)",
        banned
            .iter()
            .map(|(a, b)| format!("({a}, {b})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // junctions with no other road within about 2.5 m (a bridge over one would snap to the bridge)
    let vs: Vec<(i64, f64, f64)> = sqlx::query_as(
        "SELECT v.id, ST_Y(v.the_geom), ST_X(v.the_geom) FROM geo.ways_vertices_pgr v
          WHERE NOT EXISTS (SELECT 1 FROM geo.ways w WHERE ST_DWithin(w.the_geom, v.the_geom, 0.00003)
                               AND w.source <> v.id AND w.target <> v.id)
          ORDER BY md5(v.id::text) LIMIT 40",
    )
    .fetch_all(pool)
    .await
    .expect("vertices");
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    let (mut compared, mut unreachable, mut differ) = (0, 0, 0);
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
        let trsp: Option<f64> = sqlx::query_scalar(
            "SELECT max(agg_cost) FROM pgr_trsp('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways', $3, $1, $2, true)",
        )
        .bind(a)
        .bind(b)
        .bind(&restrictions_sql)
        .fetch_one(pool)
        .await
        .expect("pgr_trsp");
        let pa = fleet_geo::Point {
            lat: alat,
            lng: alng,
        };
        let pb = fleet_geo::Point {
            lat: blat,
            lng: blng,
        };
        for (router, want, what) in [(&free, pgr, "pgr_dijkstra"), (&r, trsp, "pgr_trsp")] {
            let ours = router.route(pa, pb, depart);
            // a junction of an island of the graph snaps to the main network instead: not the
            // same pair any more
            if let Ok(route) = &ours
                && (fleet_geo::haversine_m(route.snapped.0, pa) > 0.1
                    || fleet_geo::haversine_m(route.snapped.1, pb) > 0.1)
            {
                continue;
            }
            match (want, ours) {
                (Some(cost), Ok(route)) => {
                    assert!(
                        (route.eta_s - cost).abs() < 0.01 * cost.max(1.0),
                        "{a} → {b}: ours {} s, {what} {cost} s",
                        route.eta_s
                    );
                    compared += 1;
                }
                (None, Err(RouteError::Unreachable)) => unreachable += 1,
                (p, o) => panic!("{a} → {b}: {what} {p:?}, ours {o:?}"),
            }
        }
        if pgr.zip(trsp).is_some_and(|(x, y)| (x - y).abs() > 0.5) {
            differ += 1;
        }
    }
    assert!(
        compared >= 20,
        "{compared} compared, {unreachable} unreachable"
    );
    // the restrictions change some of these routes (else the check would check nothing)
    assert!(differ >= 1, "no route of {compared} met a restriction");
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

/// When `metres` of edge `e` entered at `t` are driven at the router's speed of each hour
/// (written apart from the router, for the reference searches).
fn drive(r: &Router, e: u32, mut metres: f64, mut t: f64) -> f64 {
    while metres > 1e-9 {
        let v = r.speed(e, hour_of_week(t)).0;
        let end = ((t / 3600.0).floor() + 1.0) * 3600.0;
        if v * (end - t) >= metres {
            return t + metres / v;
        }
        metres -= v * (end - t);
        t = end;
    }
    t
}

/// A plain time-dependent Dijkstra over every node, written apart from the router: the
/// arrival time at `to` leaving `from` at `t0`, with the router's speeds per hour.
fn reference_arrival(r: &Router, from: u32, to: u32, t0: f64) -> Option<f64> {
    let g = r.graph();
    let drive = |e: u32, metres: f64, t: f64| drive(r, e, metres, t);
    let mut arrive = vec![f64::INFINITY; g.node_count()];
    let mut done = vec![false; g.node_count()];
    arrive[from as usize] = t0;
    let mut heap = std::collections::BinaryHeap::new();
    heap.push(std::cmp::Reverse((ordered(t0), from)));
    while let Some(std::cmp::Reverse((_, v))) = heap.pop() {
        if std::mem::replace(&mut done[v as usize], true) {
            continue;
        }
        for &e in g.out(v) {
            let edge = g.edges[e as usize];
            let t = drive(e, edge.length_m, arrive[v as usize]);
            if t < arrive[edge.to as usize] {
                arrive[edge.to as usize] = t;
                heap.push(std::cmp::Reverse((ordered(t), edge.to)));
            }
        }
    }
    arrive[to as usize]
        .is_finite()
        .then_some(arrive[to as usize])
}

fn ordered(t: f64) -> u64 {
    (t * 1e6) as u64
}

/// The start point of edge `e`'s polyline in its direction of travel.
fn node_point(r: &Router, e: u32) -> fleet_geo::Point {
    let g = r.graph();
    let edge = g.edges[e as usize];
    let w = &g.ways[edge.way as usize];
    let i = if edge.forward {
        w.first
    } else {
        w.first + w.count - 1
    };
    g.points[i as usize]
}

#[test]
fn the_landmark_search_finds_the_fastest_route_at_every_hour() {
    let parsed = osm::parse(MONACO_PBF).expect("Monaco");
    let limits: HashSet<i64> = parsed
        .ways
        .iter()
        .filter(|w| w.maxspeed_kmh.is_some())
        .map(|w| w.gid)
        .collect();
    let mut r = Router::new(MatchGraph::new(&parsed.ways), &limits);
    assert!(r.landmarks().len() >= 2, "{:?}", r.landmarks());
    // rush hours on a third of the roads: speeds from 4 to 3 × free flow, per hour
    let mut rng = fleet_core::rng::Rng(7);
    let mut rows = Vec::new();
    for e in r.graph().edges.iter().step_by(3) {
        for h in 0..168 {
            let kmh = (e.speed_mps * 3.6 * (0.1 + 2.9 * rng.unit())) as f32;
            rows.push((e.gid, e.forward, Some(h), kmh.max(4.0)));
        }
    }
    for e in r.graph().edges.iter().skip(1).step_by(5) {
        rows.push((e.gid, e.forward, None, 12.0));
    }
    r.set_observed(rows);
    let edges = r.graph().edges.len() as u32;
    let (mut compared, mut settled, mut nodes) = (0, 0, 0);
    for i in 0..60 {
        let (a, b) = (
            rng.below(edges as usize) as u32,
            rng.below(edges as usize) as u32,
        );
        let (pa, pb) = (node_point(&r, a), node_point(&r, b));
        let depart = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .single()
            .expect("time")
            + chrono::Duration::seconds(rng.below(7 * 86_400) as i64);
        let t0 = depart.timestamp() as f64;
        let ours = r.route_stats(pa, pb, depart);
        // only pairs whose points snap to the junctions themselves (not a bridge over them)
        let Ok((route, stats)) = &ours else {
            continue;
        };
        if fleet_geo::haversine_m(route.snapped.0, pa) > 0.1
            || fleet_geo::haversine_m(route.snapped.1, pb) > 0.1
        {
            continue;
        }
        let (from, to) = (
            r.graph().edges[a as usize].from,
            r.graph().edges[b as usize].from,
        );
        let want = reference_arrival(&r, from, to, t0).expect("reachable");
        assert!(
            (route.eta_s - (want - t0)).abs() < 1e-3,
            "pair {i}: ours {} s, reference {} s",
            route.eta_s,
            want - t0
        );
        // the pieces join up in time and space
        for w in route.pieces.windows(2) {
            assert!((w[0].left - w[1].entered).abs() < 1e-9);
            assert_eq!(
                r.graph().edges[w[0].edge as usize].to,
                r.graph().edges[w[1].edge as usize].from
            );
        }
        compared += 1;
        settled += stats.settled;
        nodes += r.graph().node_count();
    }
    assert!(compared >= 30, "{compared} compared");
    // the bounds steer: far fewer labels than a search of the whole graph
    assert!(
        settled * 2 < nodes,
        "{settled} labels settled for {compared} routes of {} nodes each",
        r.graph().node_count()
    );
}

/// A 3 × 3 grid of 1-km two-way streets, named by row ("Row 0" …) and column ("Col 0" …).
fn grid() -> Router {
    let mut rows = Vec::new();
    let id = |x: i64, y: i64| y * 3 + x + 1;
    let mut gid = 1;
    for y in 0..3 {
        for x in 0..2 {
            rows.push(way(
                gid,
                id(x, y),
                id(x + 1, y),
                &[
                    (x as f64 * 1000.0, y as f64 * 1000.0),
                    ((x + 1) as f64 * 1000.0, y as f64 * 1000.0),
                ],
                false,
            ));
            gid += 1;
        }
    }
    for x in 0..3 {
        for y in 0..2 {
            rows.push(way(
                gid,
                id(x, y),
                id(x, y + 1),
                &[
                    (x as f64 * 1000.0, y as f64 * 1000.0),
                    (x as f64 * 1000.0, (y + 1) as f64 * 1000.0),
                ],
                false,
            ));
            gid += 1;
        }
    }
    let mut r = Router::new(MatchGraph::new(&rows), &HashSet::new());
    r.set_names(
        (1..=6)
            .map(|g| (g, format!("Row {}", (g - 1) / 2)))
            .chain((7..=12).map(|g| (g, format!("Col {}", (g - 7) / 2)))),
    );
    r
}

#[test]
fn steps_follow_street_names_with_the_turns_between_them() {
    let r = grid();
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    // from the middle of Row 0's first block east, then north up Col 2 to its middle
    let route = r
        .route(at(500.0, 0.0), at(2000.0, 1500.0), depart)
        .expect("route");
    let steps = r.steps(&route);
    let names: Vec<Option<&str>> = steps.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(
        names,
        [Some("Row 0"), Some("Col 2"), Some("Col 2")],
        "{steps:?}"
    );
    let kinds: Vec<(&str, Option<&str>)> = steps
        .iter()
        .map(|s| (s.maneuver.kind, s.maneuver.modifier))
        .collect();
    assert_eq!(
        kinds,
        [("depart", None), ("turn", Some("left")), ("arrive", None)]
    );
    assert!((steps[0].distance_m - 1500.0).abs() < 3.0, "{steps:?}");
    assert!((steps[1].distance_m - 1500.0).abs() < 3.0, "{steps:?}");
    let total: f64 = steps.iter().map(|s| s.eta_sec).sum();
    assert!((total - route.eta_s).abs() < 1e-6);
    assert_eq!(steps[1].maneuver.bearing_before.map(f64::round), Some(90.0));
    assert_eq!(steps[1].maneuver.bearing_after.map(f64::round), Some(0.0));
}

#[test]
fn stops_are_visited_in_order_and_alternatives_differ() {
    let r = grid();
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    // (0,0) → (2,0) by way of (1,2): up and back down, each leg leaving when the last arrives
    let legs = r
        .route_via(&[at(0.0, 0.0), at(1000.0, 2000.0), at(2000.0, 0.0)], depart)
        .expect("legs");
    assert_eq!(legs.len(), 2);
    assert!(
        (legs[0].distance_m - 3000.0).abs() < 5.0,
        "{}",
        legs[0].distance_m
    );
    assert!(
        (legs[1].distance_m - 3000.0).abs() < 5.0,
        "{}",
        legs[1].distance_m
    );
    assert!((legs[1].depart - (legs[0].depart + legs[0].eta_s)).abs() < 1e-3);
    // corner to corner there are several equally short ways: alternatives share little
    let alts = r
        .alternatives(at(0.0, 0.0), at(2000.0, 2000.0), depart, 2)
        .expect("routes");
    assert_eq!(alts.len(), 3, "{alts:?}");
    for a in &alts {
        assert!((a.distance_m - 4000.0).abs() < 5.0, "{}", a.distance_m);
    }
    let sets: Vec<HashSet<i64>> = alts
        .iter()
        .map(|a| a.pieces.iter().map(|p| p.gid).collect())
        .collect();
    assert_ne!(sets[0], sets[1]);
    assert_ne!(sets[1], sets[2]);
    assert_ne!(sets[0], sets[2]);
    // a stop at sea is named as the stop
    assert_eq!(
        r.route_via(
            &[at(0.0, 0.0), at(1000.0, 50_000.0), at(2000.0, 0.0)],
            depart
        ),
        Err(RouteError::NoRoad("stop"))
    );
}

#[test]
fn a_point_by_a_cut_off_road_snaps_to_the_network_beside_it() {
    // the grid, and 40 m south of its corner a 200-m road that joins nothing (a car park)
    let mut rows = Vec::new();
    for (gid, a, b, pts) in [
        (1, 1, 2, [(0.0, 0.0), (1000.0, 0.0)]),
        (2, 2, 3, [(1000.0, 0.0), (1000.0, 1000.0)]),
        (3, 3, 1, [(1000.0, 1000.0), (0.0, 0.0)]),
        (4, 8, 9, [(100.0, -40.0), (300.0, -40.0)]),
        (5, 10, 11, [(100.0, -2000.0), (300.0, -2000.0)]),
    ] {
        rows.push(way(gid, a, b, &pts, false));
    }
    let r = Router::new(MatchGraph::new(&rows), &HashSet::new());
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    // 35 m from the car park, 75 m from the road: routed from the road
    let route = r.route(at(200.0, -75.0), at(1000.0, 500.0), depart);
    let route = route.expect("routed from the main network");
    assert!(
        fleet_geo::haversine_m(route.snapped.0, at(200.0, 0.0)) < 1.0,
        "{:?}",
        route.snapped
    );
    // with only a cut-off road near, it is that road (and no way out of it)
    assert_eq!(
        r.route(at(200.0, -2010.0), at(1000.0, 500.0), depart)
            .map(|r| r.distance_m),
        Err(RouteError::Unreachable)
    );
}

/// Row 0's first block east into Col 1 north (a left turn at (1,0)) and Col 0's first block
/// north into Row 1 east (a right turn at (0,1)), as restrictions on the grid's edges.
fn ban(only: bool, from: i64, to: i64) -> TurnRestriction {
    TurnRestriction {
        only,
        from: (from, true),
        to: (to, true),
    }
}

#[test]
fn banned_turns_are_not_taken_and_a_later_arrival_may_turn() {
    let mut r = grid();
    let depart = Utc
        .with_ymd_and_hms(2026, 11, 30, 6, 0, 0)
        .single()
        .expect("time");
    let free = r
        .route(at(0.0, 0.0), at(1000.0, 1000.0), depart)
        .expect("route");
    assert!((free.distance_m - 2000.0).abs() < 5.0);
    assert_eq!(r.set_restrictions([ban(false, 1, 9), ban(false, 7, 3)]), 2);
    // both 2-km ways turn where it is banned: 4 km round a block
    let around = r
        .route(at(0.0, 0.0), at(1000.0, 1000.0), depart)
        .expect("route");
    assert!(
        (around.distance_m - 4000.0).abs() < 5.0,
        "{}",
        around.distance_m
    );
    // halfway up Col 1: the earliest arrival at (1,0) (from the west) may not turn north, a
    // later one (back from (2,0)) may — a search with one label per node would miss it
    let later = r
        .route(at(0.0, 0.0), at(1000.0, 500.0), depart)
        .expect("route");
    assert!(
        (later.distance_m - 3500.0).abs() < 5.0,
        "{}",
        later.distance_m
    );
    let gids: Vec<i64> = later.pieces.iter().map(|p| p.gid).collect();
    assert_eq!(gids, [1, 2, 2, 9], "{:?}", later.pieces);
    // a start along the banned road in: on to (2,0) and back
    let along = r
        .route(at(500.0, 0.0), at(1000.0, 500.0), depart)
        .expect("route");
    assert!(
        (along.distance_m - 3000.0).abs() < 5.0,
        "{}",
        along.distance_m
    );
    // only straight on from Row 0 at (1,0): north and the U-turn back are banned too
    let mut r = grid();
    assert_eq!(r.set_restrictions([ban(true, 1, 2)]), 1);
    let only = r
        .route(at(500.0, 0.0), at(1000.0, 500.0), depart)
        .expect("route");
    assert_eq!(
        only.pieces.iter().map(|p| p.gid).collect::<Vec<_>>(),
        [1, 2, 2, 9]
    );
    // a restriction between roads that do not meet, or on a road not in the graph: left out
    assert_eq!(r.set_restrictions([ban(false, 1, 4), ban(false, 99, 2)]), 0);
}

/// An edge-based time-dependent Dijkstra written apart from the router: labels per edge
/// driven, so a banned pair (in, out) is never taken.
fn reference_with_bans(
    r: &Router,
    from: u32,
    to: u32,
    t0: f64,
    banned: &HashSet<(u32, u32)>,
) -> Option<f64> {
    let g = r.graph();
    let drive = |e: u32, metres: f64, t: f64| drive(r, e, metres, t);
    if from == to {
        return Some(t0);
    }
    let mut arrive = vec![f64::INFINITY; g.edges.len()];
    let mut done = vec![false; g.edges.len()];
    let mut heap = std::collections::BinaryHeap::new();
    for &e in g.out(from) {
        let t = drive(e, g.edges[e as usize].length_m, t0);
        if t < arrive[e as usize] {
            arrive[e as usize] = t;
            heap.push(std::cmp::Reverse((ordered(t), e)));
        }
    }
    let mut best = f64::INFINITY;
    while let Some(std::cmp::Reverse((_, e))) = heap.pop() {
        if std::mem::replace(&mut done[e as usize], true) {
            continue;
        }
        let (v, t) = (g.edges[e as usize].to, arrive[e as usize]);
        if v == to {
            best = best.min(t);
        }
        for &o in g.out(v) {
            if banned.contains(&(e, o)) {
                continue;
            }
            let ta = drive(o, g.edges[o as usize].length_m, t);
            if ta < arrive[o as usize] {
                arrive[o as usize] = ta;
                heap.push(std::cmp::Reverse((ordered(ta), o)));
            }
        }
    }
    best.is_finite().then_some(best)
}

#[test]
fn with_turn_restrictions_the_search_is_still_exact() {
    let parsed = osm::parse(MONACO_PBF).expect("Monaco");
    let mut r = Router::new(MatchGraph::new(&parsed.ways), &HashSet::new());
    // a tenth of the turns at junctions banned at random
    let mut rng = fleet_core::rng::Rng(11);
    let (mut banned, mut rows) = (HashSet::new(), Vec::new());
    let g = r.graph();
    for (a, ea) in g.edges.iter().enumerate() {
        for &b in g.out(ea.to) {
            if rng.below(10) == 0 {
                let eb = g.edges[b as usize];
                banned.insert((a as u32, b));
                rows.push(TurnRestriction {
                    only: false,
                    from: (ea.gid, ea.forward),
                    to: (eb.gid, eb.forward),
                });
            }
        }
    }
    let applied = r.set_restrictions(rows.clone());
    assert_eq!(applied, rows.len());
    let edges = r.graph().edges.len();
    let mut compared = 0;
    for i in 0..80 {
        let (a, b) = (rng.below(edges) as u32, rng.below(edges) as u32);
        let (pa, pb) = (node_point(&r, a), node_point(&r, b));
        let depart = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .single()
            .expect("time")
            + chrono::Duration::seconds(rng.below(7 * 86_400) as i64);
        let t0 = depart.timestamp() as f64;
        let Ok(route) = r.route(pa, pb, depart) else {
            continue;
        };
        if fleet_geo::haversine_m(route.snapped.0, pa) > 0.1
            || fleet_geo::haversine_m(route.snapped.1, pb) > 0.1
        {
            continue;
        }
        let (from, to) = (
            r.graph().edges[a as usize].from,
            r.graph().edges[b as usize].from,
        );
        let want = reference_with_bans(&r, from, to, t0, &banned).expect("reachable");
        assert!(
            (route.eta_s - (want - t0)).abs() < 1e-3,
            "pair {i}: ours {} s, reference {} s",
            route.eta_s,
            want - t0
        );
        for w in route.pieces.windows(2) {
            assert!(
                !banned.contains(&(w[0].edge, w[1].edge)),
                "pair {i} takes a banned turn"
            );
        }
        compared += 1;
    }
    assert!(compared >= 30, "{compared} compared");
}
