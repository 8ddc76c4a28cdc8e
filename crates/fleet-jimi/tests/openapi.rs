//! The simulated vendor Open API over real HTTP: signing, tokens, error codes, quirks, drift.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fleet_core::jimi::format_time;
use fleet_jimi::sign::{password_md5, sign};
use fleet_jimi::sim::fleet::Sim;
use fleet_jimi::sim::new_sim;
use fleet_jimi::sim::openapi::{ApiConfig, spawn};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

struct Client {
    url: String,
    cfg: ApiConfig,
    http: reqwest::Client,
}

impl Client {
    /// Signs and posts `params` plus the common parameters, as the vendor documents.
    async fn call(&self, method: &str, params: &[(&str, &str)]) -> Value {
        self.call_at(method, params, Utc::now(), &self.cfg.app_secret)
            .await
    }

    async fn call_at(
        &self,
        method: &str,
        params: &[(&str, &str)],
        at: chrono::DateTime<Utc>,
        secret: &str,
    ) -> Value {
        let ts = format_time(at);
        let mut all: Vec<(&str, &str)> = vec![
            ("method", method),
            ("timestamp", &ts),
            ("app_key", &self.cfg.app_key),
            ("sign_method", "md5"),
            ("v", "1.0"),
            ("format", "json"),
        ];
        all.extend_from_slice(params);
        let signature = sign(all.iter().copied(), secret);
        all.push(("sign", &signature));
        self.http
            .post(&self.url)
            .form(&all)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    }

    async fn token(&self) -> String {
        let pwd = password_md5(&self.cfg.password);
        let r = self
            .call(
                "jimi.oauth.token.get",
                &[
                    ("user_id", &self.cfg.user_id),
                    ("user_pwd_md5", &pwd),
                    ("expires_in", "7200"),
                ],
            )
            .await;
        assert_eq!(r["code"], 0, "{r}");
        r["result"]["accessToken"]
            .as_str()
            .expect("token")
            .to_string()
    }
}

async fn serve(cfg: ApiConfig, sim_hours: u32) -> (Client, Arc<Mutex<Sim>>, CancellationToken) {
    let start = Utc::now() - chrono::Duration::hours(i64::from(sim_hours));
    let sim = new_sim(30, 9, start).expect("sim");
    for _ in 0..(sim_hours * 60) {
        sim.lock().expect("sim").step(60.0);
    }
    let (base, stop) = spawn(sim.clone(), cfg.clone()).await.expect("serve");
    let url = format!("{base}/route/rest");
    (
        Client {
            url,
            cfg,
            http: fleet_testkit::http(),
        },
        sim,
        stop,
    )
}

/// The `begin_time`/`end_time` of the last three hours, in the vendor's format.
fn last_three_hours() -> (String, String) {
    (
        format_time(Utc::now() - chrono::Duration::hours(3)),
        format_time(Utc::now()),
    )
}

fn fast() -> ApiConfig {
    ApiConfig {
        min_interval: Duration::ZERO,
        token_get_interval: Duration::ZERO,
        ..ApiConfig::default()
    }
}

#[tokio::test]
async fn a_signed_client_reads_the_fleet_with_the_vendors_quirks() {
    let (c, sim, stop) = serve(fast(), 2).await;
    let token = c.token().await;
    let mut seen = 0;
    for account in fleet_jimi::sim::fleet::ACCOUNTS {
        let r = c
            .call(
                "jimi.user.device.location.list",
                &[("access_token", &token), ("target", account)],
            )
            .await;
        assert_eq!(r["code"], 0, "{r}");
        for loc in r["result"].as_array().expect("list") {
            seen += 1;
            assert!(
                loc["lat"].is_string() && loc["speed"].is_string() && loc["accStatus"].is_string(),
                "string-typed numbers: {loc}"
            );
            if loc["expireFlag"] == "0" {
                assert_eq!(
                    (loc["lat"].as_str(), loc["lng"].as_str()),
                    (Some("0.000000"), Some("0.000000"))
                );
            }
        }
        // The list leaves plates and drivers null; the detail has them (FIX-M18).
        let list = c
            .call(
                "jimi.user.device.list",
                &[("access_token", &token), ("target", account)],
            )
            .await;
        let first = &list["result"][0];
        assert!(
            first["vehicleNumber"].is_null() && first["driverName"].is_null(),
            "{first}"
        );
        let imei = first["imei"].as_str().expect("imei");
        let detail = c
            .call(
                "jimi.track.device.detail",
                &[("access_token", &token), ("imei", imei)],
            )
            .await;
        assert!(
            detail["result"]["licensePlatNo"]
                .as_str()
                .is_some_and(|p| p.starts_with('K')),
            "{detail}"
        );
        assert!(detail["result"]["driverName"].is_string());
    }
    let silent = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .filter(|d| d.health == fleet_jimi::sim::fleet::DeviceHealth::Silent)
        .count();
    assert_eq!(
        seen,
        sim.lock().expect("sim").devices.len() - silent,
        "every reporting device, over the three accounts"
    );

    // History: one track point a minute, and alarms with the polling field names (FIX-E06).
    let imei = sim.lock().expect("sim").devices[0].imei.clone();
    let (begin, end) = last_three_hours();
    let track = c
        .call(
            "jimi.device.track.list",
            &[
                ("access_token", &token),
                ("imei", &imei),
                ("begin_time", &begin),
                ("end_time", &end),
            ],
        )
        .await;
    let points = track["result"].as_array().expect("points");
    assert!(points.len() > 100, "{} points", points.len());
    assert!(
        points[0]["gpsSpeed"].is_number() && points[0]["posType"] == 1,
        "track.list numbers are numbers: {}",
        points[0]
    );
    let all: Vec<String> = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .map(|d| d.imei.clone())
        .collect();
    let alarms = c
        .call(
            "jimi.device.alarm.list",
            &[
                ("access_token", &token),
                ("imeis", &all.join(",")),
                ("begin_time", &begin),
                ("end_time", &end),
            ],
        )
        .await;
    let rows = alarms["result"].as_array().expect("alarms");
    assert!(!rows.is_empty(), "two hours of driving raise alarms");
    assert!(
        rows.iter().all(|a| a["alertTypeId"].is_string()
            && a["alarmTypeName"].is_string()
            && a["alertTime"].is_string()),
        "{rows:?}"
    );
    stop.cancel();
}

#[tokio::test]
async fn errors_come_with_the_vendors_codes() {
    let (c, sim, stop) = serve(fast(), 0).await;
    let token = c.token().await;
    let target = [("access_token", token.as_str()), ("target", "demo")];
    // Bad signature, stale timestamp, unknown app key, unknown method, missing or bad token.
    let r = c
        .call_at(
            "jimi.user.device.location.list",
            &target,
            Utc::now(),
            "not-the-secret",
        )
        .await;
    assert_eq!(r["code"], 1001, "{r}");
    let r = c
        .call_at(
            "jimi.user.device.location.list",
            &target,
            Utc::now() - chrono::Duration::minutes(11),
            &c.cfg.app_secret,
        )
        .await;
    assert_eq!(r["code"], 1001, "{r}");
    let other = Client {
        cfg: ApiConfig {
            app_key: "someone-else".into(),
            ..c.cfg.clone()
        },
        url: c.url.clone(),
        http: c.http.clone(),
    };
    assert_eq!(
        other.call("jimi.user.device.location.list", &target).await["code"],
        1002
    );
    assert_eq!(c.call("jimi.no.such.method", &target).await["code"], 1007);
    assert_eq!(
        c.call("jimi.user.device.location.list", &[("target", "demo")])
            .await["code"],
        1004
    );
    assert_eq!(
        c.call(
            "jimi.user.device.location.list",
            &[("access_token", "forged"), ("target", "demo")]
        )
        .await["code"],
        1004
    );
    // Batches over 100 IMEIs.
    let many: Vec<String> = (0..101).map(|i| format!("86000000000{i:04}")).collect();
    assert_eq!(
        c.call(
            "jimi.device.location.get",
            &[("access_token", &token), ("imeis", &many.join(","))]
        )
        .await["code"],
        1001
    );
    let some: Vec<String> = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .take(3)
        .map(|d| d.imei.clone())
        .collect();
    let r = c
        .call(
            "jimi.device.location.get",
            &[("access_token", &token), ("imeis", &some.join(","))],
        )
        .await;
    assert_eq!(r["result"].as_array().map(Vec::len), Some(3));
    // Wrong password.
    let r = c
        .call(
            "jimi.oauth.token.get",
            &[
                ("user_id", "demo"),
                ("user_pwd_md5", &password_md5("guess")),
                ("expires_in", "7200"),
            ],
        )
        .await;
    assert_eq!(r["code"], 1002);
    stop.cancel();
}

#[tokio::test]
async fn polling_too_often_is_1006_and_token_get_is_once_a_minute() {
    let cfg = ApiConfig {
        min_interval: Duration::from_millis(300),
        ..ApiConfig::default()
    };
    let (c, _sim, stop) = serve(cfg, 0).await;
    let token = c.token().await;
    let q = [("access_token", token.as_str()), ("target", "demo")];
    assert_eq!(
        c.call("jimi.user.device.location.list", &q).await["code"],
        0
    );
    assert_eq!(
        c.call("jimi.user.device.location.list", &q).await["code"],
        1006
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        c.call("jimi.user.device.location.list", &q).await["code"],
        0,
        "after backing off"
    );
    let pwd = password_md5(&c.cfg.password);
    let again = c
        .call(
            "jimi.oauth.token.get",
            &[
                ("user_id", "demo"),
                ("user_pwd_md5", &pwd),
                ("expires_in", "7200"),
            ],
        )
        .await;
    assert_eq!(again["code"], 1006, "a second token-get within a minute");
    stop.cancel();
}

#[tokio::test]
async fn tokens_expire_and_refresh() {
    let cfg = ApiConfig {
        max_token_ttl: Duration::from_secs(1),
        ..fast()
    };
    let (c, _sim, stop) = serve(cfg, 0).await;
    let pwd = password_md5(&c.cfg.password);
    let r = c
        .call(
            "jimi.oauth.token.get",
            &[
                ("user_id", "demo"),
                ("user_pwd_md5", &pwd),
                ("expires_in", "7200"),
            ],
        )
        .await;
    assert_eq!(
        r["result"]["expiresIn"], "1",
        "the server grants what it wants, as a string"
    );
    let (access, refresh) = (
        r["result"]["accessToken"].as_str().expect("a").to_string(),
        r["result"]["refreshToken"].as_str().expect("r").to_string(),
    );
    assert_eq!(
        c.call(
            "jimi.user.device.location.list",
            &[("access_token", &access), ("target", "demo")]
        )
        .await["code"],
        0
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        c.call(
            "jimi.user.device.location.list",
            &[("access_token", &access), ("target", "demo")]
        )
        .await["code"],
        1004,
        "expired"
    );
    let bad = c
        .call(
            "jimi.oauth.token.refresh",
            &[
                ("access_token", &access),
                ("refresh_token", "wrong"),
                ("expires_in", "7200"),
            ],
        )
        .await;
    assert_eq!(bad["code"], 1004);
    // A failed refresh consumed nothing it should not: get a fresh pair and refresh it properly.
    let r = c
        .call(
            "jimi.oauth.token.get",
            &[
                ("user_id", "demo"),
                ("user_pwd_md5", &pwd),
                ("expires_in", "7200"),
            ],
        )
        .await;
    let (access, refresh2) = (
        r["result"]["accessToken"].as_str().expect("a").to_string(),
        r["result"]["refreshToken"].as_str().expect("r").to_string(),
    );
    assert_ne!(refresh, refresh2);
    let r = c
        .call(
            "jimi.oauth.token.refresh",
            &[
                ("access_token", &access),
                ("refresh_token", &refresh2),
                ("expires_in", "60"),
            ],
        )
        .await;
    assert_eq!(r["code"], 0, "{r}");
    let new = r["result"]["accessToken"].as_str().expect("new");
    assert_eq!(
        c.call(
            "jimi.user.device.location.list",
            &[("access_token", new), ("target", "demo")]
        )
        .await["code"],
        0
    );
    assert_eq!(
        c.call(
            "jimi.user.device.location.list",
            &[("access_token", &access), ("target", "demo")]
        )
        .await["code"],
        1004,
        "the old token is gone"
    );
    stop.cancel();
}

#[tokio::test]
async fn drift_mode_renames_fields_like_an_upstream_change() {
    let (c, sim, stop) = serve(
        ApiConfig {
            drift: true,
            ..fast()
        },
        2,
    )
    .await;
    let token = c.token().await;
    let all: Vec<String> = sim
        .lock()
        .expect("sim")
        .devices
        .iter()
        .map(|d| d.imei.clone())
        .collect();
    let (begin, end) = last_three_hours();
    let alarms = c
        .call(
            "jimi.device.alarm.list",
            &[
                ("access_token", &token),
                ("imeis", &all.join(",")),
                ("begin_time", &begin),
                ("end_time", &end),
            ],
        )
        .await;
    let first = &alarms["result"][0];
    assert!(
        first["alertTypeId"].is_null() && first["alertId"].is_string(),
        "{first}"
    );
    let loc = c
        .call(
            "jimi.user.device.location.list",
            &[("access_token", &token), ("target", "demo")],
        )
        .await;
    assert!(loc["result"][0]["gpsTime"].is_null() && loc["result"][0]["gpsTimeUtc"].is_string());
    stop.cancel();
}
