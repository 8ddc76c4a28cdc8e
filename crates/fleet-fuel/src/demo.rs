//! The local demo's fuel log (`fleet up`): a month of generated fills for the vehicles the
//! registry knows (in local mode, the simulator's fleet), imported once through the normal path
//! — event log, parser, projector — so the Fuel page has a real-looking month to show, its
//! departments learned from the feed's spellings as on a fresh install. Where the loaded
//! extract has fuel stations, most fills happen at one of them: the record names the station and
//! carries the location the driver shared (as a WhatsApp location does), so the demo's fills have
//! addresses and are verified against the tracker where it was there.

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
    let mut snapshot = feedgen::generate(&cfg).snapshot(cfg.end);
    let stations: Vec<(String, f64, f64)> = sqlx::query_as(
        "SELECT coalesce(name, brand, 'Fuel station'), ST_Y(geom), ST_X(geom) FROM geo.pois
          WHERE kind = 'fuel' ORDER BY poi_id",
    )
    .fetch_all(pool)
    .await?;
    at_stations(&mut snapshot, &stations, seed);
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

/// The local demo's fuel log (`fleet up`): once the first vendor poll has registered the
/// simulated vehicles, a month of generated fills for them (only into an empty fuel log). Runs
/// until `token` is cancelled, as every role task does; a failure to seed is logged, not fatal.
pub async fn seed_when_registered(
    pool: PgPool,
    seed_value: u64,
    token: tokio_util::sync::CancellationToken,
) -> fleet_core::health::RoleResult {
    use std::time::Duration;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let mut seen = -1i64;
    loop {
        // The first poll registers the vehicles one device at a time: wait until the count
        // holds still, so the month covers the whole fleet.
        let vehicles: i64 = sqlx::query_scalar("SELECT count(*) FROM domain.vehicles")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        let settled = vehicles > 0 && vehicles == seen;
        seen = vehicles;
        let outcome = if settled {
            seed(&pool, seed_value, 31).await
        } else {
            Ok(Seeded::NoVehicles)
        };
        let wait = match outcome {
            Ok(Seeded::Imported(r)) => {
                tracing::info!(
                    records = r.counts.records,
                    rejected = r.counts.rejected,
                    incomplete = r.counts.incomplete,
                    "demo fuel log: a month of generated fills imported"
                );
                None
            }
            Ok(Seeded::AlreadyHasRecords) => None,
            Ok(Seeded::NoVehicles) if tokio::time::Instant::now() < deadline => {
                Some(Duration::from_secs(5))
            }
            Ok(Seeded::NoVehicles) => {
                tracing::warn!(
                    "demo fuel log: no vehicles registered after 10 minutes; not seeded"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "demo fuel log: not seeded");
                None
            }
        };
        let Some(wait) = wait else { break };
        tokio::select! {
            _ = token.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
    token.cancelled().await;
    Ok(())
}

/// Puts about four fills in five at one of `stations` (name, lat, lng): its name as the station
/// and a shared location within about 20 m of it. The same seed, the same stations.
pub fn at_stations(snapshot: &mut serde_json::Value, stations: &[(String, f64, f64)], seed: u64) {
    if stations.is_empty() {
        return;
    }
    let mut rng = fleet_core::rng::Rng(seed ^ 0x5354_4154);
    let Some(records) = snapshot["records"].as_array_mut() else {
        return;
    };
    for r in records.iter_mut().filter(|r| r.is_object()) {
        if !rng.chance(0.8) {
            continue;
        }
        let (name, lat, lng) = rng.pick(stations).clone();
        r["station"] = serde_json::Value::from(name);
        r["lat"] = serde_json::Value::from(lat + rng.range(-1.5e-4, 1.5e-4));
        r["lng"] = serde_json::Value::from(lng + rng.range(-1.5e-4, 1.5e-4));
    }
}
