//! The hidden-Markov-model matcher (Newson & Krumm 2009): per fix, candidate positions on the
//! directed edges within a search radius; emission from the GPS distance (a Gaussian of σ);
//! transition from how much longer the route between two candidates is than the great circle
//! between the fixes (exponential of β); the most likely sequence by Viterbi.
//!
//! Choices beyond the paper, and why:
//! - **Directed candidates.** A two-way road gives two candidates (one per direction), a one-way
//!   road one: the route search decides the direction, so one-way streets are respected and the
//!   output says which way each edge was driven.
//! - **Edge-based route search** (Dijkstra over directed edges, bounded by the plausible route
//!   length), so a U-turn is a choice with a cost (`uturn_penalty_m`), at a junction or mid-edge,
//!   instead of a free reversal.
//! - **Standing still.** A candidate slightly *behind* the previous one on the same edge (within
//!   3σ√2, the noise of a difference of two fixes) is noise around a slow or stopped vehicle, not
//!   a loop around the block: the route is the distance it moved back.
//! - **Outliers and breaks.** A fix no candidate of the previous fix can reach is looked at
//!   together with the next: if the next fix is reachable from the previous one, the fix was an
//!   outlier and is skipped; otherwise the trace breaks there and a new segment starts — no path
//!   is invented across a gap. A time gap over `max_gap_s` breaks at once.
//! - **Bad input never panics**: invalid or (0,0) coordinates, fixes out of time order and
//!   duplicates are skipped with the reason; a fix with no road within the radius is skipped.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::graph::{MatchGraph, Projection};
use crate::{Point, haversine_m};

/// The matcher's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// GPS noise σ, m (emission).
    pub sigma_m: f64,
    /// Candidate search radius, m.
    pub radius_m: f64,
    /// β of the transition: the typical |route − great circle| between consecutive fixes, m.
    pub beta_m: f64,
    /// Candidate rows per fix (each gives one or two directed candidates).
    pub max_candidates: usize,
    /// What a U-turn costs, as metres of route.
    pub uturn_penalty_m: f64,
    /// A longer silence breaks the trace.
    pub max_gap_s: f64,
    /// Faster than this between two fixes is not a route.
    pub max_speed_mps: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            sigma_m: 10.0,
            radius_m: 50.0,
            beta_m: 10.0,
            max_candidates: 10,
            uturn_penalty_m: 200.0,
            max_gap_s: 600.0,
            max_speed_mps: 60.0,
        }
    }
}

/// One fix of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    /// Seconds (any epoch; only differences matter).
    pub time: f64,
    pub at: Point,
}

/// Why a fix was not matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Latitude/longitude out of range, not a number, or (0, 0).
    InvalidPosition,
    /// Earlier than the fix before it.
    OutOfOrder,
    /// The same time as the fix before it.
    DuplicateTime,
    /// No road within the search radius.
    NoRoad,
    /// No plausible route from the previous fix, while the next fix has one: an outlier.
    Outlier,
}

/// A matched fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchedFix {
    /// Index of the fix in the input.
    pub i: usize,
    /// The directed edge (index into [`MatchGraph::edges`]).
    pub edge: u32,
    pub gid: i64,
    pub forward: bool,
    /// Distance along the row from its source, m.
    pub offset_m: f64,
    /// Distance from the fix to the road, m.
    pub distance_m: f64,
    pub at: Point,
}

/// One edge of the matched path, with the times it was entered and left (interpolated along
/// the route between the fixes around it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathEdge {
    pub edge: u32,
    pub gid: i64,
    pub forward: bool,
    pub entered: f64,
    pub left: f64,
    /// Where driving on it began, m along the edge in its direction of travel (0 but for the
    /// first edge of a segment).
    pub from_m: f64,
    /// The part of the edge driven, m (less than its length for the first and last).
    pub driven_m: f64,
}

/// A matched trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    pub fixes: Vec<MatchedFix>,
    pub skipped: Vec<(usize, Skip)>,
    /// Input indices where a new segment starts (after the first).
    pub breaks: Vec<usize>,
    /// Each segment's connected path, in travel order.
    pub segments: Vec<Vec<PathEdge>>,
}

/// One Viterbi column: the fix's index, its candidates, their scores and back pointers.
type Step = (usize, Vec<Cand>, Vec<f64>, Vec<u32>);

enum Route {
    SameEdge,
    MidEdgeUturn,
    /// The edges after A's, up to and including B's.
    Through(Vec<u32>),
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    edge: u32,
    /// Along the edge in its direction of travel, m.
    offset: f64,
    distance: f64,
    at: Point,
    emission: f64,
}

/// A search heap entry (a distance or time, and an edge or node), smallest first in a
/// `BinaryHeap`; the router's searches use it too.
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct Item(pub(crate) f64, pub(crate) u32);
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}

/// The matcher over one graph; reuse it for many traces (its search buffers are kept).
pub struct Matcher<'g> {
    g: &'g MatchGraph,
    p: Params,
    /// Per edge, the route distance at which the current search entered it.
    entry: Vec<f64>,
    pred: Vec<u32>,
    stamp: Vec<u32>,
    generation: u32,
    heap: BinaryHeap<Item>,
    near: Vec<Projection>,
}

const NONE: u32 = u32::MAX;

impl<'g> Matcher<'g> {
    pub fn new(g: &'g MatchGraph, p: Params) -> Self {
        let n = g.edges.len();
        Self {
            g,
            p,
            entry: vec![f64::INFINITY; n],
            pred: vec![NONE; n],
            stamp: vec![0; n],
            generation: 0,
            heap: BinaryHeap::new(),
            near: Vec::new(),
        }
    }

    pub fn params(&self) -> Params {
        self.p
    }

    /// How far behind the previous candidate on the same edge a candidate may be and still be
    /// the same place: the difference of two fixes' noise has σ√2; three of those.
    fn standstill_m(&self) -> f64 {
        3.0 * std::f64::consts::SQRT_2 * self.p.sigma_m
    }

    fn candidates(&mut self, at: Point) -> Vec<Cand> {
        let mut near = std::mem::take(&mut self.near);
        self.g.near(at, self.p.radius_m, &mut near);
        let mut out = Vec::with_capacity(2 * self.p.max_candidates);
        for pr in near.iter().take(self.p.max_candidates) {
            let w = &self.g.ways[pr.way as usize];
            let emission = -0.5 * (pr.distance_m / self.p.sigma_m).powi(2);
            if let Some(e) = w.forward {
                out.push(Cand {
                    edge: e,
                    offset: pr.offset_m,
                    distance: pr.distance_m,
                    at: pr.at,
                    emission,
                });
            }
            if let Some(e) = w.backward {
                out.push(Cand {
                    edge: e,
                    offset: w.length_m - pr.offset_m,
                    distance: pr.distance_m,
                    at: pr.at,
                    emission,
                });
            }
        }
        self.near = near;
        out
    }

    /// Route distances from `a` to each of `targets` (∞ where none within `bound`); with
    /// `shortcuts`, a target ahead on the same edge or behind on its twin is reached directly.
    fn search(
        &mut self,
        a: &Cand,
        targets: &[Cand],
        bound: f64,
        shortcuts: bool,
        out: &mut Vec<f64>,
    ) {
        out.clear();
        out.resize(targets.len(), f64::INFINITY);
        let g = self.g;
        let mut need = 0usize;
        for (k, b) in targets.iter().enumerate() {
            match shortcuts.then(|| self.shortcut(a, b)).flatten() {
                Some((Route::SameEdge, d)) => out[k] = d,
                // a U-turn mid-edge may still be beaten by a way round
                Some((_, d)) => {
                    out[k] = d;
                    need += 1;
                }
                None => need += 1,
            }
        }
        if need == 0 {
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let stamp_now = self.generation;
        self.heap.clear();
        // keyed by the distance at which an edge is entered (`self.entry`): a bound on it is a
        // bound on every route through the edge, whatever its length
        let leave_a = g.edges[a.edge as usize].length_m - a.offset;
        self.stamp[a.edge as usize] = stamp_now;
        self.entry[a.edge as usize] = -a.offset;
        self.pred[a.edge as usize] = NONE;
        self.relax(a.edge, leave_a, stamp_now);
        let mut settled_targets = 0usize;
        while let Some(Item(entry, e)) = self.heap.pop() {
            if entry > self.entry[e as usize] {
                continue;
            }
            if entry > bound {
                break;
            }
            for (k, b) in targets.iter().enumerate() {
                if b.edge == e {
                    let r = entry + b.offset;
                    if r < out[k] {
                        out[k] = r;
                    }
                    settled_targets += 1;
                }
            }
            if settled_targets >= need {
                break;
            }
            let leave = entry + g.edges[e as usize].length_m;
            self.relax(e, leave, stamp_now);
        }
    }

    /// Offers the edges after `e` (left at `leave` metres) to the search.
    fn relax(&mut self, e: u32, leave: f64, stamp_now: u32) {
        let g = self.g;
        let twin = g.twin(e);
        for &f in g.out(g.edges[e as usize].to) {
            let entry = if Some(f) == twin {
                leave + self.p.uturn_penalty_m
            } else {
                leave
            };
            let fi = f as usize;
            if self.stamp[fi] != stamp_now || entry < self.entry[fi] {
                self.stamp[fi] = stamp_now;
                self.entry[fi] = entry;
                self.pred[fi] = e;
                self.heap.push(Item(entry, f));
            }
        }
    }

    /// The route from `a` to `b` that needs no search, and its length: `b` ahead on the same
    /// edge (or behind within the standstill allowance: jitter around a slow or stopped vehicle
    /// moves it back and forth, as far as it moved), or `b` behind `a` on the twin edge (a U-turn
    /// mid-edge, at its cost).
    fn shortcut(&self, a: &Cand, b: &Cand) -> Option<(Route, f64)> {
        if b.edge == a.edge && b.offset >= a.offset - self.standstill_m() {
            return Some((Route::SameEdge, (b.offset - a.offset).abs()));
        }
        if self.g.twin(a.edge) == Some(b.edge) {
            let len = self.g.edges[a.edge as usize].length_m;
            let back = a.offset - (len - b.offset);
            if back >= 0.0 {
                return Some((Route::MidEdgeUturn, back + self.p.uturn_penalty_m));
            }
        }
        None
    }

    /// How the chosen transition from `a` to `b` goes.
    fn route_edges(&mut self, a: &Cand, b: &Cand) -> Route {
        let uturn = match self.shortcut(a, b) {
            Some((Route::SameEdge, _)) => return Route::SameEdge,
            Some((_, d)) => d,
            None => f64::INFINITY,
        };
        let mut d = Vec::new();
        self.search(a, std::slice::from_ref(b), f64::INFINITY, false, &mut d);
        // (no way round at all: the transition was chosen for its U-turn)
        if uturn <= d[0] || !d[0].is_finite() {
            return Route::MidEdgeUturn;
        }
        let mut path = vec![b.edge];
        let mut e = self.pred[b.edge as usize];
        let mut guard = 0;
        while e != NONE && e != a.edge && guard < 10_000_000 {
            path.push(e);
            e = self.pred[e as usize];
            guard += 1;
        }
        path.reverse();
        Route::Through(path)
    }

    /// Matches one trace.
    pub fn match_trace(&mut self, fixes: &[Fix]) -> Matched {
        let mut m = Matched::default();
        // the segment being built: per step, the fix index, its candidates, scores and back pointers
        let mut steps: Vec<Step> = Vec::new();
        let mut last_time: Option<f64> = None;
        let mut routes = Vec::new();
        let mut i = 0;
        let mut lookahead: Option<(usize, Vec<Cand>)> = None;
        while i < fixes.len() {
            let f = fixes[i];
            if !valid(f.at) {
                m.skipped.push((i, Skip::InvalidPosition));
                i += 1;
                continue;
            }
            if let Some(t) = last_time {
                if f.time < t {
                    m.skipped.push((i, Skip::OutOfOrder));
                    i += 1;
                    continue;
                }
                if f.time == t {
                    m.skipped.push((i, Skip::DuplicateTime));
                    i += 1;
                    continue;
                }
            }
            let cands = match lookahead.take() {
                Some((j, c)) if j == i => c,
                _ => self.candidates(f.at),
            };
            if cands.is_empty() {
                m.skipped.push((i, Skip::NoRoad));
                i += 1;
                continue;
            }
            let Some((pi, pc, ps, _)) = steps.last() else {
                let scores = cands.iter().map(|c| c.emission).collect();
                steps.push((i, cands, scores, Vec::new()));
                last_time = Some(f.time);
                i += 1;
                continue;
            };
            let prev = fixes[*pi];
            let dt = f.time - prev.time;
            let step = if dt > self.p.max_gap_s {
                None
            } else {
                self.step(&prev, pc, ps, &f, &cands, dt, &mut routes)
            };
            // no route here: an outlier if the next fix can be reached from the previous one
            let mut outlier = false;
            if step.is_none()
                && dt <= self.p.max_gap_s
                && let Some(j) = next_valid(fixes, i + 1, f.time)
            {
                let nc = self.candidates(fixes[j].at);
                let ndt = fixes[j].time - prev.time;
                if !nc.is_empty() && ndt <= self.p.max_gap_s {
                    outlier = self
                        .step(&prev, pc, ps, &fixes[j], &nc, ndt, &mut routes)
                        .is_some();
                }
                lookahead = Some((j, nc));
            }
            match step {
                Some((scores, back)) => steps.push((i, cands, scores, back)),
                None if outlier => {
                    m.skipped.push((i, Skip::Outlier));
                    i += 1;
                    continue;
                }
                None => {
                    self.finish(fixes, &mut steps, &mut m);
                    m.breaks.push(i);
                    // the fix starts the next segment
                    let scores = cands.iter().map(|c| c.emission).collect();
                    steps.push((i, cands, scores, Vec::new()));
                }
            }
            last_time = Some(f.time);
            i += 1;
        }
        self.finish(fixes, &mut steps, &mut m);
        m.skipped.sort_by_key(|(i, _)| *i);
        m
    }

    /// One Viterbi step: scores and back pointers of `cands`, or `None` when none is reachable.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        prev: &Fix,
        pc: &[Cand],
        ps: &[f64],
        f: &Fix,
        cands: &[Cand],
        dt: f64,
        routes: &mut Vec<f64>,
    ) -> Option<(Vec<f64>, Vec<u32>)> {
        let gc = haversine_m(prev.at, f.at);
        // speeds are judged net of what the noise of two fixes can add
        let slack = std::f64::consts::SQRT_2 * self.p.sigma_m;
        if (gc - slack) / dt.max(1.0) > self.p.max_speed_mps {
            return None;
        }
        let bound = (gc * 2.0 + 2.0 * self.p.radius_m + 100.0)
            .min(self.p.max_speed_mps * dt.max(1.0) + 2.0 * self.p.radius_m);
        let mut scores = vec![f64::NEG_INFINITY; cands.len()];
        let mut back = vec![NONE; cands.len()];
        for (ai, (a, sa)) in pc.iter().zip(ps).enumerate() {
            if !sa.is_finite() {
                continue;
            }
            self.search(a, cands, bound, true, routes);
            for (k, r) in routes.iter().enumerate() {
                if !r.is_finite() || (*r - slack) / dt.max(1.0) > self.p.max_speed_mps {
                    continue;
                }
                let s = sa - (r - gc).abs() / self.p.beta_m + cands[k].emission;
                if s > scores[k] {
                    scores[k] = s;
                    back[k] = ai as u32;
                }
            }
        }
        scores
            .iter()
            .any(|s| s.is_finite())
            .then_some((scores, back))
    }

    /// Ends the segment in `steps`: backtracks, builds its path, appends to `m`.
    fn finish(&mut self, fixes: &[Fix], steps: &mut Vec<Step>, m: &mut Matched) {
        if steps.is_empty() {
            return;
        }
        let mut chosen = vec![0usize; steps.len()];
        let last = steps.len() - 1;
        chosen[last] = best(&steps[last].2);
        for s in (1..=last).rev() {
            chosen[s - 1] = steps[s].3[chosen[s]] as usize;
        }
        let picked: Vec<(usize, Cand)> = steps
            .iter()
            .zip(&chosen)
            .map(|((i, c, _, _), k)| (*i, c[*k]))
            .collect();
        for (i, c) in &picked {
            let e = self.g.edges[c.edge as usize];
            let len = e.length_m;
            m.fixes.push(MatchedFix {
                i: *i,
                edge: c.edge,
                gid: e.gid,
                forward: e.forward,
                offset_m: if e.forward { c.offset } else { len - c.offset },
                distance_m: c.distance,
                at: c.at,
            });
        }
        // the path: (edge, from, to) in metres along each edge in its direction of travel
        let mut path: Vec<(u32, f64, f64)> = Vec::new();
        let first = picked[0].1;
        path.push((first.edge, first.offset, first.offset));
        let mut done = 0.0; // metres driven on the entries before the last
        let mut fix_at: Vec<(f64, f64)> = vec![(0.0, fixes[picked[0].0].time)];
        for w in picked.windows(2) {
            let (a, b) = (w[0].1, w[1].1);
            let route = self.route_edges(&a, &b);
            let close = |path: &mut Vec<(u32, f64, f64)>, to: f64, done: &mut f64| {
                if let Some(p) = path.last_mut() {
                    p.2 = p.2.max(to);
                    *done += p.2 - p.1;
                }
            };
            match route {
                Route::SameEdge => {
                    if let Some(p) = path.last_mut() {
                        p.2 = p.2.max(b.offset);
                    }
                }
                Route::MidEdgeUturn => {
                    close(&mut path, a.offset, &mut done);
                    let len = self.g.edges[b.edge as usize].length_m;
                    let from = len - a.offset;
                    path.push((b.edge, from, b.offset.max(from)));
                }
                Route::Through(edges) => {
                    let len = self.g.edges[a.edge as usize].length_m;
                    close(&mut path, len, &mut done);
                    for (k, &e) in edges.iter().enumerate() {
                        let l = self.g.edges[e as usize].length_m;
                        if k + 1 < edges.len() {
                            path.push((e, 0.0, l));
                            done += l;
                        } else {
                            path.push((e, 0.0, b.offset));
                        }
                    }
                }
            }
            let from = path[path.len() - 1].1;
            let r = done + (b.offset - from).max(0.0);
            let r = r.max(fix_at.last().map_or(0.0, |x| x.0));
            fix_at.push((r, fixes[w[1].0].time));
        }
        let mut out = Vec::with_capacity(path.len());
        let mut r = 0.0;
        for &(e, from, to) in &path {
            let edge = self.g.edges[e as usize];
            let driven = (to - from).max(0.0);
            out.push(PathEdge {
                edge: e,
                gid: edge.gid,
                forward: edge.forward,
                entered: time_at(&fix_at, r),
                left: time_at(&fix_at, r + driven),
                from_m: from,
                driven_m: driven,
            });
            r += driven;
        }
        m.segments.push(out);
        steps.clear();
    }
}

fn best(scores: &[f64]) -> usize {
    let mut k = 0;
    for (i, s) in scores.iter().enumerate() {
        if *s > scores[k] {
            k = i;
        }
    }
    k
}

fn valid(p: Point) -> bool {
    p.lat.is_finite()
        && p.lng.is_finite()
        && (-90.0..=90.0).contains(&p.lat)
        && (-180.0..=180.0).contains(&p.lng)
        && !(p.lat == 0.0 && p.lng == 0.0)
}

fn next_valid(fixes: &[Fix], from: usize, after: f64) -> Option<usize> {
    (from..fixes.len()).find(|&j| valid(fixes[j].at) && fixes[j].time > after)
}

fn time_at(fix_at: &[(f64, f64)], r: f64) -> f64 {
    if fix_at.is_empty() {
        return 0.0;
    }
    if r <= fix_at[0].0 {
        return fix_at[0].1;
    }
    for w in fix_at.windows(2) {
        let ((r0, t0), (r1, t1)) = (w[0], w[1]);
        if r <= r1 {
            return if r1 > r0 {
                t0 + (t1 - t0) * (r - r0) / (r1 - r0)
            } else {
                t1
            };
        }
    }
    fix_at[fix_at.len() - 1].1
}
