//! `state.live_units` against its rule: after every kind of change to its sources (fixes, devices,
//! fittings, lifecycles, truncation), in random order, the table holds exactly what
//! `state.resolve_units` derives from scratch, and every changed row's seq was announced on
//! `fleet_live` by a committed transaction, so a reader of those ranges misses nothing.

use fleet_testkit::TestDb;
use sqlx::postgres::PgListener;

/// The live rows as the triggers kept them, and as the rule derives them now.
const COLUMNS: &str = "unit_key, vehicle_id, imei, imeis, lifecycle, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, odometer_m";

#[derive(Debug, PartialEq, sqlx::FromRow)]
#[allow(dead_code)]
struct Row {
    unit_key: String,
    vehicle_id: Option<i64>,
    imei: String,
    imeis: Vec<String>,
    lifecycle: String,
    fix_time: Option<chrono::DateTime<chrono::Utc>>,
    received_at: Option<chrono::DateTime<chrono::Utc>>,
    lat: Option<f64>,
    lng: Option<f64>,
    speed_kmh: Option<f32>,
    heading: Option<i16>,
    acc_on: Option<bool>,
    odometer_m: Option<i64>,
}

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn the_live_units_follow_every_change_of_their_sources_and_announce_it() {
    let db = TestDb::new().await;
    let mut listener = PgListener::connect_with(&db.pool).await.expect("listen");
    listener.listen("fleet_live").await.expect("listen");
    sqlx::raw_sql(
        "INSERT INTO domain.accounts (account) VALUES ('a1') ON CONFLICT DO NOTHING;
         INSERT INTO domain.vehicles (vehicle_number, plate_key)
         SELECT 'KAA ' || i || 'A', 'KAA' || i || 'A' FROM generate_series(1, 6) i;",
    )
    .execute(&db.pool)
    .await
    .expect("vehicles");
    let vehicles: Vec<i64> =
        sqlx::query_scalar("SELECT vehicle_id FROM domain.vehicles ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .expect("ids");
    let imei = |i: u64| format!("86100000000{i:04}");
    let mut rng = Lcg(20261202);
    let mut last_seq = 0i64;
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for step in 0..400 {
        let d = imei(rng.below(14));
        let v = vehicles[rng.below(vehicles.len() as u64) as usize];
        let kind = rng.below(9);
        let sql = match kind {
            // a fix (every column of it may change), sometimes from a tracker no registry
            // knows, sometimes several trackers in one statement (as the projector writes them)
            0..=2 => {
                let rows: Vec<String> = (0..1 + rng.below(3))
                    .map(|k| {
                        let t = if k == 0 { d.clone() } else { imei(rng.below(14)) };
                        format!(
                            "('{t}', now() - interval '{} s', now() - interval '{} s', {}, {}, {}, {}, {}, {}, 'jimi_push', {step})",
                            rng.below(3000),
                            rng.below(30),
                            -1.0 - rng.below(1000) as f64 / 1000.0,
                            36.0 + rng.below(1000) as f64 / 1000.0,
                            rng.below(90),
                            rng.below(360),
                            rng.below(2) == 0,
                            rng.below(90_000_000)
                        )
                    })
                    .collect();
                let mut rows = rows;
                rows.sort_by(|a, b| a[..17].cmp(&b[..17]));
                rows.dedup_by(|a, b| a[..17] == b[..17]);
                format!(
                    "INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, speed_kmh, heading, acc_on, odometer_m, source, raw_id)
                     VALUES {}
                     ON CONFLICT (imei) DO UPDATE SET fix_time = excluded.fix_time, received_at = excluded.received_at,
                       lat = excluded.lat, lng = excluded.lng, speed_kmh = excluded.speed_kmh, heading = excluded.heading,
                       acc_on = excluded.acc_on, odometer_m = excluded.odometer_m",
                    rows.join(", ")
                )
            }
            3 => format!(
                "INSERT INTO domain.devices (imei, account, lifecycle) VALUES ('{d}', 'a1', 'active') ON CONFLICT DO NOTHING"
            ),
            // fit a known tracker to a vehicle (ending its current fitting first)
            4 | 5 => format!(
                "UPDATE domain.device_assignments SET during = tstzrange(lower(during), now())
                  WHERE imei = '{d}' AND upper_inf(during);
                 INSERT INTO domain.device_assignments (imei, vehicle_id, during)
                 SELECT '{d}', {v}, tstzrange(now(), NULL) FROM domain.devices WHERE imei = '{d}'"
            ),
            6 => format!(
                "DELETE FROM domain.device_assignments WHERE imei = '{d}' AND upper_inf(during)"
            ),
            7 => format!(
                "UPDATE domain.devices SET lifecycle = (ARRAY['active','suspended','decommissioned','provisioned'])[{}] WHERE imei = '{d}'",
                1 + rng.below(4)
            ),
            _ => {
                if rng.below(8) == 0 {
                    "TRUNCATE state.live_positions".to_string()
                } else {
                    format!("DELETE FROM state.live_positions WHERE imei = '{d}'")
                }
            }
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("step {step}: {sql}: {e}"));
        let kept: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM state.live_units WHERE NOT removed ORDER BY 1"
        )))
        .fetch_all(&db.pool)
        .await
        .expect("kept");
        let derived: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM state.resolve_units(NULL) ORDER BY 1"
        )))
        .fetch_all(&db.pool)
        .await
        .expect("derived");
        assert_eq!(kept, derived, "step {step} after {sql}");
        // every row changed since the last step lies in an announced range (notifications
        // arrive on their own connection: wait for them a while)
        let changed: Vec<i64> =
            sqlx::query_scalar("SELECT seq FROM state.live_units WHERE seq > $1")
                .bind(last_seq)
                .fetch_all(&db.pool)
                .await
                .expect("changed");
        let covered = |r: &[(i64, i64)], s: i64| r.iter().any(|(lo, hi)| *lo <= s && s <= *hi);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while changed.iter().any(|s| !covered(&ranges, *s)) && std::time::Instant::now() < deadline
        {
            if let Some(n) = listener.try_recv_timeout().await {
                let (lo, hi) = n.split_once(',').expect("lo,hi");
                ranges.push((
                    lo.parse::<i64>().expect("lo"),
                    hi.parse::<i64>().expect("hi"),
                ));
            }
        }
        for s in &changed {
            assert!(
                covered(&ranges, *s),
                "step {step}: seq {s} was written but never announced ({ranges:?})"
            );
            last_seq = last_seq.max(*s);
        }
    }
    let units: i64 = sqlx::query_scalar("SELECT count(*) FROM state.live_units WHERE NOT removed AND vehicle_id IS NOT NULL AND cardinality(imeis) > 1")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert!(units > 0, "the walk reached vehicles with several trackers");
}

trait TryRecv {
    async fn try_recv_timeout(&mut self) -> Option<String>;
}
impl TryRecv for PgListener {
    async fn try_recv_timeout(&mut self) -> Option<String> {
        match tokio::time::timeout(std::time::Duration::from_millis(100), self.recv()).await {
            Ok(Ok(n)) => Some(n.payload().to_string()),
            _ => None,
        }
    }
}
