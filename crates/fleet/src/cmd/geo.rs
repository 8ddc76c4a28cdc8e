//! `fleet geo match`: a trace file matched against the roads in `geo.ways`, printed as JSON.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use fleet_core::Config;
use fleet_geo::matching::{self, Matcher, Params};

use super::with_current_db;

#[derive(Subcommand)]
pub enum GeoAction {
    /// Match a GPS trace (CSV with time and lat/lon columns, or GPX) to the roads of geo.ways.
    #[command(
        after_help = "Prints {\"edges\": [gid, …], \"fixes\": [{\"i\", \"gid\", \"offset_m\", \"distance_m\"}, …], \"breaks\": [i, …], …}.\nExample: fleet geo match trip.csv --sigma 10"
    )]
    Match {
        file: PathBuf,
        /// GPS noise σ, metres.
        #[arg(long, default_value_t = Params::default().sigma_m)]
        sigma: f64,
        /// Candidate search radius, metres.
        #[arg(long, default_value_t = Params::default().radius_m)]
        radius: f64,
    },
}

pub async fn run(config: Config, action: GeoAction) -> Result<()> {
    match action {
        GeoAction::Match {
            file,
            sigma,
            radius,
        } => {
            if !(sigma > 0.0 && sigma <= 500.0) {
                bail!(
                    "--sigma {sigma}: expected the GPS noise in metres, more than 0 and at most 500"
                );
            }
            if !(1.0..=2000.0).contains(&radius) {
                bail!("--radius {radius}: expected metres from 1 to 2000");
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let trace = matching::trace::read(&text).with_context(|| file.display().to_string())?;
            let graph = with_current_db(
                &config,
                |pool| async move { Ok(matching::load(&pool).await?) },
            )
            .await?;
            if graph.is_empty() {
                bail!(
                    "geo.ways has no roads to match against: load an extract with `fleet import osm FILE.osm.pbf`"
                );
            }
            let mut m = Matcher::new(
                &graph,
                Params {
                    sigma_m: sigma,
                    radius_m: radius,
                    ..Params::default()
                },
            );
            let started = std::time::Instant::now();
            let r = m.match_trace(&trace.fixes);
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::to_string_pretty(&matching::report(&trace, &r, seconds))?
            );
            Ok(())
        }
    }
}
