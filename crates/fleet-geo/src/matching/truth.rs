//! Ground truth for the matcher: a vehicle driven over the graph itself (so its true path is
//! known edge by edge), sampled every few seconds, with Gaussian GPS noise and occasional
//! outliers; and the scores of a match against it:
//!
//! - **route mismatch fraction** (Newson & Krumm): (length matched that was not driven + length
//!   driven that was not matched) ÷ length driven, over directed edges (the wrong direction of
//!   the right road counts as wrong);
//! - **correct fraction**: length matched that was driven ÷ length driven;
//! - **fixes on the right directed edge**: share of all fixes (skipped ones count as wrong).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use fleet_core::rng::Rng;

use super::graph::MatchGraph;
use super::hmm::{Fix, Matched};
use crate::Point;

/// A driven path: directed edges in order, from `start_m` along the first to `end_m` along the last.
#[derive(Debug, Clone)]
pub struct Drive {
    pub edges: Vec<u32>,
    pub start_m: f64,
    pub end_m: f64,
}

/// A drive of at least `min_m` metres as a driver would take it: the fastest route (by each
/// edge's speed, no U-turns) from a random edge to a random edge between `min_m` and 3 × `min_m`
/// of driving away.
pub fn drive(g: &MatchGraph, rng: &mut Rng, min_m: f64) -> Option<Drive> {
    if g.is_empty() {
        return None;
    }
    let n = g.edges.len();
    for _ in 0..50 {
        let first = rng.below(n) as u32;
        // edge-based Dijkstra by time from the start of `first`
        let mut time = vec![f64::INFINITY; n];
        let mut dist = vec![f64::INFINITY; n];
        let mut pred = vec![u32::MAX; n];
        let mut heap = BinaryHeap::new();
        time[first as usize] = 0.0;
        dist[first as usize] = 0.0;
        heap.push(Reverse((Ord64(0.0), first)));
        while let Some(Reverse((Ord64(t), e))) = heap.pop() {
            if t > time[e as usize] {
                continue;
            }
            let edge = g.edges[e as usize];
            let (t_end, d_end) = (
                t + edge.length_m / edge.speed_mps,
                dist[e as usize] + edge.length_m,
            );
            if d_end > 3.0 * min_m {
                continue;
            }
            for &f in g.out(edge.to) {
                if Some(f) == g.twin(e) || t_end >= time[f as usize] {
                    continue;
                }
                time[f as usize] = t_end;
                dist[f as usize] = d_end;
                pred[f as usize] = e;
                heap.push(Reverse((Ord64(t_end), f)));
            }
        }
        let ends: Vec<u32> = (0..n as u32)
            .filter(|&e| dist[e as usize] >= min_m && dist[e as usize] <= 3.0 * min_m)
            .collect();
        if ends.is_empty() {
            continue;
        }
        let last = *rng.pick(&ends);
        let mut edges = vec![last];
        let mut e = last;
        while pred[e as usize] != u32::MAX {
            e = pred[e as usize];
            edges.push(e);
        }
        edges.reverse();
        let start_m = rng.range(0.0, g.edges[first as usize].length_m * 0.5);
        let end_m = g.edges[last as usize].length_m * rng.range(0.5, 1.0);
        return Some(Drive {
            edges,
            start_m,
            end_m,
        });
    }
    None
}

#[derive(Clone, Copy, PartialEq)]
struct Ord64(f64);
impl Eq for Ord64 {}
impl PartialOrd for Ord64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ord64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// How a drive is sampled.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    pub interval_s: f64,
    pub noise_m: f64,
    /// Share of fixes displaced far (60–150 m) in a random direction.
    pub outlier_rate: f64,
}

/// A sampled drive: the fixes and, per fix, the directed edge the vehicle was on.
pub struct Sampled {
    pub fixes: Vec<Fix>,
    pub truth: Vec<u32>,
    /// Per fix: the index of its edge in the drive and the true distance along that edge.
    pub along: Vec<(usize, f64)>,
    pub drive: Drive,
}

fn gauss(rng: &mut Rng) -> f64 {
    let u1 = rng.unit().max(1e-12);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn offset(p: Point, east_m: f64, north_m: f64) -> Point {
    Point {
        lat: p.lat + north_m / 111_320.0,
        lng: p.lng + east_m / (111_320.0 * p.lat.to_radians().cos()),
    }
}

/// Drives `d` at each edge's speed (a random 60–100 % of it, per edge) and samples it.
pub fn sample(g: &MatchGraph, d: Drive, s: Sampling, rng: &mut Rng) -> Sampled {
    let mut fixes = Vec::new();
    let mut truth = Vec::new();
    let mut along_drive = Vec::new();
    let mut t = 0.0;
    let mut next_sample = 0.0;
    for (k, &e) in d.edges.iter().enumerate() {
        let edge = g.edges[e as usize];
        let from = if k == 0 { d.start_m } else { 0.0 };
        let to = if k + 1 == d.edges.len() {
            d.end_m
        } else {
            edge.length_m
        };
        if to <= from {
            continue;
        }
        let v = edge.speed_mps * rng.range(0.6, 1.0);
        let t_end = t + (to - from) / v;
        while next_sample <= t_end {
            let along = from + (next_sample - t) * v;
            let row_off = if edge.forward {
                along
            } else {
                edge.length_m - along
            };
            let on_road = g.point_at(edge.way, row_off);
            let (mut dx, mut dy) = (gauss(rng) * s.noise_m, gauss(rng) * s.noise_m);
            if rng.chance(s.outlier_rate) {
                let (r, a) = (
                    rng.range(60.0, 150.0),
                    rng.range(0.0, std::f64::consts::TAU),
                );
                dx = r * a.cos();
                dy = r * a.sin();
            }
            fixes.push(Fix {
                time: next_sample,
                at: offset(on_road, dx, dy),
            });
            truth.push(e);
            along_drive.push((k, along));
            next_sample += s.interval_s;
        }
        t = t_end;
    }
    Sampled {
        fixes,
        truth,
        along: along_drive,
        drive: d,
    }
}

/// The scores of one match.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub driven_m: f64,
    pub wrong_m: f64,
    pub missed_m: f64,
    pub right_m: f64,
    pub fixes: usize,
    pub fixes_right: usize,
}

impl Score {
    pub fn mismatch(&self) -> f64 {
        (self.wrong_m + self.missed_m) / self.driven_m.max(1e-9)
    }
    pub fn correct(&self) -> f64 {
        self.right_m / self.driven_m.max(1e-9)
    }
    pub fn fix_share(&self) -> f64 {
        self.fixes_right as f64 / self.fixes.max(1) as f64
    }
    pub fn add(&mut self, o: &Score) {
        self.driven_m += o.driven_m;
        self.wrong_m += o.wrong_m;
        self.missed_m += o.missed_m;
        self.right_m += o.right_m;
        self.fixes += o.fixes;
        self.fixes_right += o.fixes_right;
    }
}

/// Metres driven per directed edge, from the first fix's true position to the last's.
pub fn driven(g: &MatchGraph, s: &Sampled) -> HashMap<u32, f64> {
    let mut truth: HashMap<u32, f64> = HashMap::new();
    if let (Some(&(k0, off0)), Some(&(k1, off1))) = (s.along.first(), s.along.last()) {
        for k in k0..=k1 {
            let e = s.drive.edges[k];
            let len = g.edges[e as usize].length_m;
            let from = if k == k0 { off0 } else { 0.0 };
            let to = if k == k1 { off1 } else { len };
            *truth.entry(e).or_default() += (to - from).max(0.0);
        }
    }
    truth
}

/// Scores `m` against the part of the drive between the first and the last fix.
pub fn score(g: &MatchGraph, s: &Sampled, m: &Matched) -> Score {
    let truth = driven(g, s);
    let mut matched: HashMap<u32, f64> = HashMap::new();
    for seg in &m.segments {
        for p in seg {
            *matched.entry(p.edge).or_default() += p.driven_m;
        }
    }
    let mut sc = Score {
        driven_m: truth.values().sum(),
        fixes: s.fixes.len(),
        ..Score::default()
    };
    for (e, &t) in &truth {
        let got = matched
            .get(e)
            .copied()
            .unwrap_or(0.0)
            .min(g.edges[*e as usize].length_m);
        sc.right_m += got.min(t);
        sc.missed_m += (t - got).max(0.0);
    }
    for (e, &got) in &matched {
        let t = truth.get(e).copied().unwrap_or(0.0);
        sc.wrong_m += (got.min(g.edges[*e as usize].length_m) - t).max(0.0);
    }
    sc.fixes_right = m
        .fixes
        .iter()
        .filter(|f| s.truth.get(f.i) == Some(&f.edge))
        .count();
    sc
}
