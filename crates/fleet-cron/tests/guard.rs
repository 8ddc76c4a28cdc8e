//! Two cron processes never run the same job slot twice: the guard is the database's unique key.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use fleet_cron::{Job, run_slot, slot_of};
use fleet_testkit::TestDb;
use tokio_util::sync::CancellationToken;

fn counting_job(every: Duration, counter: Arc<AtomicUsize>) -> Job {
    Job::new("test_job", every, move |_pool| {
        let c = counter.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(3)
        }
    })
}

#[tokio::test]
async fn concurrent_claims_of_one_slot_run_it_once() {
    let db = TestDb::new().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let job = counting_job(Duration::from_secs(3600), counter.clone());
    let slot = slot_of(Utc::now(), job.every);
    let claims = (0..8).map(|i| {
        let (pool, job) = (db.pool.clone(), job.clone());
        async move {
            run_slot(&pool, &job, slot, &format!("host{i}"))
                .await
                .expect("claim")
        }
    });
    let results = futures_join_all(claims).await;
    assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1);
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    let (outcome, rows): (String, i64) =
        sqlx::query_as("SELECT outcome, rows_affected FROM ops.job_runs WHERE job = 'test_job'")
            .fetch_one(&db.pool)
            .await
            .expect("run recorded");
    assert_eq!((outcome.as_str(), rows), ("ok", 3));
}

#[tokio::test]
async fn two_schedulers_side_by_side_never_double_run() {
    let db = TestDb::new().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let mut handles = Vec::new();
    for _ in 0..2 {
        let job = counting_job(Duration::from_secs(1), counter.clone());
        let (pool, token) = (db.pool.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            fleet_cron::run(pool, vec![job], fleet_cron::liveness(), token).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    stop.cancel();
    for h in handles {
        h.await.expect("join").expect("scheduler");
    }
    let (runs, slots): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT slot) FROM ops.job_runs WHERE job = 'test_job'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("runs");
    assert!(runs >= 2, "the job ran in several slots ({runs})");
    assert_eq!(runs, slots, "one run per slot");
    assert_eq!(
        counter.load(Ordering::SeqCst) as i64,
        runs,
        "every execution is one recorded run"
    );
}

#[tokio::test]
async fn a_failing_job_is_recorded_with_its_error() {
    let db = TestDb::new().await;
    let job = Job::new("failing", Duration::from_secs(60), |_pool| async {
        Err(fleet_cron::JobError::Other("vendor said no".to_string()))
    });
    let fact = run_slot(&db.pool, &job, slot_of(Utc::now(), job.every), "h")
        .await
        .expect("claim")
        .expect("ran");
    assert_eq!(fact["outcome"], "error");
    let (outcome, detail): (String, String) =
        sqlx::query_as("SELECT outcome, detail FROM ops.job_runs WHERE job = 'failing'")
            .fetch_one(&db.pool)
            .await
            .expect("recorded");
    assert_eq!(
        (outcome.as_str(), detail.as_str()),
        ("error", "vendor said no")
    );
}

async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("join"));
    }
    out
}
