//! The monthly road graph reload (`FLEET_OSM_FILE` / `FLEET_OSM_URL`): from a file, then from a
//! URL on a real loopback HTTP server, keeping every segment id; a truncated download and a
//! missing file fail the run with what went wrong, and the loaded graph stays.

use chrono::{Duration, Utc};
use fleet_core::config::OsmSource;
use fleet_cron::{Context, jobs, run_slot, slot_of};
use fleet_testkit::TestDb;
use sqlx::PgPool;

async fn gids(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT gid FROM geo.ways ORDER BY gid")
        .fetch_all(pool)
        .await
        .expect("gids")
}

/// Runs the job of `source` in its own slot `k` and returns (outcome, rows, detail).
async fn reload(pool: &PgPool, source: OsmSource, k: i64) -> (String, i64, Option<String>) {
    let ctx = Context {
        osm: Some(source),
        ..Context::default()
    };
    let job = jobs(&ctx)
        .into_iter()
        .find(|j| j.name == "osm_reload")
        .expect("an osm_reload job when an extract is configured");
    let slot = slot_of(Utc::now(), job.every) + Duration::days(30 * k);
    run_slot(pool, &job, slot, "test")
        .await
        .expect("claim")
        .expect("ran");
    sqlx::query_as(
        "SELECT outcome, coalesce(rows_affected, 0), detail FROM ops.job_runs WHERE job = 'osm_reload' AND slot = $1",
    )
    .bind(slot)
    .fetch_one(pool)
    .await
    .expect("run recorded")
}

#[tokio::test]
async fn the_extract_is_reloaded_from_a_file_or_a_url_and_a_bad_one_keeps_the_graph() {
    assert!(
        jobs(&Context::default())
            .iter()
            .all(|j| j.name != "osm_reload")
    );
    let db = TestDb::new().await;
    let pool = &db.pool;
    let file = std::env::temp_dir().join(format!("fleet-osm-{}.osm.pbf", std::process::id()));
    std::fs::write(&file, fleet_geo::MONACO_PBF).expect("write the extract");
    let (outcome, rows, _) = reload(pool, OsmSource::File(file.clone()), 0).await;
    let first = gids(pool).await;
    assert_eq!((outcome.as_str(), rows), ("ok", first.len() as i64));
    assert!(first.len() > 1_000);

    // the same extract over HTTP; a truncated one; one that is not there
    let app = axum::Router::new()
        .route(
            "/monaco.osm.pbf",
            axum::routing::get(|| async { fleet_geo::MONACO_PBF }),
        )
        .route(
            "/cut.osm.pbf",
            axum::routing::get(|| async {
                &fleet_geo::MONACO_PBF[..fleet_geo::MONACO_PBF.len() / 3]
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (outcome, rows, _) =
        reload(pool, OsmSource::Url(format!("{base}/monaco.osm.pbf")), 1).await;
    assert_eq!((outcome.as_str(), rows), ("ok", first.len() as i64));
    assert_eq!(gids(pool).await, first, "segment ids survive a reload");

    let (outcome, _, detail) = reload(pool, OsmSource::Url(format!("{base}/cut.osm.pbf")), 2).await;
    assert_eq!(outcome, "error", "{detail:?}");
    assert!(
        detail
            .as_deref()
            .unwrap_or_default()
            .contains("cannot read"),
        "{detail:?}"
    );
    let (outcome, _, detail) =
        reload(pool, OsmSource::Url(format!("{base}/gone.osm.pbf")), 3).await;
    assert_eq!(outcome, "error");
    assert!(
        detail.as_deref().unwrap_or_default().contains("HTTP 404"),
        "{detail:?}"
    );
    std::fs::remove_file(&file).expect("remove");
    let (outcome, _, detail) = reload(pool, OsmSource::File(file.clone()), 4).await;
    assert_eq!(outcome, "error");
    assert!(
        detail
            .as_deref()
            .unwrap_or_default()
            .contains(&file.display().to_string()),
        "{detail:?}"
    );
    assert_eq!(gids(pool).await, first, "the loaded graph stays");
}
