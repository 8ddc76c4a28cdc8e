//! `fleet`: the one binary of Fleet Platform. This file is the CLI and the wiring of roles;
//! everything else lives in the library crates.

mod roles;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fleet_core::Config;

#[derive(Parser)]
#[command(
    name = "fleet",
    version,
    about = "Fleet Platform: fleet telematics (Tracksolid / Jimi IoT) and fuel, in one binary",
    long_about = "Fleet Platform ingests vendor pushes and polls into an immutable event log in PostgreSQL, \
derives live and historical state, and serves dashboards and an API.\n\n\
One binary, three roles: `gateway` (HTTP), `worker` (parser, projectors; migrates on start) and \
`cron` (scheduled jobs). `fleet up` runs all three in one process for local use.\n\n\
Configuration comes from the environment and an optional .env file (see .env.example). \
Without DATABASE_URL, a private Postgres cluster is created and managed under FLEET_HOME (default ./var).",
    after_help = "Start here: `fleet up`, then open the printed URL."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run gateway, worker and cron in one process (local mode); stops its managed Postgres on exit.
    Up,
    /// Run the gateway role: push receivers, API and pages on FLEET_LISTEN (default 127.0.0.1:8080).
    Gateway,
    /// Run the worker role: applies migrations, then parses and projects events. Health on FLEET_WORKER_LISTEN.
    Worker,
    /// Run the cron role: scheduled jobs, each guarded and recorded. Health on FLEET_CRON_LISTEN.
    Cron,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the local Postgres cluster under FLEET_HOME (used when DATABASE_URL is unset).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Re-parse raw rows and/or rebuild state tables from the event log, with progress and rate.
    #[command(
        after_help = "Examples:\n  fleet replay --reparse --from 2026-11-01 --to 2026-11-08\n  fleet replay --rebuild state.live_positions\n  fleet replay --rebuild all"
    )]
    Replay {
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
        #[arg(long, value_name = "TABLE")]
        rebuild: Vec<String>,
    },
    /// Run the vendor simulator: a fleet driving on the roads of Monaco, pushing to a gateway.
    Simulate {
        /// Base URL of the gateway to push to.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        gateway: String,
        /// The gateway's push token (JIMI_PUSH_TOKEN).
        #[arg(long, env = "JIMI_PUSH_TOKEN", hide_env_values = true)]
        token: String,
        /// Vehicles in the fleet.
        #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u64).range(1..=10000))]
        vehicles: u64,
        /// Seed: the same seed gives the same fleet and the same drives.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Simulated seconds per real second (10 = ten times faster than real time).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Also serve the simulated vendor Open API (POST /route/rest) on this address.
        #[arg(long, value_name = "ADDR")]
        api_listen: Option<std::net::SocketAddr>,
        /// Open API app key the simulator accepts.
        #[arg(long, env = "JIMI_APP_KEY", default_value = "fleet-sim-key")]
        app_key: String,
        /// Open API app secret (signing key).
        #[arg(
            long,
            env = "JIMI_APP_SECRET",
            default_value = "fleet-sim-secret",
            hide_env_values = true
        )]
        app_secret: String,
        /// Open API user.
        #[arg(long, env = "JIMI_USER_ID", default_value = "demo")]
        user_id: String,
        /// Open API password.
        #[arg(
            long,
            env = "JIMI_PASSWORD",
            default_value = "demo-password",
            hide_env_values = true
        )]
        password: String,
        /// Rename fields as an upstream change would (alertTypeId -> alertId, gpsTime -> gpsTimeUtc).
        #[arg(long)]
        drift: bool,
    },
    /// Manage API accounts (users and services) and their scopes: read:fleet, write:ops, admin:fleet.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Fuel feed tools.
    Fuel {
        #[command(subcommand)]
        action: FuelAction,
    },
    /// Import a registry file or the fuel feed as events (dry run by default: reports what would change).
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Benchmarks on loopback against a scratch database (created and dropped on the same server).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
    /// Print the version.
    Version,
}

#[derive(Subcommand)]
enum UsersAction {
    /// Add an account. Without --password a password is generated and printed once.
    #[command(
        after_help = "Examples:\n  fleet users add dispatcher1 --scopes read:fleet\n  fleet users add ops-lead --scopes read:fleet,write:ops --password -   # reads it from stdin\n  fleet users add fuel-feed --service --scopes write:ops"
    )]
    Add {
        /// Account name: 1-64 letters, digits, and _ . @ -
        name: String,
        /// Comma-separated scopes.
        #[arg(long, value_name = "SCOPES")]
        scopes: String,
        /// The password (at least 12 characters); `-` reads it from standard input.
        #[arg(long)]
        password: Option<String>,
        /// A service account (another system) rather than a person.
        #[arg(long)]
        service: bool,
    },
    /// List accounts, their scopes and whether they are disabled.
    List,
    /// Disable an account: its tokens stop working at once.
    Disable { name: String },
    /// Replace an account's scopes.
    SetScopes {
        name: String,
        /// Comma-separated scopes.
        scopes: String,
    },
}

#[derive(Subcommand)]
enum FuelAction {
    /// Write a realistic, messy fuel feed (seeded) in the bucket's layout:
    /// DIR/<prefix>/latest.json and DIR/<prefix>/changes/<time>.json.
    #[command(
        after_help = "Examples:\n  fleet fuel generate --out /tmp/feed --vehicles 160 --days 30\n  fleet fuel generate --out /tmp/feed --from-registry   # the plates of this platform's fleet"
    )]
    Generate {
        /// Folder to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// Vehicles with invented plates (ignored with --from-registry).
        #[arg(long, default_value_t = 160, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        vehicles: u64,
        /// Use the plates of the vehicles in this platform's registry.
        #[arg(long)]
        from_registry: bool,
        /// Days of history, ending now.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3650))]
        days: u64,
        /// Hours at the end written as change files rather than only in the snapshot.
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(0..=8760))]
        change_hours: u64,
        /// The seed (same seed, same feed).
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// The device/driver registry: a CSV with a header naming the columns (imei required;
    /// account, plate, vehicle name, make, vehicle model, model, sim, driver, phone,
    /// employee no, cost centre/department, city, country).
    #[command(
        after_help = "Examples:\n  fleet import devices fleet.csv                   # what would change\n  fleet import devices fleet.csv --account fireside --apply"
    )]
    Devices {
        /// The CSV file (UTF-8; `,`, `;` or tab separated).
        file: std::path::PathBuf,
        /// Write: append the file to the event log and let the registry projectors apply it.
        #[arg(long)]
        apply: bool,
        /// The vendor account of rows that do not name one.
        #[arg(long, value_name = "ACCOUNT")]
        account: Option<String>,
    },
    /// Fuel fills from the WhatsApp feed: the bucket's snapshot (full reconcile: edits, soft
    /// deletes and records it no longer lists), its hourly change files since the stored
    /// watermark, or a local file.
    #[command(
        group(clap::ArgGroup::new("from").required(true).args(["snapshot", "changes", "file"])),
        after_help = "Examples:\n  fleet import fuel --snapshot                  # what would change\n  fleet import fuel --snapshot --apply\n  fleet import fuel --changes --apply\n  fleet import fuel --file latest.json --apply\n\nThe bucket is FLEET_FUEL_S3_ENDPOINT, _BUCKET, _PREFIX, _REGION, _ACCESS_KEY, _SECRET_KEY (see .env.example)."
    )]
    Fuel {
        /// The bucket's `<prefix>/latest.json`.
        #[arg(long)]
        snapshot: bool,
        /// The bucket's `<prefix>/changes/*.json` after the watermark.
        #[arg(long)]
        changes: bool,
        /// A feed document on disk (`{metadata, records}` or a JSON array of records).
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// Write: append the changes to the event log and project them.
        #[arg(long)]
        apply: bool,
        /// Print every rejected record with its reasons (default: the first 20).
        #[arg(long)]
        all_rejects: bool,
    },
    /// An OpenStreetMap extract (`.osm.pbf`, e.g. from download.geofabrik.de): roads into the
    /// routing graph and the offline basemap, fuel stations and other POIs. Replaces the roads
    /// loaded before. Without FILE, the Monaco extract built into fleet (the simulator's streets).
    #[command(
        after_help = "Examples:\n  fleet import osm kenya-latest.osm.pbf\n  fleet import osm                   # the built-in Monaco extract\n\nOSM data © OpenStreetMap contributors, ODbL."
    )]
    Osm {
        /// The extract; default: the built-in Monaco extract.
        file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
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
}

#[derive(Subcommand)]
enum DbAction {
    /// Create (first time) and start the local cluster, and create the `fleet` database.
    Start,
    /// Stop the local cluster.
    Stop,
    /// Say whether the local cluster exists and runs, and where.
    Status,
    /// Print a connection URL for the `fleet` database that `psql` accepts: psql "$(fleet db psql-url)".
    PsqlUrl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Version) {
        println!("fleet {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\nSee .env.example for every variable and its meaning.");
            return ExitCode::from(2);
        }
    };
    roles::init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Up => roles::up(config).await,
            Command::Gateway => roles::gateway(config).await,
            Command::Worker => roles::worker(config).await,
            Command::Cron => roles::cron(config).await,
            Command::Migrate => roles::migrate(config).await,
            Command::Db { action } => match action {
                DbAction::Start => roles::db_start(config).await,
                DbAction::Stop => roles::db_stop(config),
                DbAction::Status => roles::db_status(config),
                DbAction::PsqlUrl => roles::db_psql_url(config),
            },
            Command::Replay {
                reparse,
                from,
                to,
                only_parser_version,
                rebuild,
            } => roles::replay(config, reparse, from, to, only_parser_version, rebuild).await,
            Command::Bench {
                what:
                    BenchWhat::Ingest {
                        seconds,
                        concurrency,
                        rate,
                        fresh_seconds,
                    },
            } => {
                let params = fleet_serve::bench::BenchParams {
                    seconds,
                    concurrency: concurrency as usize,
                    rate,
                    fresh_seconds,
                };
                roles::bench_ingest(config, params).await
            }
            Command::Bench {
                what: BenchWhat::Fuel { records },
            } => roles::bench_fuel(config, records as usize).await,
            Command::Bench {
                what: BenchWhat::Polls { devices },
            } => roles::bench_polls(config, devices as usize).await,
            Command::Bench {
                what:
                    BenchWhat::Views {
                        vehicles,
                        days,
                        requests,
                    },
            } => {
                roles::bench_views(
                    config,
                    fleet_serve::bench_views::ViewParams {
                        vehicles: vehicles as usize,
                        days: days as u32,
                        requests: requests as usize,
                    },
                )
                .await
            }
            Command::Simulate {
                gateway,
                token,
                vehicles,
                seed,
                speed,
                api_listen,
                app_key,
                app_secret,
                user_id,
                password,
                drift,
            } => {
                let api = fleet_jimi::sim::openapi::ApiConfig {
                    app_key,
                    app_secret,
                    user_id,
                    password,
                    drift,
                    ..Default::default()
                };
                roles::simulate(
                    gateway,
                    token,
                    vehicles as usize,
                    seed,
                    speed,
                    api_listen,
                    api,
                )
                .await
            }
            Command::Users { action } => match action {
                UsersAction::Add {
                    name,
                    scopes,
                    password,
                    service,
                } => roles::users_add(config, &name, &scopes, password, service).await,
                UsersAction::List => roles::users_list(config).await,
                UsersAction::Disable { name } => roles::users_change(config, &name, None).await,
                UsersAction::SetScopes { name, scopes } => {
                    roles::users_change(config, &name, Some(&scopes)).await
                }
            },
            Command::Import {
                what:
                    ImportWhat::Devices {
                        file,
                        apply,
                        account,
                    },
            } => roles::import_devices(config, &file, apply, account.as_deref()).await,
            Command::Import {
                what: ImportWhat::Osm { file },
            } => roles::import_osm(config, file.as_deref()).await,
            Command::Import {
                what:
                    ImportWhat::Fuel {
                        snapshot,
                        changes,
                        file,
                        apply,
                        all_rejects,
                    },
            } => {
                let from = match (snapshot, changes, file) {
                    (true, _, _) => Some(roles::FuelFrom::Snapshot),
                    (_, true, _) => Some(roles::FuelFrom::Changes),
                    (_, _, Some(f)) => Some(roles::FuelFrom::File(f)),
                    _ => None,
                };
                match from {
                    Some(from) => roles::import_fuel(config, from, apply, all_rejects).await,
                    None => Err(anyhow::anyhow!(
                        "say where the records come from: --snapshot, --changes or --file PATH"
                    )),
                }
            }
            Command::Fuel {
                action:
                    FuelAction::Generate {
                        out,
                        vehicles,
                        from_registry,
                        days,
                        change_hours,
                        seed,
                    },
            } => {
                roles::fuel_generate(
                    config,
                    &out,
                    vehicles as usize,
                    from_registry,
                    days as u32,
                    change_hours,
                    seed,
                )
                .await
            }
            Command::Version => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "fleet stopped with an error");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
