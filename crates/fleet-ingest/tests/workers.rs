//! Several workers, concurrent writers and crashes: nothing skipped, nothing doubled.

use std::time::Duration;

use fleet_ingest::worker;
use fleet_testkit::TestDb;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const ITEMS: usize = 5;

/// Inserts one raw pushgps row (as the gateway would) carrying `ITEMS` fixes of device `n`.
async fn insert_push(pool: &PgPool, n: usize) {
    let list: Vec<serde_json::Value> = (0..ITEMS)
        .map(|i| {
            serde_json::json!({"deviceImei": format!("8600000{n:08}"), "gpsTime": format!("2026-11-23 08:{:02}:{:02}", i / 60, i % 60),
                               "lat": -1.0 - (i as f64) / 1000.0, "lng": 36.8, "gpsSpeed": "10"})
        })
        .collect();
    fleet_testkit::store_pushgps(pool, &serde_json::Value::Array(list)).await;
}

async fn counts(pool: &PgPool) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM events.raw WHERE parsed_at IS NULL),
                (SELECT count(*) FROM events.parsed),
                (SELECT count(*) FROM (SELECT DISTINCT raw_id, item_index FROM events.parsed) d),
                (SELECT count(*) FROM state.position_history)",
    )
    .fetch_one(pool)
    .await
    .expect("counts")
}

/// Drains in small batches until nothing is left; returns raw rows this caller processed.
async fn drain_counting(pool: &PgPool) -> usize {
    let mut n = 0;
    loop {
        match worker::drain_once(pool, 25).await.expect("drain") {
            0 => return n,
            k => n += k,
        }
    }
}

async fn drain_all(pool: &PgPool) {
    while worker::drain_once(pool, worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
}

#[tokio::test]
async fn two_workers_drain_a_backlog_together_without_double_processing() {
    let db = TestDb::new().await;
    let pushes = 400;
    for n in 0..pushes {
        insert_push(&db.pool, n).await;
    }
    let (a, b) = tokio::join!(drain_counting(&db.pool), drain_counting(&db.pool));
    assert_eq!(a + b, pushes, "every raw row processed once in total");
    assert!(a > 0 && b > 0, "both workers took part ({a}, {b})");
    let (pending, parsed, distinct, history) = counts(&db.pool).await;
    assert_eq!(pending, 0);
    assert_eq!(parsed, (pushes * ITEMS) as i64);
    assert_eq!(distinct, parsed, "no parsed row twice");
    assert_eq!(history, (pushes * ITEMS) as i64);
}

/// Writers whose transactions commit out of id order (a slow writer holds an earlier id) while
/// workers drain: claiming by row state must not skip the late-committed rows.
#[tokio::test]
async fn rows_committed_late_by_slow_writers_are_not_skipped() {
    let db = TestDb::new().await;
    let stop = CancellationToken::new();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, stop) = (db.pool.clone(), stop.clone());
            tokio::spawn(async move {
                worker::run(pool, worker::liveness(), stop)
                    .await
                    .expect("worker")
            })
        })
        .collect();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let n = w * 100 + i;
                    let mut tx = pool.begin().await.expect("begin");
                    let body = format!("token=t&data_list=%5B%7B%22deviceImei%22%3A%228600000{n:08}%22%2C%22gpsTime%22%3A%222026-11-23%2008%3A00%3A00%22%2C%22lat%22%3A-1.1%2C%22lng%22%3A36.9%7D%5D");
                    sqlx::query("INSERT INTO events.raw (source, kind, body, verified, verification) VALUES ('jimi_push', 'pushgps', $1, true, 'token')")
                        .bind(body.into_bytes())
                        .execute(&mut *tx)
                        .await
                        .expect("insert");
                    // Hold the id for a while: later ids commit first.
                    tokio::time::sleep(Duration::from_millis(((n * 7919) % 40) as u64)).await;
                    sqlx::query("SELECT pg_notify('fleet_raw', '')").execute(&mut *tx).await.expect("notify");
                    tx.commit().await.expect("commit");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let drained = fleet_testkit::eventually(Duration::from_secs(20), || async {
        let (pending, _, _, history) = counts(&db.pool).await;
        (pending == 0 && history == 160).then_some(())
    })
    .await;
    stop.cancel();
    for w in workers {
        w.await.expect("worker");
    }
    assert!(
        drained.is_some(),
        "all 160 rows reached state: {:?}",
        counts(&db.pool).await
    );
}

#[tokio::test]
async fn a_worker_killed_mid_backlog_loses_and_duplicates_nothing() {
    let db = TestDb::new().await;
    let pushes = 300;
    for n in 0..pushes {
        insert_push(&db.pool, n).await;
    }
    // Kill workers at arbitrary points: an aborted task drops its transaction mid-batch.
    for delay_ms in [5u64, 15, 30, 60] {
        let pool = db.pool.clone();
        let stop = CancellationToken::new();
        let h = tokio::spawn(async move { worker::run(pool, worker::liveness(), stop).await });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        h.abort();
        let _ = h.await;
    }
    // An aborted transaction's row locks go when the server rolls it back; until then SKIP
    // LOCKED passes over those rows, as a surviving worker would until its next sweep.
    let drained = fleet_testkit::eventually(Duration::from_secs(20), || async {
        drain_all(&db.pool).await;
        (counts(&db.pool).await.0 == 0).then_some(())
    })
    .await;
    assert!(
        drained.is_some(),
        "backlog never drained: {:?}",
        counts(&db.pool).await
    );
    let (pending, parsed, distinct, history) = counts(&db.pool).await;
    assert_eq!(
        (pending, parsed, distinct, history),
        (
            0,
            (pushes * ITEMS) as i64,
            (pushes * ITEMS) as i64,
            (pushes * ITEMS) as i64
        )
    );
}

#[tokio::test]
async fn a_row_the_projectors_cannot_take_is_isolated_not_blocking() {
    let db = TestDb::new().await;
    for n in 0..10 {
        insert_push(&db.pool, n).await;
    }
    // Sabotage one device's projection: a trigger that fails for it only.
    sqlx::raw_sql(
        "CREATE FUNCTION pg_temp_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.imei = '860000000000003' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER sabotage BEFORE INSERT ON state.live_positions FOR EACH ROW EXECUTE FUNCTION pg_temp_fail();",
    )
    .execute(&db.pool)
    .await
    .expect("sabotage");
    drain_all(&db.pool).await;
    let dead: Vec<String> = sqlx::query_scalar("SELECT parse_error FROM events.v_dead_letter")
        .fetch_all(&db.pool)
        .await
        .expect("dead");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].starts_with("projection failed") && dead[0].contains("boom"),
        "{dead:?}"
    );
    assert_eq!(
        counts(&db.pool).await.3,
        (9 * ITEMS) as i64,
        "the other rows went through"
    );
}

/// Inserts one fuel feed chunk of `records` records (as `fleet import fuel` appends them).
async fn insert_fuel_chunk(pool: &PgPool, first: usize, records: usize) -> usize {
    let list: Vec<serde_json::Value> = (first..first + records)
        .map(|i| {
            serde_json::json!({"id": i, "car": format!("KDA {:03}A", i % 1000), "litres": "40.5",
                               "amount": "KES 7,000", "fuel_type": "Diesel", "department": "Logistics",
                               "record_datetime": "2026-11-20 08:15", "note": "x".repeat(40)})
        })
        .collect();
    let body = serde_json::json!({"object": "test/latest.json", "records": list}).to_string();
    sqlx::query("INSERT INTO events.raw (source, kind, body, verified, verification) VALUES ('fuel_feed', 'fuel_records', $1, true, 'internal')")
        .bind(body.as_bytes())
        .execute(pool)
        .await
        .expect("insert raw");
    body.len()
}

#[tokio::test]
async fn bulk_rows_go_one_per_transaction_after_the_small_rows_so_workers_share_them() {
    let db = TestDb::new().await;
    let per_chunk = 1_500;
    let mut bulk: i64 = 0;
    for c in 0..4 {
        let bytes = insert_fuel_chunk(&db.pool, c * per_chunk, per_chunk).await;
        assert!(
            bytes > worker::BULK_BYTES as usize,
            "a chunk of {bytes} bytes is bulk"
        );
        bulk += 1;
    }
    // pushes that arrived after the bulk rows still go first
    for n in 0..30 {
        insert_push(&db.pool, n).await;
    }
    let first = worker::drain_once(&db.pool, worker::BATCH)
        .await
        .expect("drain");
    assert_eq!(first, 30 + 1, "every small row and exactly one bulk row");
    let (pushes_left, chunks_left): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE source = 'jimi_push'), count(*) FILTER (WHERE source = 'fuel_feed')
           FROM events.raw WHERE parsed_at IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .expect("left");
    assert_eq!((pushes_left, chunks_left), (0, bulk - 1));
    // Two workers now share the remaining chunks, one per transaction each.
    let (a, b) = tokio::join!(
        worker::drain_once(&db.pool, worker::BATCH),
        worker::drain_once(&db.pool, worker::BATCH)
    );
    assert_eq!(
        (a.expect("a"), b.expect("b")),
        (1, 1),
        "each took its own chunk"
    );
    drain_all(&db.pool).await;
    let (records, transactions): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM fuel.records),
                (SELECT count(DISTINCT parsed_at) FROM events.raw WHERE source = 'fuel_feed')",
    )
    .fetch_one(&db.pool)
    .await
    .expect("records");
    assert_eq!(
        records,
        bulk * per_chunk as i64,
        "every record projected once"
    );
    assert_eq!(transactions, bulk, "one chunk per transaction");
}

/// The parsed log holds a fuel record as JSON; events parsed before 2026-12-02 hold it as its
/// text (a JSON string). A replay over either projects the same rows.
#[tokio::test]
async fn fuel_records_project_the_same_from_either_shape_of_the_parsed_record() {
    let db = TestDb::new().await;
    insert_fuel_chunk(&db.pool, 0, 40).await;
    drain_all(&db.pool).await;
    let rows = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, String, String, Option<f64>, Option<String>, Vec<String>)>(
            "SELECT record_id, raw::text, raw_md5, litres::float8, plate_key, warnings FROM fuel.records ORDER BY record_id",
        )
        .fetch_all(&pool)
        .await
        .expect("rows")
    };
    let shapes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT jsonb_typeof(body->'record') FROM events.parsed WHERE kind = 'fuel_record'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("shapes");
    assert_eq!(shapes, ["object"], "the parser writes the record as JSON");
    let as_parsed = rows(db.pool.clone()).await;
    assert_eq!(as_parsed.len(), 40);
    assert!(
        as_parsed
            .iter()
            .all(|r| r.3 == Some(40.5) && r.4.as_deref().is_some_and(|p| p.starts_with("KDA")))
    );
    // the earlier shape: the record's text as a JSON string
    sqlx::query(
        "UPDATE events.parsed SET body = jsonb_set(body, '{record}', to_jsonb((body->'record')::text))
          WHERE kind = 'fuel_record'",
    )
    .execute(&db.pool)
    .await
    .expect("old shape");
    fleet_ingest::replay::rebuild(&db.pool, "fuel.records", 7, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    assert_eq!(rows(db.pool.clone()).await, as_parsed);
}
