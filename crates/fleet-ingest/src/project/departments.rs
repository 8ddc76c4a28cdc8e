//! The fuel log's department spellings (`fuel.department_spellings`, its one writer): every live
//! record's spelling with its canonical department, decided by the rule in
//! `fleet_core::fuel::departments` over all spellings, the department mappings, the cost centres
//! and the common names. A rule over the whole set cannot be a per-record projection, so it is
//! decided again ([`refresh`]) in the transaction of every projected batch that brings a mapping,
//! a cost centre or a spelling with new words, and once more at the end of every fuel import
//! (the counts that pick a group's name). A new spelling with the words of a decided one joins
//! its department at once ([`admit`]). Records read their department through the table, so a
//! new spelling or mapping regroups old records at once.
//!
//! Batches project side by side (a fuel import's lanes, several workers). The refresh takes a
//! transaction-scoped advisory lock before it reads: refreshes run in commit order, and the last
//! one sees every record committed before it.

use fleet_core::fuel::departments::{self, Known, Source};
use serde_json::json;
use sqlx::PgConnection;

pub const TABLE: &str = "fuel.department_spellings";

/// Gives the batch's spellings that have no department yet one: a spelling with the words of a
/// decided one joins its department at once (its counts settle at the import's end); if any has
/// new words or a mapping of its own, everything is decided again. Returns the rows written.
pub async fn admit(conn: &mut PgConnection, spellings: &[&str]) -> Result<u64, sqlx::Error> {
    if spellings.is_empty() {
        return Ok(0);
    }
    let new: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT s.spelling FROM unnest($1::text[]) s(spelling)
          WHERE NOT EXISTS (SELECT 1 FROM fuel.department_spellings d WHERE d.spelling = s.spelling)
          ORDER BY s.spelling",
    )
    .bind(spellings)
    .fetch_all(&mut *conn)
    .await?;
    if new.is_empty() {
        return Ok(0);
    }
    lock(conn).await?;
    let words: Vec<String> = new.iter().map(|s| departments::words_of(s)).collect();
    let keys: Vec<String> = new.iter().map(|s| departments::lookup_key(s)).collect();
    // the same words as a spelling decided without a mapping of its own, and no mapping
    let joined = sqlx::query(
        "WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) n(spelling, words, key)),
         m AS (
             SELECT DISTINCT ON (n.spelling) n.spelling, n.words, d.spelling AS like_spelling, d.canonical, d.decided_by,
                    d.suggestion, d.reason
               FROM n JOIN fuel.department_spellings d ON d.words = n.words AND d.decided_by <> 'mapping'
              WHERE NOT EXISTS (SELECT 1 FROM fuel.mappings mp WHERE mp.kind = 'department' AND mp.raw_value = n.key)
              ORDER BY n.spelling, d.records DESC, d.spelling)
         INSERT INTO fuel.department_spellings (spelling, words, records, canonical, decided_by, suggestion, reason)
         SELECT m.spelling, m.words, 0, m.canonical, CASE WHEN m.decided_by = 'own' THEN 'learned' ELSE m.decided_by END,
                m.suggestion,
                CASE WHEN m.decided_by = 'suggestion' THEN m.reason ELSE format('the same words as %L', m.like_spelling) END
           FROM m
          WHERE (SELECT count(*) FROM m) = (SELECT count(*) FROM n)
          ORDER BY m.spelling
         ON CONFLICT (spelling) DO NOTHING",
    )
    .bind(&new)
    .bind(&words)
    .bind(&keys)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if joined > 0 {
        return Ok(joined);
    }
    refresh(conn).await
}

/// [`refresh`] in a transaction of its own.
pub async fn refresh_now(pool: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let n = refresh(&mut tx).await?;
    tx.commit().await?;
    Ok(n)
}

/// Every writer of the table holds this until its transaction ends, so they apply in commit
/// order and each reads what the ones before it committed.
async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('fleet_fuel_department_spellings'))")
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Recomputes every spelling's department; returns the rows that changed.
pub async fn refresh(conn: &mut PgConnection) -> Result<u64, sqlx::Error> {
    lock(conn).await?;
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
            json!({"spelling": d.spelling, "words": departments::words_of(&d.spelling), "records": d.records,
                   "canonical": d.canonical, "decided_by": d.decided_by.as_str(), "suggestion": d.suggestion,
                   "reason": d.reason})
        })
        .collect();
    let changed: i64 = sqlx::query_scalar(
        "WITH d AS (
             SELECT * FROM jsonb_to_recordset($1) AS d(spelling text, words text, records integer, canonical text,
                                                     decided_by text, suggestion text, reason text)
         ), gone AS (
             DELETE FROM fuel.department_spellings t WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.spelling = t.spelling)
             RETURNING 1
         ), put AS (
             INSERT INTO fuel.department_spellings AS t (spelling, words, records, canonical, decided_by, suggestion, reason, refreshed_at)
             SELECT d.spelling, d.words, d.records, d.canonical, d.decided_by, d.suggestion, d.reason, now() FROM d
             ORDER BY d.spelling
             ON CONFLICT (spelling) DO UPDATE
                SET words = excluded.words, records = excluded.records, canonical = excluded.canonical,
                    decided_by = excluded.decided_by, suggestion = excluded.suggestion, reason = excluded.reason,
                    refreshed_at = now()
              WHERE (t.words, t.records, t.canonical, t.decided_by, t.suggestion, t.reason)
                    IS DISTINCT FROM (excluded.words, excluded.records, excluded.canonical, excluded.decided_by,
                                      excluded.suggestion, excluded.reason)
             RETURNING 1
         )
         SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM put)",
    )
    .bind(serde_json::Value::Array(rows))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(changed).unwrap_or(0))
}
