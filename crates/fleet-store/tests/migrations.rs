//! Migrations against a real Postgres: idempotence, every schema present, the ledger's guard
//! against edited migrations, partition maintenance, and the checked-in schema dump.

use fleet_store::migrate;
use fleet_testkit::TestDb;

#[tokio::test]
async fn applying_twice_is_a_no_op() {
    let db = TestDb::empty().await;
    let first = migrate::run(&db.pool).await.expect("first run");
    assert_eq!(first.applied.len(), migrate::MIGRATIONS.len());
    assert!(
        first.partitions_created > 0,
        "migrations create the first partitions"
    );
    let tables_before: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    let second = migrate::run(&db.pool).await.expect("second run");
    assert!(second.applied.is_empty());
    assert_eq!(second.already, migrate::MIGRATIONS.len());
    assert_eq!(second.partitions_created, 0);
    let tables_after: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(tables_before, tables_after);
    assert_eq!(
        migrate::applied_version(&db.pool).await.expect("version"),
        migrate::latest_version()
    );
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let (a, b) = tokio::join!(migrate::run(&db.pool), migrate::run(&db.pool));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.applied.len() + b.applied.len(), migrate::MIGRATIONS.len());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM ops.schema_migrations")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(rows as usize, migrate::MIGRATIONS.len());
}

#[tokio::test]
async fn every_architecture_schema_and_core_table_exists() {
    let db = TestDb::new().await;
    for schema in [
        "events", "state", "domain", "geo", "slo", "serve", "ops", "fuel", "auth",
    ] {
        let found: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(schema)
                .fetch_one(&db.pool)
                .await
                .expect("query");
        assert!(found, "schema {schema} is missing");
    }
    let tables = [
        "events.raw",
        "events.parsed",
        "state.devices",
        "state.live_positions",
        "state.position_history",
        "state.trips",
        "state.parking_events",
        "state.alarms",
        "state.obd_readings",
        "state.heartbeats",
        "state.device_events",
        "state.fuel_readings",
        "state.temperature_readings",
        "state.lbs_readings",
        "state.geocoded_positions",
        "domain.accounts",
        "domain.vehicles",
        "domain.devices",
        "domain.drivers",
        "domain.cost_centres",
        "domain.assigned_cities",
        "geo.ways",
        "geo.ways_vertices_pgr",
        "geo.segment_observations",
        "geo.segment_speed_band",
        "geo.pois",
        "slo.targets",
        "slo.measurements",
        "slo.v_current_status",
        "ops.tickets",
        "ops.dispatch_log",
        "ops.cost_rates",
        "ops.service_log",
        "ops.odometer_readings",
        "ops.alarm_acks",
        "ops.job_runs",
        "ops.ingestion_log",
        "fuel.records",
        "auth.accounts",
        "auth.audit_log",
    ];
    for t in tables {
        let found: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(t)
            .fetch_one(&db.pool)
            .await
            .expect("query");
        assert!(found, "{t} is missing");
    }
    // Every table and view outside the extensions' own carries a comment.
    let uncommented: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname IN ('events','state','domain','geo','slo','serve','ops','fuel','auth')
            AND c.relkind IN ('r','p','v') AND NOT c.relispartition AND obj_description(c.oid, 'pg_class') IS NULL
          ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("query");
    assert!(
        uncommented.is_empty(),
        "tables without a COMMENT: {uncommented:?}"
    );
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let db = TestDb::new().await;
    sqlx::query("UPDATE ops.schema_migrations SET checksum = 'edited' WHERE version = 2")
        .execute(&db.pool)
        .await
        .expect("tamper");
    let err = migrate::run(&db.pool).await.expect_err("must refuse");
    assert!(
        err.to_string().contains("0002_events") && err.to_string().contains("forward-only"),
        "{err}"
    );
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused() {
    let db = TestDb::new().await;
    sqlx::query("INSERT INTO ops.schema_migrations (version, name, checksum, duration_ms) VALUES (9999, 'future', 'x', 0)")
        .execute(&db.pool)
        .await
        .expect("insert");
    let err = migrate::run(&db.pool).await.expect_err("must refuse");
    assert!(err.to_string().contains("9999"), "{err}");
}

#[tokio::test]
async fn the_raw_log_is_append_only() {
    let db = TestDb::new().await;
    sqlx::query("INSERT INTO events.raw (source, kind, body, verified, verification) VALUES ('jimi_push', 'pushgps', '\\x00ff'::bytea, true, 'token')")
        .execute(&db.pool)
        .await
        .expect("insert");
    sqlx::query("UPDATE events.raw SET parsed_at = now(), parser_version = 1, parse_error = NULL")
        .execute(&db.pool)
        .await
        .expect("processing columns may change");
    for sql in [
        "UPDATE events.raw SET body = 'changed'",
        "UPDATE events.raw SET source = 'ops'",
        "UPDATE events.raw SET received_at = received_at - interval '1 day'",
        "DELETE FROM events.raw",
    ] {
        let e = sqlx::query(sql).execute(&db.pool).await.expect_err(sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    let body: Vec<u8> = sqlx::query_scalar("SELECT body FROM events.raw")
        .fetch_one(&db.pool)
        .await
        .expect("body");
    assert_eq!(body, vec![0x00, 0xff], "bytes are kept verbatim");
}

#[tokio::test]
async fn partition_maintenance_creates_ahead_moves_strays_and_applies_retention() {
    let db = TestDb::new().await;
    // A fix far in the future lands in the default partition instead of being rejected.
    sqlx::query("INSERT INTO state.position_history (imei, fix_time, received_at, lat, lng, source, raw_id) VALUES ('860000000000001', '2031-03-04 05:06:07+00', now(), -1.28, 36.82, 'test', 1)")
        .execute(&db.pool)
        .await
        .expect("insert");
    let part: String =
        sqlx::query_scalar("SELECT tableoid::regclass::text FROM state.position_history")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert_eq!(part, "state.position_history_default");
    // Maintenance "as of" that day creates its partition and moves the row into it.
    let changes: Vec<(String, String, String)> =
        sqlx::query_as("SELECT * FROM ops.maintain_partitions('2031-03-04 12:00+00')")
            .fetch_all(&db.pool)
            .await
            .expect("maintain");
    assert!(
        changes
            .iter()
            .any(|(_, p, a)| p == "state.position_history_p20310304" && a == "created"),
        "{changes:?}"
    );
    let part: String =
        sqlx::query_scalar("SELECT tableoid::regclass::text FROM state.position_history")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert_eq!(part, "state.position_history_p20310304");
    // Running it again changes nothing.
    let again: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ops.maintain_partitions('2031-03-04 12:00+00')")
            .fetch_one(&db.pool)
            .await
            .expect("q");
    assert_eq!(again, 0);
    // Retention drops whole partitions older than the window, never the default one.
    sqlx::query("UPDATE ops.partitioned_tables SET retention = '30 days' WHERE parent = 'state.position_history'::regclass")
        .execute(&db.pool)
        .await
        .expect("set retention");
    let dropped: Vec<String> = sqlx::query_scalar("SELECT partition_table FROM ops.maintain_partitions('2031-03-04 12:00+00') WHERE action = 'dropped'")
        .fetch_all(&db.pool)
        .await
        .expect("maintain");
    assert!(
        !dropped.is_empty()
            && dropped
                .iter()
                .all(|p| p.starts_with("state.position_history_p20") && !p.ends_with("default")),
        "{dropped:?}"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM state.position_history")
        .fetch_one(&db.pool)
        .await
        .expect("q");
    assert_eq!(rows, 1, "the recent row survives retention");
}

/// The schema of a database as `pg_dump` writes it, without what varies between runs and the
/// partitions (which depend on the day).
fn schema_dump(url: &str) -> String {
    let install = fleet_store::cluster::PgInstall::discover(None).expect("postgres binaries");
    let out = std::process::Command::new(install.bindir.join("pg_dump"))
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-table=*.*_p[0-9]*",
            "--dbname",
        ])
        .arg(url)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // Version lines and the per-run random \restrict key vary between runs.
        .filter(|l| {
            !l.starts_with("-- Dumped ")
                && !l.starts_with("\\restrict ")
                && !l.starts_with("\\unrestrict ")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The checked-in `schema/schema.sql` is what the migrations and the SQL objects produce.
/// Regenerate with `make schema` (UPDATE_SCHEMA=1).
#[tokio::test]
async fn checked_in_schema_dump_is_current() {
    let db = TestDb::new().await;
    let dump = schema_dump(&db.url);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/schema.sql");
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &dump).expect("write schema.sql");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == dump,
        "schema/schema.sql is out of date: run `make schema` and commit the result"
    );
}

/// A database built by the binary of before issue 16 (its migrations 0001–0019 as they landed,
/// functions and views in them, applied the way that binary applied them) upgrades in place:
/// it ends with the very schema of a fresh one, and its rows stay.
#[tokio::test]
async fn a_database_of_before_the_sql_objects_upgrades_to_the_schema_of_a_fresh_one() {
    #[derive(serde::Deserialize)]
    struct Old {
        version: i32,
        name: String,
        sql: String,
    }
    let gz = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/migrations-0001-0019.json.gz"),
    )
    .expect("fixture");
    let mut json = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json)
        .expect("gunzip");
    let old: Vec<Old> = serde_json::from_str(&json).expect("fixture json");
    assert_eq!(old.len(), 19);

    let db = TestDb::empty().await;
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS ops;
         CREATE TABLE ops.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL);
         COMMENT ON TABLE ops.schema_migrations IS 'Ledger of applied migrations (forward-only, embedded in the binary).';",
    )
    .execute(&db.pool)
    .await
    .expect("the old ledger");
    for m in &old {
        let mut tx = db.pool.begin().await.expect("tx");
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql.clone()))
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("old migration {}: {e}", m.version));
        sqlx::query("INSERT INTO ops.schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, md5($3), 0)")
            .bind(m.version)
            .bind(&m.name)
            .bind(&m.sql)
            .execute(&mut *tx)
            .await
            .expect("ledger");
        tx.commit().await.expect("commit");
    }
    sqlx::query("SELECT * FROM ops.maintain_partitions()")
        .execute(&db.pool)
        .await
        .expect("the old binary's partition maintenance");
    // rows of the old schema: a mapping written by hand, as the old README said
    sqlx::query("INSERT INTO fuel.mappings (kind, raw_value, canonical) VALUES ('department', 'opsdept', 'Operations')")
        .execute(&db.pool)
        .await
        .expect("a mapping");

    let report = migrate::run(&db.pool).await.expect("upgrade in place");
    assert_eq!(report.already, 19, "the old migrations are recognised");
    assert!(report.objects_applied > 0);
    assert!(
        report
            .objects_dropped
            .iter()
            .any(|d| d.contains("fuel.parse_time")),
        "functions no file defines are gone: {:?}",
        report.objects_dropped
    );
    let fresh = TestDb::new().await;
    assert!(
        schema_dump(&db.url) == schema_dump(&fresh.url),
        "the upgraded schema differs from a fresh one"
    );
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events.raw WHERE source = 'operator' AND kind = 'fuel_mapping'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("logged");
    assert_eq!(logged, 1, "the mapping is in the log as an operator action");
    // and the next run is a no-op
    let again = migrate::run(&db.pool).await.expect("again");
    assert!(again.applied.is_empty() && again.objects_applied == 0);
}

/// A changed object is applied again; a changed signature replaces the old function; an object
/// no file defines any more is dropped.
#[tokio::test]
async fn sql_objects_follow_their_files() {
    let db = TestDb::new().await;
    let again = migrate::run(&db.pool).await.expect("again");
    assert_eq!(again.objects_applied, 0, "nothing changed, nothing applied");
    // A file changed since it was applied (its checksum in the ledger no longer matches).
    sqlx::query("UPDATE ops.schema_objects SET checksum = 'old' WHERE path = 'serve/local_tz.sql'")
        .execute(&db.pool)
        .await
        .expect("ledger");
    // A function of an older result type, one no file defines, and an overload of a declared
    // name whose parameters the file no longer has (a parameter added since: with a default, the
    // old one would make every call ambiguous).
    sqlx::raw_sql(
        "DROP FUNCTION serve.plate_tail(text);
         CREATE FUNCTION serve.plate_tail(plate text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
         CREATE FUNCTION serve.leftover() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
         CREATE FUNCTION serve.fn_live_view(filters jsonb) RETURNS json LANGUAGE sql AS $$ SELECT '{}'::json $$;",
    )
    .execute(&db.pool)
    .await
    .expect("drift");
    let r = migrate::run(&db.pool).await.expect("apply");
    assert_eq!(r.objects_applied, fleet_store::objects::OBJECTS.len());
    assert_eq!(
        r.objects_dropped,
        vec![
            "function serve.leftover()".to_string(),
            "function serve.fn_live_view(jsonb)".to_string()
        ]
    );
    let live: String = sqlx::query_scalar("SELECT serve.fn_live_view('{}')::text")
        .fetch_one(&db.pool)
        .await
        .expect("the call is not ambiguous");
    assert!(live.contains("geojson"), "{live}");
    let tail: String = sqlx::query_scalar("SELECT serve.plate_tail('KCA 542Q')::text")
        .fetch_one(&db.pool)
        .await
        .expect("tail");
    assert_ne!(
        tail, "1",
        "the function of the file replaced the one of the other signature"
    );
    let fresh = TestDb::new().await;
    assert!(schema_dump(&db.url) == schema_dump(&fresh.url));
}
