//! `fleet replay`: re-parse raw rows and rebuild state tables from the event log.

use anyhow::{Result, bail};
use clap::Args;
use fleet_core::Config;

use super::with_current_db;

/// What `--rebuild` calls the map matcher's tables.
const MATCHING: &str = "matching";
/// What `--rebuild` calls the geocoder's cache.
const GEOCODING: &str = "geocoding";

#[derive(Args)]
pub struct ReplayArgs {
    /// Re-parse the raw rows received in [--from, --to) with the current parser (then project them).
    #[arg(long)]
    reparse: bool,
    /// Start of the range (UTC): 2026-11-01, "2026-11-01 06:00:00" or RFC 3339. Default: the beginning.
    #[arg(long)]
    from: Option<String>,
    /// End of the range, exclusive (same formats). Default: now.
    #[arg(long)]
    to: Option<String>,
    /// Only re-parse rows last parsed by this parser version.
    #[arg(long, value_name = "VERSION")]
    only_parser_version: Option<i32>,
    /// Truncate this state table and re-project it from events.parsed; repeat, or `all`.
    /// `matching` empties what the map matcher wrote (segment observations, matched tracks,
    /// speed bands) and has the worker match every fix again; `geocoding` forgets the cached
    /// addresses and makes them again from the loaded extract.
    #[arg(long, value_name = "TABLE")]
    rebuild: Vec<String>,
}

pub async fn run(config: Config, args: ReplayArgs) -> Result<()> {
    use fleet_ingest::{project, replay};
    if !args.reparse && args.rebuild.is_empty() {
        bail!(
            "say what to replay: --reparse (with --from/--to) and/or --rebuild TABLE (one of: {}, {MATCHING}, {GEOCODING}, or all)",
            project::tables().join(", ")
        );
    }
    if !args.reparse
        && (args.from.is_some() || args.to.is_some() || args.only_parser_version.is_some())
    {
        bail!("--from, --to and --only-parser-version go with --reparse");
    }
    let (from, to) = (
        parse_bound("--from", args.from)?,
        parse_bound("--to", args.to)?,
    );
    let all = args.rebuild.iter().any(|t| t == "all");
    let rematch = all || args.rebuild.iter().any(|t| t == MATCHING);
    let regeocode = all || args.rebuild.iter().any(|t| t == GEOCODING);
    let tables: Vec<String> = if all {
        project::tables().into_iter().map(String::from).collect()
    } else {
        args.rebuild
            .into_iter()
            .filter(|t| t != MATCHING && t != GEOCODING)
            .collect()
    };
    for t in &tables {
        if !project::tables().contains(&t.as_str()) {
            bail!(
                "--rebuild {t:?} is not a projected state table; choose one of: {}, {MATCHING}, {GEOCODING}, or all",
                project::tables().join(", ")
            );
        }
    }
    with_current_db(&config, |pool| async move {
        if args.reparse {
            let started = std::time::Instant::now();
            let n = replay::reparse(
                &pool,
                from,
                to,
                args.only_parser_version,
                &mut replay::printer("re-parse", "events"),
            )
            .await?;
            println!(
                "re-parsed {n} raw rows in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        for t in &tables {
            let started = std::time::Instant::now();
            let n = replay::rebuild(
                &pool,
                t,
                replay::BATCH,
                &mut replay::printer("rebuild", "events"),
            )
            .await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "rebuilt {t} from {n} events in {secs:.1} s ({:.0} events/s)",
                n as f64 / secs.max(1e-6)
            );
        }
        // after state.position_history, which it matches
        if rematch {
            let n = fleet_geo::matching::project::rematch_all(&pool).await?;
            println!(
                "queued {n} device buckets for the map matcher: the worker matches them again (watch fleet_match_pending)"
            );
        }
        // after the trips, stops and alarms it gives addresses to
        if regeocode {
            let started = std::time::Instant::now();
            let n = fleet_geo::geocode::rebuild(&pool).await?;
            println!(
                "geocoded {n} positions in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })
    .await
}

fn parse_bound(flag: &str, value: Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let Some(v) = value else { return Ok(None) };
    let with_time = if v.len() == 10 {
        format!("{v} 00:00:00")
    } else {
        v.clone()
    };
    fleet_core::jimi::parse_time(&with_time)
        .map(Some)
        .ok_or_else(|| anyhow::anyhow!("{flag} {v:?} is not a time: use 2026-11-01, \"2026-11-01 06:00:00\" (UTC) or RFC 3339"))
}
