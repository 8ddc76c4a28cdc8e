//! The versioned parser: one raw row in, typed events out (ARCHITECTURE §1 rule 4).
//!
//! Pure and synchronous, so it is table-tested without a database. A raw row may yield many
//! events (an IoT Hub `data_list` carries up to ~50 items). Items that cannot be read are
//! reported in the row's error while the readable items are still emitted: one bad fix must not
//! lose its 49 neighbours. Values the database could not store (a heading of 4000, a speed of
//! 1e300) are dropped to null here, so a projection never fails on vendor noise.
//!
//! Bump [`PARSER_VERSION`] whenever the output for some input changes; rows that failed under an
//! older version are re-queued by the worker at start.

use chrono::{DateTime, Utc};
use fleet_core::jimi::{self, Num, PushAlarm, PushEvent, PushGps, PushHeartbeat, PushLbs, Text};
use fleet_core::{fuel, registry};
use serde::Serialize;
use serde_json::{Map, Value, json};

pub const PARSER_VERSION: i32 = 2;

/// Sources whose output changed in a parser version: at start the worker re-parses their rows
/// last parsed by an older one (so existing state follows the new rules). Version 2: fuel
/// records carry the Rust reading of their numbers, times and fields (issue 15).
pub const REPARSE_BELOW: &[(&str, i32)] = &[(fuel::SOURCE, 2)];

/// A raw row as the parser sees it (and as the worker claims it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RawRow {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub source: String,
    pub kind: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Request context stored with the row (for polls: `target`, `imei`, method parameters).
    pub meta: Value,
}

/// One typed event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub item_index: i32,
    pub kind: &'static str,
    pub imei: Option<String>,
    pub event_time: Option<DateTime<Utc>>,
    pub body: Value,
    /// The body as the parsed log stores it, when the parser wrote it as JSON text rather than
    /// as a tree (a fuel record: 100,000 at once, where building, writing and freeing the trees
    /// cost more than reading them); `body` then holds what projectors read in this process.
    pub text: Option<String>,
}

/// Why a body or one item of it could not be read, in words for the operator; kept with the raw
/// row (`parse_error`) or the batch's item errors, never dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ItemError(pub String);

impl From<String> for ItemError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<ItemError> for String {
    fn from(e: ItemError) -> Self {
        e.0
    }
}

impl From<&str> for ItemError {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// What parsing a raw row produced.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    pub events: Vec<Event>,
    /// Why (part of) the row could not be read; `None` when everything was read.
    pub error: Option<String>,
}

impl Outcome {
    pub(crate) fn failed(msg: impl Into<String>) -> Self {
        Self {
            events: Vec::new(),
            error: Some(msg.into()),
        }
    }
}

/// Parses one raw row.
pub fn parse(raw: &RawRow) -> Outcome {
    match (raw.source.as_str(), raw.kind.as_str()) {
        ("jimi_push", jimi::ALARM_PUSH_KIND) => parse_alarm_push(&raw.body),
        ("jimi_push", path) if jimi::IOT_HUB_PATHS.contains(&path) => {
            parse_iot_hub(path, &raw.body)
        }
        ("jimi_poll", method) => crate::poll::parse(method, &raw.body, &raw.meta),
        (registry::SOURCE, registry::KIND) => parse_registry(&raw.body, &raw.meta),
        (crate::actions::SOURCE, kind) => crate::actions::parse(kind, &raw.body),
        (fuel::SOURCE, kind) => parse_fuel(kind, &raw.body),
        (source, kind) => Outcome::failed(format!(
            "no parser for source {source:?} kind {kind:?} (parser v{PARSER_VERSION})"
        )),
    }
}

/// A registry CSV (`fleet import devices`): one `registry_entry` per good line (item index =
/// line number), and the bad lines listed in the row's error so they show in the dead letter.
fn parse_registry(body: &[u8], meta: &Value) -> Outcome {
    let default = meta.get("default_account").and_then(Value::as_str);
    let parsed = match registry::parse(body, default) {
        Ok(p) => p,
        Err(e) => return Outcome::failed(e.to_string()),
    };
    let mut out = Outcome::default();
    for row in parsed.rows {
        out.events.push(Event {
            text: None,
            item_index: i32::try_from(row.line).unwrap_or(i32::MAX),
            kind: "registry_entry",
            imei: Some(row.imei.clone()),
            event_time: None,
            body: serde_json::to_value(&row).unwrap_or_default(),
        });
    }
    let errors: Vec<String> = parsed
        .errors
        .iter()
        .map(|e| format!("line {}: {}", e.line, e.error))
        .collect();
    out.error = unreadable(errors, out.events.len(), "lines");
    out
}

/// A fuel record's parsed body as the log stores it, written straight from its parts: the record
/// verbatim (as JSON: the parsed log's jsonb holds it once and the projector takes it from there)
/// beside the parser's reading.
#[derive(Serialize)]
struct FuelBody<'a> {
    record_id: &'a str,
    record: &'a serde_json::value::RawValue,
    read: &'a fuel::record::Read,
}

/// A fuel feed batch (`fleet import fuel`): one `fuel_record` per record (the last version of an
/// id within the batch) with its reading (`fleet_core::fuel::record`: numbers, times, fields,
/// and what could not be read), or one `fuel_record_vanished` per id a full snapshot no longer
/// lists. What a record lacks is in its reading, so a record never fails here.
fn parse_fuel(kind: &str, body: &[u8]) -> Outcome {
    match kind {
        fuel::KIND_RECORDS => {
            let feed = match fuel::parse_feed(body) {
                Ok(f) => f,
                Err(e) => return Outcome::failed(e.to_string()),
            };
            let events = fuel::latest_per_id(&feed.records)
                .into_iter()
                .enumerate()
                .map(|(i, (id, record))| {
                    let read = fuel::record::read(
                        &serde_json::from_str::<Value>(record.get()).unwrap_or(Value::Null),
                    );
                    let text = serde_json::to_string(&FuelBody {
                        record_id: &id,
                        record,
                        read: &read,
                    })
                    .unwrap_or_else(|_| {
                        // not reachable (text keys only); the record is kept, marked unread
                        json!({"record_id": &id, "record": record.get(), "read": null}).to_string()
                    });
                    Event {
                        item_index: i32::try_from(i).unwrap_or(i32::MAX),
                        kind: "fuel_record",
                        imei: None,
                        event_time: read.filled_at,
                        // what the worker reads in process: the department, for its spellings
                        body: json!({"read": {"department": read.department}}),
                        text: Some(text),
                    }
                })
                .collect();
            Outcome {
                events,
                error: None,
            }
        }
        fuel::KIND_VANISHED => {
            #[derive(serde::Deserialize)]
            struct Vanished {
                record_ids: Vec<String>,
            }
            match serde_json::from_slice::<Vanished>(body) {
                Ok(v) => Outcome {
                    events: v
                        .record_ids
                        .into_iter()
                        .enumerate()
                        .map(|(i, id)| Event {
                            text: None,
                            item_index: i32::try_from(i).unwrap_or(i32::MAX),
                            kind: "fuel_record_vanished",
                            imei: None,
                            event_time: None,
                            body: json!({ "record_id": id }),
                        })
                        .collect(),
                    error: None,
                },
                Err(e) => Outcome::failed(format!("not a list of vanished fuel records: {e}")),
            }
        }
        other => Outcome::failed(format!(
            "no parser for fuel feed kind {other:?} (parser v{PARSER_VERSION})"
        )),
    }
}

/// Form fields of a body: `application/x-www-form-urlencoded`, or a JSON object (some hubs).
fn fields(body: &[u8]) -> Result<Map<String, Value>, ItemError> {
    let trimmed = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &body[i..])
        .unwrap_or(&[]);
    if trimmed.first() == Some(&b'{') {
        return match serde_json::from_slice::<Value>(trimmed) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("the JSON body is not an object".into()),
            Err(e) => Err(format!("the body is neither form data nor valid JSON: {e}").into()),
        };
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| format!("the form body cannot be decoded: {e}"))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// A field that carries JSON, either as a JSON string (the documented wire form) or inline.
fn json_field(f: &Map<String, Value>, name: &str) -> Result<Value, ItemError> {
    match f.get(name) {
        None => Err(format!("the {name} field is missing").into()),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map_err(|e| ItemError(format!("the {name} field is not valid JSON: {e}"))),
        Some(other) => Ok(other.clone()),
    }
}

fn parse_iot_hub(path: &str, body: &[u8]) -> Outcome {
    let f = match fields(body) {
        Ok(f) => f,
        Err(e) => return Outcome::failed(e),
    };
    let items = match json_field(&f, "data_list") {
        Ok(Value::Array(items)) => items,
        Ok(obj @ Value::Object(_)) => vec![obj],
        Ok(_) => return Outcome::failed("data_list is neither an array nor an object"),
        Err(e) => return Outcome::failed(e),
    };
    read_items(items, |item| match path {
        "pushgps" => gps(item),
        "pushhb" => heartbeat(item),
        "pushalarm" => alarm(item),
        "pushevent" => device_event(item),
        "pushlbs" => lbs(item),
        "pushobd" => generic(item, "obd"),
        "pushoil" => generic(item, "fuel_reading"),
        "pushtem" => generic(item, "temperature"),
        "pushtripreport" => trip_report(item),
        _ => generic(item, "fault"),
    })
}

/// The error of a row some of whose `what` (items, lines) could not be read: the count and the
/// first five reasons. `None` when everything was read.
fn unreadable(mut errors: Vec<String>, readable: usize, what: &str) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let n = errors.len();
    let more = if n > 5 {
        format!(" (+{} more)", n - 5)
    } else {
        String::new()
    };
    errors.truncate(5);
    Some(format!(
        "{n} of {} {what} unreadable: {}{more}",
        n + readable,
        errors.join("; ")
    ))
}

/// Reads every item with `read`, tagging each event with its position. Unreadable items are
/// reported in the error (the first five, with a count) while the readable ones are kept.
pub(crate) fn read_items(
    items: Vec<Value>,
    mut read: impl FnMut(Value) -> Result<Event, ItemError>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match read(item) {
            Ok(mut e) => {
                e.item_index = i32::try_from(i).unwrap_or(i32::MAX);
                out.events.push(e);
            }
            Err(e) => errors.push(format!("item {i}: {e}")),
        }
    }
    out.error = unreadable(errors, out.events.len(), "items");
    out
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(item: Value) -> Result<T, ItemError> {
    if !item.is_object() {
        return Err("not a JSON object".into());
    }
    serde_json::from_value(item).map_err(|e| ItemError(e.to_string()))
}

pub(crate) fn imei(t: &Text) -> Result<String, ItemError> {
    let s = t.get().ok_or("deviceImei is missing")?;
    if s.len() < 6 || s.len() > 20 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("deviceImei {s:?} is not an IMEI").into());
    }
    Ok(s.to_string())
}

/// Keeps a value only within what its column can hold and what is physically plausible.
pub(crate) fn bounded(n: Num, lo: f64, hi: f64) -> Option<f64> {
    n.get().filter(|v| (lo..=hi).contains(v))
}

pub(crate) fn bounded_int(n: Num, lo: i64, hi: i64) -> Option<i64> {
    n.int().filter(|v| (lo..=hi).contains(v))
}

pub(crate) fn pos_type(n: Num, text: Option<&str>) -> Option<&'static str> {
    match (n.int(), text.map(str::to_ascii_uppercase).as_deref()) {
        (Some(1), _) | (_, Some("GPS")) => Some("GPS"),
        (Some(2), _) | (_, Some("LBS")) => Some("LBS"),
        (Some(3), _) | (_, Some("WIFI")) => Some("WIFI"),
        (_, Some("BEACON")) => Some("BEACON"),
        _ => None,
    }
}

fn gps(item: Value) -> Result<Event, ItemError> {
    let g: PushGps = decode(item)?;
    let imei = imei(&g.device_imei)?;
    let fix_time = g.gps_time.0.ok_or("gpsTime is missing or unreadable")?;
    let (lat, lng) = (
        g.lat.get().ok_or("lat is missing")?,
        g.lng.get().ok_or("lng is missing")?,
    );
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "position_fix",
        imei: Some(imei.clone()),
        event_time: Some(fix_time),
        body: json!({
            "imei": imei,
            "fix_time": fix_time,
            "gate_time": g.gate_time.0,
            "lat": lat,
            "lng": lng,
            "speed_kmh": bounded(g.gps_speed, 0.0, 1000.0),
            "heading": bounded_int(g.direction, 0, 360),
            "acc_on": g.acc.flag(),
            "pos_type": pos_type(g.post_type, None),
            "satellites": bounded_int(g.satellite_num, 0, 255),
            "altitude_m": bounded(g.altitude, -1000.0, 10_000.0),
            "odometer_m": bounded_int(g.distance, 0, 100_000_000_000),
            "gps_mode": bounded_int(g.gps_mode, 0, 255),
        }),
    })
}

fn heartbeat(item: Value) -> Result<Event, ItemError> {
    let original = item.clone();
    let h: PushHeartbeat = decode(item)?;
    let imei = imei(&h.device_imei)?;
    let t = h.gate_time.0.ok_or("gateTime is missing or unreadable")?;
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "heartbeat",
        imei: Some(imei.clone()),
        event_time: Some(t),
        body: json!({
            "imei": imei,
            "gate_time": t,
            "power_level": bounded_int(h.power_level, 0, 32_767),
            "gsm_signal": bounded_int(h.gsm_sign, 0, 32_767),
            "acc_on": h.acc.flag(),
            "power_status": h.power_status.0,
            "details": original,
        }),
    })
}

fn alarm(item: Value) -> Result<Event, ItemError> {
    let a: PushAlarm = decode(item)?;
    let m = a.msg;
    let imei = imei(&m.device_imei)?;
    let alert_type = m
        .alert_type
        .get()
        .ok_or("msg.alertType is missing")?
        .to_string();
    let t = m
        .alarm_time
        .0
        .or(a.gate_time.0)
        .ok_or("msg.alarmTime is missing or unreadable")?;
    if alert_type == jimi::REMOVE_ALARM {
        return Ok(Event {
            text: None,
            item_index: 0,
            kind: "alarm_end",
            imei: Some(imei.clone()),
            event_time: Some(t),
            // alertValue names the alarm type being cleared, when the device says.
            body: json!({"imei": imei, "end_time": t, "alarm_type": m.alert_value.0}),
        });
    }
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "alarm",
        imei: Some(imei.clone()),
        event_time: Some(t),
        body: alarm_body(
            &imei,
            &alert_type,
            t,
            None,
            m.lat,
            m.lng,
            m.gps_speed,
            m.alert_value.0,
        ),
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn alarm_body(
    imei: &str,
    alarm_type: &str,
    t: DateTime<Utc>,
    name: Option<String>,
    lat: Num,
    lng: Num,
    speed: Num,
    value: Option<String>,
) -> Value {
    json!({
        "imei": imei,
        "alarm_type": alarm_type,
        "alarm_time": t,
        "alarm_name": name,
        "lat": bounded(lat, -90.0, 90.0),
        "lng": bounded(lng, -180.0, 180.0),
        "speed_kmh": bounded(speed, 0.0, 1000.0),
        "alert_value": value,
    })
}

fn device_event(item: Value) -> Result<Event, ItemError> {
    let original = item.clone();
    let e: PushEvent = decode(item)?;
    let imei = imei(&e.device_imei)?;
    let t = e.gate_time.0.ok_or("gateTime is missing or unreadable")?;
    let kind = e.kind.get().ok_or("type is missing")?.to_ascii_uppercase();
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "device_event",
        imei: Some(imei.clone()),
        event_time: Some(t),
        body: json!({"imei": imei, "event_time": t, "event_type": kind, "details": original}),
    })
}

fn lbs(item: Value) -> Result<Event, ItemError> {
    let l: PushLbs = decode(item)?;
    let imei = imei(&l.device_imei)?;
    let t = l.gate_time.0.ok_or("gateTime is missing or unreadable")?;
    let cells = l
        .lbs_json
        .cell_list
        .get()
        .map(jimi::parse_cells)
        .unwrap_or_default();
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "lbs",
        imei: Some(imei.clone()),
        event_time: Some(t),
        body: json!({
            "imei": imei,
            "gate_time": t,
            "mcc": bounded_int(l.lbs_json.mcc, 0, 999),
            "mnc": bounded_int(l.lbs_json.mnc, 0, 999),
            "cells": cells,
        }),
    })
}

/// Undocumented pushes (OBD, oil, temperature, trip report, faults): keep the whole item and
/// lift out what is recognisable — the device, a time, and every numeric reading.
fn generic(item: Value, kind: &'static str) -> Result<Event, ItemError> {
    let Value::Object(map) = &item else {
        return Err("not a JSON object".into());
    };
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| map.get(*k).cloned())
            .and_then(|v| serde_json::from_value::<Text>(v).ok())
            .and_then(|t| t.0)
    };
    let imei_text = Text(text(&["deviceImei", "imei", "IMEI"]));
    let imei = imei(&imei_text)?;
    let t = [
        "dataReportTime",
        "gpsTime",
        "gateTime",
        "time",
        "reportTime",
        "startTime",
    ]
    .iter()
    .find_map(|k| {
        map.get(*k)
            .and_then(|v| v.as_str())
            .and_then(jimi::parse_time)
    })
    .ok_or("no readable time field (dataReportTime, gpsTime, gateTime, time)")?;
    let readings: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "deviceImei" | "imei" | "IMEI"))
        .filter_map(|(k, v)| {
            let n: Num = serde_json::from_value(v.clone()).ok()?;
            let is_numberish = v.is_number()
                || v.as_str().is_some_and(|s| {
                    s.trim()
                        .starts_with(|c: char| c.is_ascii_digit() || c == '-')
                });
            (is_numberish && !v.as_str().is_some_and(|s| s.contains(':')))
                .then_some((k.clone(), json!(n.get()?)))
        })
        .collect();
    Ok(Event {
        text: None,
        item_index: 0,
        kind,
        imei: Some(imei.clone()),
        event_time: Some(t),
        body: json!({"imei": imei, "time": t, "readings": readings, "details": item}),
    })
}

/// A trip report. The push's fields are not public; the names of the polled trip reports are
/// read (`startTime`, `endTime`, `startLat`…, `runTimeSecond`/`travelTime`, `avgSpeed`/
/// `averageSpeed`, `maxSpeed`, `startMileage`/`endMileage`). Distance is the odometer difference
/// when both mileages are there (cumulative metres, unambiguous); otherwise `distance` or
/// `totalMileage` in metres as documented — the vendor has been seen sending km in one field
/// (FIX-M16), which is why the odometer difference wins.
pub(crate) fn trip_report(item: Value) -> Result<Event, ItemError> {
    let mut e = generic(item, "trip_report")?;
    let d = &e.body["details"];
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| d.get(*n).cloned())
            .map(|v| serde_json::from_value::<Num>(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let time = |name: &str| {
        d.get(name)
            .and_then(Value::as_str)
            .and_then(jimi::parse_time)
    };
    let (Some(start), Some(end)) = (time("startTime"), time("endTime")) else {
        return Err("startTime and endTime are required in a trip report".into());
    };
    if end < start {
        return Err("the trip ends before it starts".into());
    }
    let (m0, m1) = (field(&["startMileage"]).get(), field(&["endMileage"]).get());
    let distance = match (m0, m1) {
        (Some(a), Some(b)) if b >= a => Some(b - a),
        _ => field(&["distance", "totalMileage"]).get(),
    }
    .filter(|m| (0.0..=5_000_000.0).contains(m));
    let duration = bounded_int(
        field(&["runTimeSecond", "travelTime", "elapsed"]),
        0,
        30 * 86_400,
    )
    .or(Some((end - start).num_seconds()));
    e.event_time = Some(start);
    e.body = json!({
        "imei": e.imei,
        "start_time": start,
        "end_time": end,
        "start_lat": bounded(field(&["startLat"]), -90.0, 90.0),
        "start_lng": bounded(field(&["startLng"]), -180.0, 180.0),
        "end_lat": bounded(field(&["endLat"]), -90.0, 90.0),
        "end_lng": bounded(field(&["endLng"]), -180.0, 180.0),
        "distance_m": distance,
        "duration_s": duration,
        "avg_speed_kmh": bounded(field(&["avgSpeed", "averageSpeed"]), 0.0, 1000.0),
        "max_speed_kmh": bounded(field(&["maxSpeed"]), 0.0, 1000.0),
        "start_odometer_m": m0.map(|v| v.round() as i64),
        "end_odometer_m": m1.map(|v| v.round() as i64),
        "details": d.clone(),
    });
    Ok(e)
}

fn parse_alarm_push(body: &[u8]) -> Outcome {
    let f = match fields(body) {
        Ok(f) => f,
        Err(e) => return Outcome::failed(e),
    };
    let msg_type = f.get("msgType").and_then(Value::as_str).unwrap_or("");
    if msg_type != jimi::ALARM_PUSH_KIND {
        return Outcome::failed(format!(
            "msgType {msg_type:?} is not {}",
            jimi::ALARM_PUSH_KIND
        ));
    }
    let data = match json_field(&f, "data") {
        Ok(d) => d,
        Err(e) => return Outcome::failed(e),
    };
    let items = match data {
        Value::Array(a) => a,
        other => vec![other],
    };
    read_items(items, |item| {
        let d: jimi::AlarmPushData = decode(item)?;
        let imei = imei(&d.imei)?;
        let ty = d
            .alarm_type
            .get()
            .ok_or("alarmType is missing")?
            .to_string();
        let t = d.alarm_time.0.ok_or("alarmTime is missing or unreadable")?;
        Ok(Event {
            text: None,
            item_index: 0,
            kind: "alarm",
            imei: Some(imei.clone()),
            event_time: Some(t),
            body: alarm_body(&imei, &ty, t, d.alarm_name.0, d.lat, d.lng, Num(None), None),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str, body: &str) -> RawRow {
        RawRow {
            id: 1,
            received_at: Utc::now(),
            source: "jimi_push".into(),
            kind: kind.into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            body: body.as_bytes().to_vec(),
            meta: Value::Null,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> String {
        serde_urlencoded::to_string(pairs).expect("encode")
    }

    #[test]
    fn gps_data_list_yields_one_fix_per_item() {
        let list = r#"[{"deviceImei":"862798050000001","gpsTime":"2026-11-23 08:30:00","lat":"-1.29","lng":"36.82","gpsSpeed":"40","direction":"90","acc":"1","postType":1,"distance":"5000"},
                      {"deviceImei":"862798050000002","gpsTime":"2026-11-23 08:30:05","lat":-4.05,"lng":39.66,"gpsSpeed":0,"direction":"-1"}]"#;
        let out = parse(&raw(
            "pushgps",
            &form(&[("token", "t"), ("data_list", list)]),
        ));
        assert_eq!(out.error, None);
        assert_eq!(out.events.len(), 2);
        let e = &out.events[0];
        assert_eq!(
            (e.kind, e.item_index, e.imei.as_deref()),
            ("position_fix", 0, Some("862798050000001"))
        );
        assert_eq!(e.body["lat"], -1.29);
        assert_eq!(e.body["speed_kmh"], 40.0);
        assert_eq!(e.body["heading"], 90);
        assert_eq!(e.body["acc_on"], true);
        assert_eq!(e.body["pos_type"], "GPS");
        assert_eq!(e.body["odometer_m"], 5000);
        assert_eq!(out.events[1].item_index, 1);
        assert_eq!(
            out.events[1].body["heading"],
            Value::Null,
            "direction -1 means unknown"
        );
    }

    #[test]
    fn one_bad_item_does_not_lose_its_neighbours() {
        let list = r#"[{"deviceImei":"862798050000001","gpsTime":"2026-11-23 08:30:00","lat":1,"lng":2},
                      {"deviceImei":"","gpsTime":"2026-11-23 08:30:00","lat":1,"lng":2},
                      {"deviceImei":"862798050000003","lat":1,"lng":2},
                      "garbage"]"#;
        let out = parse(&raw("pushgps", &form(&[("data_list", list)])));
        assert_eq!(out.events.len(), 1);
        let err = out.error.expect("errors reported");
        assert!(err.starts_with("3 of 4 items unreadable"), "{err}");
        assert!(
            err.contains("item 1: deviceImei is missing") && err.contains("item 2: gpsTime"),
            "{err}"
        );
    }

    #[test]
    fn implausible_values_become_null_not_errors() {
        let list = r#"[{"deviceImei":"862798050000001","gpsTime":"2026-11-23 08:30:00","lat":0,"lng":0,"gpsSpeed":"1e300","direction":"4000","satelliteNum":"999"}]"#;
        let out = parse(&raw("pushgps", &form(&[("data_list", list)])));
        let b = &out.events[0].body;
        assert_eq!(
            (
                b["speed_kmh"].clone(),
                b["heading"].clone(),
                b["satellites"].clone()
            ),
            (Value::Null, Value::Null, Value::Null)
        );
        // (0,0) is parsed and kept in the log; the positions projector refuses to plot it.
        assert_eq!(
            (b["lat"].clone(), b["lng"].clone()),
            (json!(0.0), json!(0.0))
        );
    }

    #[test]
    fn alarms_and_alarm_ends() {
        let list = r#"[{"msgClass":"0","type":"alarm","gateTime":"2026-11-23 08:31:00","msg":{"deviceImei":"862798050000001","alertType":"1","alarmTime":"2026-11-23 08:30:59","lat":"-1.3","lng":"36.8","gpsSpeed":"0"}},
                      {"msgClass":"0","type":"alarm","gateTime":"2026-11-23 08:40:00","msg":{"deviceImei":"862798050000001","alertType":"removeAlarmType","alarmTime":"2026-11-23 08:40:00","alertValue":"1"}}]"#;
        let out = parse(&raw("pushalarm", &form(&[("data_list", list)])));
        assert_eq!(out.error, None);
        assert_eq!(out.events[0].kind, "alarm");
        assert_eq!(out.events[0].body["alarm_type"], "1");
        assert_eq!(out.events[1].kind, "alarm_end");
        assert_eq!(out.events[1].body["alarm_type"], "1");
    }

    #[test]
    fn open_api_alarm_push() {
        let data = r#"{"imei":"862798050000001","deviceName":"KCA 542Q","alarmType":"2","alarmName":"Power cut","lat":-1.3,"lng":36.8,"alarmTime":"2026-11-23 08:30:00"}"#;
        let out = parse(&raw(
            jimi::ALARM_PUSH_KIND,
            &form(&[("msgType", jimi::ALARM_PUSH_KIND), ("data", data)]),
        ));
        assert_eq!(out.error, None);
        assert_eq!(out.events[0].body["alarm_name"], "Power cut");
        let wrong = parse(&raw(
            jimi::ALARM_PUSH_KIND,
            &form(&[("msgType", "other"), ("data", data)]),
        ));
        assert!(wrong.error.expect("error").contains("msgType"));
    }

    #[test]
    fn heartbeat_event_lbs_and_undocumented_pushes() {
        let hb = parse(&raw(
            "pushhb",
            &form(&[(
                "data_list",
                r#"[{"deviceImei":"862798050000001","gateTime":"2026-11-23 08:30:00","powerLevel":"5","gsmSign":"4","acc":"0"}]"#,
            )]),
        ));
        assert_eq!(
            (
                hb.events[0].kind,
                hb.events[0].body["power_level"].clone(),
                hb.events[0].body["acc_on"].clone()
            ),
            ("heartbeat", json!(5), json!(false))
        );
        let ev = parse(&raw(
            "pushevent",
            &form(&[(
                "data_list",
                r#"[{"deviceImei":"862798050000001","type":"login","gateTime":"2026-11-23 08:30:00"}]"#,
            )]),
        ));
        assert_eq!(ev.events[0].body["event_type"], "LOGIN");
        let l = parse(&raw(
            "pushlbs",
            &form(&[(
                "data_list",
                r#"[{"deviceImei":"862798050000001","gateTime":"2026-11-23 08:30:00","lbsJson":{"mcc":"639","mnc":"2","cellList":"100,200,-70"}}]"#,
            )]),
        ));
        assert_eq!(l.events[0].body["cells"][0]["ci"], 200);
        let obd = parse(&raw(
            "pushobd",
            &form(&[(
                "data_list",
                r#"[{"imei":"862798050000001","dataReportTime":"2026-11-23 08:30:00","odometerReading":"12,345.6","currentRPM":"900","vin":"ABC"}]"#,
            )]),
        ));
        assert_eq!(obd.error, None);
        assert_eq!(obd.events[0].kind, "obd");
        assert_eq!(obd.events[0].body["readings"]["odometerReading"], 12345.6);
        assert_eq!(obd.events[0].body["readings"]["currentRPM"], 900.0);
        assert_eq!(obd.events[0].body["details"]["vin"], "ABC");
    }

    #[test]
    fn trip_reports_prefer_the_odometer_difference() {
        let item = r#"[{"deviceImei":"862798050000001","startTime":"2026-11-23 08:00:00","endTime":"2026-11-23 08:20:00","startLat":"-1.29","startLng":"36.82",
                        "endLat":"-1.30","endLng":"36.90","distance":"12.5","runTimeSecond":"1200","avgSpeed":"37.5","maxSpeed":"80",
                        "startMileage":"1000000","endMileage":"1012500"}]"#;
        let out = parse(&raw("pushtripreport", &form(&[("data_list", item)])));
        assert_eq!(out.error, None);
        let b = &out.events[0].body;
        assert_eq!(out.events[0].kind, "trip_report");
        assert_eq!(
            b["distance_m"], 12_500.0,
            "km in `distance` must not win over the odometers"
        );
        assert_eq!(
            (b["duration_s"].clone(), b["max_speed_kmh"].clone()),
            (json!(1200), json!(80.0))
        );
        let bad = parse(&raw(
            "pushtripreport",
            &form(&[(
                "data_list",
                r#"[{"deviceImei":"862798050000001","startTime":"2026-11-23 08:20:00","endTime":"2026-11-23 08:00:00"}]"#,
            )]),
        ));
        assert!(bad.error.expect("error").contains("ends before"));
    }

    #[test]
    fn hostile_and_malformed_bodies_are_errors_not_panics() {
        let bodies: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"token=x".to_vec(),
            b"data_list=not json".to_vec(),
            b"data_list=42".to_vec(),
            b"data_list=%5B%5D".to_vec(),
            vec![0xff, 0xfe, 0x00, 0x01],
            b"{\"data_list\": [1, 2, 3]}".to_vec(),
            b"{not json".to_vec(),
            "data_list=[{\"deviceImei\":\"\u{202e}123456\"}]"
                .as_bytes()
                .to_vec(),
            format!("data_list={}", "[".repeat(10_000)).into_bytes(),
        ];
        for body in bodies {
            let mut r = raw("pushgps", "");
            r.body = body.clone();
            let out = parse(&r);
            assert!(
                out.events.is_empty(),
                "{:?}",
                String::from_utf8_lossy(&body)
            );
        }
        // An empty list is not an error: nothing to do.
        assert_eq!(parse(&raw("pushgps", "data_list=%5B%5D")).error, None);
    }

    #[test]
    fn unknown_sources_say_so() {
        let mut r = raw("pushgps", "");
        r.source = "fuel_feed".into();
        assert!(parse(&r).error.expect("error").contains("no parser"));
    }
}
