//! `fleet bench`: benchmarks on loopback against a scratch database, each line with its target.

use std::time::Duration;

use anyhow::Result;
use fleet_core::Config;

use super::with_scratch_db;

#[derive(clap::Subcommand)]
pub enum BenchWhat {
    /// Push acceptance (throughput, ack latency), push → live freshness, and replay rate.
    Ingest {
        /// Seconds of concurrent push load.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        seconds: u64,
        /// Concurrent push clients.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
        concurrency: u64,
        /// Paced pushes per second for the freshness measurement.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=20000))]
        rate: u64,
        /// Seconds of the freshness measurement.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        fresh_seconds: u64,
    },
    /// The live view of a large fleet and the history of one vehicle over weeks of 10-s fixes,
    /// over HTTP through the gateway.
    Views {
        /// Vehicles in the live view (every tenth with a second tracker).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=50000))]
        vehicles: u64,
        /// Days of 10-s fixes in the history.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=31))]
        days: u64,
        /// Live-view requests measured (history: a quarter as many, at least 10).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10000))]
        requests: u64,
        /// Clients on the live stream while fixes are written.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
        stream_clients: u64,
        /// Seconds of fixes (the fleet reporting every 10 s) the stream is measured over.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(2..=3600))]
        stream_seconds: u64,
    },
    /// A fuel snapshot reconcile: a generated messy feed, first load, re-run, and a run with edits.
    Fuel {
        /// Records in the snapshot.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(100..=2_000_000))]
        records: u64,
    },
    /// One full vendor poll cycle of a simulated fleet, end to end into state.
    Polls {
        /// Trackers in the simulated fleet.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=20000))]
        devices: u64,
    },
    /// The map matcher against driven ground truth (Monaco, built in; Andorra and any other
    /// extract given with --extract), per sampling interval and GPS noise.
    Match {
        /// `.osm.pbf` extracts to drive on besides the built-in Monaco (repeat).
        #[arg(long, value_name = "FILE.osm.pbf")]
        extract: Vec<std::path::PathBuf>,
        /// Drives per sampling and noise.
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=10000))]
        drives: u64,
        /// Metres per drive.
        #[arg(long, default_value_t = 5000.0)]
        drive_m: f64,
        /// Sampling intervals, seconds, comma-separated.
        #[arg(long, default_value = "1,5,10,30,60", value_delimiter = ',')]
        intervals: Vec<f64>,
        /// GPS noise σ of the generated fixes, metres, comma-separated.
        #[arg(long, default_value = "5,10,20", value_delimiter = ',')]
        noise: Vec<f64>,
        /// Share of fixes thrown 60-150 m off.
        #[arg(long, default_value_t = 0.01)]
        outliers: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The matcher's β, metres (default: the matcher's).
        #[arg(long)]
        beta: Option<f64>,
        /// The matcher's U-turn penalty, metres.
        #[arg(long)]
        uturn: Option<f64>,
        /// Candidate roads per fix.
        #[arg(long)]
        candidates: Option<usize>,
        /// Also write the traces, their truth and the graph's node pairs here, for scoring a
        /// peer matcher the same way (scripts/peer-match-osrm).
        #[arg(long, value_name = "DIR")]
        export: Option<std::path::PathBuf>,
    },
    /// The OSM load (parse, build beside the live graph, check, swap) of a country-sized graph:
    /// `--copies` of a real extract side by side, joined into one network.
    Osm {
        /// The extract to tile (default: the built-in Monaco).
        #[arg(long, value_name = "FILE.osm.pbf")]
        extract: Option<std::path::PathBuf>,
        /// Copies side by side (150 Andorras ≈ the 250 MB of Kenya and Uganda).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000))]
        copies: u64,
    },
    /// Routes: random pairs on an extract's roads in process and over HTTP (with the token
    /// check), and on a country-sized graph (copies of the extract side by side, joined):
    /// p50/p95 per route, the graph's load time and memory.
    Routes {
        /// The extract (default: the built-in Monaco).
        #[arg(long, value_name = "FILE.osm.pbf")]
        extract: Option<std::path::PathBuf>,
        /// Directed edges at least in the large graph; 0 leaves it out.
        #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(0..=50_000_000))]
        edges: u64,
        /// Random pairs routed in process (a fifth as many on the large graph, at least 50).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
        pairs: u64,
        /// Requests over HTTP.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=100_000))]
        requests: u64,
        /// An OSRM server (osrm-routed) on the same extract to time side by side: the same
        /// pairs, the same client, right after ours (repeat for several, e.g. MLD and CH).
        /// For measurement only.
        #[arg(long = "peer-osrm", value_name = "URL")]
        peers: Vec<String>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Reverse geocoding from the offline extract: positions near its roads, in batches on two
    /// connections.
    Geocode {
        /// The extract (default: the built-in Monaco).
        #[arg(long, value_name = "FILE.osm.pbf")]
        extract: Option<std::path::PathBuf>,
        /// Positions to geocode.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        positions: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// The map-matching projector end to end (read fixes, match, write traversals, tracks and
    /// band marks) over a fleet of 10-s trackers driving the built-in Monaco roads.
    Projector {
        /// Trackers.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        vehicles: u64,
        /// Minutes of driving each.
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Seed of the drives.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}
pub async fn run(config: Config, what: BenchWhat) -> Result<()> {
    match what {
        BenchWhat::Ingest {
            seconds,
            concurrency,
            rate,
            fresh_seconds,
        } => {
            let params = fleet_serve::bench::BenchParams {
                seconds,
                concurrency: concurrency as usize,
                rate,
                fresh_seconds,
            };
            ingest(config, params).await
        }
        BenchWhat::Fuel { records } => fuel(config, records as usize).await,
        BenchWhat::Polls { devices } => polls(config, devices as usize).await,
        BenchWhat::Match {
            extract,
            drives,
            drive_m,
            intervals,
            noise,
            outliers,
            seed,
            beta,
            uturn,
            candidates,
            export,
        } => {
            let d = fleet_geo::matching::Params::default();
            let params = fleet_geo::matching::Params {
                beta_m: beta.unwrap_or(d.beta_m),
                uturn_penalty_m: uturn.unwrap_or(d.uturn_penalty_m),
                max_candidates: candidates.unwrap_or(d.max_candidates),
                ..d
            };
            let plan = fleet_geo::matching::bench::Plan {
                params,
                intervals_s: intervals,
                noises_m: noise,
                drives: drives as usize,
                drive_m,
                outlier_rate: outliers,
                seed,
            };
            match_bench(extract, plan, export)
        }
        BenchWhat::Osm { extract, copies } => osm(config, extract, copies as usize).await,
        BenchWhat::Routes {
            extract,
            edges,
            pairs,
            requests,
            peers,
            seed,
        } => {
            routes(
                config,
                extract,
                edges as usize,
                (pairs as usize, requests as usize),
                peers,
                seed,
            )
            .await
        }
        BenchWhat::Geocode {
            extract,
            positions,
            seed,
        } => geocode(config, extract, positions as usize, seed).await,
        BenchWhat::Projector {
            vehicles,
            minutes,
            seed,
        } => projector(config, vehicles as usize, minutes, seed).await,
        BenchWhat::Views {
            vehicles,
            days,
            requests,
            stream_clients,
            stream_seconds,
        } => {
            let params = fleet_serve::bench_views::ViewParams {
                vehicles: vehicles as usize,
                days: days as u32,
                requests: requests as usize,
                stream_clients: stream_clients as usize,
                stream_seconds,
            };
            views(config, params).await
        }
    }
}

/// How a benchmark line ends.
fn verdict(met: bool) -> &'static str {
    if met { "meets target" } else { "MISSES target" }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

async fn polls(config: Config, devices: usize) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_cron::bench::run(pool, devices, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench polls ({} cores, Postgres and the simulated vendor on this machine)",
        cores()
    );
    for j in &r.jobs {
        println!(
            "  {:<13} {:>8.0} ms  {:>5} calls  {:>6} rows",
            j.job, j.ms, j.calls, j.rows
        );
    }
    println!(
        "  full cycle of {} devices, end to end into state: {:.1} s ({} vendor calls; {} live positions, {} history rows)   target < 60 s: {}",
        r.devices,
        r.end_to_end_ms / 1000.0,
        r.calls,
        r.live_positions,
        r.history_rows,
        verdict(r.end_to_end_ms < 60_000.0)
    );
    let pace = Duration::from_millis(fleet_core::config::DEFAULT_VENDOR_PACE_MS.into());
    if let Some(slowest) = r.jobs.iter().max_by_key(|j| j.calls) {
        println!(
            "  with the default client pacing ({} ms between calls of one method), {} alone needs at least {:.0} s: polling is bound by the vendor, not the platform",
            pace.as_millis(),
            slowest.job,
            slowest.calls as f64 * pace.as_secs_f64()
        );
    }
    Ok(())
}

async fn ingest(config: Config, params: fleet_serve::bench::BenchParams) -> Result<()> {
    let p = params.clone();
    let r = with_scratch_db(&config, |pool| async move {
        fleet_serve::bench::run(pool, &p, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench ingest ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  acceptance  {:>9.0} pushes/s   ack p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} accepted, {} failed)   target >= 5000/s, p99 < 25 ms: {}",
        r.pushes_per_s,
        r.ack_ms.p50,
        r.ack_ms.p95,
        r.ack_ms.p99,
        r.accepted,
        r.failed,
        verdict(r.pushes_per_s >= 5000.0 && r.ack_ms.p99 < 25.0)
    );
    println!(
        "  freshness   at {} pushes/s   push -> live p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} samples, {} never seen)   target p95 < 50 ms: {}",
        params.rate,
        r.freshness_ms.p50,
        r.freshness_ms.p95,
        r.freshness_ms.p99,
        r.fresh_samples,
        r.fresh_missing,
        verdict(r.freshness_ms.p95 < 50.0 && r.fresh_missing == 0)
    );
    println!(
        "  replay      {:>9.0} events/s  ({} events into state.position_history)   target >= 50000/s: {}",
        r.replay_events_per_s,
        r.replay_events,
        verdict(r.replay_events_per_s >= 50_000.0)
    );
    let total: f64 = r.bytes_per_fix.iter().map(|(_, b)| b).sum();
    println!(
        "  storage     {total:>9.0} bytes per fix over {} fixes: {}   target <= 250: {}",
        r.stored_fixes,
        r.bytes_per_fix
            .iter()
            .map(|(t, b)| format!("{t} {b:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        verdict(total <= 250.0)
    );
    Ok(())
}

async fn views(config: Config, params: fleet_serve::bench_views::ViewParams) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_serve::bench_views::run(pool, params, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench views ({} cores, Postgres on this machine, over HTTP through the gateway)",
        cores()
    );
    println!(
        "  live view, {} vehicles ({} trackers): p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} kB)   target p95 < 25 ms: {}",
        r.vehicles,
        r.devices,
        r.live_ms.p50,
        r.live_ms.p95,
        r.live_ms.p99,
        r.live_bytes / 1024,
        verdict(r.live_ms.p95 < 25.0)
    );
    println!(
        "  live view, compact: p50 {:.1} ms  p95 {:.1} ms  ({} kB); a map of a sixteenth of the area ({} vehicles): p50 {:.1} ms  p95 {:.1} ms  ({} kB)   target p95 < 50 ms (bounded map): {}",
        r.compact_ms.p50,
        r.compact_ms.p95,
        r.compact_bytes / 1024,
        r.bbox_vehicles,
        r.bbox_ms.p50,
        r.bbox_ms.p95,
        r.bbox_bytes / 1024,
        verdict(r.bbox_ms.p95 < 50.0)
    );
    println!(
        "  history, one vehicle, {} fixes: p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  ({} track points at zoom 12, {} kB)   target p95 < 300 ms: {}",
        r.history_fixes,
        r.history_ms.p50,
        r.history_ms.p95,
        r.history_ms.p99,
        r.history_points,
        r.history_bytes / 1024,
        verdict(r.history_ms.p95 < 300.0)
    );
    println!(
        "  live stream, {} clients, {:.0} fixes/s written to state: commit → event at the client p50 {:.0} ms  p95 {:.0} ms  p99 {:.0} ms  ({} events, {} missed, {:.0} kB/s per client)   target p95 < 1000 ms, none missed: {}",
        r.stream_clients,
        r.stream_fixes_per_s,
        r.stream_ms.p50,
        r.stream_ms.p95,
        r.stream_ms.p99,
        r.stream_events,
        r.stream_missed,
        r.stream_kb_per_client_s,
        verdict(r.stream_ms.p95 < 1000.0 && r.stream_missed == 0)
    );
    Ok(())
}

/// `fleet bench fuel`: the snapshot reconcile of a large generated feed.
async fn fuel(config: Config, records: usize) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_fuel::bench::run(&pool, records, &mut |line| eprintln!("{line}"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    println!(
        "fleet bench fuel ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  first load, {} records ({} MB): {:.2} s ({} rejected and kept)   target < 10 s: {}",
        r.records,
        r.bytes / 1_000_000,
        r.first_s,
        r.rejected,
        verdict(r.first_s < 10.0)
    );
    println!(
        "  re-run, nothing changed: {:.2} s   target < 10 s: {}",
        r.rerun_s,
        verdict(r.rerun_s < 10.0)
    );
    println!(
        "  re-run with {} edits and {} soft deletes: {:.2} s   target < 10 s: {}",
        r.edits,
        r.deletes,
        r.edited_s,
        verdict(r.edited_s < 10.0)
    );
    Ok(())
}

/// `fleet bench osm`: the load of `copies` of an extract side by side.
async fn osm(config: Config, extract: Option<std::path::PathBuf>, copies: usize) -> Result<()> {
    let bytes = extract_bytes(extract.as_deref())?;
    let started = std::time::Instant::now();
    let parsed = fleet_geo::osm::parse(&bytes)?;
    let parse_s = started.elapsed().as_secs_f64();
    let one = parsed.ways.len();
    let tiled = fleet_geo::osm::tiled(&parsed, copies);
    drop(parsed);
    let (ways, vertices) = (tiled.ways.len(), tiled.vertices.len());
    let (load_s, table_mb, graph_edges, graph_s, load_peak) = with_scratch_db(&config, |pool| async move {
        let started = std::time::Instant::now();
        fleet_geo::osm::load_parsed(&pool, tiled, Default::default()).await?;
        let load_s = started.elapsed().as_secs_f64();
        let load_peak = peak_memory_mb();
        let mb: i64 = fleet_store::sqlx::query_scalar(
            "SELECT (pg_total_relation_size('geo.ways') + pg_total_relation_size('geo.ways_vertices_pgr')) / 1000000",
        )
        .fetch_one(&pool)
        .await?;
        // what the worker's matcher does after a swap
        let started = std::time::Instant::now();
        let g = fleet_geo::matching::load(&pool).await?;
        Ok((load_s, mb, g.edges.len(), started.elapsed().as_secs_f64(), load_peak))
    })
    .await?;
    let mb = bytes.len() as f64 / 1e6;
    let peak_mb = peak_memory_mb();
    println!(
        "fleet bench osm ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  parse: {mb:.1} MB extract, {one} road segments in {parse_s:.2} s ({:.1} MB/s; {:.0} s for {:.0} MB)",
        mb / parse_s.max(1e-9),
        parse_s * copies as f64,
        mb * copies as f64
    );
    println!(
        "  load of {copies} copies: {ways} road segments, {vertices} junctions in {load_s:.1} s ({:.0} segments/s), {table_mb} MB in Postgres, peak memory of this process {load_peak:.0} MB",
        ways as f64 / load_s.max(1e-9)
    );
    println!(
        "  the matcher's graph from geo.ways (as the worker reloads it after a swap): {graph_edges} directed edges in {graph_s:.1} s; peak memory now {peak_mb:.0} MB"
    );
    println!(
        "  parse + load of {:.0} MB of extract: about {:.0} s   target a few minutes in 24 GB: {}",
        mb * copies as f64,
        parse_s * copies as f64 + load_s,
        verdict(parse_s * copies as f64 + load_s < 600.0 && peak_mb < 24_000.0)
    );
    Ok(())
}

/// `fleet bench routes`.
async fn routes(
    config: Config,
    extract: Option<std::path::PathBuf>,
    edges: usize,
    (pairs, requests): (usize, usize),
    peers: Vec<String>,
    seed: u64,
) -> Result<()> {
    let bytes = extract_bytes(extract.as_deref())?;
    let name = extract
        .as_ref()
        .and_then(|p| {
            p.file_name()?
                .to_str()
                .map(|n| n.trim_end_matches(".osm.pbf").to_string())
        })
        .unwrap_or_else(|| "monaco".into());
    println!(
        "fleet bench routes ({} cores, Postgres on this machine)",
        cores()
    );
    let parsed = fleet_geo::osm::parse(&bytes)?;
    let (small, http) = with_scratch_db(&config, |pool| async move {
        fleet_geo::osm::load_parsed(&pool, parsed, Default::default()).await?;
        let started = std::time::Instant::now();
        let r = fleet_geo::routing::Router::load(&pool).await?;
        let load_s = started.elapsed().as_secs_f64();
        let edges = r.graph().edges.len();
        let b =
            tokio::task::spawn_blocking(move || fleet_geo::routing::bench(&r, pairs, seed)).await?;
        let http = if requests > 0 {
            Some(
                fleet_serve::bench_routes::run(pool.clone(), requests, seed, &peers)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )
        } else {
            None
        };
        Ok(((edges, load_s, b), http))
    })
    .await?;
    let (e, load_s, b) = small;
    println!(
        "  {name}: {e} directed edges, router built in {load_s:.2} s; {} random pairs in process ({} unreachable, {:.1} km and {:.0} labels on average): p50 {:.2} ms, p95 {:.2} ms, max {:.1} ms   target p95 < 10 ms: {}",
        b.routes,
        b.unreachable,
        b.mean_km,
        b.settled,
        b.p50_ms,
        b.p95_ms,
        b.max_ms,
        verdict(b.p95_ms < 10.0)
    );
    if let Some(h) = http {
        println!(
            "  {name} over HTTP (POST /api/routes with a bearer token, one client): {} requests, {} not 200: p50 {:.2} ms, p95 {:.2} ms   target p95 < 25 ms: {}",
            h.requests,
            h.failed,
            h.p50_ms,
            h.p95_ms,
            verdict(h.p95_ms < 25.0)
        );
        for p in &h.peers {
            println!(
                "  OSRM at {} on the same {} pairs, same client (full GeoJSON geometry and steps, as ours carries): {} not routed; p50 {:.2} ms, p95 {:.2} ms; ours / OSRM: p50 {:.2}×, p95 {:.2}×; its bare answer (no geometry, no steps): p50 {:.2} ms, p95 {:.2} ms; distance: median difference {:.1} %, {:.0} % of pairs within 5 %",
                p.url,
                h.requests - h.failed,
                p.failed,
                p.p50_ms,
                p.p95_ms,
                h.p50_ms / p.p50_ms.max(1e-9),
                h.p95_ms / p.p95_ms.max(1e-9),
                p.bare_p50_ms,
                p.bare_p95_ms,
                p.median_distance_diff * 100.0,
                p.within_5pct * 100.0
            );
        }
    }
    if edges == 0 {
        return Ok(());
    }
    let parsed = fleet_geo::osm::parse(&bytes)?;
    let one = fleet_geo::matching::MatchGraph::new(&parsed.ways)
        .edges
        .len()
        .max(1);
    let copies = edges.div_ceil(one);
    let tiled = fleet_geo::osm::tiled(&parsed, copies);
    drop(parsed);
    let big_pairs = (pairs / 5).max(50);
    let (e, load_s, mb, b) = with_scratch_db(&config, |pool| async move {
        fleet_geo::osm::load_parsed(&pool, tiled, Default::default()).await?;
        let before = rss_mb();
        let started = std::time::Instant::now();
        let r = fleet_geo::routing::Router::load(&pool).await?;
        let load_s = started.elapsed().as_secs_f64();
        let mb = rss_mb() - before;
        let edges = r.graph().edges.len();
        let b = tokio::task::spawn_blocking(move || fleet_geo::routing::bench(&r, big_pairs, seed))
            .await?;
        Ok((edges, load_s, mb, b))
    })
    .await?;
    println!(
        "  {copies} × {name} joined: {e} directed edges; router loaded from geo.ways in {load_s:.1} s, {mb:.0} MB   target < 60 s and < 4 GB: {}",
        verdict(load_s < 60.0 && mb < 4000.0)
    );
    println!(
        "  {} random pairs in process ({} unreachable, {:.1} km and {:.0} labels on average): p50 {:.1} ms, p95 {:.1} ms, max {:.0} ms   target p95 < 100 ms: {}",
        b.routes,
        b.unreachable,
        b.mean_km,
        b.settled,
        b.p50_ms,
        b.p95_ms,
        b.max_ms,
        verdict(b.p95_ms < 100.0)
    );
    Ok(())
}

/// `fleet bench geocode`.
async fn geocode(
    config: Config,
    extract: Option<std::path::PathBuf>,
    positions: usize,
    seed: u64,
) -> Result<()> {
    let bytes = extract_bytes(extract.as_deref())?;
    let (r, load) = with_scratch_db(&config, |pool| async move {
        let load = fleet_geo::osm::load(&pool, &bytes).await?;
        let r = fleet_geo::geocode::bench(&pool, positions, 2, seed).await?;
        let s = fleet_geo::geocode::bench_search(&pool, 300, seed).await?;
        Ok(((r, s), load))
    })
    .await?;
    let (r, (s50, s95, answered)) = r;
    let rate = r.positions as f64 / r.seconds.max(1e-9);
    let share = |n: usize| 100.0 * n as f64 / r.positions.max(1) as f64;
    println!(
        "fleet bench geocode ({} cores, Postgres on this machine)",
        cores()
    );
    println!(
        "  extract: {} road segments, {} named places, {} house numbers",
        load.ways, load.places, load.addresses
    );
    println!(
        "  {} positions within 300 m of a junction in {:.2} s: {rate:.0} positions/s; {:.0} % with a street, {:.0} % a house number, {:.0} % a town   target >= 2,000/s: {}",
        r.positions,
        r.seconds,
        share(r.with_street),
        share(r.with_house),
        share(r.with_town),
        verdict(rate >= 2000.0)
    );
    println!(
        "  search (geo.search): 300 queries, the start of a name, a third with a typo: p50 {s50:.1} ms, p95 {s95:.1} ms, {:.0} % answered   target < 50 ms: {}",
        100.0 * answered,
        verdict(s95 < 50.0)
    );
    Ok(())
}

/// The resident memory of this process now (Linux), MB.
fn rss_mb() -> f64 {
    proc_status_mb("VmRSS:")
}

/// The peak resident memory of this process so far (Linux), MB.
fn peak_memory_mb() -> f64 {
    proc_status_mb("VmHWM:")
}

/// A memory line of `/proc/self/status` (kB there), MB; NaN where there is none.
fn proc_status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1000.0)
}

/// The extract a benchmark runs on: the file given, or the built-in Monaco.
fn extract_bytes(extract: Option<&std::path::Path>) -> Result<Vec<u8>> {
    use anyhow::Context as _;
    match extract {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display())),
        None => Ok(fleet_geo::MONACO_PBF.to_vec()),
    }
}

/// `fleet bench projector`: the matching projector's end-to-end rate against the 1,000
/// fixes/s of 10,000 vehicles every 10 s.
async fn projector(config: Config, vehicles: usize, minutes: f64, seed: u64) -> Result<()> {
    let r = with_scratch_db(&config, |pool| async move {
        fleet_geo::osm::load(&pool, fleet_geo::MONACO_PBF)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(fleet_geo::matching::project::bench(&pool, vehicles, minutes, seed).await?)
    })
    .await?;
    let rate = r.fixes as f64 / r.seconds.max(1e-9);
    println!(
        "fleet bench projector ({} cores, Postgres on this machine, Monaco roads)",
        cores()
    );
    println!(
        "  {} trackers, {} fixes in {} buckets: {:.1} s, {:.0} fixes/s end to end ({:.0} % of it in the matcher), {} traversals   target >= 1,000 fixes/s: {}",
        r.vehicles,
        r.fixes,
        r.buckets,
        r.seconds,
        rate,
        100.0 * r.matching_s / r.seconds.max(1e-9),
        r.observations,
        verdict(rate >= 1_000.0)
    );
    Ok(())
}

fn match_bench(
    extracts: Vec<std::path::PathBuf>,
    plan: fleet_geo::matching::bench::Plan,
    export: Option<std::path::PathBuf>,
) -> Result<()> {
    use anyhow::Context as _;
    let mut graphs: Vec<(String, Vec<u8>)> =
        vec![("monaco".into(), fleet_geo::MONACO_PBF.to_vec())];
    for path in extracts {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(".osm.pbf").to_string())
            .unwrap_or_else(|| path.display().to_string());
        graphs.push((name, bytes));
    }
    println!(
        "{:<10} {:>6} {:>6} {:>9} {:>8} {:>8} {:>7} {:>7} {:>10}",
        "graph", "every", "noise", "mismatch", "correct", "on-edge", "breaks", "skipped", "fixes/s"
    );
    for (name, bytes) in graphs {
        let parsed = fleet_geo::osm::parse(&bytes).with_context(|| format!("parsing {name}"))?;
        let g = fleet_geo::matching::MatchGraph::new(&parsed.ways);
        if let Some(dir) = &export {
            fleet_geo::matching::bench::export(&name, &parsed.ways, &g, &plan, dir)
                .with_context(|| format!("writing the traces to {}", dir.display()))?;
        }
        for r in fleet_geo::matching::bench::run(&name, &g, &plan) {
            println!(
                "{:<10} {:>5}s {:>5}m {:>9.4} {:>8.4} {:>8.4} {:>7} {:>7} {:>10.0}",
                r.graph,
                r.interval_s,
                r.noise_m,
                r.score.mismatch(),
                r.score.correct(),
                r.score.fix_share(),
                r.breaks,
                r.skipped,
                r.fixes_per_s
            );
        }
    }
    Ok(())
}
