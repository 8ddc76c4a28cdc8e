//! Replay: re-parse raw rows, and rebuild state tables from the parsed log (ARCHITECTURE §1 rule 1).
//!
//! - [`reparse`] re-queues the raw rows of a time range (optionally only those last parsed by a
//!   given parser version) and drains them through the current parser and the projectors. Parsed
//!   rows are versioned, so a re-parse under a new version adds rows rather than rewriting old ones.
//! - [`rebuild`] empties one state table and re-projects it from `events.parsed`, using for each
//!   raw row the output of the parser version that last processed it, in arrival order. It runs in
//!   one transaction: readers see the old table until the new one is complete, and live projection
//!   into that table waits for the rebuild (TRUNCATE's lock) instead of interleaving with it.
//!   A rebuild of `fuel.records` or `fuel.mappings` ends by deciding the department spellings
//!   again, so a changed grouping rule applies to old rows.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Acquire, PgPool};

use crate::{project, worker};

/// Events per rebuild batch: rows are unpacked one by one on the server, so a batch costs no
/// memory to speak of; larger batches mean fewer boundary lookups.
pub const BATCH: i64 = 50_000;

/// Progress reports: (events done, total when known, rate in events/s).
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>, f64);

/// Re-queues and re-parses raw rows received in `[from, to)`. Returns raw rows processed.
pub async fn reparse(
    pool: &PgPool,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    only_version: Option<i32>,
    progress: Progress<'_>,
) -> Result<u64, sqlx::Error> {
    let queued = sqlx::query(
        "UPDATE events.raw SET parsed_at = NULL
          WHERE verified AND parsed_at IS NOT NULL
            AND ($1::timestamptz IS NULL OR received_at >= $1)
            AND ($2::timestamptz IS NULL OR received_at < $2)
            AND ($3::int IS NULL OR parser_version = $3)",
    )
    .bind(from)
    .bind(to)
    .bind(only_version)
    .execute(pool)
    .await?
    .rows_affected();
    let started = Instant::now();
    let mut done = 0u64;
    loop {
        let n = worker::drain_once(pool, worker::BATCH).await? as u64;
        if n == 0 {
            break;
        }
        done += n;
        progress(
            done,
            Some(queued.max(done)),
            done as f64 / started.elapsed().as_secs_f64().max(1e-6),
        );
    }
    Ok(done)
}

/// The fields the live path adds to every parsed body (`project::Stamped`), and where replay
/// reads them: the parsed row and its raw row.
const STAMPS: [(&str, &str); 3] = [
    ("raw_id", "p.raw_id"),
    ("received_at", "p.raw_received_at"),
    ("source", "r.source"),
];

/// A projector statement with its batch read in place from the parsed log: `jsonb_to_recordset($1::jsonb)
/// AS x(<columns>)` becomes a subquery over `events.parsed` of `kind` (the parser version that last
/// processed each raw row) that yields the same columns, the body's fields by `jsonb_to_record`
/// and the stamped ones straight from the rows, so no JSON is built per event. Keys in
/// ($1,$2,$3) < key <= ($4,$5,$6). `None` if the statement does not read its batch the one way.
pub fn replay_statement(sql: &str, kind: &str) -> Option<String> {
    from_parsed_log(
        sql,
        kind,
        "p.parser_version = r.parser_version
    AND ($1::timestamptz IS NULL OR (p.raw_received_at, p.raw_id, p.item_index) > ($1::timestamptz, $2::bigint, $3::int))
    AND ($4::timestamptz IS NULL OR (p.raw_received_at, p.raw_id, p.item_index) <= ($4::timestamptz, $5::bigint, $6::int))",
    )
}

/// The same for the live path (`project::Projector::from_log`): the batch is the events the
/// worker has just parsed from raw rows (`$1` received_at[], `$2` id[]) under parser version `$3`,
/// read back from `events.parsed` in its transaction rather than sent again as JSON.
pub fn live_statement(sql: &str, kind: &str) -> Option<String> {
    from_parsed_log(
        sql,
        kind,
        "p.parser_version = $3
    AND (p.raw_received_at, p.raw_id) IN (SELECT * FROM unnest($1::timestamptz[], $2::bigint[]))",
    )
}

fn from_parsed_log(sql: &str, kind: &str, filter: &str) -> Option<String> {
    let start = sql.find(project::INPUT)?;
    let list_start = start + project::INPUT.len();
    // the column list: split at top-level commas, ended by the unmatched `)`
    let mut columns = Vec::new();
    let (mut depth, mut from, mut list_end) = (0, list_start, None);
    for (i, c) in sql[list_start..].char_indices() {
        let at = list_start + i;
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                columns.push(sql[from..at].trim());
                list_end = Some(at);
                break;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                columns.push(sql[from..at].trim());
                from = at + 1;
            }
            _ => {}
        }
    }
    let list_end = list_end?;
    let mut select = Vec::new();
    let mut body = Vec::new();
    for col in columns {
        let name = col.split_whitespace().next()?;
        match STAMPS.iter().find(|(n, _)| *n == name) {
            Some((n, from)) => select.push(format!("{from} AS {n}")),
            None => {
                select.push(format!("j.{name}"));
                body.push(col);
            }
        }
    }
    let unpack = if body.is_empty() {
        String::new()
    } else {
        format!(
            " CROSS JOIN LATERAL jsonb_to_record(p.body) AS j({})",
            body.join(", ")
        )
    };
    let input = format!(
        "(SELECT {select}
   FROM events.parsed p
   JOIN events.raw r ON r.id = p.raw_id AND r.received_at = p.raw_received_at{unpack}
  WHERE p.kind = '{kind}' AND {filter}) AS x",
        select = select.join(", ")
    );
    Some(format!("{}{input}{}", &sql[..start], &sql[list_end + 1..]))
}

/// Empties `table` and re-projects it from the parsed log. Returns events replayed.
pub async fn rebuild(
    pool: &PgPool,
    table: &str,
    batch: i64,
    progress: Progress<'_>,
) -> Result<u64, RebuildError> {
    let kinds: Vec<&str> = project::PROJECTORS
        .iter()
        .filter(|p| p.table == table)
        .map(|p| p.kind)
        .collect();
    if kinds.is_empty() || !project::tables().contains(&table) {
        return Err(RebuildError::UnknownTable(
            table.to_string(),
            project::tables().join(", "),
        ));
    }
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    // The table name comes from the fixed projector list, never from the caller verbatim.
    let target = project::tables()
        .into_iter()
        .find(|t| *t == table)
        .unwrap_or_default();
    sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {target}")))
        .execute(&mut *tx)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events.parsed p JOIN events.raw r ON r.id = p.raw_id AND r.received_at = p.raw_received_at
          WHERE p.kind = ANY($1) AND p.parser_version = r.parser_version",
    )
    .bind(&kinds)
    .fetch_one(&mut *tx)
    .await?;
    let started = Instant::now();
    let mut done = 0u64;
    let mut after: Option<(DateTime<Utc>, i64, i32)> = None;
    // The batch never leaves the server: each projector statement reads its input from a
    // subquery over events.parsed in place of the JSON parameter the live path binds.
    let statements: Vec<String> = project::PROJECTORS
        .iter()
        .filter(|p| p.table == table)
        .map(|p| {
            replay_statement(p.sql, p.kind)
                .ok_or_else(|| RebuildError::Statement(p.table.to_string(), p.kind.to_string()))
        })
        .collect::<Result<_, _>>()?;
    // the batch's sort (natural-key order) stays in memory
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut *tx)
        .await?;
    loop {
        // The last key of the next batch (keyset pagination in arrival order).
        let upper: Option<(DateTime<Utc>, i64, i32)> = sqlx::query_as(
            "SELECT p.raw_received_at, p.raw_id, p.item_index
               FROM events.parsed p
               JOIN events.raw r ON r.id = p.raw_id AND r.received_at = p.raw_received_at
              WHERE p.kind = ANY($1) AND p.parser_version = r.parser_version
                AND ($2::timestamptz IS NULL OR (p.raw_received_at, p.raw_id, p.item_index) > ($2, $3, $4))
              ORDER BY p.raw_received_at, p.raw_id, p.item_index
              OFFSET $5 LIMIT 1",
        )
        .bind(&kinds)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(after.map(|a| a.2))
        .bind(batch - 1)
        .fetch_optional(&mut *tx)
        .await?;
        let (hi_t, hi_id, hi_i) =
            upper.map_or((None, None, None), |u| (Some(u.0), Some(u.1), Some(u.2)));
        for sql in &statements {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(after.map(|a| a.0))
                .bind(after.map(|a| a.1))
                .bind(after.map(|a| a.2))
                .bind(hi_t)
                .bind(hi_id)
                .bind(hi_i)
                .execute(&mut *tx)
                .await?;
        }
        // A full batch ends at `upper`; the last, partial one holds whatever was left of the
        // total counted at the start (same transaction, so the same rows).
        done = if upper.is_some() {
            done + batch as u64
        } else {
            total as u64
        };
        progress(
            done,
            Some(total as u64),
            done as f64 / started.elapsed().as_secs_f64().max(1e-6),
        );
        match upper {
            Some(u) => after = Some(u),
            None => break,
        }
    }
    // The department spellings are a rule over all records and mappings: decided again from
    // the rebuilt table, in the same transaction.
    if ["fuel.records", "fuel.mappings"].contains(&target) {
        project::departments::refresh(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(done)
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("{0:?} is not a projected state table; choose one of: {1}")]
    UnknownTable(String, String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the projector of {0} for {1} does not read its batch as `{INPUT}`, so it cannot be replayed", INPUT = project::INPUT)]
    Statement(String, String),
}

/// A progress printer: a redrawn line on a terminal, a log line every few seconds otherwise;
/// `unit` names what is counted ("events", "records").
pub fn printer(
    label: &'static str,
    unit: &'static str,
) -> impl FnMut(u64, Option<u64>, f64) + Send {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let mut last = Instant::now() - Duration::from_secs(60);
    move |done, total, rate| {
        let every = if tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        let finished = total.is_some_and(|t| done >= t);
        if last.elapsed() < every && !finished {
            return;
        }
        last = Instant::now();
        let of = total.map(|t| format!("/{t}")).unwrap_or_default();
        let pct = total
            .filter(|t| *t > 0)
            .map(|t| format!(" {:5.1}%", done as f64 * 100.0 / t as f64))
            .unwrap_or_default();
        if tty {
            let width = 30usize;
            let filled = total
                .filter(|t| *t > 0)
                .map(|t| (done as usize * width / t as usize).min(width))
                .unwrap_or(0);
            eprint!(
                "\r{label} [{}{}]{pct} {done}{of} {unit}, {rate:.0} {unit}/s   ",
                "#".repeat(filled),
                "-".repeat(width - filled)
            );
            if finished {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        } else {
            tracing::info!(done, total, rate = rate.round(), "{label}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projector_reads_its_replay_batch_in_place_with_the_same_columns() {
        for p in project::PROJECTORS {
            let sql = replay_statement(p.sql, p.kind)
                .unwrap_or_else(|| panic!("{} ({}) cannot be replayed", p.table, p.kind));
            assert!(
                !sql.contains("$1::jsonb"),
                "{}: still binds a batch",
                p.table
            );
            assert!(sql.contains(&format!("p.kind = '{}'", p.kind)));
            // every column the live batch declares is selected by name
            let list = &p.sql[p.sql.find(project::INPUT).unwrap_or(0) + project::INPUT.len()..];
            for col in list.split(')').next().unwrap_or("").split(',') {
                let name = col.split_whitespace().next().unwrap_or("");
                assert!(
                    sql.contains(&format!("j.{name}")) || sql.contains(&format!(" AS {name}")),
                    "{}: column {name} missing",
                    p.table
                );
            }
        }
        let odd = "SELECT 1 FROM jsonb_to_recordset($1::jsonb) AS x(a numeric(10,2), raw_id bigint) WHERE true";
        assert_eq!(
            replay_statement(odd, "k")
                .map(|s| s.contains("j(a numeric(10,2))") && s.ends_with(" AS x WHERE true")),
            Some(true)
        );
    }
}
