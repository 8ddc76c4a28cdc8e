//! What the constructed-graph tests share: metres around a point near Nairobi, and a road row.
#![allow(dead_code)]

use fleet_geo::Point;
use fleet_geo::osm::WayRow;

pub const LAT0: f64 = -1.28;
pub const LNG0: f64 = 36.82;

/// A point `east`, `north` metres from the origin.
pub fn at(east: f64, north: f64) -> Point {
    Point {
        lat: LAT0 + north / 111_320.0,
        lng: LNG0 + east / (111_320.0 * LAT0.to_radians().cos()),
    }
}

pub fn way(gid: i64, source: i64, target: i64, pts: &[(f64, f64)], one_way: bool) -> WayRow {
    let points: Vec<Point> = pts.iter().map(|&(e, n)| at(e, n)).collect();
    let length_m = points
        .windows(2)
        .map(|w| fleet_geo::haversine_m(w[0], w[1]))
        .sum();
    WayRow {
        gid,
        osm_id: gid,
        source,
        target,
        name: None,
        highway: "residential".into(),
        length_m,
        maxspeed_kmh: None,
        one_way,
        cost: length_m / 10.0,
        reverse_cost: if one_way { -1.0 } else { length_m / 10.0 },
        points,
        nodes: Vec::new(),
    }
}
