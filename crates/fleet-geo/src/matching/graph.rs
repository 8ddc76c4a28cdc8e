//! The road graph as the matcher needs it: directed edges (a two-way segment is two, twins of
//! each other), a compact adjacency, the segments' polylines, and a uniform grid over them for
//! the candidate search. Built from `geo.ways` rows (whatever put them there: the OSM loader, or
//! SQL by hand) or straight from an extract.

use std::collections::HashMap;

use crate::Point;
use crate::osm::WayRow;

/// One directed edge: a `geo.ways` row driven forward (source → target) or backward.
#[derive(Debug, Clone, Copy)]
pub struct DirEdge {
    pub gid: i64,
    pub forward: bool,
    pub from: u32,
    pub to: u32,
    pub length_m: f64,
    /// Free-flow speed from the row's cost, m/s.
    pub speed_mps: f64,
    /// Index of the row in [`MatchGraph::ways`].
    pub way: u32,
}

/// A row's geometry.
#[derive(Debug, Clone)]
pub struct WayGeom {
    pub gid: i64,
    /// Range of its points in [`MatchGraph::points`] (source to target).
    pub first: u32,
    pub count: u32,
    pub length_m: f64,
    pub forward: Option<u32>,
    pub backward: Option<u32>,
}

/// Where a point projects onto a row.
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    pub way: u32,
    /// Distance from the fix, m.
    pub distance_m: f64,
    /// Distance along the row from its source, m.
    pub offset_m: f64,
    pub at: Point,
}

pub struct MatchGraph {
    pub edges: Vec<DirEdge>,
    pub ways: Vec<WayGeom>,
    pub points: Vec<Point>,
    /// Distance from the row's source to each point, m.
    cum: Vec<f64>,
    out_start: Vec<u32>,
    out_edges: Vec<u32>,
    twin: Vec<u32>,
    nodes: usize,
    grid: HashMap<(i32, i32), Vec<(u32, u32)>>,
    cell_lat: f64,
    cell_lng: f64,
}

const NO_TWIN: u32 = u32::MAX;

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_320.0;

impl MatchGraph {
    /// Builds the graph; rows with fewer than two points or no allowed direction are left out.
    pub fn new(rows: &[WayRow]) -> Self {
        let mut node_ids: HashMap<i64, u32> = HashMap::new();
        let mut node = |id: i64| -> u32 {
            let n = node_ids.len() as u32;
            *node_ids.entry(id).or_insert(n)
        };
        let mut edges = Vec::new();
        let mut ways = Vec::new();
        let mut points = Vec::new();
        let mut cum = Vec::new();
        let mut twin = Vec::new();
        let mean_lat = if rows.is_empty() {
            0.0
        } else {
            rows.iter()
                .filter_map(|r| r.points.first())
                .map(|p| p.lat)
                .sum::<f64>()
                / rows.len() as f64
        };
        for r in rows {
            if r.points.len() < 2 || r.length_m <= 0.0 || (r.cost < 0.0 && r.reverse_cost < 0.0) {
                continue;
            }
            let (a, b) = (node(r.source), node(r.target));
            let w = ways.len() as u32;
            let first = points.len() as u32;
            let mut d = 0.0;
            for (i, p) in r.points.iter().enumerate() {
                if i > 0 {
                    d += crate::haversine_m(r.points[i - 1], *p);
                }
                points.push(*p);
                cum.push(d);
            }
            // the row's own length (the loader's) and the polyline's agree up to rounding; the
            // polyline's is the one offsets are measured on
            let length_m = d.max(0.01);
            let mut geom = WayGeom {
                gid: r.gid,
                first,
                count: r.points.len() as u32,
                length_m,
                forward: None,
                backward: None,
            };
            // a direction the row allows (cost ≥ 0) is a directed edge at the row's speed
            let mut direct = |forward: bool, cost: f64, from: u32, to: u32| {
                (cost >= 0.0).then(|| {
                    edges.push(DirEdge {
                        gid: r.gid,
                        forward,
                        from,
                        to,
                        length_m,
                        speed_mps: if cost > 0.0 {
                            (r.length_m / cost).clamp(0.5, 60.0)
                        } else {
                            13.9
                        },
                        way: w,
                    });
                    twin.push(NO_TWIN);
                    edges.len() as u32 - 1
                })
            };
            geom.forward = direct(true, r.cost, a, b);
            geom.backward = direct(false, r.reverse_cost, b, a);
            if let (Some(f), Some(b)) = (geom.forward, geom.backward) {
                twin[f as usize] = b;
                twin[b as usize] = f;
            }
            ways.push(geom);
        }
        let nodes = node_ids.len();
        let mut out_start = vec![0u32; nodes + 1];
        for e in &edges {
            out_start[e.from as usize + 1] += 1;
        }
        for i in 0..nodes {
            out_start[i + 1] += out_start[i];
        }
        let mut fill = out_start.clone();
        let mut out_edges = vec![0u32; edges.len()];
        for (i, e) in edges.iter().enumerate() {
            out_edges[fill[e.from as usize] as usize] = i as u32;
            fill[e.from as usize] += 1;
        }
        // a grid of about 100 m cells over every piece of every row
        let cell_lat = 100.0 / M_PER_DEG;
        let cell_lng = cell_lat / mean_lat.to_radians().cos().max(0.05);
        let mut g = Self {
            edges,
            ways,
            points,
            cum,
            out_start,
            out_edges,
            twin,
            nodes,
            grid: HashMap::new(),
            cell_lat,
            cell_lng,
        };
        let mut grid: HashMap<(i32, i32), Vec<(u32, u32)>> = HashMap::new();
        for (w, geom) in g.ways.iter().enumerate() {
            for s in 0..geom.count - 1 {
                let (p, q) = (
                    g.points[(geom.first + s) as usize],
                    g.points[(geom.first + s + 1) as usize],
                );
                // the cells along the piece, not its bounding box: a long diagonal road (50 km
                // across the desert between two nodes) would otherwise fill a square of cells
                let steps = ((q.lng - p.lng).abs() / g.cell_lng)
                    .max((q.lat - p.lat).abs() / g.cell_lat)
                    .ceil()
                    .max(1.0) as usize;
                let at = |k: usize| {
                    let t = k as f64 / steps as f64;
                    (
                        g.cell_x(p.lng + t * (q.lng - p.lng)),
                        g.cell_y(p.lat + t * (q.lat - p.lat)),
                    )
                };
                let mut prev = at(0);
                for k in 0..=steps {
                    let cur = at(k);
                    for x in prev.0.min(cur.0)..=prev.0.max(cur.0) {
                        for y in prev.1.min(cur.1)..=prev.1.max(cur.1) {
                            let cell = grid.entry((x, y)).or_default();
                            if cell.last() != Some(&(w as u32, s)) {
                                cell.push((w as u32, s));
                            }
                        }
                    }
                    prev = cur;
                }
            }
        }
        g.grid = grid;
        g
    }

    fn cell_x(&self, lng: f64) -> i32 {
        (lng / self.cell_lng).floor() as i32
    }

    fn cell_y(&self, lat: f64) -> i32 {
        (lat / self.cell_lat).floor() as i32
    }

    /// How many cells of the candidate grid hold a piece of road (its memory grows with this).
    pub fn grid_cells(&self) -> usize {
        self.grid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// The edges leaving `node`.
    pub fn out(&self, node: u32) -> &[u32] {
        let (a, b) = (
            self.out_start[node as usize] as usize,
            self.out_start[node as usize + 1] as usize,
        );
        &self.out_edges[a..b]
    }

    /// The same row driven the other way, if it may be.
    pub fn twin(&self, edge: u32) -> Option<u32> {
        let t = self.twin[edge as usize];
        (t != NO_TWIN).then_some(t)
    }

    /// The best projection of `p` onto every row within `radius_m`, nearest first.
    pub fn near(&self, p: Point, radius_m: f64, out: &mut Vec<Projection>) {
        out.clear();
        let k = p.lat.to_radians().cos() * M_PER_DEG;
        let (dx, dy) = (radius_m / k, radius_m / M_PER_DEG);
        let (x0, x1) = (self.cell_x(p.lng - dx), self.cell_x(p.lng + dx));
        let (y0, y1) = (self.cell_y(p.lat - dy), self.cell_y(p.lat + dy));
        for x in x0..=x1 {
            for y in y0..=y1 {
                let Some(pieces) = self.grid.get(&(x, y)) else {
                    continue;
                };
                for &(w, s) in pieces {
                    let geom = &self.ways[w as usize];
                    let i = (geom.first + s) as usize;
                    let (a, b) = (self.points[i], self.points[i + 1]);
                    // local metres around the fix
                    let (ax, ay) = ((a.lng - p.lng) * k, (a.lat - p.lat) * M_PER_DEG);
                    let (bx, by) = ((b.lng - p.lng) * k, (b.lat - p.lat) * M_PER_DEG);
                    let (vx, vy) = (bx - ax, by - ay);
                    let len2 = vx * vx + vy * vy;
                    let t = if len2 > 0.0 {
                        (-(ax * vx + ay * vy) / len2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let (cx, cy) = (ax + t * vx, ay + t * vy);
                    let d = (cx * cx + cy * cy).sqrt();
                    if d > radius_m {
                        continue;
                    }
                    let offset = self.cum[i] + t * (self.cum[i + 1] - self.cum[i]);
                    let at = Point {
                        lat: a.lat + t * (b.lat - a.lat),
                        lng: a.lng + t * (b.lng - a.lng),
                    };
                    match out.iter_mut().find(|c| c.way == w) {
                        Some(c) if c.distance_m <= d => {}
                        Some(c) => {
                            *c = Projection {
                                way: w,
                                distance_m: d,
                                offset_m: offset,
                                at,
                            }
                        }
                        None => out.push(Projection {
                            way: w,
                            distance_m: d,
                            offset_m: offset,
                            at,
                        }),
                    }
                }
            }
        }
        out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    }

    /// The point `offset_m` along a row from its source.
    pub fn point_at(&self, way: u32, offset_m: f64) -> Point {
        let geom = &self.ways[way as usize];
        let (first, last) = (geom.first as usize, (geom.first + geom.count - 1) as usize);
        let off = offset_m.clamp(0.0, self.cum[last]);
        let mut i = first;
        while i + 1 < last && self.cum[i + 1] < off {
            i += 1;
        }
        let seg = self.cum[i + 1] - self.cum[i];
        let t = if seg > 0.0 {
            (off - self.cum[i]) / seg
        } else {
            0.0
        };
        let (a, b) = (self.points[i], self.points[i + 1]);
        Point {
            lat: a.lat + t * (b.lat - a.lat),
            lng: a.lng + t * (b.lng - a.lng),
        }
    }

    /// Appends to `out` the points of row `way` from `from_m` to `to_m` along it (metres from its
    /// source; backward when `from_m > to_m`), leaving out a point equal to the last one there.
    pub fn polyline(&self, way: u32, from_m: f64, to_m: f64, out: &mut Vec<Point>) {
        let geom = &self.ways[way as usize];
        let (first, last) = (geom.first as usize, (geom.first + geom.count - 1) as usize);
        let mut push = |p: Point| {
            if out.last() != Some(&p) {
                out.push(p);
            }
        };
        push(self.point_at(way, from_m));
        if from_m <= to_m {
            for i in first..=last {
                if self.cum[i] > from_m && self.cum[i] < to_m {
                    push(self.points[i]);
                }
            }
        } else {
            for i in (first..=last).rev() {
                if self.cum[i] < from_m && self.cum[i] > to_m {
                    push(self.points[i]);
                }
            }
        }
        push(self.point_at(way, to_m));
    }
}
