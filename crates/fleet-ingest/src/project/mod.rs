//! Projectors: parsed events → `state.*` (ARCHITECTURE §1 rule 5).
//!
//! Each state table has exactly one writer, a SQL file in this folder, run here in a fixed order.
//! Every statement takes the batch as one JSON array (one round trip per table, whatever the batch
//! size), is keyed on natural keys (re-applying changes nothing), and sorts rows by key so that
//! concurrent workers lock rows in the same order. Statements read only their inputs (and, for
//! alarms, the parsed log), so projecting from a live batch and from `events.parsed` during replay
//! give the same state.

pub mod departments;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

/// One parsed event ready for projection.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub raw_id: i64,
    pub received_at: DateTime<Utc>,
    pub source: &'a str,
    pub kind: &'a str,
    pub body: &'a Value,
}

/// A projector: the event kind it reads, the table it writes, its statement.
pub struct Projector {
    pub kind: &'static str,
    pub table: &'static str,
    pub sql: &'static str,
}

/// How every projector statement receives its batch (a JSON array bound as `$1`); replay
/// substitutes a row-by-row read of the parsed log for exactly this text.
pub const INPUT: &str = "jsonb_to_recordset($1::jsonb) AS x(";

/// Every projector, in the order they run within a batch.
pub const PROJECTORS: &[Projector] = &[
    Projector {
        kind: "position_fix",
        table: "state.position_history",
        sql: include_str!("positions_history.sql"),
    },
    Projector {
        kind: "position_fix",
        table: "state.live_positions",
        sql: include_str!("positions_live.sql"),
    },
    Projector {
        kind: "alarm",
        table: "state.alarms",
        sql: include_str!("alarms.sql"),
    },
    Projector {
        kind: "alarm_end",
        table: "state.alarms",
        sql: include_str!("alarm_ends.sql"),
    },
    Projector {
        kind: "trip_report",
        table: "state.trips",
        sql: include_str!("trips.sql"),
    },
    Projector {
        kind: "parking",
        table: "state.parking_events",
        sql: include_str!("parking.sql"),
    },
    Projector {
        kind: "device_info",
        table: "state.devices",
        sql: include_str!("devices.sql"),
    },
    Projector {
        kind: "heartbeat",
        table: "state.heartbeats",
        sql: include_str!("heartbeats.sql"),
    },
    Projector {
        kind: "device_event",
        table: "state.device_events",
        sql: include_str!("device_events.sql"),
    },
    Projector {
        kind: "lbs",
        table: "state.lbs_readings",
        sql: include_str!("lbs.sql"),
    },
    Projector {
        kind: "obd",
        table: "state.obd_readings",
        sql: include_str!("obd.sql"),
    },
    Projector {
        kind: "fuel_reading",
        table: "state.fuel_readings",
        sql: include_str!("fuel_readings.sql"),
    },
    Projector {
        kind: "temperature",
        table: "state.temperature_readings",
        sql: include_str!("temperature_readings.sql"),
    },
    // The fuel feed (fuel.records): new and edited records, then those a snapshot dropped.
    Projector {
        kind: "fuel_record",
        table: "fuel.records",
        sql: include_str!("fuel_records.sql"),
    },
    Projector {
        kind: "fuel_record_vanished",
        table: "fuel.records",
        sql: include_str!("fuel_vanished.sql"),
    },
    // The registry (domain.*): vendor device reports and registry imports, in dependency order.
    Projector {
        kind: "registry_entry",
        table: "domain.accounts",
        sql: include_str!("registry_accounts.sql"),
    },
    Projector {
        kind: "device_info",
        table: "domain.accounts",
        sql: include_str!("registry_accounts.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.devices",
        sql: include_str!("registry_devices.sql"),
    },
    Projector {
        kind: "device_info",
        table: "domain.devices",
        sql: include_str!("registry_devices.sql"),
    },
    Projector {
        kind: "device_info",
        table: "domain.vehicles",
        sql: include_str!("registry_vendor_vehicles.sql"),
    },
    Projector {
        kind: "device_info",
        table: "domain.device_assignments",
        sql: include_str!("registry_vendor_unassign.sql"),
    },
    Projector {
        kind: "device_info",
        table: "domain.device_assignments",
        sql: include_str!("registry_vendor_assign.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.cost_centres",
        sql: include_str!("registry_cost_centres.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.assigned_cities",
        sql: include_str!("registry_cities.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.vehicles",
        sql: include_str!("registry_vehicles.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.device_assignments",
        sql: include_str!("registry_device_unassign.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.device_assignments",
        sql: include_str!("registry_device_assign.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.drivers",
        sql: include_str!("registry_drivers.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.driver_assignments",
        sql: include_str!("registry_driver_unassign.sql"),
    },
    Projector {
        kind: "registry_entry",
        table: "domain.driver_assignments",
        sql: include_str!("registry_driver_assign.sql"),
    },
    // Operator actions (the API's writes), after the registry so they see its vehicles.
    Projector {
        kind: "lifecycle_transition",
        table: "domain.devices",
        sql: include_str!("operator_lifecycle.sql"),
    },
    Projector {
        kind: "device_assignment",
        table: "domain.device_assignments",
        sql: include_str!("operator_device_unassign.sql"),
    },
    Projector {
        kind: "device_assignment",
        table: "domain.device_assignments",
        sql: include_str!("operator_device_assign.sql"),
    },
    Projector {
        kind: "driver_assignment",
        table: "domain.driver_assignments",
        sql: include_str!("operator_driver_unassign.sql"),
    },
    Projector {
        kind: "driver_assignment",
        table: "domain.driver_assignments",
        sql: include_str!("operator_driver_assign.sql"),
    },
    Projector {
        kind: "alarm_ack",
        table: "ops.alarm_acks",
        sql: include_str!("operator_alarm_acks.sql"),
    },
    Projector {
        kind: "service_entry",
        table: "ops.service_log",
        sql: include_str!("operator_service_log.sql"),
    },
    // The fuel log's operator actions: a mapping, then the records it names; a fill's review.
    Projector {
        kind: "fuel_mapping",
        table: "fuel.mappings",
        sql: include_str!("operator_fuel_mappings.sql"),
    },
    Projector {
        kind: "fuel_mapping",
        table: "fuel.records",
        sql: include_str!("fuel_mapping_renormalise.sql"),
    },
    Projector {
        kind: "fuel_review",
        table: "fuel.fill_reviews",
        sql: include_str!("operator_fuel_reviews.sql"),
    },
];

/// Event kinds that change what the fuel log's department spellings are or how they group
/// (records, mappings, cost centres): after a batch with one, [`departments::refresh`] runs.
pub const DEPARTMENT_INPUTS: &[&str] = &[
    "fuel_record",
    "fuel_record_vanished",
    "fuel_mapping",
    "registry_entry",
];

/// The state tables projectors write (what `fleet replay --rebuild` accepts). The registry's
/// domain tables are re-applied by a replay but never emptied: other tables refer to their ids.
pub fn tables() -> Vec<&'static str> {
    let mut t: Vec<&'static str> = Vec::new();
    for p in PROJECTORS {
        // The registry (domain.*) is not rebuilt table by table: its rows reference each other.
        if (p.table.starts_with("state.") || p.table.starts_with("fuel.")) && !t.contains(&p.table)
        {
            t.push(p.table);
        }
    }
    t
}

/// Applies `events` to state; returns rows changed per table.
/// An event body as a projector reads it: its own fields plus `raw_id`, `received_at` and
/// `source` (which win over same-named body fields), serialised straight from the parser's
/// event rather than copied first.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Stamped<'a> {
    Object {
        #[serde(flatten)]
        body: &'a serde_json::Map<String, Value>,
        raw_id: i64,
        received_at: DateTime<Utc>,
        source: &'a str,
    },
    Other(&'a Value),
}

pub async fn apply(
    conn: &mut PgConnection,
    events: &[Input<'_>],
) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
    apply_only(conn, events, None).await
}

/// Like [`apply`], restricted to the projectors writing `table` when given (replay of one table).
pub async fn apply_only(
    conn: &mut PgConnection,
    events: &[Input<'_>],
    table: Option<&str>,
) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
    let mut changed = Vec::new();
    for p in PROJECTORS
        .iter()
        .filter(|p| table.is_none_or(|t| t == p.table))
    {
        let batch: Vec<Stamped> = events
            .iter()
            .filter(|e| e.kind == p.kind)
            .map(|e| match &e.body {
                Value::Object(body) => Stamped::Object {
                    body,
                    raw_id: e.raw_id,
                    received_at: e.received_at,
                    source: e.source,
                },
                other => Stamped::Other(other),
            })
            .collect();
        if batch.is_empty() {
            continue;
        }
        let n = sqlx::query(p.sql)
            .bind(sqlx::types::Json(&batch))
            .execute(&mut *conn)
            .await?
            .rows_affected();
        changed.push((p.table, n));
    }
    let fuel_tables = ["fuel.records", "fuel.mappings"];
    if table.is_none_or(|t| fuel_tables.contains(&t))
        && events.iter().any(|e| DEPARTMENT_INPUTS.contains(&e.kind))
    {
        let n = departments::refresh(conn).await?;
        changed.push((departments::TABLE, n));
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projector_takes_its_batch_the_one_way_replay_can_substitute() {
        for p in PROJECTORS {
            assert_eq!(
                p.sql.matches(INPUT).count(),
                1,
                "{} ({}) must read its batch as `{INPUT}` exactly once",
                p.table,
                p.kind
            );
            assert_eq!(
                p.sql.matches("$1").count(),
                1,
                "{}: $1 is only the batch",
                p.table
            );
        }
    }
}
