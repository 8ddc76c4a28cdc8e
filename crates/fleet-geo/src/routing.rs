//! Routing (issue 19, first part): fastest routes over the road graph of `geo.ways` with the
//! observed speeds of [`crate::speeds`], time-dependent.
//!
//! - **The graph** is the matcher's ([`MatchGraph`]: directed edges, adjacency, geometry and the
//!   candidate grid for snapping), with per directed edge its free-flow speed (from the row's
//!   cost: its speed limit where `maxspeed_kmh` is set, else its road class's default), its
//!   all-hours observed speed, and its observed speed per EAT hour of the week, both only with
//!   at least `band_min_samples` traversals — the rule of `geo.observed_speed`.
//! - **Time-dependent cost.** A segment's speed is the one for the hour of the week *at which the
//!   route is on it*: its band, else its all-hours observed speed, else the free-flow speed. A
//!   traversal that crosses an hour boundary is driven at one speed up to it and at the next
//!   after, so arriving later never means leaving later (FIFO) and Dijkstra on arrival times is
//!   exact.
//! - **Snapping.** Origin and destination snap to the nearest road within [`SNAP_M`]; a point at
//!   a junction starts or ends there, a point along a road on either direction of it that may be
//!   driven.
//! - The answer says how much of the route, by length and by time, came from observed speeds,
//!   speed limits and class defaults (`observed_basis`).

use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::Point;
use crate::matching::MatchGraph;
use crate::matching::hmm::Item;

/// How far from a road a point may be and still be routed from or to, m.
pub const SNAP_M: f64 = 500.0;

/// Hours in a week: the band slots, 0 = Sunday 00:00 EAT.
const WEEK: usize = 168;

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

/// The graph with its speeds.
pub struct Router {
    g: MatchGraph,
    limit: Vec<bool>,
    all_hours: Vec<f32>,
    bands: HashMap<u32, Box<[f32; WEEK]>>,
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
}

/// A route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub pieces: Vec<Piece>,
    pub distance_m: f64,
    pub eta_s: f64,
    /// Its line, origin's snapped point to destination's.
    pub line: Vec<Point>,
    /// Per basis: (metres, seconds).
    pub basis: Vec<(Basis, f64, f64)>,
    /// The points routed from and to, on the roads.
    pub snapped: (Point, Point),
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

impl Router {
    /// The router over `g` with no observed speeds.
    pub fn new(g: MatchGraph, with_limit: &HashSet<i64>) -> Self {
        let limit = g
            .edges
            .iter()
            .map(|e| with_limit.contains(&e.gid))
            .collect();
        let all_hours = vec![f32::NAN; g.edges.len()];
        Self {
            g,
            limit,
            all_hours,
            bands: HashMap::new(),
        }
    }

    /// The router of `geo.ways` and `geo.segment_speed_band` as they are now.
    pub async fn load(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let g = crate::matching::load(pool).await?;
        let with_limit: HashSet<i64> =
            sqlx::query_scalar("SELECT gid FROM geo.ways WHERE maxspeed_kmh IS NOT NULL")
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
        let mut r = Self::new(g, &with_limit);
        let rows: Vec<(i64, bool, i16, i16, f32)> = sqlx::query_as(
            "SELECT segment_id, forward, dow, hod, median_kmh FROM geo.segment_speed_band
              WHERE samples >= coalesce((SELECT threshold FROM slo.targets WHERE metric = 'band_min_samples'), 5)",
        )
        .fetch_all(pool)
        .await?;
        r.set_observed(rows.into_iter().map(|(s, f, d, h, v)| {
            let slot = (d >= 0 && h >= 0).then(|| d as usize * 24 + h as usize);
            (s, f, slot, v)
        }));
        Ok(r)
    }

    /// Sets observed speeds: (segment, forward, hour of week or `None` for all hours, km/h).
    pub fn set_observed(
        &mut self,
        rows: impl IntoIterator<Item = (i64, bool, Option<usize>, f32)>,
    ) {
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
                    self.bands
                        .entry(e)
                        .or_insert_with(|| Box::new([f32::NAN; WEEK]))[h] = kmh;
                }
                Some(_) => {}
            }
        }
    }

    pub fn graph(&self) -> &MatchGraph {
        &self.g
    }

    /// Edge `e`'s speed in hour of week `h`, m/s, and where it came from.
    pub fn speed(&self, e: u32, h: usize) -> (f64, Basis) {
        if let Some(b) = self.bands.get(&e)
            && b[h] > 0.0
        {
            return (f64::from(b[h]) / 3.6, Basis::Observed);
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

    /// When `metres` of edge `e` entered at `t` are driven, with the basis of its first hour.
    fn drive(&self, e: u32, mut metres: f64, mut t: f64) -> (f64, Basis) {
        let first = self.speed(e, hour_of_week(t)).1;
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

    fn snap(&self, p: Point, what: &'static str) -> Result<(Vec<End>, Point), RouteError> {
        let mut near = Vec::new();
        self.g.near(p, SNAP_M, &mut near);
        let pr = *near.first().ok_or(RouteError::NoRoad(what))?;
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
        if self.g.is_empty() {
            return Err(RouteError::NoGraph);
        }
        let t0 = depart.timestamp_micros() as f64 / 1e6;
        let (starts, from_at) = self.snap(from, "origin")?;
        let (goals, to_at) = self.snap(to, "destination")?;
        let n = self.g.node_count();
        let mut arrive = vec![f64::INFINITY; n];
        // how a node was reached: the edge into it (u32::MAX: a start)
        let mut via = vec![u32::MAX; n];
        let mut heap = BinaryHeap::new();
        // a start along an edge: at its end node after the rest of it
        let mut start_piece: HashMap<u32, (u32, f64)> = HashMap::new();
        let mut direct: Option<(f64, u32, f64, f64)> = None;
        for s in &starts {
            match *s {
                End::Node(v) => {
                    if t0 < arrive[v as usize] {
                        arrive[v as usize] = t0;
                        via[v as usize] = u32::MAX;
                        heap.push(Item(t0, v));
                    }
                }
                End::Along(e, along) => {
                    let edge = self.g.edges[e as usize];
                    let (t, _) = self.drive(e, edge.length_m - along, t0);
                    if t < arrive[edge.to as usize] {
                        arrive[edge.to as usize] = t;
                        via[edge.to as usize] = u32::MAX;
                        start_piece.insert(edge.to, (e, along));
                        heap.push(Item(t, edge.to));
                    }
                    // the destination further along the same edge
                    for g in &goals {
                        if let End::Along(ge, galong) = *g
                            && ge == e
                            && galong >= along
                        {
                            let (t, _) = self.drive(e, galong - along, t0);
                            if direct.is_none_or(|d| t < d.0) {
                                direct = Some((t, e, along, galong));
                            }
                        }
                    }
                }
            }
        }
        while let Some(Item(t, v)) = heap.pop() {
            if t > arrive[v as usize] {
                continue;
            }
            for &e in self.g.out(v) {
                let edge = self.g.edges[e as usize];
                let (ta, _) = self.drive(e, edge.length_m, t);
                if ta < arrive[edge.to as usize] {
                    arrive[edge.to as usize] = ta;
                    via[edge.to as usize] = e;
                    start_piece.remove(&edge.to);
                    heap.push(Item(ta, edge.to));
                }
            }
        }
        // the best way into the destination: a node, or along an edge from its start node
        // (arrival, the last piece along an edge if not at a node, the node it leaves from)
        type Way = (f64, Option<(u32, f64)>, u32);
        let mut best: Option<Way> = None;
        for g in &goals {
            match *g {
                End::Node(v) => {
                    let t = arrive[v as usize];
                    if t.is_finite() && best.is_none_or(|b| t < b.0) {
                        best = Some((t, None, v));
                    }
                }
                End::Along(e, along) => {
                    let edge = self.g.edges[e as usize];
                    let t_in = arrive[edge.from as usize];
                    if t_in.is_finite() {
                        let (t, _) = self.drive(e, along, t_in);
                        if best.is_none_or(|b| t < b.0) {
                            best = Some((t, Some((e, along)), edge.from));
                        }
                    }
                }
            }
        }
        let mut pieces: Vec<Piece> = Vec::new();
        let piece = |e: u32, from_m: f64, to_m: f64, entered: f64| {
            let edge = self.g.edges[e as usize];
            let (left, basis) = self.drive(e, to_m - from_m, entered);
            Piece {
                edge: e,
                gid: edge.gid,
                forward: edge.forward,
                from_m,
                to_m,
                entered,
                left,
                basis,
            }
        };
        match (direct, best) {
            (Some(d), b) if b.is_none_or(|b| d.0 <= b.0) => {
                pieces.push(piece(d.1, d.2, d.3, t0));
            }
            (_, Some((_, last, node))) => {
                // back from the node the last piece leaves from
                let mut v = node;
                let mut rev: Vec<u32> = Vec::new();
                while via[v as usize] != u32::MAX {
                    let e = via[v as usize];
                    rev.push(e);
                    v = self.g.edges[e as usize].from;
                }
                if let Some(&(e, along)) = start_piece.get(&v) {
                    let edge = self.g.edges[e as usize];
                    pieces.push(piece(e, along, edge.length_m, t0));
                }
                for &e in rev.iter().rev() {
                    let edge = self.g.edges[e as usize];
                    let t = pieces.last().map_or(t0, |p| p.left);
                    pieces.push(piece(e, 0.0, edge.length_m, t));
                }
                if let Some((e, along)) = last {
                    let t = pieces.last().map_or(t0, |p| p.left);
                    pieces.push(piece(e, 0.0, along, t));
                }
            }
            _ => return Err(RouteError::Unreachable),
        }
        let mut line = vec![from_at];
        let mut basis: Vec<(Basis, f64, f64)> = Vec::new();
        for p in &pieces {
            let edge = self.g.edges[p.edge as usize];
            let len = self.g.ways[edge.way as usize].length_m;
            let (a, b) = if edge.forward {
                (p.from_m, p.to_m)
            } else {
                (len - p.from_m, len - p.to_m)
            };
            self.g.polyline(edge.way, a, b, &mut line);
            let (m, s) = (p.to_m - p.from_m, p.left - p.entered);
            match basis.iter_mut().find(|x| x.0 == p.basis) {
                Some(x) => {
                    x.1 += m;
                    x.2 += s;
                }
                None => basis.push((p.basis, m, s)),
            }
        }
        if line.last() != Some(&to_at) {
            line.push(to_at);
        }
        Ok(Route {
            distance_m: pieces.iter().map(|p| p.to_m - p.from_m).sum(),
            eta_s: pieces.last().map_or(0.0, |p| p.left - t0),
            pieces,
            line,
            basis,
            snapped: (from_at, to_at),
        })
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
}
