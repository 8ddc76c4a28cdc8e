//! `fleet backup …` and `fleet restore`: the wiring from the command line to `fleet-backup`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use fleet_backup::{Kind, dump, restore, schedule, verify};
use fleet_core::Config;
use fleet_core::config::BackupConfig;
use fleet_s3::Bucket;

use super::open_database;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    action: Option<BackupAction>,
    /// What to back up now: the whole database, or the events or geo slice.
    #[arg(long, value_enum, default_value = "full")]
    kind: KindArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    Full,
    Events,
    Geo,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Full => Kind::Full,
            KindArg::Events => Kind::Events,
            KindArg::Geo => Kind::Geo,
        }
    }
}

#[derive(Subcommand)]
pub enum BackupAction {
    /// List the complete backups in the bucket, oldest first.
    List {
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
    },
    /// Restore a backup (the newest full one by default) into a scratch database, compare row
    /// counts with its manifest, migrate it to this binary, replay every state table, and drop it.
    Verify {
        /// A backup's key or stamp (see `fleet backup list`).
        name: Option<String>,
        /// Skip the replay of the state tables.
        #[arg(long)]
        no_replay: bool,
        /// Keep the scratch database (its name is printed).
        #[arg(long)]
        keep: bool,
    },
    /// Apply retention now: keep the newest FLEET_BACKUP_KEEP_* backups of each kind.
    Prune,
    /// Run the schedule until stopped: nightly full, weekly events, monthly geo, weekly verify.
    Schedule,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A backup's key or stamp (see `fleet backup list`).
    name: String,
    /// The database to restore into: empty for a full backup; migrated, with empty tables of the
    /// slice's schema, for a slice. Default: the configured database (DATABASE_URL or the local one).
    #[arg(long, value_name = "POSTGRES_URL")]
    into: Option<String>,
}

fn backup_config(config: &Config) -> Result<&BackupConfig> {
    config.backup.as_ref().context(
        "no backup bucket: set FLEET_BACKUP_S3_ENDPOINT, FLEET_BACKUP_S3_ACCESS_KEY and \
         FLEET_BACKUP_S3_SECRET_KEY (and optionally FLEET_BACKUP_S3_BUCKET/PREFIX); see .env.example",
    )
}

fn staging(cfg: &BackupConfig) -> PathBuf {
    cfg.dir.clone().unwrap_or_else(std::env::temp_dir)
}

pub async fn run(config: Config, args: BackupArgs) -> Result<()> {
    let cfg = backup_config(&config)?;
    let bucket = Bucket::new(cfg.bucket.clone())?;
    let bindir = config.pg_bindir.as_deref();
    match args.action {
        None => {
            let db = open_database(&config).await?;
            let stage = staging(cfg);
            let source = dump::Source {
                url: &db.url,
                staging: &stage,
                bindir,
            };
            let result = dump::take(&bucket, &source, args.kind.into()).await;
            super::close(db, true).await?;
            let m = result?;
            println!(
                "stored {} ({} bytes, {} rows in {} tables, sha256 {})",
                m.key,
                m.size,
                m.rows(),
                m.tables.len(),
                &m.sha256[..16]
            );
        }
        Some(BackupAction::List { kind }) => {
            let all = fleet_backup::list(&bucket, kind.map(Kind::from)).await?;
            if all.is_empty() {
                println!("no backups in {}", bucket.describe());
            }
            for m in all {
                println!(
                    "{}  {:<6}  {:>12} bytes  {:>10} rows  migration {}  {}",
                    m.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    m.kind.name(),
                    m.size,
                    m.rows(),
                    m.migration,
                    m.key
                );
            }
        }
        Some(BackupAction::Verify {
            name,
            no_replay,
            keep,
        }) => {
            let m = match name {
                Some(n) => fleet_backup::find(&bucket, &n).await?,
                None => fleet_backup::newest(&bucket, Kind::Full)
                    .await?
                    .with_context(|| {
                        format!(
                            "no full backup in {} yet: run `fleet backup`",
                            bucket.describe()
                        )
                    })?,
            };
            let db = open_database(&config).await?;
            let stage = staging(cfg);
            let o = verify::Options {
                server_url: &db.url,
                staging: &stage,
                bindir,
                replay: !no_replay,
                keep,
            };
            let result = verify::verify(&bucket, &m, &o).await;
            super::close(db, true).await?;
            let r = result?;
            println!(
                "{}: restored {} rows into {} in {:.1} s{}",
                r.key,
                r.rows,
                r.scratch_database,
                r.restore_seconds,
                if keep { " (kept)" } else { " (dropped)" }
            );
            for (t, want, got) in &r.count_differences {
                println!("  {t}: the manifest says {want} rows, the restore has {got}");
            }
            if r.migrations_applied > 0 {
                println!(
                    "  migrated the restored database: {} migrations",
                    r.migrations_applied
                );
            }
            for p in &r.replayed {
                println!(
                    "  replay {}: {} rows from {} events, {}",
                    p.table,
                    p.rows,
                    p.events,
                    if p.same {
                        "same as the backup"
                    } else {
                        "DIFFERENT from the backup"
                    }
                );
            }
            if !r.ok {
                bail!("verification of {} failed (above)", r.key);
            }
            println!("verified");
        }
        Some(BackupAction::Prune) => {
            for kind in Kind::ALL {
                let keep = kind.kept(cfg);
                let gone = fleet_backup::prune(&bucket, kind, keep).await?;
                println!("{kind}: kept the newest {keep}, deleted {}", gone.len());
            }
        }
        Some(BackupAction::Schedule) => {
            let db = open_database(&config).await?;
            let cancel = super::shutdown_on_signal();
            std::fs::create_dir_all(&config.fleet_home)
                .with_context(|| format!("creating FLEET_HOME {}", config.fleet_home.display()))?;
            let status = schedule::status_path(&config.fleet_home);
            tracing::info!(bucket = %bucket.describe(), hour_utc = cfg.hour_utc, "backup schedule started");
            let result = schedule::run(cfg, &bucket, &db.url, bindir, &status, cancel).await;
            super::close(db, true).await?;
            result?;
        }
    }
    Ok(())
}

pub async fn restore(config: Config, args: RestoreArgs) -> Result<()> {
    let cfg = backup_config(&config)?;
    let bucket = Bucket::new(cfg.bucket.clone())?;
    let m = fleet_backup::find(&bucket, &args.name).await?;
    let (url, db) = match args.into {
        Some(u) => (u, None),
        None => {
            let db = open_database(&config).await?;
            (db.url.clone(), Some(db))
        }
    };
    let result = restore::restore(
        &bucket,
        &m,
        &url,
        &staging(cfg),
        config.pg_bindir.as_deref(),
    )
    .await;
    if let Some(db) = db {
        super::close(db, true).await?;
    }
    let r = result?;
    let differences = restore::count_differences(&m, &r.tables);
    println!(
        "restored {} ({} bytes, {} rows) in {:.1} s",
        r.key,
        r.bytes,
        r.tables.values().sum::<i64>(),
        r.seconds
    );
    for (t, want, got) in &differences {
        println!("  {t}: the manifest says {want} rows, the restore has {got}");
    }
    if !differences.is_empty() {
        bail!("the restore's row counts differ from the manifest (above)");
    }
    match m.kind {
        Kind::Full => println!(
            "next: start the worker (or `fleet migrate`) to bring it to this binary's schema"
        ),
        Kind::Events => {
            println!("next: `fleet replay --rebuild all` derives the state tables from it")
        }
        Kind::Geo => {}
    }
    Ok(())
}
