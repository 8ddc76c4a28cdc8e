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
    /// Its live batch is read back from the `events.parsed` rows the worker has just written
    /// ([`crate::replay::live_statement`]) instead of being sent again as JSON: for bulk kinds,
    /// whose JSON PostgreSQL would otherwise parse twice.
    pub from_log: bool,
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
        from_log: false,
    },
    Projector {
        kind: "position_fix",
        table: "state.live_positions",
        sql: include_str!("positions_live.sql"),
        from_log: false,
    },
    Projector {
        kind: "position_fix",
        table: "geo.match_queue",
        sql: include_str!("match_queue.sql"),
        from_log: false,
    },
    Projector {
        kind: "alarm",
        table: "state.alarms",
        sql: include_str!("alarms.sql"),
        from_log: false,
    },
    Projector {
        kind: "alarm_end",
        table: "state.alarms",
        sql: include_str!("alarm_ends.sql"),
        from_log: false,
    },
    Projector {
        kind: "trip_report",
        table: "state.trips",
        sql: include_str!("trips.sql"),
        from_log: false,
    },
    Projector {
        kind: "parking",
        table: "state.parking_events",
        sql: include_str!("parking.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "state.devices",
        sql: include_str!("devices.sql"),
        from_log: false,
    },
    Projector {
        kind: "heartbeat",
        table: "state.heartbeats",
        sql: include_str!("heartbeats.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_event",
        table: "state.device_events",
        sql: include_str!("device_events.sql"),
        from_log: false,
    },
    Projector {
        kind: "lbs",
        table: "state.lbs_readings",
        sql: include_str!("lbs.sql"),
        from_log: false,
    },
    Projector {
        kind: "obd",
        table: "state.obd_readings",
        sql: include_str!("obd.sql"),
        from_log: false,
    },
    Projector {
        kind: "fuel_reading",
        table: "state.fuel_readings",
        sql: include_str!("fuel_readings.sql"),
        from_log: false,
    },
    Projector {
        kind: "temperature",
        table: "state.temperature_readings",
        sql: include_str!("temperature_readings.sql"),
        from_log: false,
    },
    // The fuel feed (fuel.records): new and edited records, then those a snapshot dropped.
    Projector {
        kind: "fuel_record",
        table: "fuel.records",
        sql: include_str!("fuel_records.sql"),
        from_log: true,
    },
    Projector {
        kind: "fuel_record_vanished",
        table: "fuel.records",
        sql: include_str!("fuel_vanished.sql"),
        from_log: false,
    },
    // The registry (domain.*): vendor device reports and registry imports, in dependency order.
    Projector {
        kind: "registry_entry",
        table: "domain.accounts",
        sql: include_str!("registry_accounts.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "domain.accounts",
        sql: include_str!("registry_accounts.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.devices",
        sql: include_str!("registry_devices.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "domain.devices",
        sql: include_str!("registry_devices.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "domain.vehicles",
        sql: include_str!("registry_vendor_vehicles.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "domain.device_assignments",
        sql: include_str!("registry_vendor_unassign.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_info",
        table: "domain.device_assignments",
        sql: include_str!("registry_vendor_assign.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.cost_centres",
        sql: include_str!("registry_cost_centres.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.assigned_cities",
        sql: include_str!("registry_cities.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.vehicles",
        sql: include_str!("registry_vehicles.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.device_assignments",
        sql: include_str!("registry_device_unassign.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.device_assignments",
        sql: include_str!("registry_device_assign.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.drivers",
        sql: include_str!("registry_drivers.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.driver_assignments",
        sql: include_str!("registry_driver_unassign.sql"),
        from_log: false,
    },
    Projector {
        kind: "registry_entry",
        table: "domain.driver_assignments",
        sql: include_str!("registry_driver_assign.sql"),
        from_log: false,
    },
    // Operator actions (the API's writes), after the registry so they see its vehicles.
    Projector {
        kind: "lifecycle_transition",
        table: "domain.devices",
        sql: include_str!("operator_lifecycle.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_assignment",
        table: "domain.device_assignments",
        sql: include_str!("operator_device_unassign.sql"),
        from_log: false,
    },
    Projector {
        kind: "device_assignment",
        table: "domain.device_assignments",
        sql: include_str!("operator_device_assign.sql"),
        from_log: false,
    },
    Projector {
        kind: "driver_assignment",
        table: "domain.driver_assignments",
        sql: include_str!("operator_driver_unassign.sql"),
        from_log: false,
    },
    Projector {
        kind: "driver_assignment",
        table: "domain.driver_assignments",
        sql: include_str!("operator_driver_assign.sql"),
        from_log: false,
    },
    Projector {
        kind: "alarm_ack",
        table: "ops.alarm_acks",
        sql: include_str!("operator_alarm_acks.sql"),
        from_log: false,
    },
    Projector {
        kind: "service_entry",
        table: "ops.service_log",
        sql: include_str!("operator_service_log.sql"),
        from_log: false,
    },
    // The fuel log's operator actions: a mapping, then the records it names; a fill's review.
    Projector {
        kind: "fuel_mapping",
        table: "fuel.mappings",
        sql: include_str!("operator_fuel_mappings.sql"),
        from_log: false,
    },
    Projector {
        kind: "fuel_mapping",
        table: "fuel.records",
        sql: include_str!("fuel_mapping_renormalise.sql"),
        from_log: false,
    },
    Projector {
        kind: "fuel_review",
        table: "fuel.fill_reviews",
        sql: include_str!("operator_fuel_reviews.sql"),
        from_log: false,
    },
];

/// Event kinds that change the names the fuel log's department spellings group around
/// (mappings, cost centres): after a batch with one, [`departments::refresh`] runs. A batch of
/// fuel records admits its new spellings ([`departments::admit`]); the record counts that pick
/// a group's name settle at the end of every import, which refreshes once more.
pub const DEPARTMENT_NAMES: &[&str] = &["fuel_mapping", "registry_entry"];

/// Each projector's live statement over the parsed log (empty for those fed JSON), built once.
fn live_statements() -> &'static [String] {
    static LIVE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LIVE.get_or_init(|| {
        PROJECTORS
            .iter()
            .map(|p| {
                if p.from_log {
                    crate::replay::live_statement(p.sql, p.kind).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .collect()
    })
}

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
    for (i, p) in PROJECTORS
        .iter()
        .enumerate()
        .filter(|(_, p)| table.is_none_or(|t| t == p.table))
    {
        if p.from_log {
            let mut keys: Vec<(DateTime<Utc>, i64)> = events
                .iter()
                .filter(|e| e.kind == p.kind)
                .map(|e| (e.received_at, e.raw_id))
                .collect();
            if keys.is_empty() {
                continue;
            }
            keys.sort_unstable();
            keys.dedup();
            let (received, ids): (Vec<DateTime<Utc>>, Vec<i64>) = keys.into_iter().unzip();
            let n = sqlx::query(sqlx::AssertSqlSafe(live_statements()[i].as_str()))
                .bind(received)
                .bind(ids)
                .bind(crate::parser::PARSER_VERSION)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            changed.push((p.table, n));
            continue;
        }
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
    if table.is_none_or(|t| fuel_tables.contains(&t)) {
        let names = events.iter().any(|e| DEPARTMENT_NAMES.contains(&e.kind));
        let mut spellings: Vec<&str> = events
            .iter()
            .filter(|e| e.kind == "fuel_record")
            .filter_map(|e| e.body.get("read")?.get("department")?.as_str())
            .collect();
        spellings.sort_unstable();
        spellings.dedup();
        let n = if names {
            departments::refresh(conn).await?
        } else {
            departments::admit(conn, &spellings).await?
        };
        if n > 0 {
            changed.push((departments::TABLE, n));
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projector_fed_from_the_log_has_its_live_statement() {
        for (p, sql) in PROJECTORS.iter().zip(live_statements()) {
            assert_eq!(p.from_log, !sql.is_empty(), "{} ({})", p.table, p.kind);
            if p.from_log {
                assert!(
                    sql.contains("unnest($1::timestamptz[], $2::bigint[])")
                        && !sql.contains("$1::jsonb")
                );
            }
        }
    }

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
