//! `fleet import`: the device registry, the fuel feed and OpenStreetMap extracts (dry run by
//! default for the registry and the fuel feed).

use anyhow::{Context, Result};
use fleet_core::Config;

use super::with_current_db;

#[derive(clap::Subcommand)]
pub enum ImportWhat {
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
        /// Replace the loaded roads even with a graph under a tenth of their size (another,
        /// smaller region); otherwise such a load is refused as a likely truncated extract.
        #[arg(long)]
        replace_smaller: bool,
    },
}
pub async fn run(config: Config, what: ImportWhat) -> Result<()> {
    match what {
        ImportWhat::Devices {
            file,
            apply,
            account,
        } => devices(config, &file, apply, account.as_deref()).await,
        ImportWhat::Osm {
            file,
            replace_smaller,
        } => osm(config, file.as_deref(), replace_smaller).await,
        ImportWhat::Fuel {
            snapshot,
            changes,
            file,
            apply,
            all_rejects,
        } => {
            let from = match (snapshot, changes, file) {
                (true, _, _) => FuelFrom::Snapshot,
                (_, true, _) => FuelFrom::Changes,
                (_, _, Some(f)) => FuelFrom::File(f),
                _ => anyhow::bail!(
                    "say where the records come from: --snapshot, --changes or --file PATH"
                ),
            };
            fuel(config, from, apply, all_rejects).await
        }
    }
}

/// `fleet import devices`: reads and checks the file, shows what it would change, and with
/// `--apply` appends it to the event log and waits (briefly) for the worker to apply it.
async fn devices(
    config: Config,
    file: &std::path::Path,
    apply: bool,
    account: Option<&str>,
) -> Result<()> {
    use fleet_ingest::registry;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = fleet_core::registry::parse(&bytes, account)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (parsed, bytes) = (&parsed, &bytes);
    with_current_db(&config, |pool| async move {
        let plan = registry::plan(&pool, parsed).await?;
        let c = registry::count(&plan);
        println!(
            "registry import of {} ({})",
            file.display(),
            if apply { "applying" } else { "dry run: nothing is written; add --apply to import" }
        );
        println!(
            "  {} rows read, {} unreadable{}",
            parsed.rows.len(),
            parsed.errors.len(),
            if parsed.ignored_columns.is_empty() {
                String::new()
            } else {
                format!(", columns ignored: {}", parsed.ignored_columns.join(", "))
            }
        );
        println!(
            "  {}: {} new devices, {} account changes, {} new vehicles, {} vehicles updated, {} fittings, {} new drivers, {} driver changes; {} rows unchanged",
            if apply { "changes" } else { "would change" },
            c.new_devices, c.account_changes, c.new_vehicles, c.updated_vehicles, c.fittings, c.new_drivers, c.driver_changes, c.unchanged_rows
        );
        for p in plan.iter().filter(|p| !p.changes().is_empty()) {
            println!("  line {:<5} {:<16} {}", p.line, p.imei, p.changes().join("; "));
        }
        if !parsed.errors.is_empty() {
            println!("  unreadable lines (kept in the event log with the import, never applied):");
            for e in &parsed.errors {
                println!("  line {:<5} {}", e.line, e.error);
            }
        }
        if !apply {
            return Ok(());
        }
        let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let id = registry::append(&pool, bytes, &name, account).await?;
        let applied = registry::wait_parsed(&pool, id, std::time::Duration::from_secs(30)).await?;
        match applied {
            Some(_) => println!("applied: event log row {id}; {} rows projected into the registry", parsed.rows.len()),
            None => println!(
                "appended as event log row {id}; no worker has applied it yet: it will be applied when `fleet worker` (or `fleet up`) runs"
            ),
        }
        Ok(())
    })
    .await
}

/// Where `fleet import fuel` reads.
enum FuelFrom {
    Snapshot,
    Changes,
    File(std::path::PathBuf),
}

/// `fleet import fuel`: the plan (dry run) or the import, with a progress bar on a terminal.
async fn fuel(config: Config, from: FuelFrom, apply: bool, all_rejects: bool) -> Result<()> {
    use fleet_fuel::import;
    let bucket = match (&from, &config.fuel_feed) {
        (FuelFrom::File(_), _) => None,
        (_, Some(cfg)) => Some(fleet_s3::Bucket::new(cfg.clone())?),
        (_, None) => anyhow::bail!(
            "no fuel bucket is configured: set FLEET_FUEL_S3_ENDPOINT, FLEET_FUEL_S3_ACCESS_KEY and FLEET_FUEL_S3_SECRET_KEY (see .env.example), or import a file with --file PATH"
        ),
    };
    let report = with_current_db(&config, |pool| async move {
        let mut printer = fleet_ingest::replay::printer("fuel import", "records");
        let progress: Option<import::Progress<'_>> = Some(&mut printer);
        let r = match &from {
            FuelFrom::File(path) => import::file(&pool, path, apply, progress).await,
            FuelFrom::Snapshot | FuelFrom::Changes => {
                let b = bucket.as_ref().context("no fuel bucket is configured")?;
                if matches!(from, FuelFrom::Snapshot) {
                    import::snapshot(&pool, b, apply, progress).await
                } else {
                    import::changes(&pool, b, apply, progress).await
                }
            }
        };
        r.map_err(anyhow::Error::from)
    })
    .await?;
    let c = &report.counts;
    println!(
        "fuel import, {} ({}), run {}",
        match report.mode {
            import::Mode::Snapshot => "snapshot",
            import::Mode::Changes => "change files",
            import::Mode::File => "file",
        },
        if apply {
            "applied"
        } else {
            "dry run: nothing is written; add --apply to import"
        },
        report.run_id
    );
    if report.objects.is_empty() {
        println!(
            "  nothing new to read (watermark: {})",
            report.watermark.as_deref().unwrap_or("none yet")
        );
    }
    for o in &report.objects {
        println!("  read {o}");
    }
    println!(
        "  {} records: {} new, {} updated, {} deleted, {} unchanged; {} rejected (kept, listed in fuel.v_data_quality); {} incomplete (counted with a value missing)",
        c.records, c.inserted, c.updated, c.deleted, c.unchanged, c.rejected, c.incomplete
    );
    for (action, rows) in &report.samples {
        if action == "unchanged" {
            continue;
        }
        let limit = if action == "rejected" && all_rejects {
            usize::MAX
        } else {
            20
        };
        println!("  {action}:");
        for p in rows.iter().take(limit) {
            let problems: Vec<&str> = p
                .errors
                .iter()
                .chain(&p.warnings)
                .map(String::as_str)
                .collect();
            if problems.is_empty() {
                println!("    {}", p.record_id);
            } else {
                println!("    {}: {}", p.record_id, problems.join("; "));
            }
        }
    }
    if let Some(w) = &report.watermark {
        println!("  watermark: {w}");
    }
    Ok(())
}

/// `fleet import osm [FILE]`: roads and POIs from an OpenStreetMap extract.
async fn osm(config: Config, file: Option<&std::path::Path>, replace_smaller: bool) -> Result<()> {
    let bytes = match file {
        Some(f) => std::fs::read(f).with_context(|| {
            format!(
                "cannot read {}: give the path of an .osm.pbf extract",
                f.display()
            )
        })?,
        None => fleet_geo::MONACO_PBF.to_vec(),
    };
    let name = file.map_or("the built-in Monaco extract".to_string(), |f| {
        f.display().to_string()
    });
    let r = with_current_db(&config, |pool| async move {
        let opts = fleet_geo::osm::LoadOptions {
            allow_shrink: replace_smaller,
        };
        fleet_geo::osm::load_with(&pool, &bytes, opts)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await
    .with_context(|| format!("loading {name}"))?;
    println!(
        "loaded {name}: {} road segments, {} junctions, {} points of interest, {} named places, {} house numbers",
        r.ways, r.vertices, r.pois, r.places, r.addresses
    );
    Ok(())
}
