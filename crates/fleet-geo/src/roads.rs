//! A road graph in memory: drivable OSM ways as a directed graph, kept to its largest
//! strongly-usable component, with fastest-path routing (Dijkstra on travel time).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use osmpbf::{Element, ElementReader};

use crate::{Point, haversine_m};

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: usize,
    pub length_m: f64,
    pub speed_kmh: f64,
}

/// A directed road graph.
#[derive(Debug, Default)]
pub struct Roads {
    pub nodes: Vec<Point>,
    pub edges: Vec<Vec<Edge>>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoadsError {
    #[error("cannot read the OSM extract: {0}")]
    Read(String),
    #[error("the OSM extract has no drivable roads")]
    Empty,
}

/// Default speed by OSM highway class, km/h.
pub fn class_speed(highway: &str) -> Option<f64> {
    Some(match highway {
        "motorway" => 90.0,
        "trunk" => 70.0,
        "primary" => 50.0,
        "secondary" => 45.0,
        "tertiary" => 40.0,
        "motorway_link" | "trunk_link" | "primary_link" | "secondary_link" | "tertiary_link" => {
            35.0
        }
        "unclassified" | "residential" => 30.0,
        "living_street" => 15.0,
        "service" => 20.0,
        _ => return None,
    })
}

impl Roads {
    /// Builds the graph from an `.osm.pbf` in memory.
    pub fn from_pbf(bytes: &[u8]) -> Result<Self, RoadsError> {
        let mut coords: HashMap<i64, Point> = HashMap::new();
        let mut ways: Vec<(Vec<i64>, f64, bool)> = Vec::new();
        ElementReader::new(std::io::Cursor::new(bytes))
            .for_each(|el| match el {
                Element::DenseNode(n) => {
                    coords.insert(
                        n.id(),
                        Point {
                            lat: n.lat(),
                            lng: n.lon(),
                        },
                    );
                }
                Element::Node(n) => {
                    coords.insert(
                        n.id(),
                        Point {
                            lat: n.lat(),
                            lng: n.lon(),
                        },
                    );
                }
                Element::Way(w) => {
                    let tags: HashMap<&str, &str> = w.tags().collect();
                    let Some(speed) = tags.get("highway").and_then(|h| class_speed(h)) else {
                        return;
                    };
                    if tags
                        .get("access")
                        .is_some_and(|a| *a == "no" || *a == "private")
                    {
                        return;
                    }
                    let speed = tags
                        .get("maxspeed")
                        .and_then(|m| crate::tags::maxspeed_kmh(m))
                        .unwrap_or(speed);
                    let mut refs: Vec<i64> = w.refs().collect();
                    let oneway = match crate::tags::direction(&tags) {
                        crate::tags::Direction::Both => false,
                        crate::tags::Direction::Forward => true,
                        crate::tags::Direction::Backward => {
                            refs.reverse();
                            true
                        }
                    };
                    ways.push((refs, speed, oneway));
                }
                _ => {}
            })
            .map_err(|e| RoadsError::Read(e.to_string()))?;
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut roads = Roads::default();
        for (refs, speed, oneway) in &ways {
            for pair in refs.windows(2) {
                let (Some(a), Some(b)) = (coords.get(&pair[0]), coords.get(&pair[1])) else {
                    continue;
                };
                let mut id = |osm: i64, p: Point, r: &mut Roads| {
                    *index.entry(osm).or_insert_with(|| {
                        r.nodes.push(p);
                        r.edges.push(Vec::new());
                        r.nodes.len() - 1
                    })
                };
                let (ia, ib) = (id(pair[0], *a, &mut roads), id(pair[1], *b, &mut roads));
                let length_m = haversine_m(*a, *b);
                if length_m <= 0.0 {
                    continue;
                }
                roads.edges[ia].push(Edge {
                    to: ib,
                    length_m,
                    speed_kmh: *speed,
                });
                if !oneway {
                    roads.edges[ib].push(Edge {
                        to: ia,
                        length_m,
                        speed_kmh: *speed,
                    });
                }
            }
        }
        let roads = roads.largest_component();
        if roads.nodes.len() < 2 {
            return Err(RoadsError::Empty);
        }
        Ok(roads)
    }

    /// Keeps the nodes reachable from and to the best-connected node, so any trip between two kept
    /// nodes has a route (no dead-end traps behind one-way streets).
    fn largest_component(self) -> Roads {
        let n = self.nodes.len();
        if n == 0 {
            return self;
        }
        let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (from, es) in self.edges.iter().enumerate() {
            for e in es {
                reverse[e.to].push(from);
            }
        }
        let reach = |start: usize, next: &dyn Fn(usize) -> Vec<usize>| {
            let mut seen = vec![false; n];
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(v) = stack.pop() {
                for w in next(v) {
                    if !seen[w] {
                        seen[w] = true;
                        stack.push(w);
                    }
                }
            }
            seen
        };
        let mut best: Option<Vec<bool>> = None;
        let mut best_count = 0;
        // Try a few seeds spread over the graph; keep the largest strongly connected set found.
        for seed in (0..n).step_by((n / 16).max(1)) {
            if best.as_ref().is_some_and(|b| b[seed]) {
                continue;
            }
            let fwd = reach(seed, &|v| self.edges[v].iter().map(|e| e.to).collect());
            let bwd = reach(seed, &|v| reverse[v].clone());
            let both: Vec<bool> = fwd.iter().zip(&bwd).map(|(a, b)| *a && *b).collect();
            let count = both.iter().filter(|x| **x).count();
            if count > best_count {
                best_count = count;
                best = Some(both);
            }
        }
        let keep = best.unwrap_or_else(|| vec![true; n]);
        let mut remap = vec![usize::MAX; n];
        let mut out = Roads::default();
        for (i, k) in keep.iter().enumerate() {
            if *k {
                remap[i] = out.nodes.len();
                out.nodes.push(self.nodes[i]);
            }
        }
        out.edges = vec![Vec::new(); out.nodes.len()];
        for (i, es) in self.edges.into_iter().enumerate() {
            if !keep[i] {
                continue;
            }
            for e in es {
                if keep[e.to] {
                    out.edges[remap[i]].push(Edge {
                        to: remap[e.to],
                        ..e
                    });
                }
            }
        }
        out
    }

    /// Fastest path from `a` to `b` as node indices (both included), or `None` if unreachable.
    pub fn route(&self, a: usize, b: usize) -> Option<Vec<usize>> {
        #[derive(PartialEq)]
        struct State(f64, usize);
        impl Eq for State {}
        impl PartialOrd for State {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for State {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
            }
        }
        let n = self.nodes.len();
        let mut dist = vec![f64::INFINITY; n];
        let mut prev = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[a] = 0.0;
        heap.push(State(0.0, a));
        while let Some(State(d, v)) = heap.pop() {
            if v == b {
                break;
            }
            if d > dist[v] {
                continue;
            }
            for e in &self.edges[v] {
                let nd = d + e.length_m / (e.speed_kmh / 3.6);
                if nd < dist[e.to] {
                    dist[e.to] = nd;
                    prev[e.to] = v;
                    heap.push(State(nd, e.to));
                }
            }
        }
        if !dist[b].is_finite() {
            return None;
        }
        let mut path = vec![b];
        let mut v = b;
        while v != a {
            v = prev[v];
            path.push(v);
        }
        path.reverse();
        Some(path)
    }

    /// The speed limit of the edge `a → b`.
    pub fn edge_speed(&self, a: usize, b: usize) -> f64 {
        self.edges[a]
            .iter()
            .find(|e| e.to == b)
            .map(|e| e.speed_kmh)
            .unwrap_or(30.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MONACO_PBF, bearing_deg};

    #[test]
    fn monaco_builds_a_routable_graph() {
        let roads = Roads::from_pbf(MONACO_PBF).expect("monaco");
        assert!(roads.nodes.len() > 1000, "{} nodes", roads.nodes.len());
        for p in &roads.nodes {
            assert!(
                (43.6..43.8).contains(&p.lat) && (7.3..7.5).contains(&p.lng),
                "{p:?} is not in Monaco"
            );
        }
        // Every pair tried has a route (the graph is strongly connected).
        let n = roads.nodes.len();
        for (a, b) in [(0, n - 1), (n / 3, n / 2), (n / 2, 7)] {
            let path = roads.route(a, b).expect("route");
            assert_eq!((path[0], *path.last().expect("end")), (a, b));
            for w in path.windows(2) {
                assert!(
                    roads.edges[w[0]].iter().any(|e| e.to == w[1]),
                    "the path follows edges"
                );
            }
        }
    }

    #[test]
    fn distances_and_bearings() {
        let a = Point {
            lat: -1.2921,
            lng: 36.8219,
        };
        let b = Point {
            lat: -1.2921,
            lng: 36.8319,
        };
        assert!((haversine_m(a, b) - 1112.0).abs() < 5.0);
        assert!((bearing_deg(a, b) - 90.0).abs() < 0.5);
    }
}
