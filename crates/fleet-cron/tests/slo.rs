//! SLO measurement on constructed data: each value is computed here from the fixture with the
//! definition in the SLO's description, and compared with what the measurement job stored.

use chrono::{DateTime, Duration, Utc};
use fleet_cron::slo::measure_at;
use fleet_testkit::TestDb;
use sqlx::PgPool;

/// `percentile_cont(p)`: linear interpolation between the closest ranks.
fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = p * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

/// A small deterministic spread of numbers (no two fixtures alike, nothing hand-picked).
fn spread(n: usize, seed: u64, max: f64) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) as f64 / (1u64 << 31) as f64) * max
        })
        .collect()
}

async fn value(pool: &PgPool, metric: &str, at: DateTime<Utc>) -> Option<f64> {
    sqlx::query_scalar("SELECT value FROM slo.measurements WHERE metric = $1 AND measured_at = $2")
        .bind(metric)
        .bind(at)
        .fetch_one(pool)
        .await
        .expect("a measurement row")
}

fn close(a: Option<f64>, b: f64, what: &str) {
    let a = a.unwrap_or_else(|| panic!("{what}: no value"));
    assert!((a - b).abs() < 1e-6, "{what}: measured {a}, expected {b}");
}

#[tokio::test]
async fn every_slo_is_measured_from_the_data_it_describes() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let at = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    let secs = |s: f64| Duration::milliseconds((s * 1000.0) as i64);

    // Freshness: 24 devices; fix ages and arrival ages from a spread. Devices whose fix arrived
    // more than 5 min ago are not active; one decommissioned device never counts.
    sqlx::query("INSERT INTO domain.accounts (account) VALUES ('acme')")
        .execute(pool)
        .await
        .expect("account");
    // A quarter of the devices last reported long ago; the rest within a couple of minutes.
    let fix_age: Vec<f64> = spread(24, 1, 150.0)
        .into_iter()
        .enumerate()
        .map(|(i, a)| if i % 4 == 0 { a + 500.0 } else { a })
        .collect();
    let (mut active, mut fresh) = (0, 0);
    for (i, age) in fix_age.iter().enumerate() {
        let imei = format!("86279800000{i:04}");
        let fixed = at - secs(*age);
        // The fix took 30 % of its age to reach us.
        let received = fixed + secs(age * 0.3);
        sqlx::query("INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ($1, $2, $3, -1.29, 36.82, 'jimi_push', $4)")
            .bind(&imei).bind(fixed).bind(received).bind(i as i64)
            .execute(pool).await.expect("live position");
        if i == 3 {
            sqlx::query("INSERT INTO domain.devices (imei, account, lifecycle) VALUES ($1, 'acme', 'decommissioned')")
                .bind(&imei).execute(pool).await.expect("device");
            continue;
        }
        if at - received < Duration::seconds(300) {
            active += 1;
            if (at - fixed) < Duration::seconds(60) {
                fresh += 1;
            }
        }
    }
    assert!(
        active > 0 && fresh > 0 && fresh < active,
        "the spread gives a mixed picture ({fresh}/{active})"
    );
    // A clock three hours ahead: the fix arrived two minutes ago, so it is active but not fresh.
    sqlx::query("INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ('862798009999', $1, $2, -1.29, 36.82, 'jimi_push', 9999)")
        .bind(at + Duration::hours(3)).bind(at - secs(120.0))
        .execute(pool).await.expect("clock ahead");
    active += 1;

    // Parser lag: rows that arrived in the window (parsed or not) and rows still waiting from
    // before it count; rows parsed long ago do not.
    let mut lags = Vec::new();
    let arrived = spread(40, 3, 290.0);
    let took = spread(40, 4, 45.0);
    for i in 0..40 {
        let received = at - secs(arrived[i]);
        let parsed = (i % 7 != 0).then(|| received + secs(took[i]));
        raw_row(pool, received, parsed).await;
        lags.push(match parsed {
            Some(p) if p <= at => (p - received).num_milliseconds() as f64 / 1000.0,
            _ => (at - received).num_milliseconds() as f64 / 1000.0,
        });
    }
    for age in [900.0, 1800.0] {
        raw_row(pool, at - secs(age), None).await;
        lags.push(age);
    }
    raw_row(pool, at - secs(1200.0), Some(at - secs(1190.0))).await;

    // Trip lag over trips first reported in the last hour.
    let ends = spread(12, 5, 3000.0);
    let delays = spread(12, 6, 900.0);
    let mut trip_lags = Vec::new();
    for i in 0..12 {
        let end = at - secs(ends[i]) - secs(delays[i]);
        let reported = end + secs(delays[i]);
        sqlx::query("INSERT INTO state.trips (imei, start_time, end_time, source, raw_id, reported_at) VALUES ($1, $2, $3, 'jimi_poll', $4, $5)")
            .bind(format!("8627980000{i:05}")).bind(end - Duration::minutes(20)).bind(end).bind(i as i64).bind(reported)
            .execute(pool).await.expect("trip");
        trip_lags.push((reported - end).num_milliseconds() as f64 / 1000.0);
    }
    sqlx::query("INSERT INTO state.trips (imei, start_time, end_time, source, raw_id, reported_at) VALUES ('old', $1, $1, 'jimi_poll', 99, $1)")
        .bind(at - Duration::hours(5)).execute(pool).await.expect("old trip");

    // Route latency over the last 5 minutes.
    let ms = spread(30, 7, 800.0);
    for (i, m) in ms.iter().enumerate() {
        sqlx::query("INSERT INTO ops.route_requests (requested_at, duration_ms, outcome) VALUES ($1, $2, 'ok')")
            .bind(at - secs(i as f64 * 9.0)).bind(m).execute(pool).await.expect("route");
    }
    let in_window: Vec<f64> = ms
        .iter()
        .enumerate()
        .filter(|(i, _)| (*i as f64) * 9.0 < 300.0)
        .map(|(_, m)| *m)
        .collect();

    // Contract: clean two days ago, drifting since an hour ago.
    let clean_at = at - Duration::days(2);
    for (started, outcome) in [(clean_at, "clean"), (at - Duration::hours(1), "drift")] {
        sqlx::query("INSERT INTO ops.contract_runs (started_at, finished_at, target, outcome) VALUES ($1, $1, 'sandbox', $2)")
            .bind(started).bind(outcome).execute(pool).await.expect("contract run");
    }

    // Map matching: a bucket closed (5 min + 30 s settle) 100 s ago waits; one re-queued by a
    // late fix 40 s ago counts from then; an open one does not count.
    let bucket_closed_ago = |s: f64| at - secs(s) - Duration::seconds(330);
    for (bucket, queued) in [
        (bucket_closed_ago(100.0), at - secs(400.0)),
        (bucket_closed_ago(4000.0), at - secs(40.0)),
        (at - Duration::minutes(2), at - secs(1.0)),
    ] {
        sqlx::query("INSERT INTO geo.match_queue (imei, bucket, queued_at) VALUES ('m', $1, $2)")
            .bind(bucket)
            .bind(queued)
            .execute(pool)
            .await
            .expect("queue");
    }

    assert_eq!(measure_at(pool, at).await.expect("measure"), 6);
    close(
        value(pool, "match_lag_sec", at).await,
        100.0,
        "map-matching lag",
    );
    close(
        value(pool, "fix_freshness_pct_60s", at).await,
        100.0 * fresh as f64 / active as f64,
        "freshness",
    );
    close(
        value(pool, "parser_lag_p95_sec", at).await,
        percentile(lags, 0.95),
        "parser lag",
    );
    close(
        value(pool, "trip_lag_p95_sec", at).await,
        percentile(trip_lags, 0.95),
        "trip lag",
    );
    close(
        value(pool, "route_p95_ms", at).await,
        percentile(in_window, 0.95),
        "route latency",
    );
    close(
        value(pool, "contract_drift_days", at).await,
        2.0,
        "days since a clean contract check",
    );

    // Status follows the targets, and a target is one UPDATE away.
    let status = |metric: &'static str| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM slo.v_current_status WHERE metric = $1")
            .bind(metric)
            .fetch_one(pool)
            .await
            .expect("status")
    };
    assert_eq!(status("contract_drift_days").await, "not_met");
    let f = 100.0 * fresh as f64 / active as f64;
    sqlx::query("UPDATE slo.targets SET threshold = $1 WHERE metric = 'fix_freshness_pct_60s'")
        .bind(f - 1.0)
        .execute(pool)
        .await
        .expect("update");
    assert_eq!(status("fix_freshness_pct_60s").await, "met");
    sqlx::query("UPDATE slo.targets SET threshold = $1 WHERE metric = 'fix_freshness_pct_60s'")
        .bind(f + 1.0)
        .execute(pool)
        .await
        .expect("update");
    assert_eq!(status("fix_freshness_pct_60s").await, "not_met");
}

#[tokio::test]
async fn no_data_is_null_not_zero() {
    let db = TestDb::new().await;
    let at = Utc::now();
    measure_at(&db.pool, at).await.expect("measure");
    let rows: Vec<(String, Option<f64>, String)> =
        sqlx::query_as("SELECT metric, value, status FROM slo.v_current_status ORDER BY metric")
            .fetch_all(&db.pool)
            .await
            .expect("status");
    assert_eq!(rows.len(), 6);
    for (metric, value, status) in rows {
        assert_eq!((value, status.as_str()), (None, "no_data"), "{metric}");
    }
}

async fn raw_row(pool: &PgPool, received: DateTime<Utc>, parsed: Option<DateTime<Utc>>) {
    let id: i64 = sqlx::query_scalar("INSERT INTO events.raw (received_at, source, kind, body, verified, verification) VALUES ($1, 'jimi_push', 'pushgps', '\\x7b7d', true, 'token') RETURNING id")
        .bind(received)
        .fetch_one(pool)
        .await
        .expect("raw row");
    if let Some(p) = parsed {
        sqlx::query("UPDATE events.raw SET parsed_at = $2, parser_version = 1 WHERE id = $1")
            .bind(id)
            .bind(p)
            .execute(pool)
            .await
            .expect("parsed");
    }
}
