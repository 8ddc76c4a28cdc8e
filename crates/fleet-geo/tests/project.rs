//! The matching projector against the real pipeline: vendor pushes go through the worker's
//! parser and projectors into `state.position_history` and the match queue, and the matcher
//! turns them into segment traversals and matched tracks, bucket by bucket as fixes arrive,
//! with late fixes re-matching their buckets; a full re-match gives the same rows. Then the
//! queue's locking (a fix committed during a pass is never lost) and the speed bands.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use fleet_core::rng::Rng;
use fleet_geo::matching::project::{self, State};
use fleet_geo::matching::{Params, truth};
use fleet_geo::{MONACO_PBF, osm};
use fleet_ingest::worker;
use fleet_testkit::TestDb;
use sqlx::PgPool;

const IMEI: &str = "862798050000777";

async fn push(pool: &PgPool, fixes: &[(DateTime<Utc>, f64, f64)]) {
    let list: Vec<serde_json::Value> = fixes
        .iter()
        .map(|(t, lat, lng)| {
            serde_json::json!({"deviceImei": IMEI, "gpsTime": t.format("%Y-%m-%d %H:%M:%S").to_string(),
                               "lat": lat, "lng": lng, "gpsSpeed": "30", "acc": "1"})
        })
        .collect();
    fleet_testkit::store_pushgps(pool, &serde_json::Value::Array(list)).await;
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

/// Passes until nothing closed as of `now` waits; returns the buckets matched.
async fn match_all(pool: &PgPool, st: &State, now: DateTime<Utc>) -> usize {
    let mut n = 0;
    loop {
        let p = project::pass(pool, st, now, 7).await.expect("pass");
        if p.buckets == 0 {
            return n;
        }
        n += p.buckets;
    }
}

/// Everything the matcher wrote, as text, in key order.
async fn written(pool: &PgPool) -> (Vec<String>, Vec<String>) {
    let obs: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', imei, segment_id, forward, entered_at, left_at, round(speed_kmh::numeric, 3), dow, hod, bucket)
           FROM geo.segment_observations ORDER BY imei, entered_at, segment_id, forward",
    )
    .fetch_all(pool)
    .await
    .expect("observations");
    let tracks: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', imei, bucket, started_at, ended_at, fixes, matched, breaks, ST_AsText(geom))
           FROM geo.matched_tracks ORDER BY imei, bucket",
    )
    .fetch_all(pool)
    .await
    .expect("tracks");
    (obs, tracks)
}

#[tokio::test]
async fn fixes_are_matched_bucket_by_bucket_late_fixes_rematch_and_a_full_rematch_agrees() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    osm::load(pool, MONACO_PBF).await.expect("load Monaco");
    let mut st = State::new(Params::default());
    assert!(st.refresh_graph(pool).await.expect("graph"));
    // a 10 s tracker on a real drive, starting mid-bucket
    let start = Utc
        .with_ymd_and_hms(2026, 11, 30, 5, 2, 30)
        .single()
        .expect("time");
    let mut rng = Rng(7);
    let drive = truth::drive(st.graph(), &mut rng, 6_000.0).expect("a drive");
    let truth_edges: std::collections::HashSet<(i64, bool)> = drive
        .edges
        .iter()
        .map(|&e| {
            let e = st.graph().edges[e as usize];
            (e.gid, e.forward)
        })
        .collect();
    let sampled = truth::sample(
        st.graph(),
        drive,
        truth::Sampling {
            interval_s: 10.0,
            noise_m: 5.0,
            outlier_rate: 0.0,
        },
        &mut rng,
    );
    let fixes: Vec<(DateTime<Utc>, f64, f64)> = sampled
        .fixes
        .iter()
        .map(|f| {
            (
                start + chrono::Duration::seconds(f.time.round() as i64),
                f.at.lat,
                f.at.lng,
            )
        })
        .collect();
    assert!(fixes.len() > 60, "{} fixes", fixes.len());
    // three fixes around a bucket boundary arrive late, after everything else
    let late: Vec<usize> = {
        let b = fixes
            .iter()
            .position(|f| f.0 >= start + chrono::Duration::minutes(8))
            .expect("a fix past 05:10");
        vec![b - 1, b, b + 1]
    };
    let on_time: Vec<_> = (0..fixes.len()).filter(|i| !late.contains(i)).collect();
    for chunk in on_time.chunks(6) {
        let batch: Vec<_> = chunk.iter().map(|&i| fixes[i]).collect();
        push(pool, &batch).await;
        // the clock as the fixes arrive: only closed buckets are matched
        match_all(pool, &st, batch[batch.len() - 1].0).await;
    }
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM geo.match_queue")
        .fetch_one(pool)
        .await
        .expect("queue");
    assert!(open > 0, "the last buckets are still open");
    let last = fixes[fixes.len() - 1].0;
    let later = last + chrono::Duration::minutes(10);
    assert!(match_all(pool, &st, later).await > 0);
    let before_late = written(pool).await;

    push(pool, &late.iter().map(|&i| fixes[i]).collect::<Vec<_>>()).await;
    let requeued: Vec<DateTime<Utc>> =
        sqlx::query_scalar("SELECT bucket FROM geo.match_queue ORDER BY bucket")
            .fetch_all(pool)
            .await
            .expect("queue");
    // the late fixes' buckets and those after them (whose lead-in may have changed)
    assert!((2..=4).contains(&requeued.len()), "{requeued:?}");
    match_all(pool, &st, later).await;
    let live = written(pool).await;
    assert_ne!(live, before_late, "the late fixes changed what was matched");

    let (obs, tracks) = &live;
    let buckets: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT geo.match_bucket(fix_time)) FROM state.position_history",
    )
    .fetch_one(pool)
    .await
    .expect("buckets");
    let with_fixes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM geo.matched_tracks WHERE fixes > 0")
            .fetch_one(pool)
            .await
            .expect("tracks");
    assert_eq!(with_fixes, buckets, "every bucket with fixes has its track");
    let (fixes_in_tracks, matched): (i64, i64) =
        sqlx::query_as("SELECT sum(fixes)::int8, sum(matched)::int8 FROM geo.matched_tracks")
            .fetch_one(pool)
            .await
            .expect("sums");
    assert_eq!(fixes_in_tracks, fixes.len() as i64);
    assert!(matched as f64 >= 0.97 * fixes.len() as f64, "{matched}");
    assert!(
        tracks
            .iter()
            .filter(|t| t.contains("MULTILINESTRING"))
            .count() as i64
            >= buckets - 1
    );
    // the traversals follow the true path, one after another, never overlapping
    assert!(obs.len() > 20, "{} traversals", obs.len());
    type Traversal = (i64, bool, DateTime<Utc>, DateTime<Utc>, f32);
    let rows: Vec<Traversal> = sqlx::query_as(
        "SELECT segment_id, forward, entered_at, left_at, speed_kmh FROM geo.segment_observations ORDER BY entered_at",
    )
    .fetch_all(pool)
    .await
    .expect("rows");
    let on_truth = rows
        .iter()
        .filter(|r| truth_edges.contains(&(r.0, r.1)))
        .count();
    assert!(
        on_truth as f64 >= 0.95 * rows.len() as f64,
        "{on_truth} of {} traversals on the driven path",
        rows.len()
    );
    for w in rows.windows(2) {
        assert!(
            w[0].3 <= w[1].2 + chrono::Duration::milliseconds(1),
            "{:?} overlaps {:?}",
            w[0],
            w[1]
        );
    }
    assert!(rows.iter().all(|r| r.4 > 5.0 && r.4 < 150.0));
    let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM geo.band_dirty")
        .fetch_one(pool)
        .await
        .expect("dirty");
    assert!(dirty > 0);

    // replay: everything again from state.position_history gives the same rows
    let queued = project::rematch_all(pool).await.expect("rematch");
    assert_eq!(queued as i64, buckets);
    assert_eq!(written(pool).await.0.len(), 0);
    match_all(pool, &st, later).await;
    let again = written(pool).await;
    assert!(again.0 == live.0, "observations differ after a re-match");
    assert!(again.1 == live.1, "tracks differ after a re-match");
}

#[tokio::test]
async fn a_fix_committed_while_its_bucket_is_matched_is_queued_again() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let bucket = Utc
        .with_ymd_and_hms(2026, 11, 30, 5, 0, 0)
        .single()
        .expect("time");
    sqlx::query("INSERT INTO geo.match_queue (imei, bucket) VALUES ($1, $2)")
        .bind(IMEI)
        .bind(bucket)
        .execute(pool)
        .await
        .expect("queue");
    // a matcher holds the row (claimed, fixes read) ...
    let mut matcher = pool.begin().await.expect("begin");
    sqlx::query("SELECT 1 FROM geo.match_queue WHERE imei = $1 FOR UPDATE SKIP LOCKED")
        .bind(IMEI)
        .execute(&mut *matcher)
        .await
        .expect("claim");
    // ... when a late fix for that bucket commits through the projector's statement
    let sql = include_str!("../../fleet-ingest/src/project/match_queue.sql");
    let batch = serde_json::json!([{"imei": IMEI, "fix_time": bucket + chrono::Duration::seconds(40),
                                    "lat": 43.73, "lng": 7.42}]);
    let ingest = {
        let pool = pool.clone();
        tokio::spawn(async move {
            sqlx::query(sql)
                .bind(batch)
                .execute(&pool)
                .await
                .expect("queue upsert")
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!ingest.is_finished(), "the upsert waits for the matcher");
    sqlx::query("DELETE FROM geo.match_queue WHERE imei = $1")
        .bind(IMEI)
        .execute(&mut *matcher)
        .await
        .expect("done");
    matcher.commit().await.expect("commit");
    ingest.await.expect("ingest");
    let again: Vec<DateTime<Utc>> =
        sqlx::query_scalar("SELECT bucket FROM geo.match_queue WHERE imei = $1 ORDER BY bucket")
            .bind(IMEI)
            .fetch_all(pool)
            .await
            .expect("queue");
    assert_eq!(again, vec![bucket, bucket + chrono::Duration::minutes(5)]);

    // and a matcher skips a row an ingest transaction holds (here the second bucket's)
    let mut ingest = pool.begin().await.expect("begin");
    sqlx::query(sql)
        .bind(
            serde_json::json!([{"imei": IMEI, "fix_time": bucket + chrono::Duration::seconds(310),
                                  "lat": 43.73, "lng": 7.42}]),
        )
        .execute(&mut *ingest)
        .await
        .expect("upsert");
    let st = State::new(Params::default());
    let p = project::pass(pool, &st, bucket + chrono::Duration::hours(1), 10)
        .await
        .expect("pass");
    assert_eq!(p.buckets, 1, "only the bucket ingest does not hold");
    ingest.commit().await.expect("commit");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM geo.match_queue")
        .fetch_one(pool)
        .await
        .expect("queue");
    assert_eq!(
        left, 2,
        "the held bucket and the one the fix added after it"
    );
}

#[tokio::test]
async fn speed_bands_count_plausible_traversals_per_hour_and_over_all_hours() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    osm::load(pool, MONACO_PBF).await.expect("load Monaco");
    let (gid, length_m, free_kmh): (i64, f64, f64) = sqlx::query_as(
        "SELECT gid, length_m, length_m * 3.6 / cost FROM geo.ways
          WHERE cost > 0 AND length_m > 100 AND length_m * 3.6 / cost >= 45 ORDER BY gid LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a segment");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
        .single()
        .expect("time");
    // Mondays 08:xx EAT (05:xx UTC): six traversals at 10..60 km/h; Mondays 09:xx: two; one
    // standing still and one far too fast; one outside the window
    let monday = Utc
        .with_ymd_and_hms(2026, 11, 23, 5, 10, 0)
        .single()
        .expect("time");
    let mut rows: Vec<(DateTime<Utc>, f64)> = (1..=6)
        .map(|k| (monday + chrono::Duration::minutes(k * 5), 10.0 * k as f64))
        .collect();
    rows.push((monday + chrono::Duration::hours(1), 30.0));
    rows.push((
        monday + chrono::Duration::hours(1) + chrono::Duration::minutes(5),
        40.0,
    ));
    rows.push((monday + chrono::Duration::minutes(40), 0.5));
    rows.push((monday + chrono::Duration::minutes(45), free_kmh * 3.0));
    rows.push((monday - chrono::Duration::days(70), 20.0));
    for (entered, kmh) in &rows {
        let secs = length_m / (kmh / 3.6);
        sqlx::query(
            "INSERT INTO geo.segment_observations (imei, segment_id, forward, entered_at, left_at, length_m, speed_kmh, dow, hod, bucket)
             SELECT $1, $2, true, $3, $3 + make_interval(secs => $4), $5, $6,
                    extract(dow FROM $3 AT TIME ZONE 'Africa/Nairobi'), extract(hour FROM $3 AT TIME ZONE 'Africa/Nairobi'),
                    geo.match_bucket($3)",
        )
        .bind(IMEI)
        .bind(gid)
        .bind(entered)
        .bind(secs)
        .bind(length_m)
        .bind(*kmh as f32)
        .execute(pool)
        .await
        .expect("observation");
    }
    sqlx::query("INSERT INTO geo.band_dirty VALUES ($1, true)")
        .bind(gid)
        .execute(pool)
        .await
        .expect("dirty");
    assert_eq!(
        fleet_geo::speeds::refresh_bands(pool, now, 100)
            .await
            .expect("refresh"),
        1
    );
    let bands: Vec<(i16, i16, i32, f32, f32, f32)> = sqlx::query_as(
        "SELECT dow, hod, samples, mean_kmh, median_kmh, p85_kmh FROM geo.segment_speed_band
          WHERE segment_id = $1 AND forward ORDER BY dow, hod",
    )
    .bind(gid)
    .fetch_all(pool)
    .await
    .expect("bands");
    let band = |d: i16, h: i16| bands.iter().find(|b| b.0 == d && b.1 == h).copied();
    let all = band(-1, -1).expect("all hours");
    assert_eq!(all.2, 8, "{bands:?}");
    let eight = band(1, 8).expect("Monday 08:00");
    assert_eq!(eight.2, 6);
    assert!((eight.3 - 35.0).abs() < 0.01 && (eight.4 - 35.0).abs() < 0.01);
    assert!((eight.5 - 52.5).abs() < 0.01, "p85 {}", eight.5);
    assert_eq!(band(1, 9).map(|b| b.2), Some(2));
    assert_eq!(bands.len(), 3);
    // what routing reads: the band with enough traversals, else all hours, else nothing
    let observed = |dow: i32, hod: i32, segment: i64| async move {
        sqlx::query_as::<_, (Option<f32>, Option<String>)>(
            "SELECT speed_kmh, basis FROM geo.observed_speed($1, true, $2, $3)",
        )
        .bind(segment)
        .bind(dow)
        .bind(hod)
        .fetch_one(pool)
        .await
        .expect("observed speed")
    };
    assert_eq!(observed(1, 8, gid).await, (Some(35.0), Some("band".into())));
    assert_eq!(
        observed(1, 9, gid).await,
        (Some(all.4), Some("all_hours".into()))
    );
    assert_eq!(observed(1, 8, gid + 1).await, (None, None));
    sqlx::query("UPDATE slo.targets SET threshold = 9 WHERE metric = 'band_min_samples'")
        .execute(pool)
        .await
        .expect("update");
    assert_eq!(observed(1, 8, gid).await, (None, None));
    let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM geo.band_dirty")
        .fetch_one(pool)
        .await
        .expect("dirty");
    assert_eq!(dirty, 0);
    // once a day, bands over a day old are marked and then recomputed
    let next = now + chrono::Duration::days(2);
    let refresh = |at| async move {
        fleet_geo::speeds::refresh_bands(pool, at, 100)
            .await
            .expect("refresh")
    };
    assert_eq!(refresh(next).await, 0);
    assert_eq!(
        fleet_geo::speeds::mark_stale_bands(pool, now)
            .await
            .expect("mark"),
        0
    );
    assert_eq!(
        fleet_geo::speeds::mark_stale_bands(pool, next)
            .await
            .expect("mark"),
        1
    );
    assert_eq!(refresh(next).await, 1);
}
