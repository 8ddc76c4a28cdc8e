//! The simulator's Open API (`POST /route/rest`), a stand-in for the vendor's polled API
//! (jimi-api.md §1–4) serving the same simulated fleet that pushes.
//!
//! Faithful where a client can get it wrong: the MD5 signature is checked (the documented test
//! vector verifies), the timestamp must be within ±10 min, tokens expire and refresh, an invalid
//! or expired token is 1004, calling a method again too soon is 1006 (and token-get more than once
//! a minute), batches over 100 IMEIs are 1001, errors come with HTTP 200, numbers come as strings
//! where the vendor sends strings, the device list leaves names and plates null (FIX-M18), and
//! expired devices report 0,0. `drift` renames fields the way an upstream change would
//! (`alertTypeId` → `alertId`, `gpsTime` → `gpsTimeUtc`) so the contract checker can be tested.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use chrono::{DateTime, NaiveDateTime, Utc};
use fleet_core::jimi::format_time;
use serde_json::{Value, json};

use super::fleet::{DeviceHealth, Sim, alarm_name};
use crate::sign::{password_md5, sign};

/// Credentials and behaviour of the simulated account.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub app_key: String,
    pub app_secret: String,
    pub user_id: String,
    pub password: String,
    /// Rename fields as an upstream contract change would.
    pub drift: bool,
    /// Minimum time between two calls of the same method with the same app key (else 1006).
    pub min_interval: Duration,
    /// Minimum time between two token-get calls (else 1006).
    pub token_get_interval: Duration,
    /// The longest token lifetime granted, whatever was asked (tests shorten it to see expiry).
    pub max_token_ttl: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            app_key: "fleet-sim-key".into(),
            app_secret: "fleet-sim-secret".into(),
            user_id: "demo".into(),
            password: "demo-password".into(),
            drift: false,
            min_interval: Duration::from_millis(200),
            token_get_interval: Duration::from_secs(60),
            max_token_ttl: Duration::from_secs(7200),
        }
    }
}

impl ApiConfig {
    /// The vendor account a client uses to poll this simulated API at `base`: these
    /// credentials, every simulated sub-account, the default pacing and timeout.
    pub fn vendor(&self, base: &str) -> fleet_core::config::VendorConfig {
        let targets: Vec<String> = super::fleet::ACCOUNTS
            .iter()
            .map(|a| a.to_string())
            .collect();
        fleet_core::config::VendorConfig {
            base_url: base.trim_end_matches('/').to_string(),
            app_key: self.app_key.clone(),
            app_secret: self.app_secret.as_str().into(),
            user_id: self.user_id.clone(),
            password: self.password.as_str().into(),
            contract_target: targets[0].clone(),
            targets,
            pace: Duration::from_millis(fleet_core::config::DEFAULT_VENDOR_PACE_MS.into()),
            timeout: Duration::from_secs(fleet_core::config::DEFAULT_VENDOR_TIMEOUT_SECS.into()),
        }
    }
}

struct Token {
    refresh: String,
    expires: Instant,
}

/// Shared state of the API.
#[derive(Clone)]
pub struct Api {
    sim: Arc<Mutex<Sim>>,
    cfg: Arc<ApiConfig>,
    tokens: Arc<Mutex<HashMap<String, Token>>>,
    last_call: Arc<Mutex<HashMap<String, Instant>>>,
}

/// `POST /route/rest` over `sim`.
pub fn router(sim: Arc<Mutex<Sim>>, cfg: ApiConfig) -> Router {
    let api = Api {
        sim,
        cfg: Arc::new(cfg),
        tokens: Arc::default(),
        last_call: Arc::default(),
    };
    Router::new()
        .route("/route/rest", post(handle))
        .with_state(api)
}

/// Serves the Open API over `sim` on a free loopback port until the returned token is cancelled;
/// returns the base URL (what a client's `base_url` takes).
pub async fn spawn(
    sim: Arc<Mutex<Sim>>,
    cfg: ApiConfig,
) -> std::io::Result<(String, tokio_util::sync::CancellationToken)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let stop = tokio_util::sync::CancellationToken::new();
    let (app, token) = (router(sim, cfg), stop.clone());
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
    });
    Ok((base, stop))
}

fn err(code: i64, message: &str) -> Value {
    json!({"code": code, "message": message, "result": null})
}

fn ok(result: Value) -> Value {
    json!({"code": 0, "message": "success", "result": result})
}

fn parse_format_time(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

fn new_token() -> Option<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok()?;
    Some(hex::encode(b))
}

async fn handle(State(api): State<Api>, body: Bytes) -> axum::Json<Value> {
    axum::Json(answer(&api, &body))
}

fn answer(api: &Api, body: &[u8]) -> Value {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return err(1001, "parameter error: the body is not form-encoded");
    };
    let p: HashMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for required in [
        "method",
        "timestamp",
        "app_key",
        "sign",
        "sign_method",
        "v",
        "format",
    ] {
        if p.get(required).is_none_or(|v| v.is_empty()) {
            return err(1001, &format!("parameter error: {required} is missing"));
        }
    }
    if p["app_key"] != api.cfg.app_key {
        return err(1002, "illegal user: unknown app_key");
    }
    match parse_format_time(p["timestamp"]) {
        Some(t) if (Utc::now() - t).num_seconds().abs() <= 600 => {}
        _ => {
            return err(
                1001,
                "parameter error: timestamp missing, malformed or more than 10 minutes off",
            );
        }
    }
    let expected = sign(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &api.cfg.app_secret,
    );
    if !expected.eq_ignore_ascii_case(p["sign"]) {
        return err(1001, "parameter error: sign does not match");
    }
    let method = p["method"];
    {
        let mut last = api.last_call.lock().unwrap_or_else(|e| e.into_inner());
        let limit = if method == "jimi.oauth.token.get" {
            api.cfg.token_get_interval
        } else {
            api.cfg.min_interval
        };
        let key = format!("{}|{method}", p["app_key"]);
        if last.get(&key).is_some_and(|t| t.elapsed() < limit) {
            return err(1006, "request too frequent");
        }
        last.insert(key, Instant::now());
    }
    match method {
        "jimi.oauth.token.get" => token_get(api, &p),
        "jimi.oauth.token.refresh" => token_refresh(api, &p),
        _ => {
            let valid = p.get("access_token").is_some_and(|t| {
                api.tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(*t)
                    .is_some_and(|tok| tok.expires > Instant::now())
            });
            if !valid {
                return err(1004, "token invalid or expired");
            }
            let sim = api.sim.lock().unwrap_or_else(|e| e.into_inner());
            data_method(&api.cfg, &sim, method, &p)
        }
    }
}

fn expires_in(p: &HashMap<&str, &str>) -> Result<u64, Value> {
    match p.get("expires_in").map(|v| v.parse::<u64>()) {
        Some(Ok(n)) if (60..=7200).contains(&n) => Ok(n),
        _ => Err(err(1001, "parameter error: expires_in must be 60..7200")),
    }
}

fn issue(api: &Api, asked: u64) -> Value {
    let secs = asked.min(api.cfg.max_token_ttl.as_secs().max(1));
    let (Some(access), Some(refresh)) = (new_token(), new_token()) else {
        return err(-1, "system busy: no randomness for a token");
    };
    api.tokens.lock().unwrap_or_else(|e| e.into_inner()).insert(
        access.clone(),
        Token {
            refresh: refresh.clone(),
            expires: Instant::now() + Duration::from_secs(secs),
        },
    );
    ok(
        json!({"appKey": api.cfg.app_key, "account": api.cfg.user_id, "accessToken": access, "refreshToken": refresh,
              "expiresIn": secs.to_string(), "time": format_time(Utc::now())}),
    )
}

fn token_get(api: &Api, p: &HashMap<&str, &str>) -> Value {
    let secs = match expires_in(p) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if p.get("user_id") != Some(&api.cfg.user_id.as_str())
        || p.get("user_pwd_md5") != Some(&password_md5(&api.cfg.password).as_str())
    {
        return err(1002, "illegal user: wrong user_id or password");
    }
    issue(api, secs)
}

fn token_refresh(api: &Api, p: &HashMap<&str, &str>) -> Value {
    let secs = match expires_in(p) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let (Some(access), Some(refresh)) = (p.get("access_token"), p.get("refresh_token")) else {
        return err(
            1001,
            "parameter error: access_token and refresh_token are required",
        );
    };
    let known = api
        .tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(*access);
    match known {
        Some(t) if t.refresh == *refresh => issue(api, secs),
        _ => err(1004, "token invalid or expired"),
    }
}

/// The `begin_time` .. `end_time` window of a history call, at most `max_days` long.
fn window(p: &HashMap<&str, &str>, max_days: i64) -> Result<(DateTime<Utc>, DateTime<Utc>), Value> {
    window_named(p, "begin_time", max_days)
}

/// A history window whose start parameter is `start_key` (`begin_time` or `start_time`; the
/// end is `end_time` either way, jimi-api.md §7).
fn window_named(
    p: &HashMap<&str, &str>,
    start_key: &str,
    max_days: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Value> {
    let (Some(begin), Some(end)) = (
        p.get(start_key).and_then(|t| parse_format_time(t)),
        p.get("end_time").and_then(|t| parse_format_time(t)),
    ) else {
        return Err(err(
            1001,
            &format!(
                "parameter error: {start_key} and end_time (yyyy-MM-dd HH:mm:ss) are required"
            ),
        ));
    };
    if end < begin || (end - begin).num_days() > max_days {
        return Err(err(
            1001,
            &format!(
                "parameter error: the window must run forward and span at most {max_days} days"
            ),
        ));
    }
    Ok((begin, end))
}

/// Rows to skip and page size from `start_row` (0-based) and `page_size` (1..=100).
fn rows_page(p: &HashMap<&str, &str>) -> Result<(usize, usize), Value> {
    let size: usize = p
        .get("page_size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    if size == 0 || size > 100 {
        return Err(err(1001, "parameter error: page_size must be 1..100"));
    }
    let start = p.get("start_row").and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((start, size))
}

/// The IMEIs, window (up to 31 days, starting at `start_key`) and page of a report call.
type ReportRequest = (Vec<String>, (DateTime<Utc>, DateTime<Utc>), (usize, usize));

fn report_request(p: &HashMap<&str, &str>, start_key: &str) -> Result<ReportRequest, Value> {
    Ok((
        imeis(p, "imeis")?,
        window_named(p, start_key, 31)?,
        rows_page(p)?,
    ))
}

fn imeis(p: &HashMap<&str, &str>, key: &str) -> Result<Vec<String>, Value> {
    let list: Vec<String> = p
        .get(key)
        .unwrap_or(&"")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if list.is_empty() {
        return Err(err(1001, &format!("parameter error: {key} is missing")));
    }
    if list.len() > 100 {
        return Err(err(
            1001,
            &format!(
                "parameter error: at most 100 IMEIs per call, got {}",
                list.len()
            ),
        ));
    }
    Ok(list)
}

fn data_method(cfg: &ApiConfig, sim: &Sim, method: &str, p: &HashMap<&str, &str>) -> Value {
    let rename = |mut v: Value, from: &str, to: &str| {
        if cfg.drift
            && let Some(o) = v.as_object_mut()
            && let Some(x) = o.remove(from)
        {
            o.insert(to.to_string(), x);
        }
        v
    };
    let location = |d: &super::fleet::Device| {
        let v = &sim.vehicles[d.vehicle];
        let expired = d.health == DeviceHealth::Expired;
        let (lat, lng) = if expired {
            (0.0, 0.0)
        } else {
            (v.pos.lat, v.pos.lng)
        };
        rename(
            json!({"imei": d.imei, "deviceName": v.plate, "status": "1", "lat": format!("{lat:.6}"), "lng": format!("{lng:.6}"),
                   "expireFlag": if expired { "0" } else { "1" }, "activationFlag": "1", "posType": "GPS",
                   "gpsTime": format_time(sim.now), "hbTime": format_time(sim.now), "speed": format!("{:.0}", v.speed_kmh),
                   "accStatus": if v.acc_on { "1" } else { "0" }, "direction": if v.speed_kmh > 0.0 { format!("{:.0}", v.heading) } else { "-1".into() },
                   "electQuantity": "100", "powerValue": "12.6", "trackerOil": "0.00L", "gpsSignal": "4", "gpsNum": "9",
                   "currentMileage": format!("{:.1}", v.odometer_m / 1000.0), "distance": format!("{:.0}", v.odometer_m), "confidence": "1"}),
            "gpsTime",
            "gpsTimeUtc",
        )
    };
    let reporting = |d: &&super::fleet::Device| d.health != DeviceHealth::Silent;
    match method {
        "jimi.user.device.list" => {
            let Some(target) = p.get("target") else {
                return err(1001, "parameter error: target is missing");
            };
            ok(Value::Array(
                sim.devices
                    .iter()
                    .filter(|d| d.account == *target)
                    .map(|d| {
                        json!({"imei": d.imei, "deviceName": null, "mcType": d.model, "mcTypeUseScope": "automobile", "sim": format!("2547{}", &d.imei[7..]),
                               "expiration": "2027-12-31 23:59:59", "activationTime": "2025-01-01 00:00:00", "reMark": null,
                               "vehicleName": null, "vehicleIcon": "car", "vehicleNumber": null, "vehicleModels": null, "carFrame": null,
                               "driverName": null, "driverPhone": null, "enabledFlag": 1, "engineNumber": null, "deviceGroupId": "0", "deviceGroup": "Default group"})
                    })
                    .collect(),
            ))
        }
        "jimi.track.device.detail" => {
            let Some(d) = p
                .get("imei")
                .and_then(|i| sim.devices.iter().find(|d| d.imei == *i))
            else {
                return err(1002, "illegal device");
            };
            let v = &sim.vehicles[d.vehicle];
            ok(
                json!({"imei": d.imei, "account": d.account, "customerName": d.account, "deviceName": v.plate, "mcType": d.model,
                      "licensePlatNo": v.plate, "vehicleNumber": v.plate, "vehicleName": v.plate, "driverName": v.driver, "driverPhone": v.driver_phone,
                      "sim": format!("2547{}", &d.imei[7..]), "iccid": format!("8925402{}", d.imei), "imsi": format!("63902{}", &d.imei[5..]),
                      "vin": null, "vehicleBrand": "Toyota", "fuel_100km": "11", "status": "1", "currentMileage": format!("{:.1}", v.odometer_m / 1000.0),
                      "expiration": "2027-12-31 23:59:59"}),
            )
        }
        "jimi.user.device.location.list" => {
            let Some(target) = p.get("target") else {
                return err(1001, "parameter error: target is missing");
            };
            ok(Value::Array(
                sim.devices
                    .iter()
                    .filter(|d| d.account == *target)
                    .filter(reporting)
                    .map(location)
                    .collect(),
            ))
        }
        "jimi.device.location.get" => match imeis(p, "imeis") {
            Ok(list) => ok(Value::Array(
                sim.devices
                    .iter()
                    .filter(|d| list.contains(&d.imei))
                    .filter(reporting)
                    .map(location)
                    .collect(),
            )),
            Err(e) => e,
        },
        "jimi.device.track.list" => {
            let Some(imei) = p.get("imei") else {
                return err(1001, "parameter error: imei is missing");
            };
            let (begin, end) = match window(p, 7) {
                Ok(w) => w,
                Err(e) => return e,
            };
            let points = sim.tracks.get(*imei).map(|t| {
                t.iter()
                    .filter(|x| x.time >= begin && x.time <= end)
                    .map(|x| {
                        rename(
                            json!({"lng": x.lng, "lat": x.lat, "gpsTime": format_time(x.time), "direction": x.heading.round(), "gpsSpeed": x.speed_kmh.round(),
                                   "posType": 1, "satellite": 9, "ignition": if x.acc_on { "ON" } else { "OFF" }, "accStatus": if x.acc_on { "1" } else { "0" },
                                   "confidence": 1, "gpsMode": 0}),
                            "gpsTime",
                            "gpsTimeUtc",
                        )
                    })
                    .collect::<Vec<_>>()
            });
            ok(Value::Array(points.unwrap_or_default()))
        }
        "jimi.device.alarm.list" => {
            let list = match imeis(
                p,
                if p.contains_key("imeis") {
                    "imeis"
                } else {
                    "imei"
                },
            ) {
                Ok(l) => l,
                Err(e) => return e,
            };
            let (begin, end) = match window(p, 31) {
                Ok(w) => w,
                Err(e) => return e,
            };
            let page_size: usize = p
                .get("page_size")
                .and_then(|s| s.parse().ok())
                .unwrap_or(100);
            if page_size == 0 || page_size > 100 {
                return err(1001, "parameter error: page_size must be 1..100");
            }
            let page_no: usize = p
                .get("page_no")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
                .max(1);
            let rows: Vec<Value> = sim
                .alarms
                .iter()
                .filter(|a| list.contains(&a.imei) && a.time >= begin && a.time <= end)
                .skip((page_no - 1) * page_size)
                .take(page_size)
                .map(|a| {
                    let d = sim.devices.iter().find(|d| d.imei == a.imei);
                    rename(
                        json!({"deviceName": d.map(|d| sim.vehicles[d.vehicle].plate.clone()), "imei": a.imei, "model": d.map(|d| d.model),
                               "account": d.map(|d| d.account), "alertTypeId": a.alarm_type, "alarmTypeName": alarm_name(&a.alarm_type),
                               "alertTime": format_time(a.time), "positioningTime": format_time(a.time), "lat": a.lat, "lng": a.lng,
                               "speed": format!("{:.0}", a.speed_kmh), "geoid": null}),
                        "alertTypeId",
                        "alertId",
                    )
                })
                .collect();
            ok(Value::Array(rows))
        }
        "jimi.device.track.mileage" => {
            let (list, (begin, end), (skip, size)) = match report_request(p, "begin_time") {
                Ok(r) => r,
                Err(e) => return e,
            };
            let list = &list;
            let rows: Vec<Value> = sim
                .trips
                .iter()
                .filter(|t| t.start >= begin && t.start <= end)
                .flat_map(|t| {
                    sim.devices
                        .iter()
                        .filter(move |d| d.vehicle == t.vehicle && list.contains(&d.imei))
                        .map(move |d| (d, t))
                })
                .skip(skip)
                .take(size)
                .map(|(d, t)| {
                    let secs = (t.end - t.start).num_seconds().max(1);
                    let metres = t.end_odometer_m - t.start_odometer_m;
                    json!({"imei": d.imei, "startTime": format_time(t.start), "endTime": format_time(t.end),
                           "startLat": format!("{:.6}", t.from.lat), "startLng": format!("{:.6}", t.from.lng),
                           "endLat": format!("{:.6}", t.to.lat), "endLng": format!("{:.6}", t.to.lng),
                           "runTimeSecond": secs, "distance": format!("{metres:.0}"),
                           "avgSpeed": format!("{:.1}", metres / secs as f64 * 3.6), "maxSpeed": format!("{:.0}", t.max_speed_kmh)})
                })
                .collect();
            ok(Value::Array(rows))
        }
        "jimi.open.platform.report.parking" => {
            let (list, (begin, end), (skip, size)) = match report_request(p, "start_time") {
                Ok(r) => r,
                Err(e) => return e,
            };
            let list = &list;
            let account = p.get("account").copied();
            // The simulator records stops with the engine off; it has no idling report.
            let idling = matches!(p.get("acc_type").copied(), Some("on" | "1"));
            let matching: Vec<(&super::fleet::Device, &super::fleet::StopRecord)> = sim
                .stops
                .iter()
                .filter(|s| !idling && s.start <= end && s.end >= begin)
                .flat_map(|s| {
                    sim.devices
                        .iter()
                        .filter(move |d| {
                            d.vehicle == s.vehicle
                                && list.contains(&d.imei)
                                && account.is_none_or(|a| a == d.account)
                        })
                        .map(move |d| (d, s))
                })
                .collect();
            let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let rows: Vec<Value> = matching
                .iter()
                .skip(skip)
                .take(size)
                .map(|(d, s)| {
                    let secs = (s.end - s.start).num_seconds();
                    json!({"imei": d.imei, "deviceName": sim.vehicles[d.vehicle].plate, "startTime": iso(s.start), "endTime": iso(s.end),
                           "durSecond": secs.to_string(), "stopSecond": secs.to_string(), "lat": format!("{:.6}", s.at.lat),
                           "lng": format!("{:.6}", s.at.lng), "addr": null, "acc": "off"})
                })
                .collect();
            // This method answers in `data.rows`, not `result` (jimi-api.md §4).
            json!({"code": 0, "message": "success", "data": {"rows": rows, "totalCount": matching.len()}})
        }
        other => err(1007, &format!("method error: {other} is not supported")),
    }
}
