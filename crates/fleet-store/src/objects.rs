//! The SQL that is code, declared once: every function, view and trigger of the platform's schemas,
//! one object (or one small family) per file under `sql/<schema>/`, applied by [`crate::migrate`]
//! after the migrations, in this order (an object after what it refers to), whenever any of them
//! changed. A new object is a new file plus one line here, in an order where what it uses comes
//! first; a test checks that every file under `sql/` is listed.

/// One declared SQL file.
#[derive(Debug, Clone, Copy)]
pub struct SqlObject {
    /// The path under `sql/`.
    pub path: &'static str,
    pub sql: &'static str,
}

macro_rules! object {
    ($path:literal) => {
        SqlObject {
            path: $path,
            sql: include_str!(concat!("../../../sql/", $path)),
        }
    };
}

/// Every SQL object, in the order they are created.
pub const OBJECTS: &[SqlObject] = &[
    object!("ops/partition_name.sql"),
    object!("ops/ensure_partition.sql"),
    object!("ops/expired_partitions.sql"),
    object!("ops/maintain_partitions.sql"),
    object!("events/raw_guard.sql"),
    object!("events/v_dead_letter.sql"),
    object!("serve/normalize_plate.sql"),
    object!("slo/meets.sql"),
    object!("slo/v_current_status.sql"),
    object!("state/merge_value.sql"),
    object!("domain/find_driver.sql"),
    object!("domain/allowed_transitions.sql"),
    object!("domain/apply_lifecycle.sql"),
    object!("serve/local_tz.sql"),
    object!("serve/local_time.sql"),
    object!("serve/local_day.sql"),
    object!("serve/plate_tail.sql"),
    object!("serve/colour.sql"),
    object!("serve/vehicle_state.sql"),
    object!("serve/thresholds.sql"),
    object!("serve/alarm_class.sql"),
    object!("serve/at_most.sql"),
    object!("serve/filter_list.sql"),
    object!("serve/check_filters.sql"),
    object!("serve/filter_set.sql"),
    object!("serve/matches.sql"),
    object!("serve/filter_range.sql"),
    object!("serve/unit_key.sql"),
    object!("serve/unit_label.sql"),
    object!("state/resolve_units.sql"),
    object!("state/refresh_live_units.sql"),
    object!("state/live_units_triggers.sql"),
    object!("state/live_units_touch.sql"),
    object!("serve/fleet_units.sql"),
    object!("serve/slo_status.sql"),
    object!("geo/geocode_key.sql"),
    object!("serve/address_at.sql"),
    object!("serve/live_features.sql"),
    object!("serve/fn_live_view.sql"),
    object!("serve/fn_live_changes.sql"),
    object!("serve/range_units.sql"),
    object!("serve/fn_history_view.sql"),
    object!("serve/range_trips.sql"),
    object!("serve/fn_fleet_today.sql"),
    object!("serve/fn_not_moved_today.sql"),
    object!("serve/fn_currently_idle.sql"),
    object!("serve/fn_driver_daily.sql"),
    object!("serve/fn_fleet_km_daily.sql"),
    object!("serve/fn_alarms_daily.sql"),
    object!("serve/fn_utilisation.sql"),
    object!("serve/fn_ingest_health.sql"),
    object!("serve/fn_filters.sql"),
    object!("fuel/lookup_key.sql"),
    object!("fuel/mapped.sql"),
    object!("fuel/norm_plate.sql"),
    object!("fuel/canon_fuel_type.sql"),
    object!("geo/match_bucket_width.sql"),
    object!("geo/match_bucket.sql"),
    object!("geo/observed_speed.sql"),
    object!("geo/reverse_geocode.sql"),
    object!("geo/shown_positions.sql"),
    object!("geo/search.sql"),
    object!("geo/road_min_zoom.sql"),
    object!("geo/tile.sql"),
    object!("serve/fn_contract_checks.sql"),
    object!("fuel/vanished.sql"),
    object!("state/fix_rank.sql"),
    object!("fuel/thresholds.sql"),
    object!("fuel/checked_errors.sql"),
    object!("fuel/checked_warnings.sql"),
    object!("fuel/normalise_each.sql"),
    object!("fuel/plan_records.sql"),
    object!("fuel/plan.sql"),
    object!("fuel/department_of.sql"),
    object!("fuel/v_fills.sql"),
    object!("fuel/v_data_quality.sql"),
    object!("fuel/v_efficiency.sql"),
    object!("fuel/v_reconciliation.sql"),
    object!("serve/fuel_fills.sql"),
    object!("serve/fill_address.sql"),
    object!("serve/fuel_row.sql"),
    object!("serve/fn_fuel_fills.sql"),
    object!("serve/fn_fuel_recent.sql"),
    object!("serve/fn_fuel_efficiency.sql"),
    object!("serve/fn_fuel_flagged.sql"),
    object!("serve/fn_fuel_department_spellings.sql"),
    object!("serve/fn_fuel_cost_per_km.sql"),
];

/// Run after the objects were (re)applied, in the same transaction: the tables that triggers
/// of [`OBJECTS`] keep are re-derived, so a changed rule (or a first install) leaves no row as
/// the old rule made it. Each statement must be idempotent and write only what differs.
pub const RECONCILE: &[&str] = &["SELECT state.refresh_live_units(NULL, NULL)"];

/// The functions a file defines, as `schema.name`.
pub fn functions_in(sql: &str) -> Vec<String> {
    defined(sql, "FUNCTION")
}

/// The triggers a file defines, as `schema.table.trigger`.
pub fn triggers_in(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let upper = sql.to_uppercase();
    let mut from = 0;
    while let Some(i) = upper[from..].find("CREATE OR REPLACE TRIGGER ") {
        let at = from + i + "CREATE OR REPLACE TRIGGER ".len();
        let rest = &sql[at..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(on) = rest.to_uppercase().find(" ON ") {
            let table: String = rest[on + 4..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            out.push(format!("{}.{}", table.to_lowercase(), name.to_lowercase()));
        }
        from = at;
    }
    out
}

/// `schema.name` of every `CREATE OR REPLACE <kind> schema.name` in a file.
fn defined(sql: &str, kind: &str) -> Vec<String> {
    let needle = format!("CREATE OR REPLACE {kind} ");
    let upper = sql.to_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = upper[from..].find(&needle) {
        let at = from + i + needle.len();
        let name: String = sql[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        out.push(name.to_lowercase());
        from = at;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_sql_is_declared_once() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql");
        let mut files = Vec::new();
        for schema in std::fs::read_dir(&root).expect("sql/") {
            let schema = schema.expect("entry").path();
            if !schema.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&schema).expect("schema folder") {
                let f = f.expect("entry").path();
                if f.extension().is_some_and(|e| e == "sql") {
                    files.push(
                        f.strip_prefix(&root)
                            .expect("under sql/")
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        files.sort();
        let mut declared: Vec<String> = OBJECTS.iter().map(|o| o.path.to_string()).collect();
        declared.sort();
        assert_eq!(files, declared, "sql/ and OBJECTS must list the same files");
    }

    #[test]
    fn each_object_is_defined_by_one_file_in_its_schema_folder() {
        let mut seen = std::collections::BTreeMap::new();
        for o in OBJECTS {
            let schema = o.path.split('/').next().unwrap_or("");
            let names: Vec<String> = defined(o.sql, "FUNCTION")
                .into_iter()
                .chain(defined(o.sql, "VIEW"))
                .collect();
            assert!(
                !names.is_empty() || !triggers_in(o.sql).is_empty(),
                "{} defines nothing",
                o.path
            );
            for n in names {
                assert!(
                    n.starts_with(&format!("{schema}.")),
                    "{}: {n} is not in schema {schema}",
                    o.path
                );
                if let Some(other) = seen.insert(n.clone(), o.path) {
                    assert_eq!(other, o.path, "{n} is defined in {other} and {}", o.path);
                }
            }
            assert!(
                !o.sql.contains("CREATE FUNCTION") && !o.sql.contains("CREATE VIEW"),
                "{}: definitions are CREATE OR REPLACE",
                o.path
            );
        }
        assert_eq!(
            functions_in(
                "CREATE OR REPLACE FUNCTION serve.a(x int) ... CREATE OR REPLACE FUNCTION serve.b()"
            ),
            vec!["serve.a", "serve.b"]
        );
        assert_eq!(
            triggers_in(
                "CREATE OR REPLACE TRIGGER raw_guard BEFORE UPDATE ON events.raw FOR EACH ROW"
            ),
            vec!["events.raw.raw_guard"]
        );
    }
}
