//! `fleet`: the one binary of Fleet Platform. This file parses the command line and hands each
//! command to its module under `cmd/`; those modules wire arguments to the library crates,
//! where everything that is not command-line wiring lives.

mod cmd;

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
        action: cmd::db::DbAction,
    },
    /// Re-parse raw rows and/or rebuild state tables from the event log, with progress and rate.
    #[command(
        after_help = "Examples:\n  fleet replay --reparse --from 2026-11-01 --to 2026-11-08\n  fleet replay --rebuild state.live_positions\n  fleet replay --rebuild all"
    )]
    Replay(cmd::replay::ReplayArgs),
    /// Run the vendor simulator: a fleet driving on the roads of Monaco, pushing to a gateway.
    Simulate(cmd::simulate::SimulateArgs),
    /// Manage API accounts (users and services) and their scopes: read:fleet, write:ops, admin:fleet.
    Users {
        #[command(subcommand)]
        action: cmd::users::UsersAction,
    },
    /// Fuel feed tools.
    Fuel {
        #[command(subcommand)]
        action: cmd::fuel::FuelAction,
    },
    /// Import a registry file or the fuel feed as events (dry run by default: reports what would change).
    Import {
        #[command(subcommand)]
        what: cmd::import::ImportWhat,
    },
    /// Benchmarks on loopback against a scratch database (created and dropped on the same server).
    Bench {
        #[command(subcommand)]
        what: cmd::bench::BenchWhat,
    },
    /// Road tools: match a GPS trace to the loaded roads.
    Geo {
        #[command(subcommand)]
        action: cmd::geo::GeoAction,
    },
    /// Back up the database to the backup bucket (FLEET_BACKUP_S3_*): `fleet backup` takes a full
    /// backup now; list, verify, prune and schedule manage them.
    #[command(
        after_help = "Examples:\n  fleet backup\n  fleet backup --kind events\n  fleet backup list\n  fleet backup verify\n  fleet backup schedule"
    )]
    Backup(cmd::backup::BackupArgs),
    /// Restore a backup from the bucket into an empty database (a slice: into a migrated one).
    #[command(
        after_help = "Examples:\n  fleet restore 20261201T000000Z --into postgres://fleet@db/fleet_restored\n  fleet restore fleet/events/20261129T000000Z.dump --into postgres://fleet@db/fleet_new"
    )]
    Restore(cmd::backup::RestoreArgs),
    /// How long each time-partitioned table keeps its rows: list the tables and apply retention
    /// now (`--dry-run`: only say what would be dropped); `set TABLE 90d|keep` changes one.
    #[command(
        after_help = "Examples:\n  fleet retention --dry-run\n  fleet retention set events.parsed 30d\n  fleet retention set events.raw keep\n  fleet retention"
    )]
    Retention(cmd::retention::RetentionArgs),
    /// Exit 0 when ROLE on this host answers healthy on its listen address (for container
    /// HEALTHCHECKs: no curl needed); otherwise say why and exit 1.
    Healthcheck {
        role: cmd::healthcheck::RoleName,
        /// Ask this address instead of the role's configured listen address.
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<std::net::SocketAddr>,
    },
    /// Print the version, the git commit and the build time.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    fleet_core::build::set(fleet_core::build::BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        git_sha: env!("FLEET_GIT_SHA"),
        built: env!("FLEET_BUILD_DATE"),
    });
    if matches!(cli.command, Command::Version) {
        println!("fleet {}", fleet_core::build::get());
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
    cmd::init_logging(&config);
    for (name, near) in fleet_core::config::unknown_vars(std::env::vars().map(|(k, _)| k)) {
        let hint = near.map_or(String::new(), |k| format!(" (did you mean {k}?)"));
        tracing::warn!(
            "{name} is set but fleet does not read it{hint}; see .env.example for every variable"
        );
    }
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
            Command::Up => cmd::up::up(config).await,
            Command::Gateway => cmd::up::gateway(config).await,
            Command::Worker => cmd::up::worker(config).await,
            Command::Cron => cmd::up::cron(config).await,
            Command::Migrate => cmd::up::migrate(config).await,
            Command::Db { action } => cmd::db::run(config, action).await,
            Command::Replay(args) => cmd::replay::run(config, args).await,
            Command::Simulate(args) => cmd::simulate::run(args).await,
            Command::Users { action } => cmd::users::run(config, action).await,
            Command::Fuel { action } => cmd::fuel::run(config, action).await,
            Command::Import { what } => cmd::import::run(config, what).await,
            Command::Bench { what } => cmd::bench::run(config, what).await,
            Command::Geo { action } => cmd::geo::run(config, action).await,
            Command::Backup(args) => cmd::backup::run(config, args).await,
            Command::Restore(args) => cmd::backup::restore(config, args).await,
            Command::Retention(args) => cmd::retention::run(config, args).await,
            Command::Healthcheck { role, addr } => cmd::healthcheck::run(config, role, addr).await,
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
