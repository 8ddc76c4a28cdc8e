//! The dashboards end to end: `fleet up` with its simulated fleet, driven in headless Chromium
//! through WebDriver (Debian's `chromium` and `chromium-driver`, installed by
//! `scripts/bootstrap test`). Log in (a wrong password first), watch vehicles move on the live
//! map, filter, open a vehicle, run a history query, route from a vehicle and see the nearest
//! vehicles, open the fuel log's chart and tables, and
//! the operations page; no page logs a console error, and none overflows a phone's width.
//!
//! Each page's screenshot is left in `target/screenshots/`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fleet_testkit::TestDb;
use serde_json::{Value, json};

mod common;
use common::{Proc, free_port};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session through chromedriver (plain W3C WebDriver over HTTP).
struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
}

impl Browser {
    async fn start() -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is not installed: run `scripts/bootstrap test` (Debian packages chromium and chromium-driver)");
        let http = fleet_testkit::http();
        let base = format!("http://127.0.0.1:{port}");
        let ready = fleet_testkit::eventually(Duration::from_secs(20), || async {
            http.get(format!("{base}/status"))
                .send()
                .await
                .ok()?
                .status()
                .is_success()
                .then_some(())
        })
        .await;
        assert!(ready.is_some(), "chromedriver did not start");
        let mut b = Self { http, base, driver };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
            ]},
        }}});
        let session = b.call("POST", "/session", caps).await;
        let id = session["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        match self.try_call(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// A WebDriver call; its error as "webdriver METHOD PATH: error: message".
    async fn try_call(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body),
        };
        let r: Value = req
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver json");
        if let Some(err) = r["value"]["error"].as_str() {
            return Err(format!(
                "webdriver {method} {path}: {err}: {}",
                r["value"]["message"]
            ));
        }
        Ok(r["value"].clone())
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({"url": url})).await;
    }

    async fn js(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().expect("element").to_string()
    }

    /// Clicks the element `css` finds. A live page may redraw it between the find and the
    /// click (the element is then stale): it is found again, a few times at most.
    async fn click(&self, css: &str) {
        for attempt in 0.. {
            let el = self.find(css).await;
            match self
                .try_call("POST", &format!("/element/{el}/click"), json!({}))
                .await
            {
                Ok(_) => return,
                Err(e) if e.contains("stale element reference") && attempt < 5 => continue,
                Err(e) => panic!("{e}"),
            }
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call("POST", &format!("/element/{el}/clear"), json!({}))
            .await;
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Waits until `script` (a function body) returns something truthy; returns it.
    async fn until(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(script, json!([])).await;
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits for a prompt (or alert) and returns its text.
    async fn prompt(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let r: Value = self
                .http
                .get(format!("{}/alert/text", self.base))
                .send()
                .await
                .expect("webdriver")
                .json()
                .await
                .expect("json");
            if let Some(text) = r["value"].as_str() {
                return text.to_string();
            }
            assert!(Instant::now() < deadline, "no prompt appeared");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The console's errors since the last call.
    async fn console_errors(&self) -> Vec<String> {
        let log = self
            .call("POST", "/se/log", json!({"type": "browser"}))
            .await;
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn screenshot(&self, name: &str) {
        let png = self.call("GET", "/screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("png");
        assert!(bytes.starts_with(b"\x89PNG"), "{name}: not a PNG");
        // Kept for looking at after a run (CI keeps target/); docs/screenshots comes from a
        // demo that has run a while (scripts/screenshots).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots folder");
        std::fs::write(dir.join(format!("{name}.png")), bytes).expect("write screenshot");
    }

    async fn page_is_clean(&self, page: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "{page}: console errors: {errors:#?}");
        // Keyboard: every control is reachable (nothing taken out of the tab order).
        let unreachable = self
            .js("return [...document.querySelectorAll('a[href], button, input, select')].filter(e => e.tabIndex < 0).length", json!([]))
            .await;
        assert_eq!(
            unreachable,
            json!(0),
            "{page}: controls out of the tab order"
        );
    }
}

impl Drop for Browser {
    /// Ends the session first, so chromedriver closes Chromium (killing chromedriver alone leaves
    /// Chromium running), also when the test failed; then stops chromedriver.
    fn drop(&mut self) {
        if let Some((addr, path)) = self
            .base
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
            && let Ok(mut conn) = std::net::TcpStream::connect(addr)
        {
            use std::io::{Read, Write};
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                conn,
                "DELETE /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = conn.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn the_pages_show_the_fleet_history_fuel_and_operations_in_a_real_browser() {
    let db = TestDb::new().await;
    let password = fleet_serve::auth::ensure_local_admin(&db.pool)
        .await
        .expect("admin")
        .expect("a new admin")
        .1;
    let sim_api = format!("127.0.0.1:{}", free_port());
    let mut up = Proc::spawn(
        &["up"],
        &[
            ("DATABASE_URL", &db.url),
            ("FLEET_LISTEN", "127.0.0.1:0"),
            ("FLEET_WORKER_LISTEN", "127.0.0.1:0"),
            ("FLEET_CRON_LISTEN", "127.0.0.1:0"),
            ("FLEET_SIM_API_LISTEN", &sim_api),
            ("FLEET_SIM_VEHICLES", "12"),
        ],
    );
    let site = format!("http://{}", up.listen_addr());
    let b = Browser::start().await;

    // Live: the login form; a wrong password says so, the right one shows the fleet.
    b.goto(&format!("{site}/live")).await;
    b.until(
        "the login form",
        Duration::from_secs(20),
        "return document.querySelector('dialog#login')?.open",
    )
    .await;
    b.type_into("#login-user", "admin").await;
    b.type_into("#login-password", "not-the-password").await;
    b.click("#login-submit").await;
    let error = b
        .until("the login error", Duration::from_secs(10), "const e = document.querySelector('#login-error'); return e && !e.hidden && e.textContent")
        .await;
    assert!(
        error
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("password")),
        "{error}"
    );
    // The browser logs the refused login as a failed request; that is the only error allowed.
    for e in b.console_errors().await {
        assert!(e.contains("/api/auth/token") && e.contains("401"), "{e}");
    }
    b.type_into("#login-password", &password).await;
    b.click("#login-submit").await;
    b.until(
        "the vehicles",
        Duration::from_secs(90),
        "return document.querySelectorAll('#vehicles li button').length >= 10",
    )
    .await;
    let kpis = b
        .js(
            "return document.querySelector('#kpis').textContent",
            json!([]),
        )
        .await;
    assert!(
        kpis.as_str()
            .is_some_and(|k| k.contains("moving") && k.contains("parked")),
        "{kpis}"
    );
    // The dots move: the live stream puts some vehicle elsewhere.
    let positions = "return Object.fromEntries(fleet.map.getSource('live').serialize().data.features.map(f => [f.properties.vehicle_number, f.geometry.coordinates.join(',')]))";
    let before = b.js(positions, json!([])).await;
    let script = format!(
        "const now = (() => {{ {positions} }})(); const before = {before}; return Object.keys(now).filter(k => before[k] && before[k] !== now[k])[0]"
    );
    let moved = b
        .until(
            "a vehicle to move on the map",
            Duration::from_secs(60),
            &script,
        )
        .await;
    let moved = moved.as_str().expect("a vehicle number").to_string();
    // ... moved by the stream, not by polling: one snapshot, then ticks that carried changes
    let live = b.js("return fleet.live", json!([])).await;
    assert_eq!(
        live["snapshots"], 1,
        "the page loaded the snapshot once: {live}"
    );
    assert!(
        live["ticks"].as_i64().is_some_and(|t| t > 0)
            && live["changes"].as_i64().is_some_and(|c| c > 0),
        "the stream moved the dots: {live}"
    );
    b.page_is_clean("live").await;

    // Filter by the state of the first vehicle: the list shows only that state.
    let state = b
        .js(
            "return fleet.map.getSource('live').serialize().data.features[0].properties.state",
            json!([]),
        )
        .await;
    let state = state.as_str().expect("state").to_string();
    b.js(
        "const s = document.querySelector('select[data-key=states]'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([state]),
    )
    .await;
    let check = format!(
        "const items = [...document.querySelectorAll('#vehicles li button .muted')].map(e => e.textContent); return items.length > 0 && items.every(t => t.startsWith('{state}'))"
    );
    b.until("the filtered list", Duration::from_secs(20), &check)
        .await;

    // Open a vehicle from the list: its details pop up on the map.
    b.click("#vehicles li button").await;
    let details = b
        .until(
            "the vehicle's details",
            Duration::from_secs(10),
            "return document.querySelector('.maplibregl-popup')?.textContent",
        )
        .await;
    assert!(
        details
            .as_str()
            .is_some_and(|d| d.contains("Driver") && d.contains("Last fix")),
        "{details}"
    );
    b.screenshot("live").await;
    b.page_is_clean("live (filtered, vehicle open)").await;

    // History: one vehicle today; totals, a timeline, the track on the map.
    b.goto(&format!("{site}/history")).await;
    b.until(
        "the vehicle picker",
        Duration::from_secs(30),
        "return document.querySelectorAll('#vehicles option').length",
    )
    .await;
    // the vehicle seen moving (so its track is a line), found by its plate typed in lower case
    // without spaces
    let all = b
        .js(
            "return document.querySelectorAll('#vehicles option').length",
            json!([]),
        )
        .await;
    let typed: String = moved
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    b.type_into("#vehicle-find", &typed).await;
    let shown = b
        .js(
            "return [...document.querySelectorAll('#vehicles option')].filter(o => !o.hidden).map(o => o.text)",
            json!([]),
        )
        .await;
    assert_eq!(
        shown,
        json!([moved]),
        "the search narrows {all} vehicles to the one typed"
    );
    b.js(
        "[...document.querySelectorAll('#vehicles option')].find(o => !o.hidden).selected = true;",
        json!([]),
    )
    .await;
    b.click("#run").await;
    b.until(
        "the timeline",
        Duration::from_secs(30),
        "return document.querySelectorAll('#timeline li:not(.empty)').length",
    )
    .await;
    b.until(
        "the track drawn on the map",
        Duration::from_secs(20),
        "return fleet.map.queryRenderedFeatures({layers: ['history-lines']}).length",
    )
    .await;
    b.screenshot("history").await;
    b.page_is_clean("history").await;

    // Addresses: the worker's geocoder gives the live positions theirs from the Monaco extract,
    // and the live view carries them.
    let addressed = fleet_testkit::eventually(Duration::from_secs(60), || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM json_array_elements(serve.fn_live_view('{}'::jsonb)->'geojson'->'features') f
              WHERE f->'properties'->>'address' IS NOT NULL",
        )
        .fetch_one(&db.pool)
        .await
        .ok()?;
        (n >= 5).then_some(n)
    })
    .await;
    assert!(addressed.is_some(), "the live positions have no addresses");

    // Routes: from a vehicle (its plate) to a point in Monaco, then nearest vehicles to it.
    b.goto(&format!("{site}/routes")).await;
    let plate = b
        .until(
            "the vehicles to route from",
            Duration::from_secs(20),
            "return document.querySelector('#vehicle-list option')?.value",
        )
        .await;
    let plate = plate.as_str().expect("a plate").to_string();
    b.type_into("#origin", &plate).await;
    b.type_into("#destination", "7.4275,43.7398").await;
    b.click("#run").await;
    b.until(
        "the route's steps",
        Duration::from_secs(30),
        "return document.querySelectorAll('#steps li').length >= 2 && document.querySelector('#kpis').textContent.includes('ETA')",
    )
    .await;
    b.until(
        "the route drawn on the map",
        Duration::from_secs(20),
        "return fleet.map.queryRenderedFeatures({layers: ['route-lines']}).length",
    )
    .await;
    let status = b
        .js(
            "return document.querySelector('#status').textContent",
            json!([]),
        )
        .await;
    assert!(
        status.as_str().is_some_and(|s| s.contains("arrives")),
        "{status}"
    );
    b.until(
        "the nearest vehicles",
        Duration::from_secs(30),
        "return document.querySelectorAll('#nearest li strong').length >= 1",
    )
    .await;
    b.screenshot("routes").await;
    b.page_is_clean("routes").await;
    // search as you type: a Monaco boulevard is offered for the destination
    b.type_into("#destination", "boulevard").await;
    let offered = b
        .until(
            "search results for the destination",
            Duration::from_secs(20),
            "const o = [...document.querySelectorAll('#destination-list option')].map(o => o.label); return o.some(l => /boulevard/i.test(l)) && o",
        )
        .await;
    assert!(
        offered.as_array().is_some_and(|o| !o.is_empty()),
        "{offered}"
    );
    // at sea: the page says why, and still logs no error of its own
    b.type_into("#destination", "7.50,43.60").await;
    b.click("#run").await;
    let said = b
        .until(
            "the reason there is no route",
            Duration::from_secs(20),
            "const s = document.querySelector('#status'); return s.classList.contains('error') && s.textContent",
        )
        .await;
    assert!(
        said.as_str().is_some_and(|s| s.contains("no road")),
        "{said}"
    );
    // the browser logs the refused request; that is the only error allowed
    for e in b.console_errors().await {
        assert!(e.contains("/api/routes") && e.contains("422"), "{e}");
    }

    // Fuel log: the demo month (imported once the first poll registered the fleet).
    let fills = fleet_testkit::eventually(Duration::from_secs(120), || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM fuel.records")
            .fetch_one(&db.pool)
            .await
            .ok()?;
        (n > 0).then_some(n)
    })
    .await;
    assert!(fills.is_some(), "the demo fuel log was not imported");
    b.goto(&format!("{site}/fuel")).await;
    b.until(
        "the spend chart",
        Duration::from_secs(30),
        "return document.querySelector('#trend .uplot canvas')",
    )
    .await;
    b.until(
        "the per-vehicle table",
        Duration::from_secs(30),
        "return document.querySelectorAll('#by-vehicle tbody tr').length >= 10",
    )
    .await;
    b.until(
        "the recent fills",
        Duration::from_secs(30),
        "return document.querySelectorAll('#recent tbody td:not(.empty)').length",
    )
    .await;
    let spend = b
        .js(
            "return document.querySelector('#kpis').textContent",
            json!([]),
        )
        .await;
    assert!(
        spend
            .as_str()
            .is_some_and(|s| s.contains("KES") && s.contains("km/L")),
        "{spend}"
    );
    b.screenshot("fuel").await;
    b.page_is_clean("fuel").await;

    // A spelling the feed leaves in doubt ("Tech": Technical or Technology?) is confirmed from
    // the page: a mapping, after which the suggestion is gone.
    let plate: String = sqlx::query_scalar(
        "SELECT vehicle_number FROM domain.vehicles ORDER BY vehicle_number LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a vehicle");
    let when = |i: i64| (chrono::Utc::now() - chrono::Duration::hours(30 + i)).to_rfc3339();
    let doubtful: Vec<Value> = ["Tech", "Tech", "Technical", "Technical", "Technical", "Technology", "Technology"]
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"id": format!("page-{i}"), "car": plate, "litres": "30 L", "amount": "Ksh 5,300/=",
                              "fuel_type": "Diesel", "department": d, "record_datetime": when(i as i64)}))
        .collect();
    fleet_fuel::import::run(
        &db.pool,
        fleet_fuel::import::Mode::File,
        vec![(
            "page.json".into(),
            serde_json::to_vec(&json!({"records": doubtful})).expect("json"),
        )],
        true,
        None,
    )
    .await
    .expect("import");
    b.goto(&format!("{site}/fuel")).await;
    b.until(
        "the suggestion",
        Duration::from_secs(30),
        "return document.querySelector('#suggestions button[data-confirm=\"Tech\"][data-to=\"Technical\"]')",
    )
    .await;
    b.click("#suggestions button[data-confirm=\"Tech\"][data-to=\"Technical\"]")
        .await;
    b.until(
        "the mapping confirmed",
        Duration::from_secs(20),
        "return document.querySelector('#status').textContent.includes('is now read as Technical')",
    )
    .await;
    let mapped: Option<String> = sqlx::query_scalar(
        "SELECT canonical FROM fuel.mappings WHERE kind = 'department' AND raw_value = 'tech'",
    )
    .fetch_optional(&db.pool)
    .await
    .expect("mapping");
    assert_eq!(mapped.as_deref(), Some("Technical"));
    b.until(
        "the suggestion gone",
        Duration::from_secs(20),
        "return !document.querySelector('#suggestions button[data-confirm=\"Tech\"]')",
    )
    .await;

    // A flagged fill is voided from the page with a reason: recorded, and marked in the list.
    let id = b
        .js("const v = document.querySelector('#flagged button[data-review=\"void\"]'); setTimeout(() => v.click(), 0); return v.dataset.id", json!([]))
        .await;
    let id = id.as_str().expect("a flagged fill to void").to_string();
    let prompt = b.prompt(Duration::from_secs(10)).await;
    assert!(prompt.contains(&id), "{prompt}");
    b.call("POST", "/alert/text", json!({"text": "entered twice"}))
        .await;
    b.call("POST", "/alert/accept", json!({})).await;
    b.until(
        "the fill voided",
        Duration::from_secs(20),
        "return document.querySelector('#status').textContent.includes('is voided')",
    )
    .await;
    let review: (String, Option<String>) =
        sqlx::query_as("SELECT state, reason FROM fuel.fill_reviews WHERE record_id = $1")
            .bind(&id)
            .fetch_one(&db.pool)
            .await
            .expect("review");
    assert_eq!(
        (review.0.as_str(), review.1.as_deref()),
        ("voided", Some("entered twice"))
    );
    b.page_is_clean("fuel").await;

    // Operations: SLOs, ingest by source, jobs, devices.
    b.goto(&format!("{site}/ops")).await;
    b.until(
        "the SLO table",
        Duration::from_secs(30),
        "return document.querySelectorAll('#slos tbody tr td:not(.empty)').length",
    )
    .await;
    b.until(
        "the devices",
        Duration::from_secs(30),
        "return document.querySelectorAll('#devices tbody tr').length >= 10",
    )
    .await;
    b.until(
        "the contract check",
        Duration::from_secs(60),
        "return document.querySelectorAll('#contract tbody td:not(.empty)').length",
    )
    .await;
    b.screenshot("ops").await;
    b.page_is_clean("ops").await;
    // An admin suspends a tracker from the list, giving a reason; it is recorded.
    let imei = b
        // the change event fires after the script returns: its prompt would block the script
        .js("const s = document.querySelector('#devices select[data-imei]'); s.value = 'suspended'; setTimeout(() => s.dispatchEvent(new Event('change', {bubbles: true})), 0); return s.dataset.imei", json!([]))
        .await;
    let imei = imei.as_str().expect("imei").to_string();
    let prompt = b.prompt(Duration::from_secs(10)).await;
    assert!(
        prompt.contains(&imei) && prompt.contains("suspended"),
        "{prompt}"
    );
    b.call("POST", "/alert/text", json!({"text": "workshop"}))
        .await;
    b.call("POST", "/alert/accept", json!({})).await;
    b.until(
        "the change confirmed",
        Duration::from_secs(20),
        "return document.querySelector('#status').textContent.includes('is now suspended')",
    )
    .await;
    let (state, reason): (String, Option<String>) = sqlx::query_as(
        "SELECT d.lifecycle, (SELECT h.reason FROM domain.device_lifecycle_events h WHERE h.imei = d.imei ORDER BY h.id DESC LIMIT 1)
           FROM domain.devices d WHERE d.imei = $1",
    )
    .bind(&imei)
    .fetch_one(&db.pool)
    .await
    .expect("lifecycle");
    assert_eq!(
        (state.as_str(), reason.as_deref()),
        ("suspended", Some("workshop"))
    );

    // The API reference: Swagger UI, offline, and "Try it out" sends the logged-in token.
    b.goto(&format!("{site}/api/docs")).await;
    b.until(
        "the API reference's operations",
        Duration::from_secs(30),
        "return document.querySelectorAll('.opblock').length > 20",
    )
    .await;
    let who = b
        .js(
            "return document.getElementById('login-state').textContent",
            json!([]),
        )
        .await;
    assert!(
        who.as_str().is_some_and(|w| w.contains("as admin")),
        "{who}"
    );
    b.js(
        "const op = [...document.querySelectorAll('.opblock')].find(o => o.querySelector('.opblock-summary-path')?.dataset.path === '/api/slo'); (op.querySelector('.opblock-summary-control') || op.querySelector('.opblock-summary')).click(); return true",
        json!([]),
    )
    .await;
    b.until(
        "Try it out",
        Duration::from_secs(10),
        "const op = [...document.querySelectorAll('.opblock.is-open')].find(o => o.querySelector('.opblock-summary-path')?.dataset.path === '/api/slo'); const t = op?.querySelector('.try-out__btn'); if (t) t.click(); return !!t",
    )
    .await;
    b.until(
        "Execute",
        Duration::from_secs(10),
        "const op = [...document.querySelectorAll('.opblock.is-open')].find(o => o.querySelector('.opblock-summary-path')?.dataset.path === '/api/slo'); const e = op?.querySelector('.execute'); if (e) e.click(); return !!e",
    )
    .await;
    let status = b
        .until(
            "the response to Try it out",
            Duration::from_secs(20),
            "return document.querySelector('.live-responses-table tr.response .response-col_status')?.textContent.trim()",
        )
        .await;
    assert_eq!(status, json!("200"), "Try it out answered {status}");
    // (Swagger UI's own controls keep its tab order; only the console is ours to check.)
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "api docs: console errors: {errors:#?}");
    b.screenshot("api-docs").await;

    // A phone-sized screen: nothing wider than the screen.
    b.call("POST", "/window/rect", json!({"width": 390, "height": 844}))
        .await;
    for (page, ready) in [
        ("live", "return document.querySelectorAll('.kpi').length"),
        ("fuel", "return document.querySelectorAll('.kpi').length"),
        (
            "routes",
            "return document.querySelectorAll('#vehicle-list option').length",
        ),
    ] {
        b.goto(&format!("{site}/{page}")).await;
        b.until("the page", Duration::from_secs(30), ready).await;
        let overflow = b
            .js(
                "return document.documentElement.scrollWidth - window.innerWidth",
                json!([]),
            )
            .await;
        assert!(
            overflow.as_i64().is_some_and(|o| o <= 0),
            "{page} is {overflow} px wider than a phone"
        );
    }
    b.screenshot("live-phone").await;

    // Log out: back to the login form.
    b.click("#logout").await;
    b.until(
        "the login form after logout",
        Duration::from_secs(20),
        "return document.querySelector('dialog#login')?.open",
    )
    .await;
    up.signal("TERM");
    assert_eq!(up.wait_exit(Duration::from_secs(30)), 0);
}
