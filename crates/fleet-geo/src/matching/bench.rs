//! `fleet bench match`: the matcher against driven ground truth on real road graphs, per
//! sampling interval and GPS noise: route mismatch fraction, correct fraction, share of fixes on
//! the right directed edge, and single-core fixes per second (graph build excluded).

use std::time::Instant;

use fleet_core::rng::Rng;

use super::graph::MatchGraph;
use super::hmm::{Matcher, Params};
use super::truth::{self, Sampling, Score};

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Row {
    pub graph: String,
    pub interval_s: f64,
    pub noise_m: f64,
    pub score: Score,
    pub fixes_per_s: f64,
    pub breaks: usize,
    pub skipped: usize,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub intervals_s: Vec<f64>,
    pub noises_m: Vec<f64>,
    pub drives: usize,
    pub drive_m: f64,
    pub outlier_rate: f64,
    pub seed: u64,
    pub params: Params,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            intervals_s: vec![1.0, 5.0, 10.0, 30.0, 60.0],
            noises_m: vec![5.0, 10.0, 20.0],
            drives: 40,
            drive_m: 5000.0,
            outlier_rate: 0.01,
            seed: 42,
            params: Params::default(),
        }
    }
}

/// The drives of one cell of the plan (the same for the same seed).
pub fn samples(g: &MatchGraph, plan: &Plan, interval_s: f64, noise_m: f64) -> Vec<truth::Sampled> {
    let mut rng = Rng(plan.seed);
    (0..plan.drives)
        .filter_map(|_| {
            let d = truth::drive(g, &mut rng, plan.drive_m)?;
            Some(truth::sample(
                g,
                d,
                Sampling {
                    interval_s,
                    noise_m,
                    outlier_rate: plan.outlier_rate,
                },
                &mut rng,
            ))
        })
        .collect()
}

/// Writes what a peer matcher needs to be scored the same way, per cell of the plan:
/// `{dir}/{name}/pairs.json` (every directed edge as its consecutive OSM node pairs:
/// `[a, b, gid, forward, metres]`) and `{dir}/{name}/{every}s_{noise}m.json` (the traces as
/// `[lng, lat, t]` fixes with their truth as `[gid, forward, metres]`, and this matcher's scores).
pub fn export(
    name: &str,
    rows: &[crate::osm::WayRow],
    g: &MatchGraph,
    plan: &Plan,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    use serde_json::json;
    let out = dir.join(name);
    std::fs::create_dir_all(&out)?;
    let by_gid: std::collections::HashMap<i64, &crate::osm::WayRow> =
        rows.iter().map(|r| (r.gid, r)).collect();
    let mut pairs = Vec::new();
    for e in &g.edges {
        let Some(r) = by_gid.get(&e.gid) else {
            continue;
        };
        if r.nodes.len() != r.points.len() {
            continue;
        }
        let idx: Vec<usize> = if e.forward {
            (0..r.nodes.len()).collect()
        } else {
            (0..r.nodes.len()).rev().collect()
        };
        for w in idx.windows(2) {
            let m = crate::haversine_m(r.points[w[0]], r.points[w[1]]);
            pairs.push(json!([r.nodes[w[0]], r.nodes[w[1]], e.gid, e.forward, m]));
        }
    }
    std::fs::write(out.join("pairs.json"), serde_json::to_vec(&pairs)?)?;
    for row in run(name, g, plan) {
        let samples = samples(g, plan, row.interval_s, row.noise_m);
        let traces: Vec<serde_json::Value> = samples
            .iter()
            .map(|s| {
                let truth: Vec<serde_json::Value> = truth::driven(g, s)
                    .iter()
                    .map(|(e, m)| json!([g.edges[*e as usize].gid, g.edges[*e as usize].forward, m]))
                    .collect();
                json!({"fixes": s.fixes.iter().map(|f| json!([f.at.lng, f.at.lat, f.time])).collect::<Vec<_>>(), "truth": truth})
            })
            .collect();
        let doc = json!({"interval_s": row.interval_s, "noise_m": row.noise_m,
            "ours": {"mismatch": row.score.mismatch(), "correct": row.score.correct(), "fixes_per_s": row.fixes_per_s},
            "traces": traces});
        std::fs::write(
            out.join(format!("{}s_{}m.json", row.interval_s, row.noise_m)),
            serde_json::to_vec(&doc)?,
        )?;
    }
    Ok(())
}

/// Runs `plan` on one graph.
pub fn run(name: &str, g: &MatchGraph, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for &interval_s in &plan.intervals_s {
        for &noise_m in &plan.noises_m {
            let samples = samples(g, plan, interval_s, noise_m);
            // σ follows the noise, as a deployment sets it for its trackers
            let params = Params {
                sigma_m: noise_m.max(plan.params.sigma_m.min(noise_m)),
                radius_m: plan.params.radius_m.max(3.0 * noise_m),
                ..plan.params
            };
            let mut m = Matcher::new(g, params);
            let started = Instant::now();
            let matched: Vec<_> = samples.iter().map(|s| m.match_trace(&s.fixes)).collect();
            let seconds = started.elapsed().as_secs_f64();
            let mut score = Score::default();
            let (mut breaks, mut skipped, mut fixes) = (0, 0, 0);
            for (s, r) in samples.iter().zip(&matched) {
                score.add(&truth::score(g, s, r));
                breaks += r.breaks.len();
                skipped += r.skipped.len();
                fixes += s.fixes.len();
            }
            rows.push(Row {
                graph: name.to_string(),
                interval_s,
                noise_m,
                score,
                fixes_per_s: fixes as f64 / seconds.max(1e-9),
                breaks,
                skipped,
            });
        }
    }
    rows
}
