//! The matching projector (issue 18 steps 3–4; ARCHITECTURE §1 rules 5 and 10): the worker
//! map-matches every device's fixes, asynchronously, into `geo.segment_observations` (whole
//! traversals of a segment, entry and exit times interpolated along the matched path) and
//! `geo.matched_tracks` (the matched path, which history draws for `?track=matched`), and keeps
//! `geo.segment_speed_band` from the observations.
//!
//! - **The unit of work is a device's 5-minute bucket** (`geo.match_bucket`), matched together
//!   with the fix before it (its lead-in, if within the matcher's gap limit) so that consecutive
//!   buckets join up. A bucket is matched once closed, `match_settle_sec` (slo.targets) after it
//!   ends; a fix arriving later queues it again and it is matched again. What a bucket writes
//!   depends only on its fixes and its lead-in, so matching bucket by bucket as fixes arrive and
//!   matching everything again in a replay write the same rows.
//! - **Gap-safe by row state.** The positions projector upserts (device, bucket) into
//!   `geo.match_queue` in the batch's own transaction, and also the next bucket, whose lead-in a
//!   late fix may change. The upsert touches the row (`DO UPDATE`), so it waits for a matcher
//!   holding the row and the matcher skips a row an ingest transaction holds: a queue row is
//!   only ever deleted by a matcher that read every fix committed with it. A pass claims closed
//!   rows `FOR UPDATE SKIP LOCKED`, takes a transaction advisory lock per device (two workers
//!   never match one device at once), reads the fixes, matches, replaces exactly the rows those
//!   buckets wrote before, and deletes its queue rows, in one transaction.
//! - **Ownership.** A bucket's observations are the segments wholly driven between its lead-in
//!   and its last fix. The first and last edge of a matched path are partial: a neighbouring
//!   bucket, whose window covers them, owns them, so no traversal is written twice.
//! - **Falling behind is allowed.** Ingest waits for the matcher only on a late fix for a bucket
//!   being matched at that moment; the matcher's lag is the SLO `match_lag_sec`. Without a road
//!   graph it matches nothing and the queue waits (the lag SLO says so).
//! - **Bands** ([`crate::speeds`]): the matcher marks the segment directions it changed in
//!   `geo.band_dirty`; the refresh recomputes their bands per EAT day of week and hour (and
//!   all hours) from the plausible traversals of the band window. Once a day, bands older than a
//!   day are marked again ([`crate::speeds::mark_stale_bands`]), so traversals leaving the window leave them too.
//! - The graph is `geo.ways` in memory, reloaded when the table changes (a load swaps in a new
//!   table; an edit by SQL changes its row count or statistics).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Fix, MatchGraph, Matcher, Params};
use crate::Point;

/// Buckets claimed per transaction.
pub const BUCKETS_PER_PASS: i64 = 500;

/// Segment directions whose bands one refresh transaction recomputes.
const BANDS_PER_PASS: i64 = 2_000;

/// The matcher's graph and parameters, kept across passes.
pub struct State {
    graph: Arc<MatchGraph>,
    signature: Option<(i64, i64, i64)>,
    params: Params,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pass {
    pub buckets: usize,
    pub fixes: usize,
    pub observations: usize,
    /// Seconds spent in the matcher itself.
    pub matching_s: f64,
}

impl State {
    pub fn new(params: Params) -> Self {
        Self {
            graph: Arc::new(MatchGraph::new(&[])),
            signature: None,
            params,
        }
    }

    /// The graph matched against.
    pub fn graph(&self) -> &MatchGraph {
        &self.graph
    }

    /// Reloads the graph if `geo.ways` changed since it was read; returns whether it has roads.
    pub async fn refresh_graph(&mut self, pool: &PgPool) -> Result<bool, sqlx::Error> {
        let sig: (i64, i64, i64) = sqlx::query_as(
            "SELECT c.oid::int8, (SELECT count(*) FROM geo.ways),
                    coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0)
               FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
              WHERE c.oid = 'geo.ways'::regclass",
        )
        .fetch_one(pool)
        .await?;
        if self.signature != Some(sig) {
            let started = Instant::now();
            self.graph = Arc::new(super::load(pool).await?);
            self.signature = Some(sig);
            tracing::info!(
                edges = self.graph.edges.len(),
                seconds = started.elapsed().as_secs_f64(),
                "map matcher: road graph loaded"
            );
        }
        Ok(!self.graph.is_empty())
    }
}

/// Epoch seconds (the matcher's clock) of a time.
fn secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}

/// One matched bucket, ready to write.
#[derive(Default)]
struct Out {
    obs_imei: Vec<String>,
    obs_segment: Vec<i64>,
    obs_forward: Vec<bool>,
    obs_entered: Vec<f64>,
    obs_left: Vec<f64>,
    obs_length: Vec<f64>,
    obs_bucket: Vec<DateTime<Utc>>,
    track_imei: Vec<String>,
    track_bucket: Vec<DateTime<Utc>>,
    track_started: Vec<DateTime<Utc>>,
    track_ended: Vec<DateTime<Utc>>,
    track_fixes: Vec<i32>,
    track_matched: Vec<i32>,
    track_breaks: Vec<i32>,
    track_wkt: Vec<Option<String>>,
}

/// Matches the closed buckets waiting as of `now`, at most `limit`, in one transaction.
pub async fn pass(
    pool: &PgPool,
    st: &State,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Pass, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let claimed: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT q.imei, q.bucket FROM geo.match_queue q
          WHERE q.bucket + geo.match_bucket_width()
                + make_interval(secs => coalesce((SELECT threshold FROM slo.targets WHERE metric = 'match_settle_sec'), 30)) <= $1
          ORDER BY q.bucket, q.imei
          LIMIT $2
            FOR UPDATE OF q SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        return Ok(Pass::default());
    }
    let devices: Vec<&str> = {
        let mut seen = HashSet::new();
        claimed
            .iter()
            .map(|c| c.0.as_str())
            .filter(|d| seen.insert(*d))
            .collect()
    };
    // another worker matching one of these devices keeps it (its rows wait for the next pass)
    let mine: HashSet<String> = sqlx::query_scalar(
        "SELECT d FROM unnest($1::text[]) AS d WHERE pg_try_advisory_xact_lock(hashtextextended('geo.match:' || d, 0))",
    )
    .bind(&devices)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let (imeis, buckets): (Vec<String>, Vec<DateTime<Utc>>) =
        claimed.into_iter().filter(|c| mine.contains(&c.0)).unzip();
    let lead_s = st.params.max_gap_s;
    let rows: Vec<(i64, DateTime<Utc>, f64, f64)> = sqlx::query_as(
        "SELECT c.k, h.fix_time, h.lat, h.lng
           FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS c(imei, bucket, k)
          CROSS JOIN LATERAL (
                (SELECT p.fix_time, p.lat, p.lng FROM state.position_history p
                  WHERE p.imei = c.imei AND p.fix_time < c.bucket AND p.fix_time >= c.bucket - make_interval(secs => $3)
                  ORDER BY p.fix_time DESC LIMIT 1)
                UNION ALL
                (SELECT p.fix_time, p.lat, p.lng FROM state.position_history p
                  WHERE p.imei = c.imei AND p.fix_time >= c.bucket AND p.fix_time < c.bucket + geo.match_bucket_width()
                  ORDER BY p.fix_time)) h
          ORDER BY c.k, h.fix_time",
    )
    .bind(&imeis)
    .bind(&buckets)
    .bind(lead_s)
    .fetch_all(&mut *tx)
    .await?;

    let started = Instant::now();
    let mut out = Out::default();
    let mut matcher = Matcher::new(&st.graph, st.params);
    let mut done = Pass {
        buckets: imeis.len(),
        ..Pass::default()
    };
    let mut at = 0;
    for (k, (imei, bucket)) in imeis.iter().zip(&buckets).enumerate() {
        let mut fixes: Vec<Fix> = Vec::new();
        let mut times: Vec<DateTime<Utc>> = Vec::new();
        while at < rows.len() && rows[at].0 == k as i64 + 1 {
            let (_, t, lat, lng) = rows[at];
            fixes.push(Fix {
                time: secs(t),
                at: Point { lat, lng },
            });
            times.push(t);
            at += 1;
        }
        let own = times.iter().filter(|t| *t >= bucket).count();
        done.fixes += own;
        bucket_rows(
            &st.graph,
            &mut matcher,
            imei,
            *bucket,
            &fixes,
            &times,
            own,
            &mut out,
        );
    }
    done.matching_s = started.elapsed().as_secs_f64();
    done.observations = out.obs_imei.len();
    write(&mut tx, &imeis, &buckets, lead_s, &out).await?;
    tx.commit().await?;
    Ok(done)
}

/// Matches one bucket's fixes (its lead-in first, if any) into `out`.
#[allow(clippy::too_many_arguments)]
fn bucket_rows(
    g: &MatchGraph,
    matcher: &mut Matcher<'_>,
    imei: &str,
    bucket: DateTime<Utc>,
    fixes: &[Fix],
    times: &[DateTime<Utc>],
    own: usize,
    out: &mut Out,
) {
    let m = if g.is_empty() || fixes.is_empty() {
        super::Matched::default()
    } else {
        matcher.match_trace(fixes)
    };
    let lead = fixes.len() - own;
    let mut lines: Vec<String> = Vec::new();
    for seg in &m.segments {
        let mut pts: Vec<Point> = Vec::new();
        for p in seg {
            let e = &g.edges[p.edge as usize];
            let len = e.length_m;
            // whole traversals only: the ends of a path are partial (see the module docs)
            if p.from_m <= 0.01
                && p.driven_m >= len - 0.01
                && len > 0.0
                && p.left - p.entered > 0.05
            {
                out.obs_imei.push(imei.to_string());
                out.obs_segment.push(p.gid);
                out.obs_forward.push(p.forward);
                out.obs_entered.push(p.entered);
                out.obs_left.push(p.left);
                out.obs_length.push(len);
                out.obs_bucket.push(bucket);
            }
            let (a, b) = (p.from_m, p.from_m + p.driven_m);
            let (from, to) = if e.forward {
                (a, b)
            } else {
                (len - a, len - b)
            };
            g.polyline(e.way, from, to, &mut pts);
        }
        if pts.len() >= 2 {
            lines.push(format!(
                "({})",
                pts.iter()
                    .map(|p| format!("{:.7} {:.7}", p.lng, p.lat))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
    }
    // a bucket queued only as the one after a fix, with none of its own, has no track
    if own == 0 {
        return;
    }
    out.track_imei.push(imei.to_string());
    out.track_bucket.push(bucket);
    out.track_started
        .push(times.first().copied().unwrap_or(bucket));
    out.track_ended
        .push(times.last().copied().unwrap_or(bucket));
    out.track_fixes.push(own as i32);
    out.track_matched
        .push(m.fixes.iter().filter(|f| f.i >= lead).count() as i32);
    out.track_breaks.push(m.breaks.len() as i32);
    out.track_wkt
        .push((!lines.is_empty()).then(|| format!("MULTILINESTRING({})", lines.join(","))));
}

/// Replaces what the buckets wrote before with `out`, marks the segment directions whose
/// observations changed, and deletes the buckets' queue rows.
async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    imeis: &[String],
    buckets: &[DateTime<Utc>],
    lead_s: f64,
    out: &Out,
) -> Result<(), sqlx::Error> {
    let gone: Vec<(i64, bool)> = sqlx::query_as(
        "DELETE FROM geo.segment_observations o USING unnest($1::text[], $2::timestamptz[]) AS c(imei, bucket)
          WHERE o.imei = c.imei AND o.bucket = c.bucket
            AND o.entered_at >= c.bucket - make_interval(secs => $3) AND o.entered_at < c.bucket + geo.match_bucket_width()
         RETURNING o.segment_id, o.forward",
    )
    .bind(imeis)
    .bind(buckets)
    .bind(lead_s)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query(include_str!("sql/observations_insert.sql"))
        .bind(&out.obs_imei)
        .bind(&out.obs_segment)
        .bind(&out.obs_forward)
        .bind(&out.obs_entered)
        .bind(&out.obs_left)
        .bind(&out.obs_length)
        .bind(&out.obs_bucket)
        .execute(&mut **tx)
        .await?;
    let (mut seg, mut fwd): (Vec<i64>, Vec<bool>) = gone.into_iter().unzip();
    seg.extend(&out.obs_segment);
    fwd.extend(&out.obs_forward);
    sqlx::query(
        "INSERT INTO geo.band_dirty (segment_id, forward)
         SELECT DISTINCT s, f FROM unnest($1::int8[], $2::bool[]) AS x(s, f) ORDER BY 1, 2
         ON CONFLICT DO NOTHING",
    )
    .bind(&seg)
    .bind(&fwd)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM geo.matched_tracks t USING unnest($1::text[], $2::timestamptz[]) AS c(imei, bucket)
          WHERE t.imei = c.imei AND t.bucket = c.bucket",
    )
    .bind(imeis)
    .bind(buckets)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO geo.matched_tracks (imei, bucket, started_at, ended_at, fixes, matched, breaks, geom)
         SELECT imei, bucket, started_at, ended_at, fixes, matched, breaks, ST_GeomFromText(wkt, 4326)
           FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::int4[],
                       $6::int4[], $7::int4[], $8::text[])
                AS x(imei, bucket, started_at, ended_at, fixes, matched, breaks, wkt)",
    )
    .bind(&out.track_imei)
    .bind(&out.track_bucket)
    .bind(&out.track_started)
    .bind(&out.track_ended)
    .bind(&out.track_fixes)
    .bind(&out.track_matched)
    .bind(&out.track_breaks)
    .bind(&out.track_wkt)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM geo.match_queue q USING unnest($1::text[], $2::timestamptz[]) AS c(imei, bucket)
          WHERE q.imei = c.imei AND q.bucket = c.bucket",
    )
    .bind(imeis)
    .bind(buckets)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Empties everything the matcher wrote and queues every bucket of `state.position_history`
/// again, in one transaction: the worker then matches them all as for the first time (`fleet
/// replay --rebuild matching`). Returns the buckets queued.
pub async fn rematch_all(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(
        "TRUNCATE geo.segment_observations, geo.matched_tracks, geo.band_dirty, geo.segment_speed_band, geo.match_queue",
    )
    .execute(&mut *tx)
    .await?;
    let n = sqlx::query(
        "INSERT INTO geo.match_queue (imei, bucket)
         SELECT DISTINCT imei, geo.match_bucket(fix_time) FROM state.position_history ORDER BY 1, 2",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// What the matcher has waiting as of `now`: queue rows, and the lag of the oldest closed one
/// (seconds since it closed or was queued again, 0 when none waits).
pub async fn backlog(pool: &PgPool, now: DateTime<Utc>) -> Result<(i64, f64), sqlx::Error> {
    sqlx::query_as(include_str!("sql/backlog.sql"))
        .bind(now)
        .fetch_one(pool)
        .await
}

/// Every this often the graph is checked for a reload and the bands are refreshed.
const HOUSEKEEPING: Duration = Duration::from_secs(30);

/// How often bands not refreshed for a day are marked for a refresh.
const STALE_BANDS: Duration = Duration::from_secs(86_400);

/// How often the queue is looked at when it is empty: buckets close by the clock.
const TICK: Duration = Duration::from_secs(2);

/// Runs the matcher until `shutdown`: passes while closed buckets wait, the band refresh and
/// a graph check every [`HOUSEKEEPING`]. Its state goes to `live`'s `matcher` fact; an error
/// is logged and retried (the matcher never stops the worker).
pub async fn run(
    pool: PgPool,
    live: Arc<fleet_core::health::Liveness>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut st = State::new(Params::default());
    let mut roads = false;
    let mut housekeeping: Option<Instant> = None;
    let mut stale_marked: Option<Instant> = None;
    let mut warned = false;
    while !shutdown.is_cancelled() {
        if housekeeping.is_none_or(|t| t.elapsed() >= HOUSEKEEPING) {
            housekeeping = Some(Instant::now());
            match st.refresh_graph(&pool).await {
                Ok(r) => roads = r,
                Err(e) => tracing::warn!(error = %e, "map matcher: reading geo.ways"),
            }
            if !roads && !warned {
                tracing::warn!(
                    "map matcher: geo.ways is empty, nothing is matched until a road graph is loaded (fleet import osm FILE)"
                );
            }
            warned = !roads;
            if stale_marked.is_none_or(|t| t.elapsed() >= STALE_BANDS) {
                stale_marked = Some(Instant::now());
                if let Err(e) = crate::speeds::mark_stale_bands(&pool, Utc::now()).await {
                    tracing::warn!(error = %e, "map matcher: marking stale speed bands");
                }
            }
            loop {
                match crate::speeds::refresh_bands(&pool, Utc::now(), BANDS_PER_PASS).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "map matcher: refreshing speed bands");
                        break;
                    }
                }
            }
        }
        let mut busy = false;
        if roads {
            match pass(&pool, &st, Utc::now(), BUCKETS_PER_PASS).await {
                Ok(p) => {
                    busy = p.buckets > 0;
                    if busy {
                        ::metrics::counter!(fleet_core::metrics::MATCH_FIXES_TOTAL)
                            .increment(p.fixes as u64);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "map matcher: a pass failed; retrying"),
            }
        }
        if let Ok((pending, lag)) = backlog(&pool, Utc::now()).await {
            ::metrics::gauge!(fleet_core::metrics::MATCH_PENDING).set(pending as f64);
            ::metrics::gauge!(fleet_core::metrics::MATCH_LAG_SECONDS).set(lag);
            live.set_fact(
                "matcher",
                serde_json::json!({"roads": roads, "edges": st.graph.edges.len(),
                                   "pending_buckets": pending, "lag_s": lag}),
            );
        }
        if !busy {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }
}

/// What `fleet bench projector` measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct BenchReport {
    pub vehicles: usize,
    pub fixes: usize,
    pub buckets: usize,
    pub observations: usize,
    /// Wall time of the passes (reading fixes, matching, writing), s.
    pub seconds: f64,
    /// Of which in the matcher itself, s.
    pub matching_s: f64,
}

/// Drives `vehicles` trackers reporting every 10 s for `minutes` over the graph in `geo.ways`
/// (already loaded), stores their fixes in `state.position_history`, queues every bucket, and
/// times the projector matching them all in one task (one core of matching, with the database
/// on the same machine).
pub async fn bench(
    pool: &PgPool,
    vehicles: usize,
    minutes: f64,
    seed: u64,
) -> Result<BenchReport, sqlx::Error> {
    use super::truth;
    let mut st = State::new(Params::default());
    st.refresh_graph(pool).await?;
    let start = Utc::now() - chrono::Duration::hours(2);
    let mut rng = fleet_core::rng::Rng(seed);
    let mut report = BenchReport {
        vehicles,
        ..BenchReport::default()
    };
    let (mut imei, mut time, mut lat, mut lng) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let sampling = truth::Sampling {
        interval_s: 10.0,
        noise_m: 8.0,
        outlier_rate: 0.01,
    };
    for v in 0..vehicles {
        let mut t0 = (v % 10) as f64;
        // one drive after another until the minutes are up
        while t0 < minutes * 60.0 {
            let Some(d) = truth::drive(st.graph(), &mut rng, 2_000.0) else {
                break;
            };
            let s = truth::sample(st.graph(), d, sampling, &mut rng);
            let mut last = t0;
            for f in s.fixes.iter().filter(|f| t0 + f.time < minutes * 60.0) {
                imei.push(format!("bench{v:06}"));
                time.push(start + chrono::Duration::milliseconds(((t0 + f.time) * 1000.0) as i64));
                lat.push(f.at.lat);
                lng.push(f.at.lng);
                last = t0 + f.time;
            }
            t0 = last + 10.0;
        }
        if imei.len() >= 50_000 || v + 1 == vehicles {
            report.fixes += imei.len();
            sqlx::query(
                "INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, source, raw_id)
                 SELECT i, t, t, a, b, 'bench', 0 FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[]) AS x(i, t, a, b)
                 ON CONFLICT DO NOTHING",
            )
            .bind(&imei)
            .bind(&time)
            .bind(&lat)
            .bind(&lng)
            .execute(pool)
            .await?;
            imei.clear();
            time.clear();
            lat.clear();
            lng.clear();
        }
    }
    rematch_all(pool).await?;
    sqlx::raw_sql("ANALYZE state.position_history, geo.match_queue")
        .execute(pool)
        .await?;
    let started = Instant::now();
    let now = Utc::now();
    loop {
        let p = pass(pool, &st, now, BUCKETS_PER_PASS).await?;
        if p.buckets == 0 {
            break;
        }
        report.buckets += p.buckets;
        report.observations += p.observations;
        report.matching_s += p.matching_s;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
