//! `fleet fuel`: fuel feed tools.

use anyhow::Result;
use fleet_core::Config;
use fleet_store::sqlx;

use super::with_current_db;

#[derive(clap::Subcommand)]
pub enum FuelAction {
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
pub async fn run(config: Config, action: FuelAction) -> Result<()> {
    match action {
        FuelAction::Generate {
            out,
            vehicles,
            from_registry,
            days,
            change_hours,
            seed,
        } => {
            generate(
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
    }
}

/// `fleet fuel generate`: a messy feed in the bucket's layout.
async fn generate(
    config: Config,
    out: &std::path::Path,
    vehicles: usize,
    from_registry: bool,
    days: u32,
    change_hours: u64,
    seed: u64,
) -> Result<()> {
    use fleet_fuel::feedgen;
    let fleet = if from_registry {
        let plates: Vec<String> = with_current_db(&config, |pool| async move {
            Ok(sqlx::query_scalar(
                "SELECT vehicle_number FROM domain.vehicles ORDER BY vehicle_number",
            )
            .fetch_all(&pool)
            .await?)
        })
        .await?;
        anyhow::ensure!(
            !plates.is_empty(),
            "the registry has no vehicles yet; import one (fleet import devices FILE --apply) or use --vehicles N"
        );
        plates
            .iter()
            .map(|p| feedgen::vehicle_for(seed, p))
            .collect()
    } else {
        feedgen::vehicles(seed, vehicles)
    };
    let written = feedgen::write_bucket_layout(
        out,
        "fuel_records",
        &feedgen::GenConfig {
            seed,
            vehicles: fleet,
            days,
            end: chrono::Utc::now(),
            messy: true,
        },
        change_hours,
    )?;
    println!(
        "wrote {} records to {} and {} change files under {}",
        written.records,
        written.snapshot.display(),
        written.change_files,
        written.changes_dir.display()
    );
    Ok(())
}
