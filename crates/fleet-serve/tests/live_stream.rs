//! The live stream (`GET /api/views/live/stream`) over real HTTP on loopback against a real
//! Postgres: a fix written to state reaches an open stream; a reconnect with `Last-Event-ID`
//! gets what it missed (no gap) and one that cannot resume is told to reload; time alone moves a
//! unit to its next state; the filters decide what a stream carries and what leaves it; the token
//! and the server's shutdown end a stream with a `bye`.

mod common;

use std::time::Duration;

use fleet_serve::gateway::{GatewayConfig, areas};
use fleet_testkit::TestDb;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"live-stream-test-secret-0123456789abcdef";

struct Gw {
    base: String,
    token: String,
    stop: CancellationToken,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn gateway(pool: &PgPool, ttl: Duration) -> Gw {
    let mut auth = common::auth_config(SECRET);
    auth.access_ttl = ttl;
    let token = common::reader_token(pool, &auth).await;
    let stop = CancellationToken::new();
    let mut cfg = GatewayConfig::reads_only(auth);
    cfg.shutdown = stop.clone();
    let live = fleet_core::health::Liveness::new("gateway", Duration::from_secs(30));
    live.tick();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let served = tokio::spawn(fleet_serve::serve(
        listener,
        fleet_serve::gateway_router(
            fleet_serve::Health::new(pool.clone(), vec![live]),
            areas(pool.clone(), cfg),
        ),
        stop.clone(),
    ));
    Gw {
        base,
        token,
        stop,
        served,
    }
}

/// Four vehicles (one with two trackers) in two cost centres, each tracker with a fix.
async fn fleet(pool: &PgPool) {
    sqlx::raw_sql(
        "INSERT INTO domain.accounts (account) VALUES ('a1') ON CONFLICT DO NOTHING;
         INSERT INTO domain.cost_centres (code, name) VALUES ('OPS', 'Operations'), ('SAL', 'Sales');
         INSERT INTO domain.vehicles (vehicle_number, plate_key, cost_centre)
         SELECT 'KAA ' || i || 'A', 'KAA' || i || 'A', CASE WHEN i <= 2 THEN 'OPS' ELSE 'SAL' END
           FROM generate_series(1, 4) i;
         INSERT INTO domain.devices (imei, account, lifecycle)
         SELECT '86200000000000' || i, 'a1', 'active' FROM generate_series(1, 5) i;
         INSERT INTO domain.device_assignments (imei, vehicle_id, during)
         SELECT '86200000000000' || i, v.vehicle_id, tstzrange('-infinity', NULL)
           FROM generate_series(1, 5) i
           JOIN domain.vehicles v ON v.vehicle_number = 'KAA ' || least(i, 4) || 'A';
         INSERT INTO state.live_positions (imei, fix_time, received_at, lat, lng, speed_kmh, acc_on, source, raw_id)
         SELECT '86200000000000' || i, now() - interval '5 s', now() - interval '5 s',
                -1.28 - i / 100.0, 36.8, 40, true, 'jimi_push', i
           FROM generate_series(1, 5) i;",
    )
    .execute(pool)
    .await
    .expect("fleet");
}

/// A fix for one tracker, as the positions projector writes it.
async fn fix(pool: &PgPool, imei: &str, lat: f64, speed: f32) {
    sqlx::query(
        "UPDATE state.live_positions SET fix_time = now(), received_at = now(), lat = $2, speed_kmh = $3
          WHERE imei = $1",
    )
    .bind(imei)
    .bind(lat)
    .bind(speed)
    .execute(pool)
    .await
    .expect("fix");
}

/// A client with no overall deadline (a stream is one long response).
fn http() -> reqwest::Client {
    fleet_core::http::client(Duration::from_secs(3600))
        .build()
        .expect("client")
}

/// One open stream, read as Server-Sent Events.
struct Stream {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug)]
struct Event {
    id: Option<String>,
    name: String,
    data: Value,
}

impl Stream {
    async fn open(gw: &Gw, filters: &str, last_id: Option<&str>) -> reqwest::Result<Self> {
        Self::open_as(gw, filters, "geojson", last_id).await
    }

    async fn open_as(
        gw: &Gw,
        filters: &str,
        format: &str,
        last_id: Option<&str>,
    ) -> reqwest::Result<Self> {
        let q =
            serde_urlencoded::to_string([("filters", filters), ("format", format)]).expect("query");
        let mut req = http()
            .get(format!("{}/api/views/live/stream?{q}", gw.base))
            .bearer_auth(&gw.token);
        if let Some(id) = last_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await?;
        Ok(Self {
            resp,
            buf: String::new(),
        })
    }

    /// The next event, or None when the stream ended or nothing came for 10 s.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (None, String::from("message"), Vec::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push(v);
                    }
                }
                let data =
                    serde_json::from_str(&data.join("\n")).expect("each event's data is JSON");
                return Some(Event { id, name, data });
            }
            match tokio::time::timeout(Duration::from_secs(10), self.resp.chunk()).await {
                Ok(Ok(Some(c))) => self.buf.push_str(std::str::from_utf8(&c).expect("utf-8")),
                _ => return None,
            }
        }
    }

    /// Events until `pick` finds what it wants in a `changes` event (at most 40); the last id seen.
    async fn until<T>(&mut self, mut pick: impl FnMut(&Value) -> Option<T>) -> (T, String) {
        let mut last = None;
        for _ in 0..40 {
            let e = self.next().await.expect("the stream goes on");
            if e.id.is_some() {
                last = e.id.clone();
            }
            if e.name == "changes"
                && let Some(t) = pick(&e.data)
            {
                return (t, last.expect("an id"));
            }
        }
        panic!("40 events went by without the change");
    }
}

fn feature<'a>(changes: &'a Value, imei: &str) -> Option<&'a Value> {
    changes["features"]
        .as_array()?
        .iter()
        .find(|f| f["properties"]["imei"] == imei)
}

#[tokio::test]
async fn a_fix_reaches_the_stream_and_a_reconnect_gets_what_it_missed() {
    let db = TestDb::new().await;
    fleet(&db.pool).await;
    let gw = gateway(&db.pool, Duration::from_secs(900)).await;

    // no token, a bad filter: refused before any stream starts
    let anon = http()
        .get(format!("{}/api/views/live/stream", gw.base))
        .send()
        .await
        .expect("get");
    assert_eq!(anon.status(), 401);
    let bad = Stream::open(&gw, r#"{"colour":["red"]}"#, None)
        .await
        .expect("get");
    assert_eq!(bad.resp.status(), 400);

    let mut s = Stream::open(&gw, "{}", None).await.expect("open");
    assert_eq!(s.resp.status(), 200);
    assert_eq!(
        s.resp.headers()["content-type"],
        "text/event-stream",
        "an event stream"
    );
    let hello = s.next().await.expect("hello");
    assert_eq!(hello.name, "hello");
    assert_eq!(
        hello.data["resumed"], false,
        "a new stream loads the snapshot"
    );

    // the snapshot's features carry the seq a tick is compared with
    let snap: Value = http()
        .get(format!("{}/api/views/live", gw.base))
        .bearer_auth(&gw.token)
        .send()
        .await
        .expect("snapshot")
        .json()
        .await
        .expect("json");
    let snap_seq = snap["geojson"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["imei"] == "862000000000001")
        .expect("the unit")["properties"]["seq"]
        .as_i64()
        .expect("seq");

    fix(&db.pool, "862000000000001", -1.5, 35.0).await;
    let (moved, id) = s.until(|c| feature(c, "862000000000001").cloned()).await;
    assert_eq!(moved["geometry"]["coordinates"][1], -1.5);
    assert!(moved["properties"]["seq"].as_i64().expect("seq") > snap_seq);
    assert_eq!(moved["properties"]["state"], "moving");

    // gone for a while: a fix of another vehicle and a tracker decommissioned meanwhile
    drop(s);
    fix(&db.pool, "862000000000002", -1.6, 0.0).await;
    sqlx::query(
        "UPDATE domain.devices SET lifecycle = 'decommissioned' WHERE imei = '862000000000003'",
    )
    .execute(&db.pool)
    .await
    .expect("decommission");
    let gone_key: String = sqlx::query_scalar(
        "SELECT unit_key FROM state.live_units WHERE imei = '862000000000003' AND vehicle_id IS NOT NULL AND removed",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the unit is a tombstone");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut s = Stream::open(&gw, "{}", Some(&id)).await.expect("reopen");
    let hello = s.next().await.expect("hello");
    assert_eq!(hello.data["resumed"], true, "{:?}", hello);
    let mut seen_fix = false;
    let mut seen_gone = false;
    for _ in 0..20 {
        let e = s.next().await.expect("an event");
        assert_ne!(e.name, "reset", "{e:?}");
        if e.name != "changes" {
            continue;
        }
        seen_fix |= feature(&e.data, "862000000000002").is_some_and(|f| {
            f["geometry"]["coordinates"][1] == -1.6 && f["properties"]["state"] == "parked"
        });
        seen_gone |= e.data["removed"]
            .as_array()
            .expect("removed")
            .iter()
            .any(|r| r["id"] == gone_key.as_str());
        if seen_fix && seen_gone {
            break;
        }
    }
    assert!(seen_fix, "the fix written while away was replayed");
    assert!(seen_gone, "the unit removed while away was replayed");

    // an id of another process (or a ring long past): told to reload
    let mut s = Stream::open(&gw, "{}", Some("0.5")).await.expect("reopen");
    let hello = s.next().await.expect("hello");
    assert_eq!(hello.data["resumed"], false);
    assert!(hello.id.is_some_and(|i| i != "0.5"));

    // a vehicle with two trackers shows the freshest: a fix of the second moves the same unit
    fix(&db.pool, "862000000000005", -1.7, 30.0).await;
    let (two, _) = s.until(|c| feature(c, "862000000000005").cloned()).await;
    assert_eq!(two["properties"]["devices"], 2);
    assert_eq!(two["properties"]["vehicle_number"], "KAA 4A");

    // shutting down ends every stream with a bye, and the server stops
    gw.stop.cancel();
    let mut bye = None;
    while let Some(e) = s.next().await {
        if e.name == "bye" {
            bye = Some(e.data);
        }
    }
    assert_eq!(bye.expect("a bye")["reason"], "server_stopping");
    tokio::time::timeout(Duration::from_secs(10), gw.served)
        .await
        .expect("the server stops with streams open")
        .expect("join")
        .expect("serve");
}

#[tokio::test]
async fn time_alone_changes_a_state_and_the_filters_decide_what_a_stream_carries() {
    let db = TestDb::new().await;
    fleet(&db.pool).await;
    let gw = gateway(&db.pool, Duration::from_secs(900)).await;
    let stale: f64 = sqlx::query_scalar("SELECT stale_s FROM serve.thresholds()")
        .fetch_one(&db.pool)
        .await
        .expect("threshold");

    let mut ops = Stream::open(&gw, r#"{"cost_centres":["OPS"]}"#, None)
        .await
        .expect("open");
    let mut moving = Stream::open(&gw, r#"{"states":["moving"]}"#, None)
        .await
        .expect("open");
    assert_eq!(ops.next().await.expect("hello").name, "hello");
    assert_eq!(moving.next().await.expect("hello").name, "hello");

    // a fix that turns stale two seconds from now, and no write after it
    sqlx::query(
        "UPDATE state.live_positions SET fix_time = now() - make_interval(secs => $1 - 2),
                received_at = now() - make_interval(secs => $1 - 2), speed_kmh = 50
          WHERE imei = '862000000000001'",
    )
    .bind(stale)
    .execute(&db.pool)
    .await
    .expect("fix");
    let (first, _) = ops.until(|c| feature(c, "862000000000001").cloned()).await;
    assert_eq!(first["properties"]["state"], "moving");
    let (later, _) = ops
        .until(|c| {
            feature(c, "862000000000001")
                .filter(|f| f["properties"]["state"] != "moving")
                .cloned()
        })
        .await;
    assert_eq!(
        later["properties"]["state"], "unknown",
        "stale with time, no fix"
    );
    assert_eq!(
        later["properties"]["seq"], first["properties"]["seq"],
        "the row did not change: the state is computed"
    );

    // the "moving" stream: the unit went stale, so it leaves that stream
    let unit: String = sqlx::query_scalar(
        "SELECT unit_key FROM state.live_units WHERE imei = '862000000000001' AND NOT removed",
    )
    .fetch_one(&db.pool)
    .await
    .expect("unit");
    moving
        .until(|c| {
            c["removed"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["id"] == unit.as_str()))
                .map(|_| ())
        })
        .await;

    // a fix of a Sales vehicle never reaches the OPS stream; an OPS one does
    fix(&db.pool, "862000000000003", -1.9, 20.0).await;
    fix(&db.pool, "862000000000002", -1.95, 20.0).await;
    let mut carried_sales = false;
    ops.until(|c| {
        carried_sales |= feature(c, "862000000000003").is_some();
        feature(c, "862000000000002").map(|_| ())
    })
    .await;
    assert!(!carried_sales, "a Sales vehicle on the OPS stream");

    // the registry changes what a feature shows without a fix: a new plate spelling reaches the
    // stream, and a vehicle moved to another cost centre leaves the OPS stream
    sqlx::query("UPDATE domain.vehicles SET vehicle_number = 'KAA 2A (spare)' WHERE vehicle_number = 'KAA 2A'")
        .execute(&db.pool)
        .await
        .expect("rename");
    ops.until(|c| {
        feature(c, "862000000000002")
            .filter(|f| f["properties"]["vehicle_number"] == "KAA 2A (spare)")
            .map(|_| ())
    })
    .await;
    let two: String = sqlx::query_scalar(
        "SELECT unit_key FROM state.live_units WHERE imei = '862000000000002' AND NOT removed",
    )
    .fetch_one(&db.pool)
    .await
    .expect("unit");
    sqlx::query(
        "UPDATE domain.vehicles SET cost_centre = 'SAL' WHERE vehicle_number = 'KAA 2A (spare)'",
    )
    .execute(&db.pool)
    .await
    .expect("move");
    ops.until(|c| {
        c["removed"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == two.as_str()))
            .map(|_| ())
    })
    .await;
    // an unchanged rewrite of the whole registry touches no unit
    let before: i64 = sqlx::query_scalar("SELECT max(seq) FROM state.live_units")
        .fetch_one(&db.pool)
        .await
        .expect("seq");
    sqlx::raw_sql(
        "UPDATE domain.vehicles SET vehicle_number = vehicle_number;
         UPDATE domain.cost_centres SET colour = colour;",
    )
    .execute(&db.pool)
    .await
    .expect("rewrite");
    let after: i64 = sqlx::query_scalar("SELECT max(seq) FROM state.live_units")
        .fetch_one(&db.pool)
        .await
        .expect("seq");
    assert_eq!(before, after);

    // a new stale threshold changes the state the stream shows, without a fix
    sqlx::query("UPDATE slo.targets SET threshold = 100000 WHERE metric = 'stale_gps_sec'")
        .execute(&db.pool)
        .await
        .expect("threshold");
    ops.until(|c| {
        feature(c, "862000000000001")
            .filter(|f| f["properties"]["state"] == "moving")
            .map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn a_stream_ends_when_its_token_expires() {
    let db = TestDb::new().await;
    fleet(&db.pool).await;
    let gw = gateway(&db.pool, Duration::from_secs(3)).await;
    let mut s = Stream::open(&gw, "{}", None).await.expect("open");
    let mut bye = None;
    while let Some(e) = s.next().await {
        if e.name == "bye" {
            bye = Some(e.data);
        }
    }
    assert_eq!(bye.expect("a bye")["reason"], "token_expired");
}

/// GET with the reader's token; the status and the JSON body.
async fn get(gw: &Gw, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let q = serde_urlencoded::to_string(query).expect("query");
    let r = http()
        .get(format!("{}{path}?{q}", gw.base))
        .bearer_auth(&gw.token)
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn plates(view: &Value) -> Vec<String> {
    let mut p: Vec<String> = view["geojson"]["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            f["properties"]["vehicle_number"]
                .as_str()
                .expect("plate")
                .to_string()
        })
        .collect();
    p.sort();
    p
}

#[tokio::test]
async fn the_snapshot_takes_the_map_bounds_and_a_compact_form() {
    let db = TestDb::new().await;
    fleet(&db.pool).await;
    let gw = gateway(&db.pool, Duration::from_secs(900)).await;
    let live = "/api/views/live";

    // the fixes lie at 36.8 E, 1.29 S (KAA 1A) to 1.33 S (KAA 4A's second tracker)
    let (s, v) = get(
        &gw,
        live,
        &[("filters", r#"{"bbox":[36.79,-1.305,36.81,-1.285]}"#)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(plates(&v), ["KAA 1A", "KAA 2A"]);
    assert_eq!(
        v["summary"]["vehicles"], 2,
        "the counts are of the bounds too"
    );
    let (_, v) = get(&gw, live, &[("filters", r#"{"bbox":[30,-2,40,0]}"#)]).await;
    assert_eq!(plates(&v).len(), 4);
    // west > east: the bounds cross the antimeridian (the Pacific), where no vehicle is
    let (_, v) = get(&gw, live, &[("filters", r#"{"bbox":[170,-90,-170,90]}"#)]).await;
    assert!(plates(&v).is_empty(), "{v}");
    let (_, v) = get(&gw, live, &[("filters", r#"{"bbox":[-170,-90,40,90]}"#)]).await;
    assert_eq!(plates(&v).len(), 4);
    for bad in [
        r#"{"bbox":[36.8,-1.3]}"#,
        r#"{"bbox":[36.8,-1.2,36.9,-1.3]}"#,
        r#"{"bbox":"36,1,37,2"}"#,
    ] {
        let (s, v) = get(&gw, live, &[("filters", bad)]).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(v.to_string().contains("bbox"), "{v}");
    }

    // zoomed out below the threshold: counts per cell where the vehicles are, no vehicle features
    let (s, v) = get(&gw, live, &[("filters", r#"{"zoom":5}"#)]).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("geojson").is_none(), "{v}");
    let cells = v["cells"]["features"].as_array().expect("cells");
    assert_eq!(cells.len(), 1, "all within 2.8° of each other: {v}");
    assert_eq!(cells[0]["properties"]["count"], 4);
    assert_eq!(cells[0]["properties"]["moving"], 4);
    let lat = cells[0]["geometry"]["coordinates"][1]
        .as_f64()
        .expect("lat");
    assert!(
        (-1.34..-1.28).contains(&lat),
        "the vehicles' centre, not the cell's corner: {lat}"
    );
    let (_, v) = get(&gw, live, &[("filters", r#"{"zoom":16}"#)]).await;
    assert_eq!(plates(&v).len(), 4, "from the threshold up, each vehicle");
    sqlx::query("UPDATE slo.targets SET threshold = 4 WHERE metric = 'live_vehicles_from_zoom'")
        .execute(&db.pool)
        .await
        .expect("setting");
    let (_, v) = get(&gw, live, &[("filters", r#"{"zoom":5}"#)]).await;
    assert_eq!(plates(&v).len(), 4, "the threshold is a setting");

    // compact: the same vehicles as rows of the named columns
    let (_, full) = get(&gw, live, &[]).await;
    let (s, c) = get(&gw, live, &[("format", "compact")]).await;
    assert_eq!(s, 200, "{c}");
    assert!(c.get("geojson").is_none());
    let columns: Vec<&str> = c["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("name"))
        .collect();
    let rows = c["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let col = |name: &str| columns.iter().position(|c| *c == name).expect(name);
    for f in full["geojson"]["features"].as_array().expect("features") {
        let row = rows
            .iter()
            .find(|r| r[col("id")] == f["id"])
            .expect("every feature has its row");
        assert_eq!(row.as_array().expect("row").len(), columns.len());
        assert_eq!(row[col("lat")], f["geometry"]["coordinates"][1]);
        assert_eq!(row[col("state")], f["properties"]["state"]);
        assert_eq!(row[col("seq")], f["properties"]["seq"]);
        assert_eq!(
            row[col("vehicle_number")],
            f["properties"]["vehicle_number"]
        );
    }
    assert_eq!(c["summary"]["vehicles"], full["summary"]["vehicles"]);
    assert!(c.to_string().len() < full.to_string().len() * 2 / 3);
    let (s, _) = get(&gw, live, &[("format", "xml")]).await;
    assert_eq!(s, 400);
    let (s, _) = get(&gw, "/api/analytics/idle", &[("format", "compact")]).await;
    assert_eq!(s, 400, "format is the live view's alone");

    // a compact stream: the ticks' units as rows of the same columns
    let bad = Stream::open_as(&gw, "{}", "xml", None).await.expect("get");
    assert_eq!(bad.resp.status(), 400);
    let mut rows = Stream::open_as(&gw, "{}", "compact", None)
        .await
        .expect("open");
    assert_eq!(rows.next().await.expect("hello").name, "hello");
    fix(&db.pool, "862000000000002", -1.4, 30.0).await;
    let (row, _) = rows
        .until(|c| {
            assert!(c.get("features").is_none(), "{c}");
            let imei = c["columns"].as_array()?.iter().position(|n| n == "imei")?;
            c["rows"]
                .as_array()?
                .iter()
                .find(|r| r[imei] == "862000000000002")
                .cloned()
        })
        .await;
    assert_eq!(row[col("lat")], -1.4);
    drop(rows);

    // a stream of the bounds: a vehicle that drives out of them leaves it
    let mut s = Stream::open(&gw, r#"{"bbox":[36.79,-1.305,36.81,-1.285]}"#, None)
        .await
        .expect("open");
    assert_eq!(s.next().await.expect("hello").name, "hello");
    fix(&db.pool, "862000000000001", -1.5, 30.0).await;
    let unit: String = sqlx::query_scalar(
        "SELECT unit_key FROM state.live_units WHERE imei = '862000000000001' AND NOT removed",
    )
    .fetch_one(&db.pool)
    .await
    .expect("unit");
    s.until(|c| {
        c["removed"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == unit.as_str()))
            .map(|_| ())
    })
    .await;
}
