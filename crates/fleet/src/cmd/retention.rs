//! `fleet retention`: how long each time-partitioned table keeps its rows. Retention is a row per
//! table in `ops.partitioned_tables`, applied by the partition job (cron, daily, and after every
//! migration), which drops whole partitions past it (`events.raw` is never deleted from row by
//! row). `fleet retention` lists the tables and applies retention now; `--dry-run` only says what
//! would be dropped; `fleet retention set TABLE 90d|keep` changes a table's row.

use anyhow::{Result, bail};
use fleet_core::Config;
use fleet_store::sqlx::{self, PgPool};

use super::with_current_db;

#[derive(clap::Args)]
pub struct RetentionArgs {
    #[command(subcommand)]
    action: Option<RetentionAction>,
    /// Say what retention would drop now (partition, end, size), and drop nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(clap::Subcommand)]
enum RetentionAction {
    /// Set TABLE's retention: days, weeks, months or years (`90d`, `26w`, `13mo`, `2y`), or `keep`
    /// (never dropped). Applied by the next partition maintenance (or `fleet retention`).
    Set { table: String, retention: String },
}

pub async fn run(config: Config, args: RetentionArgs) -> Result<()> {
    match args.action {
        Some(RetentionAction::Set { table, retention }) => {
            let interval = parse_retention(&retention)?;
            with_current_db(
                &config,
                |pool| async move { set(&pool, &table, interval).await },
            )
            .await
        }
        None => {
            with_current_db(
                &config,
                |pool| async move { show(&pool, args.dry_run).await },
            )
            .await
        }
    }
}

/// `90d`, `90 days`, `26w`, `13mo`, `13 months`, `2y` as a Postgres interval; `keep` (or
/// `forever`) as none.
pub fn parse_retention(text: &str) -> Result<Option<String>> {
    let t = text.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "keep" | "forever" | "none") {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u32 = number.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        anyhow::anyhow!(
            "retention {text:?} is not a number of days, weeks, months or years: write e.g. 90d, 26w, 13mo, 2y, or keep"
        )
    })?;
    let unit = match unit.trim() {
        "d" | "day" | "days" => "days",
        "w" | "week" | "weeks" => "weeks",
        "mo" | "mon" | "month" | "months" => "months",
        "y" | "yr" | "year" | "years" => "years",
        "" => bail!("retention {text:?} has no unit: write {n}d, {n}w, {n}mo or {n}y"),
        other => bail!(
            "retention {text:?}: {other:?} is not a unit; use d (days), w (weeks), mo (months) or y (years)"
        ),
    };
    Ok(Some(format!("{n} {unit}")))
}

async fn set(pool: &PgPool, table: &str, interval: Option<String>) -> Result<()> {
    let known: Vec<String> =
        sqlx::query_scalar("SELECT parent::text FROM ops.partitioned_tables ORDER BY 1")
            .fetch_all(pool)
            .await?;
    if !known.iter().any(|k| k == table) {
        bail!(
            "{table:?} is not a time-partitioned table; retention applies to: {}",
            known.join(", ")
        );
    }
    sqlx::query(
        "UPDATE ops.partitioned_tables SET retention = $2::interval WHERE parent::text = $1",
    )
    .bind(table)
    .bind(&interval)
    .execute(pool)
    .await?;
    tracing::info!(
        table,
        retention = interval.as_deref().unwrap_or("keep"),
        "retention set"
    );
    println!(
        "{table}: {}; `fleet retention --dry-run` shows what that drops, the daily partition job (or `fleet retention`) drops it",
        interval.map_or("kept forever".to_string(), |i| format!("rows kept {i}"))
    );
    Ok(())
}

/// A table: (parent, granularity, retention, partitions, bytes).
type Table = (String, String, Option<String>, i64, i64);
/// A partition past retention: (parent, partition, rows up to, bytes).
type Expired = (String, String, chrono::DateTime<chrono::Utc>, i64);

async fn show(pool: &PgPool, dry_run: bool) -> Result<()> {
    let tables: Vec<Table> = sqlx::query_as(
        "SELECT t.parent::text AS parent, t.granularity, t.retention::text AS retention,
                count(i.inhrelid) AS partitions,
                coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint AS bytes
           FROM ops.partitioned_tables t
           LEFT JOIN pg_inherits i ON i.inhparent = t.parent
          GROUP BY 1, 2, 3
          ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let expired: Vec<Expired> = sqlx::query_as(
        "SELECT parent_table, partition_table, upper_bound, bytes FROM ops.expired_partitions()",
    )
    .fetch_all(pool)
    .await?;
    println!(
        "{:<30} {:<6} {:<12} {:>10} {:>10}  past retention",
        "table", "by", "retention", "partitions", "size"
    );
    for (parent, granularity, retention, partitions, bytes) in &tables {
        let past: Vec<&Expired> = expired.iter().filter(|e| e.0 == *parent).collect();
        let past_bytes: i64 = past.iter().map(|e| e.3).sum();
        println!(
            "{:<30} {:<6} {:<12} {:>10} {:>10}  {}",
            parent,
            granularity,
            retention.as_deref().unwrap_or("keep"),
            partitions,
            size(*bytes),
            if past.is_empty() {
                "-".to_string()
            } else {
                format!("{} partition(s), {}", past.len(), size(past_bytes))
            }
        );
    }
    if dry_run {
        if expired.is_empty() {
            println!("dry run: nothing is past its retention; nothing would be dropped");
        } else {
            println!("dry run: these would be dropped (nothing was):");
            for (_, partition, upper, bytes) in &expired {
                println!(
                    "  {partition}  (rows up to {}, {})",
                    upper.format("%Y-%m-%d %H:%M UTC"),
                    size(*bytes)
                );
            }
        }
        return Ok(());
    }
    let done: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT parent_table, partition_table, action FROM ops.maintain_partitions()",
    )
    .fetch_all(pool)
    .await?;
    let dropped: Vec<&(String, String, String)> =
        done.iter().filter(|(_, _, a)| a == "dropped").collect();
    if dropped.is_empty() {
        println!("retention applied: nothing was past it");
    } else {
        println!("retention applied: dropped {} partition(s):", dropped.len());
        for (_, part, _) in dropped {
            println!("  {part}");
        }
    }
    Ok(())
}

fn size(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_retention;

    #[test]
    fn retention_is_written_as_a_number_and_a_unit_or_keep() {
        for (text, want) in [
            ("90d", Some("90 days")),
            ("90 days", Some("90 days")),
            ("26W", Some("26 weeks")),
            ("13mo", Some("13 months")),
            ("2y", Some("2 years")),
            ("keep", None),
            (" Forever ", None),
        ] {
            assert_eq!(
                parse_retention(text).expect(text).as_deref(),
                want,
                "{text}"
            );
        }
        for (bad, says) in [
            ("90", "no unit"),
            ("90m", "not a unit"),
            ("0d", "not a number"),
            ("d90", "not a number"),
            ("-5d", "not a number"),
        ] {
            let e = parse_retention(bad).expect_err(bad).to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
