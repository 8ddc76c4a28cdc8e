//! Observed speed bands (issue 18 step 4): per road segment, direction, EAT day of week and
//! hour, and over all hours, the traversal speeds the map matcher observed
//! (`geo.segment_observations`, written by [`crate::matching::project`]) as samples, mean,
//! median and 85th percentile in `geo.segment_speed_band`. The matcher marks the segment
//! directions whose traversals changed in `geo.band_dirty` and runs [`refresh_bands`] every
//! 30 s and [`mark_stale_bands`] daily. Routing reads `geo.observed_speed` (`sql/geo/`): a band
//! with at least `band_min_samples` traversals, else the all-hours figure.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Marks for a refresh the segment directions whose bands are over a day old as of `now`, so
/// traversals leaving the band window leave the bands (a scan of the bands: the matcher runs it
/// once a day). Returns how many were marked.
pub async fn mark_stale_bands(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO geo.band_dirty (segment_id, forward)
         SELECT segment_id, forward FROM geo.segment_speed_band
          WHERE dow = -1 AND refreshed_at < $1 - interval '1 day'
          ORDER BY 1, 2
         ON CONFLICT DO NOTHING",
    )
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Recomputes the speed bands of up to `limit` segment directions marked in `geo.band_dirty`,
/// as of `now`. Returns the segment directions recomputed.
pub async fn refresh_bands(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let keys: Vec<(i64, bool)> = sqlx::query_as(
        "DELETE FROM geo.band_dirty d
          WHERE (d.segment_id, d.forward) IN (SELECT segment_id, forward FROM geo.band_dirty
                                               ORDER BY 1, 2 LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING d.segment_id, d.forward",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    if keys.is_empty() {
        return Ok(0);
    }
    let (seg, fwd): (Vec<i64>, Vec<bool>) = keys.iter().copied().unzip();
    sqlx::query(
        "DELETE FROM geo.segment_speed_band b USING unnest($1::int8[], $2::bool[]) AS k(segment_id, forward)
          WHERE b.segment_id = k.segment_id AND b.forward = k.forward",
    )
    .bind(&seg)
    .bind(&fwd)
    .execute(&mut *tx)
    .await?;
    sqlx::query(include_str!("sql/bands_refresh.sql"))
        .bind(&seg)
        .bind(&fwd)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(keys.len())
}
