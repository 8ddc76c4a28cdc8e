//! Routing: fastest routes over the road graph of `geo.ways` with the observed speeds of
//! [`crate::speeds`], time-dependent (the issue "Routing with observed speeds").
//!
//! - **The graph** is the matcher's ([`MatchGraph`]: directed edges, adjacency, geometry and the
//!   candidate grid for snapping), with per directed edge its free-flow speed (from the row's
//!   cost: its speed limit where `maxspeed_kmh` is set, else its road class's default), its
//!   all-hours observed speed, and its observed speed per EAT hour of the week, both only with
//!   at least `band_min_samples` traversals — the rule of `geo.observed_speed`.
//! - **Time-dependent cost.** A segment's speed is the one for the hour of the week *at which the
//!   route is on it*: its band, else its all-hours observed speed, else the free-flow speed. A
//!   traversal that crosses an hour boundary is driven at one speed up to it and at the next
//!   after, so arriving later never means leaving later (FIFO) and a label-setting search on
//!   arrival times is exact.
//! - **The search** is A* on arrival times with ALT bounds (Goldberg & Harrelson 2005): from up
//!   to 16 landmarks picked farthest-first, the travel time to and from every node at each
//!   edge's *fastest* speed of the week is kept, and the triangle inequality gives a lower bound
//!   on the time left that holds at any hour, so the search stays exact while it only looks
//!   towards the destination. It stops as soon as nothing left can arrive earlier. Why ALT and
//!   not contraction hierarchies: the weights change with every speed-band refresh and differ
//!   for each of the 168 hours; ALT's bounds need only the week's fastest speed and are rebuilt
//!   in seconds, and measured (`fleet bench routes`, docs/benchmarks.md) it meets the targets.
//! - **Snapping.** Origin and destination snap to the nearest road within [`SNAP_M`]; a point at
//!   a junction starts or ends there, a point along a road on either direction of it that may be
//!   driven.
//! - **Turn restrictions** (OSM `type=restriction` relations with a via node: `no_*` bans the
//!   turn, `only_*` every other one from that road) make a node's label depend on the road the
//!   route came in by. Only at such nodes: each restricted node has one label per road in
//!   (edge-based there, node-based everywhere else), so the search stays exact — a turn banned
//!   after the earliest arrival does not hide a later arrival from which it is allowed — without
//!   doubling the labels of the whole graph. The bounds ignore restrictions (they only remove
//!   routes, so a lower bound stays one).
//! - The answer says how much of the route, by length and by time, came from observed speeds,
//!   speed limits and class defaults (`observed_basis`), and gives its steps by street name.

use std::cell::RefCell;
use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::matching::MatchGraph;
use crate::matching::hmm::Item;
use crate::{Point, bearing_deg, haversine_m};

/// How far from a road a point may be and still be routed from or to, m.
pub const SNAP_M: f64 = 500.0;

/// Hours in a week: the band slots, 0 = Sunday 00:00 EAT.
const WEEK: usize = 168;

/// The most landmarks the search keeps bounds for.
const MAX_LANDMARKS: usize = 16;

const NONE: u32 = u32::MAX;

/// Where a segment's speed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Observed: the hour's band, or the segment's all-hours figure.
    Observed,
    /// The segment's speed limit.
    Maxspeed,
    /// Its road class's default speed.
    Default,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Observed => "observed",
            Basis::Maxspeed => "maxspeed",
            Basis::Default => "default",
        }
    }
}

/// Travel-time bounds to and from the landmarks at every edge's fastest speed of the week.
#[derive(Default)]
struct Landmarks {
    k: usize,
    /// `[v * k + l]`: seconds from landmark `l` to node `v` (∞: not reachable).
    from: Vec<f32>,
    /// `[v * k + l]`: seconds from node `v` to landmark `l`.
    to: Vec<f32>,
    nodes: Vec<u32>,
}

/// The graph with its speeds, names and search bounds.
pub struct Router {
    g: MatchGraph,
    limit: Vec<bool>,
    all_hours: Vec<f32>,
    /// Per edge, its row in `bands` (or [`NONE`]).
    band_of: Vec<u32>,
    bands: Vec<[f32; WEEK]>,
    /// Per row of the graph, its name in `names` (0: unnamed).
    way_name: Vec<u32>,
    names: Vec<Box<str>>,
    node_pt: Vec<Point>,
    /// Per node, its unit vector on the sphere (chord lengths bound great-circle distances).
    node_xyz: Vec<[f64; 3]>,
    /// Per node, its strongly connected component, and the largest component's id.
    component: Vec<u32>,
    main_component: u32,
    in_start: Vec<u32>,
    in_edges: Vec<u32>,
    /// Per edge, the least seconds it can take at any hour.
    lower: Vec<f32>,
    /// The fastest speed anywhere, m/s.
    vmax: f64,
    lm: Landmarks,
    /// How many landmarks a search uses.
    active: usize,
    /// Per node, [`NONE`], or (restricted) the first of its labels per edge in, after the
    /// node labels: label `n + turn_base[v] + i` is node `v` entered by its `i`-th edge in.
    turn_base: Vec<u32>,
    /// Per extra label: its node and the edge it was entered by.
    turn_label: Vec<(u32, u32)>,
    /// Banned turns: (edge in, edge out).
    banned: HashSet<(u32, u32)>,
}

/// A turn restriction on directed edges of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnRestriction {
    /// `only_*`: from `from`, `to` is the only way on; else (`no_*`) `from` → `to` is banned.
    pub only: bool,
    /// The road in: (gid, driven source → target).
    pub from: (i64, bool),
    /// The road out.
    pub to: (i64, bool),
}

/// One piece of a route: a directed edge, or part of one at the ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub edge: u32,
    pub gid: i64,
    pub forward: bool,
    /// Along the edge in its direction of travel, m.
    pub from_m: f64,
    pub to_m: f64,
    /// Epoch seconds.
    pub entered: f64,
    pub left: f64,
    pub basis: Basis,
    /// Its points in [`Route::line`]: `line[a..=b]`.
    pub line: (usize, usize),
}

/// A route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub pieces: Vec<Piece>,
    pub distance_m: f64,
    pub eta_s: f64,
    /// Epoch seconds it leaves.
    pub depart: f64,
    /// Its line, origin's snapped point to destination's.
    pub line: Vec<Point>,
    /// Per basis: (metres, seconds).
    pub basis: Vec<(Basis, f64, f64)>,
    /// The points routed from and to, on the roads.
    pub snapped: (Point, Point),
}

/// A turn-by-turn step: a stretch of one street.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Step {
    /// The street's name (`None`: unnamed in the extract).
    pub name: Option<String>,
    pub distance_m: f64,
    pub eta_sec: f64,
    /// The basis of most of its time.
    pub basis: Basis,
    pub maneuver: Maneuver,
}

/// How a step begins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Maneuver {
    /// `depart`, `turn`, `continue` (the name changes, the direction hardly), `arrive`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `straight`, `slight left`, `left`, `sharp left`, `uturn`, `slight right`, `right`,
    /// `sharp right`.
    pub modifier: Option<&'static str>,
    /// `[lng, lat]`.
    pub location: [f64; 2],
    pub bearing_before: Option<f64>,
    pub bearing_after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error("no road graph is loaded: load one with `fleet import osm FILE`")]
    NoGraph,
    #[error("no road within {SNAP_M} m of the {0}")]
    NoRoad(&'static str),
    #[error("no route: the destination cannot be reached from the origin by road")]
    Unreachable,
}

/// A place on the graph to route from or to.
#[derive(Debug, Clone, Copy)]
enum End {
    Node(u32),
    /// A directed edge and the metres along it.
    Along(u32, f64),
}

/// The EAT hour of the week (0 = Sunday 00:00) of epoch second `t` (EAT is UTC+3, whole hours,
/// no daylight saving: its hours start with UTC's). 1970-01-01 was a Thursday.
pub fn hour_of_week(t: f64) -> usize {
    let hours = (t / 3600.0).floor() as i64 + 3 + 4 * 24;
    hours.rem_euclid(WEEK as i64) as usize
}

/// A search's buffers, kept per thread between searches (a country's graph has millions of
/// nodes: filling fresh arrays for each search would cost more than many searches).
#[derive(Default)]
struct Scratch {
    arrive: Vec<f64>,
    via: Vec<u32>,
    /// The label the edge of `via` was taken from.
    prev: Vec<u32>,
    settled: Vec<bool>,
    touched: Vec<u32>,
    heap: BinaryHeap<Item>,
}

impl Scratch {
    fn ready(&mut self, n: usize) {
        if self.arrive.len() != n {
            self.arrive = vec![f64::INFINITY; n];
            self.via = vec![NONE; n];
            self.prev = vec![NONE; n];
            self.settled = vec![false; n];
            self.touched.clear();
        }
        for &v in &self.touched {
            self.arrive[v as usize] = f64::INFINITY;
            self.via[v as usize] = NONE;
            self.prev[v as usize] = NONE;
            self.settled[v as usize] = false;
        }
        self.touched.clear();
        self.heap.clear();
    }

    fn set(&mut self, v: u32, t: f64, via: u32, prev: u32) {
        if self.arrive[v as usize].is_infinite() {
            self.touched.push(v);
        }
        self.arrive[v as usize] = t;
        self.via[v as usize] = via;
        self.prev[v as usize] = prev;
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The landmarks one search's bounds use: those that bound best between its ends. Measured
/// on a 2-million-edge graph (p95 of 200 random routes): 4 → 130 ms, 6 → 103 ms, 10 → 87 ms,
/// 16 → 71 ms: the labels saved pay for the work per label, so every landmark is used.
const ACTIVE_LANDMARKS: usize = MAX_LANDMARKS;

/// The Earth's radius the distances are measured with, m.
const EARTH_M: f64 = 6_371_000.0;

/// `p` as a unit vector.
fn unit(p: Point) -> [f64; 3] {
    let (la, lo) = (p.lat.to_radians(), p.lng.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// A search's bounds towards its goals.
struct Goal {
    active: Vec<usize>,
    /// Per goal node, per active landmark: (seconds to it, seconds from it).
    goal: Vec<Vec<(f32, f32)>>,
    xyz: [f64; 3],
}

/// How the search reached the destination: by a goal (its index, and the label it was reached
/// at), or along the start's own
/// edge (edge, from m, to m).
type Reached = Result<(usize, u32), (u32, f64, f64)>;

/// A path found: (edge, from m, to m) in order.
type Path = Vec<(u32, f64, f64)>;

/// The labels a search settled, for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    pub settled: usize,
}

impl Router {
    /// The router over `g` with no observed speeds.
    pub fn new(g: MatchGraph, with_limit: &HashSet<i64>) -> Self {
        let mut r = Self::unprepared(g, with_limit);
        r.prepare();
        r
    }

    fn unprepared(g: MatchGraph, with_limit: &HashSet<i64>) -> Self {
        let limit = g
            .edges
            .iter()
            .map(|e| with_limit.contains(&e.gid))
            .collect();
        let n = g.node_count();
        let mut node_pt = vec![Point { lat: 0.0, lng: 0.0 }; n];
        let mut in_start = vec![0u32; n + 1];
        for e in &g.edges {
            let w = &g.ways[e.way as usize];
            let (a, b) = (
                g.points[w.first as usize],
                g.points[(w.first + w.count - 1) as usize],
            );
            let (from, to) = if e.forward { (a, b) } else { (b, a) };
            node_pt[e.from as usize] = from;
            node_pt[e.to as usize] = to;
            in_start[e.to as usize + 1] += 1;
        }
        for i in 0..n {
            in_start[i + 1] += in_start[i];
        }
        let mut fill = in_start.clone();
        let mut in_edges = vec![0u32; g.edges.len()];
        for (i, e) in g.edges.iter().enumerate() {
            in_edges[fill[e.to as usize] as usize] = i as u32;
            fill[e.to as usize] += 1;
        }
        let m = g.edges.len();
        let ways = g.ways.len();
        Self {
            g,
            limit,
            all_hours: vec![f32::NAN; m],
            band_of: vec![NONE; m],
            bands: Vec::new(),
            way_name: vec![0; ways],
            names: vec!["".into()],
            node_xyz: node_pt.iter().map(|&p| unit(p)).collect(),
            node_pt,
            component: Vec::new(),
            main_component: 0,
            in_start,
            in_edges,
            lower: Vec::new(),
            vmax: 1.0,
            lm: Landmarks::default(),
            active: ACTIVE_LANDMARKS,
            turn_base: Vec::new(),
            turn_label: Vec::new(),
            banned: HashSet::new(),
        }
    }

    /// The edges into node `v`.
    #[inline]
    fn ins(&self, v: u32) -> &[u32] {
        let (a, b) = (
            self.in_start[v as usize] as usize,
            self.in_start[v as usize + 1] as usize,
        );
        &self.in_edges[a..b]
    }

    /// Per `geo.ways` row (gid), its index in the graph's rows.
    fn way_index(&self) -> HashMap<i64, u32> {
        self.g
            .ways
            .iter()
            .enumerate()
            .map(|(i, w)| (w.gid, i as u32))
            .collect()
    }

    /// Sets the turn restrictions; those naming a road the graph lacks, or two roads that do
    /// not meet, are left out. Returns how many were applied.
    pub fn set_restrictions(&mut self, rows: impl IntoIterator<Item = TurnRestriction>) -> usize {
        let index = self.way_index();
        let edge = |(gid, forward): (i64, bool)| {
            let w = &self.g.ways[*index.get(&gid)? as usize];
            if forward { w.forward } else { w.backward }
        };
        let mut banned = HashSet::new();
        let mut applied = 0;
        for r in rows {
            let (Some(a), Some(b)) = (edge(r.from), edge(r.to)) else {
                continue;
            };
            let via = self.g.edges[a as usize].to;
            if self.g.edges[b as usize].from != via {
                continue;
            }
            applied += 1;
            if r.only {
                banned.extend(self.g.out(via).iter().filter(|&&o| o != b).map(|&o| (a, o)));
            } else {
                banned.insert((a, b));
            }
        }
        let n = self.g.node_count();
        self.turn_base = vec![NONE; n];
        self.turn_label.clear();
        let mut vias: Vec<u32> = banned
            .iter()
            .map(|&(a, _)| self.g.edges[a as usize].to)
            .collect();
        vias.sort_unstable();
        vias.dedup();
        for v in vias {
            self.turn_base[v as usize] = self.turn_label.len() as u32;
            let ins: Vec<u32> = self.ins(v).to_vec();
            self.turn_label.extend(ins.into_iter().map(|e| (v, e)));
        }
        self.banned = banned;
        applied
    }

    /// The banned turns as (gid in, gid out) pairs (an `only_*` restriction as the turns it bans).
    pub fn banned_turns(&self) -> Vec<(i64, i64)> {
        let mut v: Vec<(i64, i64)> = self
            .banned
            .iter()
            .map(|&(a, b)| (self.g.edges[a as usize].gid, self.g.edges[b as usize].gid))
            .collect();
        v.sort_unstable();
        v
    }

    /// The label of node `v` entered by edge `e`: the node's own unless turns at it are restricted.
    #[inline]
    fn label(&self, v: u32, e: u32) -> u32 {
        match self.turn_base.get(v as usize) {
            Some(&b) if b != NONE && e != NONE => {
                let i = self.ins(v).iter().position(|&x| x == e).unwrap_or(0);
                (self.g.node_count() + b as usize + i) as u32
            }
            _ => v,
        }
    }

    /// The node of a label, and the edge it was entered by where that matters.
    #[inline]
    fn of_label(&self, x: u32) -> (u32, u32) {
        let n = self.g.node_count() as u32;
        if x < n {
            (x, NONE)
        } else {
            self.turn_label[(x - n) as usize]
        }
    }

    #[inline]
    fn allowed(&self, came_by: u32, out: u32) -> bool {
        came_by == NONE || !self.banned.contains(&(came_by, out))
    }

    /// The router of `geo.ways` and `geo.segment_speed_band` as they are now.
    pub async fn load(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let g = crate::matching::load(pool).await?;
        let mut with_limit = HashSet::new();
        let mut named: Vec<(i64, String)> = Vec::new();
        let mut after = i64::MIN;
        loop {
            let rows: Vec<(i64, Option<String>, bool)> = sqlx::query_as(
                "SELECT gid, nullif(btrim(name), ''), maxspeed_kmh IS NOT NULL FROM geo.ways
                  WHERE gid > $1 ORDER BY gid LIMIT 200000",
            )
            .bind(after)
            .fetch_all(pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            for (gid, name, limit) in rows {
                if limit {
                    with_limit.insert(gid);
                }
                if let Some(n) = name {
                    named.push((gid, n));
                }
            }
        }
        let rows: Vec<(i64, bool, i16, i16, f32)> = sqlx::query_as(
            "SELECT segment_id, forward, dow, hod, median_kmh FROM geo.segment_speed_band
              WHERE samples >= coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_min_samples'), 5)",
        )
        .fetch_all(pool)
        .await?;
        // each restriction on the segments that meet at its via node; one whose road passes
        // through the via node (tagged against the rules: which way on is meant?) is left out,
        // except a U-turn ban on one road, which is the segment back the way it came
        let turns: Vec<(bool, i64, bool, i64, bool)> = sqlx::query_as(
            "WITH c AS (
                 SELECT r.only_turn, fw.gid AS fg, fw.target = r.via_node AS ff, tw.gid AS tg,
                        tw.source = r.via_node AS tf, r.from_way = r.to_way AS same,
                        count(*) OVER (PARTITION BY r.osm_id) AS n
                   FROM geo.turn_restrictions r
                   JOIN geo.ways fw ON r.via_node IN (fw.source, fw.target) AND fw.osm_id = r.from_way
                   JOIN geo.ways tw ON r.via_node IN (tw.source, tw.target) AND tw.osm_id = r.to_way)
             SELECT only_turn, fg, ff, tg, tf FROM c
              WHERE (same AND fg = tg AND ff <> tf) OR (NOT same AND n = 1)",
        )
        .fetch_all(pool)
        .await?;
        // the graph's bounds take seconds on a country: off the async threads
        let r = tokio::task::spawn_blocking(move || {
            let mut r = Self::unprepared(g, &with_limit);
            r.set_restrictions(
                turns
                    .into_iter()
                    .map(|(only, a, af, b, bf)| TurnRestriction {
                        only,
                        from: (a, af),
                        to: (b, bf),
                    }),
            );
            r.set_names(named);
            r.apply_observed(rows.into_iter().map(|(s, f, d, h, v)| {
                let slot = (d >= 0 && h >= 0).then(|| d as usize * 24 + h as usize);
                (s, f, slot, v)
            }));
            r.prepare();
            r
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("building the router: {e}")))?;
        Ok(r)
    }

    /// Names the rows: (gid, street name).
    pub fn set_names(&mut self, rows: impl IntoIterator<Item = (i64, String)>) {
        let index = self.way_index();
        let mut ids: HashMap<String, u32> = HashMap::new();
        for (gid, name) in rows {
            let Some(&w) = index.get(&gid) else { continue };
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let next = self.names.len() as u32;
            let id = *ids.entry(name.to_string()).or_insert(next);
            if id == next {
                self.names.push(name.into());
            }
            self.way_name[w as usize] = id;
        }
    }

    /// Sets observed speeds: (segment, forward, hour of week or `None` for all hours, km/h).
    pub fn set_observed(
        &mut self,
        rows: impl IntoIterator<Item = (i64, bool, Option<usize>, f32)>,
    ) {
        self.apply_observed(rows);
        self.prepare();
    }

    fn apply_observed(&mut self, rows: impl IntoIterator<Item = (i64, bool, Option<usize>, f32)>) {
        let index: HashMap<(i64, bool), u32> = self
            .g
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.gid, e.forward), i as u32))
            .collect();
        for (seg, fwd, slot, kmh) in rows {
            let Some(&e) = index.get(&(seg, fwd)) else {
                continue;
            };
            // NaN and non-positive speeds are not observations
            if kmh.is_nan() || kmh <= 0.0 {
                continue;
            }
            match slot {
                None => self.all_hours[e as usize] = kmh,
                Some(h) if h < WEEK => {
                    if self.band_of[e as usize] == NONE {
                        self.band_of[e as usize] = self.bands.len() as u32;
                        self.bands.push([f32::NAN; WEEK]);
                    }
                    self.bands[self.band_of[e as usize] as usize][h] = kmh;
                }
                Some(_) => {}
            }
        }
    }

    pub fn graph(&self) -> &MatchGraph {
        &self.g
    }

    /// Sets how many of the landmarks each search uses (those that bound best between its
    /// ends; the benchmark compares counts).
    pub fn set_active_landmarks(&mut self, n: usize) {
        self.active = n.max(1);
    }

    /// The landmarks the search's bounds come from (node indices).
    pub fn landmarks(&self) -> &[u32] {
        &self.lm.nodes
    }

    /// The name of graph row `way` (an index into [`MatchGraph::ways`]).
    pub fn name(&self, way: u32) -> Option<&str> {
        let id = *self.way_name.get(way as usize)?;
        (id != 0).then(|| &*self.names[id as usize])
    }

    /// Edge `e`'s speed in hour of week `h`, m/s, and where it came from.
    pub fn speed(&self, e: u32, h: usize) -> (f64, Basis) {
        let b = self.band_of[e as usize];
        if b != NONE {
            let v = self.bands[b as usize][h];
            if v > 0.0 {
                return (f64::from(v) / 3.6, Basis::Observed);
            }
        }
        let all = self.all_hours[e as usize];
        if all > 0.0 {
            return (f64::from(all) / 3.6, Basis::Observed);
        }
        let basis = if self.limit[e as usize] {
            Basis::Maxspeed
        } else {
            Basis::Default
        };
        (self.g.edges[e as usize].speed_mps, basis)
    }

    /// Edge `e`'s fastest speed of the week, m/s.
    fn fastest(&self, e: u32) -> f64 {
        let mut v = self.g.edges[e as usize].speed_mps;
        let all = self.all_hours[e as usize];
        if all > 0.0 {
            v = f64::from(all) / 3.6;
        }
        let b = self.band_of[e as usize];
        if b != NONE {
            for &x in &self.bands[b as usize] {
                if x > 0.0 {
                    v = v.max(f64::from(x) / 3.6);
                }
            }
        }
        v
    }

    /// The per-edge lower bounds and the landmarks' bounds, after the speeds changed.
    fn prepare(&mut self) {
        let m = self.g.edges.len();
        let mut vmax: f64 = 1.0;
        let mut lower = Vec::with_capacity(m);
        for e in 0..m as u32 {
            let v = self.fastest(e);
            vmax = vmax.max(v);
            // rounded down so the bound never exceeds the truth
            let s = self.g.edges[e as usize].length_m / v;
            lower.push((s as f32 * (1.0 - 1e-6)).max(0.0));
        }
        self.lower = lower;
        self.vmax = vmax;
        if self.component.len() != self.g.node_count() {
            (self.component, self.main_component) = self.components();
        }
        self.lm = self.pick_landmarks();
    }

    /// Strongly connected components (Kosaraju, without recursion): per node its component,
    /// and the largest one.
    fn components(&self) -> (Vec<u32>, u32) {
        let n = self.g.node_count();
        let ins = |v: u32| self.ins(v);
        // 1. finishing order of a depth-first search on the edges as they run
        let mut seen = vec![false; n];
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut stack: Vec<(u32, usize)> = Vec::new();
        for root in 0..n as u32 {
            if seen[root as usize] {
                continue;
            }
            seen[root as usize] = true;
            stack.push((root, 0));
            while let Some(&mut (v, ref mut i)) = stack.last_mut() {
                let out = self.g.out(v);
                if *i < out.len() {
                    let w = self.g.edges[out[*i] as usize].to;
                    *i += 1;
                    if !seen[w as usize] {
                        seen[w as usize] = true;
                        stack.push((w, 0));
                    }
                } else {
                    order.push(v);
                    stack.pop();
                }
            }
        }
        // 2. in reverse finishing order, what reaches each root against the edges
        let mut comp = vec![NONE; n];
        let mut sizes: Vec<u32> = Vec::new();
        let mut todo: Vec<u32> = Vec::new();
        for &root in order.iter().rev() {
            if comp[root as usize] != NONE {
                continue;
            }
            let c = sizes.len() as u32;
            sizes.push(0);
            comp[root as usize] = c;
            todo.push(root);
            while let Some(v) = todo.pop() {
                sizes[c as usize] += 1;
                for &e in ins(v) {
                    let w = self.g.edges[e as usize].from;
                    if comp[w as usize] == NONE {
                        comp[w as usize] = c;
                        todo.push(w);
                    }
                }
            }
        }
        let main = (0..sizes.len()).max_by_key(|&c| sizes[c]).unwrap_or(0) as u32;
        (comp, main)
    }

    /// Seconds at the fastest speeds from `src` to every node (`forward`) or from every node to
    /// `src` (backward).
    fn bounds_from(&self, src: u32, forward: bool) -> Vec<f32> {
        let n = self.g.node_count();
        let mut d = vec![f32::INFINITY; n];
        let mut heap = BinaryHeap::new();
        d[src as usize] = 0.0;
        heap.push(Item(0.0, src));
        while let Some(Item(t, v)) = heap.pop() {
            if t as f32 > d[v as usize] {
                continue;
            }
            let edges = if forward { self.g.out(v) } else { self.ins(v) };
            for &e in edges {
                let edge = self.g.edges[e as usize];
                let w = if forward { edge.to } else { edge.from };
                let nt = d[v as usize] + self.lower[e as usize];
                if nt < d[w as usize] {
                    d[w as usize] = nt;
                    heap.push(Item(f64::from(nt), w));
                }
            }
        }
        d
    }

    /// Landmarks farthest-first: the first is the node farthest from a node of the largest
    /// part of the graph reached, each next the one farthest from all chosen so far.
    fn pick_landmarks(&self) -> Landmarks {
        let n = self.g.node_count();
        let k = (n / 500).clamp(2, MAX_LANDMARKS).min(n);
        if n < 2 {
            return Landmarks::default();
        }
        // a start that reaches most of the graph (real extracts have islands)
        let mut seed: Option<(usize, Vec<f32>)> = None;
        for i in 0..5u32 {
            let s = ((n as u64 * u64::from(i) * 2_654_435_761) % n as u64) as u32;
            let d = self.bounds_from(s, true);
            let reached = d.iter().filter(|x| x.is_finite()).count();
            if seed.as_ref().is_none_or(|b| reached > b.0) {
                seed = Some((reached, d));
            }
            if reached * 2 > n {
                break;
            }
        }
        let Some((_, seed)) = seed else {
            return Landmarks::default();
        };
        let farthest = |d: &[f32]| -> Option<u32> {
            let mut best: Option<(f32, u32)> = None;
            for (v, &x) in d.iter().enumerate() {
                if x.is_finite() && best.is_none_or(|b| x > b.0) {
                    best = Some((x, v as u32));
                }
            }
            best.map(|b| b.1)
        };
        let mut nodes = Vec::new();
        let mut froms: Vec<Vec<f32>> = Vec::new();
        let mut mind = seed;
        while nodes.len() < k {
            let Some(l) = farthest(&mind) else { break };
            if nodes.contains(&l) {
                break;
            }
            let d = self.bounds_from(l, true);
            for (m, &x) in mind.iter_mut().zip(&d) {
                if m.is_finite() && x.is_finite() {
                    *m = m.min(x);
                }
            }
            mind[l as usize] = 0.0;
            nodes.push(l);
            froms.push(d);
        }
        // the bounds towards each landmark, on the machine's cores
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .max(1);
        let mut tos: Vec<Option<Vec<f32>>> = vec![None; nodes.len()];
        std::thread::scope(|s| {
            for (chunk_i, chunk) in tos
                .chunks_mut(nodes.len().div_ceil(threads).max(1))
                .enumerate()
            {
                let base = chunk_i * nodes.len().div_ceil(threads).max(1);
                let nodes = &nodes;
                s.spawn(move || {
                    for (j, slot) in chunk.iter_mut().enumerate() {
                        *slot = Some(self.bounds_from(nodes[base + j], false));
                    }
                });
            }
        });
        let k = nodes.len();
        let mut from = vec![f32::INFINITY; n * k];
        let mut to = vec![f32::INFINITY; n * k];
        for l in 0..k {
            let t = tos[l].as_deref().unwrap_or(&[]);
            for v in 0..n {
                from[v * k + l] = froms[l][v];
                to[v * k + l] = t.get(v).copied().unwrap_or(f32::INFINITY);
            }
        }
        Landmarks { k, from, to, nodes }
    }

    /// The bounds of one search: the landmarks that bound best between its ends, and each
    /// goal node's distances to and from them.
    fn goal_bounds(&self, start: Option<u32>, goals: &[u32], to_at: Point) -> Goal {
        let k = self.lm.k;
        let mut active: Vec<usize> = (0..k).collect();
        if let Some(s) = start
            && k > self.active
        {
            // the landmarks with the best bound from the start to any goal
            let score = |l: usize| {
                goals
                    .iter()
                    .map(|&g| {
                        let a = self.lm.to[s as usize * k + l] - self.lm.to[g as usize * k + l];
                        let b = self.lm.from[g as usize * k + l] - self.lm.from[s as usize * k + l];
                        [a, b]
                            .into_iter()
                            .filter(|x| x.is_finite())
                            .fold(0.0f32, f32::max)
                    })
                    .fold(f32::INFINITY, f32::min)
            };
            active.sort_by(|&a, &b| score(b).total_cmp(&score(a)));
            active.truncate(self.active);
        }
        let goal = goals
            .iter()
            .map(|&g| {
                active
                    .iter()
                    .map(|&l| {
                        (
                            self.lm.to[g as usize * k + l],
                            self.lm.from[g as usize * k + l],
                        )
                    })
                    .collect()
            })
            .collect();
        Goal {
            active,
            goal,
            xyz: unit(to_at),
        }
    }

    /// A lower bound on the seconds from node `v` to the nearest goal of `b`.
    fn bound(&self, v: u32, b: &Goal) -> f64 {
        // the chord through the Earth is shorter than any road; 2 m for rounding
        let p = self.node_xyz[v as usize];
        let (dx, dy, dz) = (p[0] - b.xyz[0], p[1] - b.xyz[1], p[2] - b.xyz[2]);
        let chord = (dx * dx + dy * dy + dz * dz).sqrt() * EARTH_M - 2.0;
        let straight = chord.max(0.0) / self.vmax;
        let k = self.lm.k;
        if k == 0 {
            return straight;
        }
        let mut best = f32::INFINITY;
        let base = v as usize * k;
        for g in &b.goal {
            let mut h = 0.0f32;
            for (&l, &(gt, gf)) in b.active.iter().zip(g) {
                // d(v,L) - d(g,L) and d(L,g) - d(L,v); a term with ∞ tells nothing
                let a = self.lm.to[base + l] - gt;
                if a.is_finite() {
                    h = h.max(a);
                }
                let c = gf - self.lm.from[base + l];
                if c.is_finite() {
                    h = h.max(c);
                }
            }
            best = best.min(h);
        }
        // f32 sums are rounded: keep a margin so the bound never passes the truth
        let lm = f64::from(best) * (1.0 - 1e-5) - 1e-3;
        straight.max(lm).max(0.0)
    }

    /// When `metres` of edge `e` entered at `t` are driven, with the basis of its first hour.
    fn drive(&self, e: u32, mut metres: f64, mut t: f64) -> (f64, Basis) {
        let (v, first) = self.speed(e, hour_of_week(t));
        let hour_end = ((t / 3600.0).floor() + 1.0) * 3600.0;
        // most edges are left within the hour they are entered
        if v * (hour_end - t) >= metres {
            return (t + metres / v, first);
        }
        while metres > 1e-9 {
            let (v, _) = self.speed(e, hour_of_week(t));
            let hour_end = ((t / 3600.0).floor() + 1.0) * 3600.0;
            let reach = v * (hour_end - t);
            if reach >= metres {
                return (t + metres / v, first);
            }
            metres -= reach;
            t = hour_end;
        }
        (t, first)
    }

    /// Like [`Self::drive`], with the time stretched by `penalty` (alternatives avoid the edges
    /// of the routes already found).
    fn cost(&self, e: u32, metres: f64, t: f64, penalty: &HashMap<u32, f64>) -> f64 {
        let ta = self.drive(e, metres, t).0;
        match penalty.get(&e) {
            Some(&f) => t + (ta - t) * f,
            None => ta,
        }
    }

    fn snap(&self, p: Point, what: &'static str) -> Result<(Vec<End>, Point), RouteError> {
        if !(p.lat.is_finite() && p.lng.is_finite()) {
            return Err(RouteError::NoRoad(what));
        }
        let mut near = Vec::new();
        self.g.near(p, SNAP_M, &mut near);
        // the nearest road of the main network, as OSRM does: a nearer island of a few roads
        // (a car park, a road cut off in the extract) would leave the route nowhere to go
        let main = |pr: &crate::matching::graph::Projection| {
            let w = &self.g.ways[pr.way as usize];
            [w.forward, w.backward].into_iter().flatten().any(|e| {
                self.component.get(self.g.edges[e as usize].from as usize)
                    == Some(&self.main_component)
            })
        };
        let pr = *near
            .iter()
            .find(|pr| main(pr))
            .or(near.first())
            .ok_or(RouteError::NoRoad(what))?;
        let w = &self.g.ways[pr.way as usize];
        let mut ends = Vec::new();
        for e in [w.forward, w.backward].into_iter().flatten() {
            let edge = self.g.edges[e as usize];
            let along = if edge.forward {
                pr.offset_m
            } else {
                w.length_m - pr.offset_m
            };
            // at a junction: the node itself
            if along <= 0.5 {
                ends.push(End::Node(edge.from));
            } else if along >= edge.length_m - 0.5 {
                ends.push(End::Node(edge.to));
            } else {
                ends.push(End::Along(e, along));
            }
        }
        Ok((ends, pr.at))
    }

    /// The fastest route from `from` to `to` leaving at `depart`.
    pub fn route(
        &self,
        from: Point,
        to: Point,
        depart: DateTime<Utc>,
    ) -> Result<Route, RouteError> {
        self.route_stats(from, to, depart).map(|r| r.0)
    }

    /// [`Self::route`] with the number of labels the search settled.
    pub fn route_stats(
        &self,
        from: Point,
        to: Point,
        depart: DateTime<Utc>,
    ) -> Result<(Route, SearchStats), RouteError> {
        if self.g.is_empty() {
            return Err(RouteError::NoGraph);
        }
        let t0 = depart.timestamp_micros() as f64 / 1e6;
        let (starts, from_at) = self.snap(from, "origin")?;
        let (goals, to_at) = self.snap(to, "destination")?;
        let (path, stats) = self
            .search(&starts, &goals, to_at, t0, &HashMap::new())
            .ok_or(RouteError::Unreachable)?;
        Ok((self.timed(&path, t0, from_at, to_at), stats))
    }

    /// The route through `points` in order (origin, stops, destination), leg by leg, each leg
    /// leaving when the one before arrives.
    pub fn route_via(
        &self,
        points: &[Point],
        depart: DateTime<Utc>,
    ) -> Result<Vec<Route>, RouteError> {
        let mut legs: Vec<Route> = Vec::new();
        let mut t = depart;
        for (i, pair) in points.windows(2).enumerate() {
            let leg = self.route(pair[0], pair[1], t).map_err(|e| match e {
                RouteError::NoRoad(_) if i > 0 || points.len() > 2 => {
                    RouteError::NoRoad(if i + 2 == points.len() {
                        "destination"
                    } else {
                        "stop"
                    })
                }
                e => e,
            })?;
            let arrive = leg.depart + leg.eta_s;
            t = DateTime::from_timestamp_micros((arrive * 1e6).round() as i64).unwrap_or(t);
            legs.push(leg);
        }
        Ok(legs)
    }

    /// The fastest route and up to `more` alternatives: each found with the edges of those
    /// before it made 40 % slower, kept when it is really different (at most 70 % of its length
    /// shared with any route kept) and at most 40 % slower than the fastest.
    pub fn alternatives(
        &self,
        from: Point,
        to: Point,
        depart: DateTime<Utc>,
        more: usize,
    ) -> Result<Vec<Route>, RouteError> {
        let best = self.route(from, to, depart)?;
        let mut kept = vec![best];
        if more == 0 {
            return Ok(kept);
        }
        let t0 = kept[0].depart;
        let (starts, from_at) = self.snap(from, "origin")?;
        let (goals, to_at) = self.snap(to, "destination")?;
        let mut penalty: HashMap<u32, f64> = HashMap::new();
        for _ in 0..(more * 3) {
            if kept.len() > more {
                break;
            }
            for r in &kept {
                for p in &r.pieces {
                    let f = penalty.entry(p.edge).or_insert(1.0);
                    *f = (*f * 1.4).min(4.0);
                    if let Some(t) = self.g.twin(p.edge) {
                        penalty.entry(t).or_insert(1.4);
                    }
                }
            }
            let Some((path, _)) = self.search(&starts, &goals, to_at, t0, &penalty) else {
                break;
            };
            let r = self.timed(&path, t0, from_at, to_at);
            if r.eta_s > kept[0].eta_s * 1.4 + 30.0 {
                break;
            }
            let edges: HashSet<u32> = r.pieces.iter().map(|p| p.edge).collect();
            let distinct = kept.iter().all(|k| {
                let shared: f64 = k
                    .pieces
                    .iter()
                    .filter(|p| edges.contains(&p.edge))
                    .map(|p| p.to_m - p.from_m)
                    .sum();
                shared <= 0.7 * r.distance_m.min(k.distance_m)
            });
            if distinct {
                kept.push(r);
            }
        }
        Ok(kept)
    }

    /// A* on arrival times from `starts` at `t0` to the nearest of `goals`.
    fn search(
        &self,
        starts: &[End],
        goals: &[End],
        to_at: Point,
        t0: f64,
        penalty: &HashMap<u32, f64>,
    ) -> Option<(Path, SearchStats)> {
        // labels: one per node, and at restricted nodes one per edge in
        let n = self.g.node_count() + self.turn_label.len();
        // the nodes the destination is reached from, and the rest of the way from each
        let goal_at: Vec<(u32, Option<(u32, f64)>)> = goals
            .iter()
            .map(|g| match *g {
                End::Node(v) => (v, None),
                End::Along(e, along) => (self.g.edges[e as usize].from, Some((e, along))),
            })
            .collect();
        let goal_nodes: Vec<u32> = goal_at.iter().map(|g| g.0).collect();
        let first_start = starts.first().map(|s| match *s {
            End::Node(v) => v,
            End::Along(e, _) => self.g.edges[e as usize].to,
        });
        let gb = self.goal_bounds(first_start, &goal_nodes, to_at);
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.ready(n);
            let mut stats = SearchStats::default();
            // a start along an edge reaches its end node after the rest of it: (label, edge, along)
            let mut start_piece: Vec<(u32, u32, f64)> = Vec::new();
            // the best arrival so far: (time, how: a goal index, or the same edge as a start)
            let mut best: Option<(f64, Reached)> = None;
            for st in starts {
                match *st {
                    End::Node(v) => {
                        if t0 < s.arrive[v as usize] {
                            s.set(v, t0, NONE, NONE);
                            start_piece.retain(|p| p.0 != v);
                            let key = t0 + self.bound(v, &gb);
                            s.heap.push(Item(key, v));
                        }
                    }
                    End::Along(e, along) => {
                        let edge = self.g.edges[e as usize];
                        let t = self.cost(e, edge.length_m - along, t0, penalty);
                        let x = self.label(edge.to, e);
                        if t < s.arrive[x as usize] {
                            s.set(x, t, NONE, NONE);
                            start_piece.retain(|p| p.0 != x);
                            start_piece.push((x, e, along));
                            let key = t + self.bound(edge.to, &gb);
                            s.heap.push(Item(key, x));
                        }
                        // the destination further along the same edge
                        for g in goals {
                            if let End::Along(ge, galong) = *g
                                && ge == e
                                && galong >= along
                            {
                                let t = self.cost(e, galong - along, t0, penalty);
                                if best.as_ref().is_none_or(|b| t < b.0) {
                                    best = Some((t, Err((e, along, galong))));
                                }
                            }
                        }
                    }
                }
            }
            while let Some(Item(key, x)) = s.heap.pop() {
                if best.as_ref().is_some_and(|b| key >= b.0) {
                    break;
                }
                // a stale entry: the label was settled from an earlier one (the bounds are
                // consistent, so the first time a label is taken off the heap is its earliest)
                if std::mem::replace(&mut s.settled[x as usize], true) {
                    continue;
                }
                let t = s.arrive[x as usize];
                let (v, came_by) = self.of_label(x);
                stats.settled += 1;
                for (i, &(gv, rest)) in goal_at.iter().enumerate() {
                    if gv != v {
                        continue;
                    }
                    let ta = match rest {
                        None => t,
                        Some((e, _)) if !self.allowed(came_by, e) => continue,
                        Some((e, along)) => self.cost(e, along, t, penalty),
                    };
                    if best.as_ref().is_none_or(|b| ta < b.0) {
                        best = Some((ta, Ok((i, x))));
                    }
                }
                for &e in self.g.out(v) {
                    if !self.allowed(came_by, e) {
                        continue;
                    }
                    let edge = self.g.edges[e as usize];
                    let ta = self.cost(e, edge.length_m, t, penalty);
                    let y = self.label(edge.to, e);
                    if ta < s.arrive[y as usize] {
                        s.set(y, ta, e, x);
                        let key = ta + self.bound(edge.to, &gb);
                        s.heap.push(Item(key, y));
                    }
                }
            }
            let (_, how) = best?;
            let mut path: Path = Vec::new();
            match how {
                Err((e, a, b)) => path.push((e, a, b)),
                Ok((i, at)) => {
                    let (_, rest) = goal_at[i];
                    let mut x = at;
                    let mut rev: Vec<u32> = Vec::new();
                    while s.via[x as usize] != NONE {
                        rev.push(s.via[x as usize]);
                        x = s.prev[x as usize];
                    }
                    if let Some(&(_, e, along)) = start_piece.iter().find(|p| p.0 == x) {
                        path.push((e, along, self.g.edges[e as usize].length_m));
                    }
                    for &e in rev.iter().rev() {
                        path.push((e, 0.0, self.g.edges[e as usize].length_m));
                    }
                    if let Some((e, along)) = rest {
                        path.push((e, 0.0, along));
                    }
                }
            }
            Some((path, stats))
        })
    }

    /// The route along `path` leaving at `t0`, timed at the real speeds.
    fn timed(&self, path: &Path, t0: f64, from_at: Point, to_at: Point) -> Route {
        let mut line = vec![from_at];
        let mut basis: Vec<(Basis, f64, f64)> = Vec::new();
        let mut pieces: Vec<Piece> = Vec::with_capacity(path.len());
        let mut t = t0;
        for &(e, from_m, to_m) in path {
            let edge = self.g.edges[e as usize];
            let (left, b) = self.drive(e, to_m - from_m, t);
            let len = self.g.ways[edge.way as usize].length_m;
            let (a, z) = if edge.forward {
                (from_m, to_m)
            } else {
                (len - from_m, len - to_m)
            };
            let first = line.len() - 1;
            self.g.polyline(edge.way, a, z, &mut line);
            let (m, sec) = (to_m - from_m, left - t);
            match basis.iter_mut().find(|x| x.0 == b) {
                Some(x) => {
                    x.1 += m;
                    x.2 += sec;
                }
                None => basis.push((b, m, sec)),
            }
            pieces.push(Piece {
                edge: e,
                gid: edge.gid,
                forward: edge.forward,
                from_m,
                to_m,
                entered: t,
                left,
                basis: b,
                line: (first, line.len() - 1),
            });
            t = left;
        }
        if line.last() != Some(&to_at) {
            line.push(to_at);
            if let Some(p) = pieces.last_mut() {
                p.line.1 = line.len() - 1;
            }
        }
        Route {
            distance_m: pieces.iter().map(|p| p.to_m - p.from_m).sum(),
            eta_s: t - t0,
            depart: t0,
            pieces,
            line,
            basis,
            snapped: (from_at, to_at),
        }
    }

    /// The route's steps: one per stretch of one street name, with the turn into it, and the
    /// arrival.
    pub fn steps(&self, r: &Route) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        // per step: seconds by basis, to name its main one
        let mut by_basis: Vec<[f64; 3]> = Vec::new();
        let slot = |b: Basis| match b {
            Basis::Observed => 0,
            Basis::Maxspeed => 1,
            Basis::Default => 2,
        };
        let heading = |a: usize, b: usize, last: bool| -> Option<f64> {
            let pts = &r.line[a..=b.min(r.line.len() - 1)];
            let pair = if last {
                pts.windows(2).rev().find(|w| haversine_m(w[0], w[1]) > 0.5)
            } else {
                pts.windows(2).find(|w| haversine_m(w[0], w[1]) > 0.5)
            }?;
            Some((bearing_deg(pair[0], pair[1]) * 10.0).round() / 10.0)
        };
        let mut prev_name: Option<u32> = None;
        let mut prev_out: Option<f64> = None;
        for p in &r.pieces {
            let way = self.g.edges[p.edge as usize].way;
            let name = self.way_name[way as usize];
            let (m, s) = (p.to_m - p.from_m, p.left - p.entered);
            let into = heading(p.line.0, p.line.1, false);
            if prev_name != Some(name) {
                let at = r.line[p.line.0];
                let (kind, modifier) = match (prev_name, prev_out, into) {
                    (None, _, _) => ("depart", None),
                    (Some(_), Some(b0), Some(b1)) => {
                        let m = turn(b1 - b0);
                        (if m == "straight" { "continue" } else { "turn" }, Some(m))
                    }
                    _ => ("turn", None),
                };
                steps.push(Step {
                    name: (name != 0).then(|| self.names[name as usize].to_string()),
                    distance_m: 0.0,
                    eta_sec: 0.0,
                    basis: p.basis,
                    maneuver: Maneuver {
                        kind,
                        modifier,
                        location: [at.lng, at.lat],
                        bearing_before: if prev_name.is_some() { prev_out } else { None },
                        bearing_after: into,
                    },
                });
                by_basis.push([0.0; 3]);
                prev_name = Some(name);
            }
            if let (Some(st), Some(bb)) = (steps.last_mut(), by_basis.last_mut()) {
                st.distance_m += m;
                st.eta_sec += s;
                bb[slot(p.basis)] += s.max(1e-9) + m * 1e-12;
            }
            prev_out = heading(p.line.0, p.line.1, true).or(prev_out);
        }
        for (st, bb) in steps.iter_mut().zip(&by_basis) {
            let i = (0..3).max_by(|&a, &b| bb[a].total_cmp(&bb[b])).unwrap_or(0);
            st.basis = [Basis::Observed, Basis::Maxspeed, Basis::Default][i];
        }
        let end = r.snapped.1;
        steps.push(Step {
            name: steps.last().and_then(|s| s.name.clone()),
            distance_m: 0.0,
            eta_sec: 0.0,
            basis: steps.last().map_or(Basis::Default, |s| s.basis),
            maneuver: Maneuver {
                kind: "arrive",
                modifier: None,
                location: [end.lng, end.lat],
                bearing_before: prev_out,
                bearing_after: None,
            },
        });
        steps
    }
}

/// The turn of a change of bearing by `delta` degrees.
fn turn(delta: f64) -> &'static str {
    let d = (delta + 540.0).rem_euclid(360.0) - 180.0;
    let a = d.abs();
    let side_left = d < 0.0;
    match a {
        a if a < 20.0 => "straight",
        a if a < 50.0 => {
            if side_left {
                "slight left"
            } else {
                "slight right"
            }
        }
        a if a < 130.0 => {
            if side_left {
                "left"
            } else {
                "right"
            }
        }
        a if a < 170.0 => {
            if side_left {
                "sharp left"
            } else {
                "sharp right"
            }
        }
        _ => "uturn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_of_the_week_are_eat() {
        // 2026-11-30 05:00 UTC is Monday 08:00 EAT: 24 + 8
        let t = 1_796_014_800.0;
        assert_eq!(hour_of_week(t), 32);
        assert_eq!(hour_of_week(t + 3599.0), 32);
        assert_eq!(hour_of_week(t + 3600.0), 33);
        // Saturday 23:00 EAT → Sunday 00:00
        assert_eq!(hour_of_week(t + (5.0 * 24.0 + 15.0) * 3600.0), 167);
        assert_eq!(hour_of_week(t + (5.0 * 24.0 + 16.0) * 3600.0), 0);
    }

    #[test]
    fn turns_are_named_by_the_change_of_bearing() {
        assert_eq!(turn(0.0), "straight");
        assert_eq!(turn(-90.0), "left");
        assert_eq!(turn(270.0), "left");
        assert_eq!(turn(90.0), "right");
        assert_eq!(turn(-30.0), "slight left");
        assert_eq!(turn(150.0), "sharp right");
        assert_eq!(turn(180.0), "uturn");
        assert_eq!(turn(350.0), "straight");
    }
}

/// The figures of [`bench`].
#[derive(Debug, Clone, Default)]
pub struct RouteBench {
    pub routes: usize,
    pub unreachable: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Labels settled per route, mean.
    pub settled: f64,
    pub mean_km: f64,
}

/// Routes between `pairs` random junctions of `r` (the seed picks them), each leaving at a
/// random hour of the week, timed one by one in this thread.
pub fn bench(r: &Router, pairs: usize, seed: u64) -> RouteBench {
    let mut rng = fleet_core::rng::Rng(seed);
    let g = r.graph();
    let mut ms = Vec::with_capacity(pairs);
    let (mut unreachable, mut settled, mut km) = (0, 0usize, 0.0);
    if g.node_count() == 0 {
        return RouteBench::default();
    }
    let base = DateTime::from_timestamp(1_796_000_000, 0).unwrap_or_default();
    for _ in 0..pairs {
        let (a, b) = (rng.below(g.node_count()), rng.below(g.node_count()));
        let depart = base + chrono::Duration::seconds(rng.below(7 * 86_400) as i64);
        let started = std::time::Instant::now();
        let res = r.route_stats(r.node_pt[a], r.node_pt[b], depart);
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        match res {
            Ok((route, s)) => {
                settled += s.settled;
                km += route.distance_m / 1e3;
            }
            Err(_) => unreachable += 1,
        }
    }
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    let ok = (pairs - unreachable).max(1) as f64;
    RouteBench {
        routes: pairs,
        unreachable,
        p50_ms: q(0.5),
        p95_ms: q(0.95),
        max_ms: q(1.0),
        settled: settled as f64 / ok,
        mean_km: km / ok,
    }
}
