//! The matcher on constructed graphs: a straight road, parallel roads, one-way streets, U-turns,
//! gaps and outliers, bad input; and on the Monaco extract against driven ground truth.

use fleet_core::rng::Rng;
use fleet_geo::Point;
use fleet_geo::matching::hmm::{Fix, Matcher, Params, Skip};
use fleet_geo::matching::{MatchGraph, truth};

mod common;
use common::{at, way};

fn fixes(pts: &[(f64, f64, f64)]) -> Vec<Fix> {
    pts.iter()
        .map(|&(t, e, n)| Fix {
            time: t,
            at: at(e, n),
        })
        .collect()
}

fn gids(m: &fleet_geo::matching::Matched) -> Vec<(i64, bool)> {
    let mut out: Vec<(i64, bool)> = Vec::new();
    for seg in &m.segments {
        for p in seg {
            if out.last() != Some(&(p.gid, p.forward)) {
                out.push((p.gid, p.forward));
            }
        }
    }
    out
}

#[test]
fn a_straight_road_is_followed_edge_by_edge_with_times() {
    // three edges in a row, west to east
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 0.0), (200.0, 0.0)], false),
        way(2, 2, 3, &[(200.0, 0.0), (400.0, 0.0)], false),
        way(3, 3, 4, &[(400.0, 0.0), (600.0, 0.0)], false),
    ]);
    let mut m = Matcher::new(&g, Params::default());
    let r = m.match_trace(&fixes(&[
        (0.0, 20.0, 6.0),
        (10.0, 150.0, -5.0),
        (20.0, 280.0, 4.0),
        (30.0, 420.0, -3.0),
        (40.0, 560.0, 2.0),
    ]));
    assert_eq!(gids(&r), vec![(1, true), (2, true), (3, true)]);
    assert!(r.breaks.is_empty() && r.skipped.is_empty(), "{r:?}");
    let f = &r.fixes[1];
    assert_eq!((f.gid, f.forward), (1, true));
    assert!(
        (f.offset_m - 150.0).abs() < 2.0 && (f.distance_m - 5.0).abs() < 1.0,
        "{f:?}"
    );
    // edge 2 was entered between the fixes at 10 s (150 m) and 20 s (280 m): at about 13.8 s
    let e2 = r.segments[0].iter().find(|p| p.gid == 2).expect("edge 2");
    assert!(
        (e2.entered - 13.85).abs() < 0.3 && (e2.left - 28.6).abs() < 0.3,
        "{e2:?}"
    );
    assert!((e2.driven_m - 200.0).abs() < 1.0);
}

#[test]
fn of_two_parallel_roads_the_connected_one_wins() {
    // a main road and, 25 m north, a parallel service road that is not connected to it: noisy
    // fixes nearer the service road in the middle stay on the main road
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 0.0), (300.0, 0.0)], false),
        way(2, 2, 3, &[(300.0, 0.0), (600.0, 0.0)], false),
        way(9, 8, 9, &[(100.0, 25.0), (500.0, 25.0)], false),
    ]);
    let mut m = Matcher::new(&g, Params::default());
    let r = m.match_trace(&fixes(&[
        (0.0, 10.0, 2.0),
        (10.0, 120.0, 14.0),
        (20.0, 240.0, 15.0),
        (30.0, 360.0, 13.0),
        (40.0, 480.0, 3.0),
        (50.0, 590.0, 1.0),
    ]));
    assert_eq!(gids(&r), vec![(1, true), (2, true)]);
}

#[test]
fn one_way_streets_are_driven_their_way_only() {
    // a one-way street west→east (gid 1) and a two-way street 30 m south (gid 2), joined at both
    // ends; fixes going east→west in between cannot use the one-way street
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 15.0), (400.0, 15.0)], true),
        way(2, 1, 2, &[(0.0, -15.0), (400.0, -15.0)], false),
        way(3, 2, 3, &[(400.0, 15.0), (400.0, 100.0)], false),
    ]);
    let mut m = Matcher::new(
        &g,
        Params {
            sigma_m: 15.0,
            ..Params::default()
        },
    );
    let r = m.match_trace(&fixes(&[
        (0.0, 380.0, 2.0),
        (10.0, 280.0, 1.0),
        (20.0, 180.0, 0.0),
        (30.0, 80.0, -1.0),
    ]));
    assert_eq!(gids(&r), vec![(2, false)], "{r:?}");
    let r = m.match_trace(&fixes(&[
        (0.0, 20.0, 2.0),
        (10.0, 120.0, 1.0),
        (20.0, 220.0, 0.0),
        (30.0, 320.0, -1.0),
    ]));
    assert!(
        gids(&r).iter().all(|(_, fwd)| *fwd),
        "both go east: {:?}",
        gids(&r)
    );
}

#[test]
fn a_uturn_mid_road_is_a_uturn_and_costs_something() {
    let g = MatchGraph::new(&[way(1, 1, 2, &[(0.0, 0.0), (500.0, 0.0)], false)]);
    let mut m = Matcher::new(&g, Params::default());
    let r = m.match_trace(&fixes(&[
        (0.0, 50.0, 3.0),
        (10.0, 150.0, -3.0),
        (20.0, 250.0, 2.0),
        (30.0, 150.0, -2.0),
        (40.0, 50.0, 1.0),
    ]));
    assert_eq!(gids(&r), vec![(1, true), (1, false)]);
    let driven: f64 = r.segments[0].iter().map(|p| p.driven_m).sum();
    assert!((driven - 400.0).abs() < 10.0, "{driven}");
}

#[test]
fn gaps_break_the_trace_instead_of_inventing_a_path() {
    // two roads 3 km apart, not connected
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 0.0), (300.0, 0.0)], false),
        way(2, 3, 4, &[(3000.0, 0.0), (3300.0, 0.0)], false),
    ]);
    let mut m = Matcher::new(&g, Params::default());
    let r = m.match_trace(&fixes(&[
        (0.0, 10.0, 0.0),
        (10.0, 110.0, 0.0),
        (20.0, 210.0, 0.0),
        (200.0, 3010.0, 0.0),
        (210.0, 3110.0, 0.0),
        (220.0, 3210.0, 0.0),
    ]));
    assert_eq!(r.breaks, vec![3]);
    assert_eq!(r.segments.len(), 2);
    assert_eq!(gids(&r), vec![(1, true), (2, true)]);
}

#[test]
fn an_outlier_is_skipped_and_bad_input_is_named() {
    let g = MatchGraph::new(&[
        way(1, 1, 2, &[(0.0, 0.0), (400.0, 0.0)], false),
        way(2, 2, 3, &[(400.0, 0.0), (800.0, 0.0)], false),
        // a road 120 m north, not connected
        way(7, 7, 8, &[(0.0, 120.0), (800.0, 120.0)], false),
    ]);
    let mut m = Matcher::new(&g, Params::default());
    let mut f = fixes(&[
        (0.0, 10.0, 0.0),
        (10.0, 110.0, 0.0),
        (20.0, 210.0, 121.0),
        (30.0, 310.0, 0.0),
        (40.0, 410.0, 0.0),
    ]);
    // then: a fix far from any road, (0,0), a duplicate time and one out of order
    f.push(Fix {
        time: 50.0,
        at: at(500.0, 400.0),
    });
    f.push(Fix {
        time: 55.0,
        at: Point { lat: 0.0, lng: 0.0 },
    });
    f.push(Fix {
        time: 40.0,
        at: at(420.0, 0.0),
    });
    f.push(Fix {
        time: 30.0,
        at: at(430.0, 0.0),
    });
    f.push(Fix {
        time: 60.0,
        at: at(600.0, 1.0),
    });
    let r = m.match_trace(&f);
    assert_eq!(gids(&r), vec![(1, true), (2, true)], "{r:?}");
    let skipped: Vec<(usize, Skip)> = r.skipped.clone();
    assert_eq!(
        skipped,
        vec![
            (2, Skip::Outlier),
            (5, Skip::NoRoad),
            (6, Skip::InvalidPosition),
            (7, Skip::DuplicateTime),
            (8, Skip::OutOfOrder)
        ]
    );
    assert!(r.breaks.is_empty());
    // an empty graph matches nothing and says so by skipping every fix as off-road
    let empty = MatchGraph::new(&[]);
    let r = Matcher::new(&empty, Params::default())
        .match_trace(&fixes(&[(0.0, 0.0, 0.0), (1.0, 5.0, 0.0)]));
    assert!(r.segments.is_empty() && r.skipped.len() == 2);
}

#[test]
fn driven_ground_truth_on_monaco_is_matched_closely() {
    let parsed = fleet_geo::osm::parse(fleet_geo::MONACO_PBF).expect("monaco");
    let g = MatchGraph::new(&parsed.ways);
    let mut rng = Rng(7);
    let mut m = Matcher::new(&g, Params::default());
    let mut total = truth::Score::default();
    for _ in 0..20 {
        let d = truth::drive(&g, &mut rng, 3000.0).expect("a drive");
        let s = truth::sample(
            &g,
            d,
            truth::Sampling {
                interval_s: 10.0,
                noise_m: 10.0,
                outlier_rate: 0.0,
            },
            &mut rng,
        );
        let r = m.match_trace(&s.fixes);
        total.add(&truth::score(&g, &s, &r));
    }
    // a floor that catches a broken matcher; the targets are in `fleet bench match`
    assert!(
        total.correct() > 0.9,
        "correct {:.3} mismatch {:.3} fixes {:.3}",
        total.correct(),
        total.mismatch(),
        total.fix_share()
    );
}

#[test]
fn a_long_diagonal_road_is_found_along_it_and_fills_only_the_cells_it_crosses() {
    // 20 km north-east between two nodes (a desert road): about 200 cells of 100 m along it,
    // not the 20,000 of its bounding box
    let g = MatchGraph::new(&[way(1, 1, 2, &[(0.0, 0.0), (14_142.0, 14_142.0)], false)]);
    assert!(g.grid_cells() < 1_000, "{} cells", g.grid_cells());
    let mut near = Vec::new();
    for k in 1..10 {
        let d = 1_414.2 * k as f64;
        g.near(at(d + 20.0, d - 20.0), 50.0, &mut near);
        assert_eq!(near.len(), 1, "found {k} tenths along");
        assert!(
            (near[0].distance_m - 28.3).abs() < 1.0,
            "{}",
            near[0].distance_m
        );
    }
    g.near(at(7_000.0, 7_300.0), 50.0, &mut near);
    assert!(near.is_empty(), "200 m off the road");
}
