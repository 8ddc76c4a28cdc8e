//! The fuel log's department spellings (`fuel.department_spellings`, its one writer): every live
//! record's spelling with its canonical department, decided by the rule in
//! `fleet_core::fuel::departments` over all spellings, the department mappings, the cost centres
//! and the common names. A rule over the whole set cannot be a per-record projection, so this
//! runs after every projected batch that brings records, mappings or cost centres, in the same
//! transaction; records read their department through the table, so a new spelling or mapping
//! regroups old records at once.
//!
//! Batches project side by side (a fuel import's lanes, several workers). The refresh takes a
//! transaction-scoped advisory lock before it reads: refreshes run in commit order, and the last
//! one sees every record committed before it.

use fleet_core::fuel::departments::{self, Known, Source};
use serde_json::json;
use sqlx::PgConnection;

pub const TABLE: &str = "fuel.department_spellings";

/// Recomputes every spelling's department; returns the rows that changed.
pub async fn refresh(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('fleet_fuel_department_spellings'))")
        .execute(&mut *conn)
        .await?;
    let spellings: Vec<(String, i64)> = sqlx::query_as(
        "SELECT department_spelling, count(*) FROM fuel.records
          WHERE deleted_at IS NULL AND department_spelling IS NOT NULL
          GROUP BY department_spelling ORDER BY department_spelling",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mappings: Vec<(String, String)> = sqlx::query_as(
        "SELECT raw_value, canonical FROM fuel.mappings WHERE kind = 'department' ORDER BY raw_value",
    )
    .fetch_all(&mut *conn)
    .await?;
    let known: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT canonical, 'mapping' FROM fuel.mappings WHERE kind = 'department'
         UNION SELECT name, 'cost_centre' FROM domain.cost_centres WHERE name IS NOT NULL
         UNION SELECT name, 'vocabulary' FROM fuel.department_vocabulary
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    let known: Vec<Known> = known
        .into_iter()
        .map(|(name, source)| Known {
            name,
            source: match source.as_str() {
                "mapping" => Source::Mapping,
                "cost_centre" => Source::CostCentre,
                _ => Source::Vocabulary,
            },
        })
        .collect();
    let rows: Vec<_> = departments::decide(&spellings, &mappings, &known)
        .into_iter()
        .map(|d| {
            json!({"spelling": d.spelling, "records": d.records, "canonical": d.canonical,
                   "decided_by": d.decided_by.as_str(), "suggestion": d.suggestion, "reason": d.reason})
        })
        .collect();
    let changed: i64 = sqlx::query_scalar(
        "WITH d AS (
             SELECT * FROM jsonb_to_recordset($1) AS d(spelling text, records integer, canonical text, decided_by text,
                                                     suggestion text, reason text)
         ), gone AS (
             DELETE FROM fuel.department_spellings t WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.spelling = t.spelling)
             RETURNING 1
         ), put AS (
             INSERT INTO fuel.department_spellings AS t (spelling, records, canonical, decided_by, suggestion, reason, refreshed_at)
             SELECT d.spelling, d.records, d.canonical, d.decided_by, d.suggestion, d.reason, now() FROM d
             ORDER BY d.spelling
             ON CONFLICT (spelling) DO UPDATE
                SET records = excluded.records, canonical = excluded.canonical, decided_by = excluded.decided_by,
                    suggestion = excluded.suggestion, reason = excluded.reason, refreshed_at = now()
              WHERE (t.records, t.canonical, t.decided_by, t.suggestion, t.reason)
                    IS DISTINCT FROM (excluded.records, excluded.canonical, excluded.decided_by, excluded.suggestion, excluded.reason)
             RETURNING 1
         )
         SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM put)",
    )
    .bind(serde_json::Value::Array(rows))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(changed).unwrap_or(0))
}
