//! The local demo's fuel log (`fleet up`): a month of generated fills for the vehicles the
//! registry knows (in local mode, the simulator's fleet), imported once through the normal path
//! — event log, parser, projector — so the Fuel page has a real-looking month to show, its
//! departments learned from the feed's spellings as on a fresh install.

use chrono::Utc;
use sqlx::PgPool;

use crate::feedgen::{self, GenConfig};
use crate::import::{self, ImportError, Mode, Report};

/// What [`seed`] did.
#[derive(Debug)]
pub enum Seeded {
    /// The fuel log already has records: a demo never writes over a real (or earlier) log.
    AlreadyHasRecords,
    /// The registry has no vehicles yet (the first vendor poll has not run); try again later.
    NoVehicles,
    Imported(Report),
}

/// Imports `days` of generated fills for every registered vehicle when the fuel log is empty.
/// No mappings are written: the departments come out of the feed's own spellings, as on a
/// fresh install with no registry.
pub async fn seed(pool: &PgPool, seed: u64, days: u32) -> Result<Seeded, ImportError> {
    let has_records: bool = sqlx::query_scalar("SELECT EXISTS (SELECT FROM fuel.records)")
        .fetch_one(pool)
        .await?;
    if has_records {
        return Ok(Seeded::AlreadyHasRecords);
    }
    let plates: Vec<String> =
        sqlx::query_scalar("SELECT vehicle_number FROM domain.vehicles ORDER BY vehicle_number")
            .fetch_all(pool)
            .await?;
    if plates.is_empty() {
        return Ok(Seeded::NoVehicles);
    }
    let cfg = GenConfig {
        seed,
        vehicles: plates
            .iter()
            .map(|p| feedgen::vehicle_for(seed, p))
            .collect(),
        days,
        end: Utc::now(),
        messy: true,
    };
    let snapshot = feedgen::generate(&cfg).snapshot(cfg.end);
    let bytes = serde_json::to_vec(&snapshot).map_err(|e| ImportError::Feed(e.to_string()))?;
    let report = import::run(
        pool,
        Mode::File,
        vec![("demo/fuel_records/latest.json".into(), bytes)],
        true,
        None,
    )
    .await?;
    Ok(Seeded::Imported(report))
}
