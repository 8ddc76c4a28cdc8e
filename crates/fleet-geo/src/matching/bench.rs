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

/// Runs `plan` on one graph.
pub fn run(name: &str, g: &MatchGraph, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for &interval_s in &plan.intervals_s {
        for &noise_m in &plan.noises_m {
            let mut rng = Rng(plan.seed);
            let samples: Vec<truth::Sampled> = (0..plan.drives)
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
                .collect();
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
