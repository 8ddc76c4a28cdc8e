//! Parser v1 for polled Open API responses (`source = jimi_poll`, `kind` = the method).
//!
//! The raw body is the verbatim response envelope; `meta` holds the request context (`target`,
//! `imei` for per-device methods, `acc_type` for parking). Downstream of this module, polls and
//! pushes are the same typed events (ARCHITECTURE §4). Field names follow the polling contracts,
//! which differ from the pushes (jimi-api.md §7): `alertTypeId`/`alarmTypeName`/`alertTime` for
//! alarms (FIX-E06), `durSecond` for parking (FIX-M13), `posType` as text or number, plates only in
//! the device detail (FIX-M18). An item missing a required field is an item error, so a renamed
//! field upstream shows up in the dead letter at once and is re-parsed by the next parser version.

use crate::parser::ItemError;
use fleet_core::jimi::{self, Num, Text, Time};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::parser::{
    Event, Outcome, alarm_body, bounded, bounded_int, decode, imei, pos_type, read_items,
    trip_report,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Location {
    imei: Text,
    gps_time: Time,
    lat: Num,
    lng: Num,
    speed: Num,
    direction: Num,
    acc_status: Num,
    pos_type: Text,
    gps_num: Num,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TrackPoint {
    gps_time: Time,
    lat: Num,
    lng: Num,
    gps_speed: Num,
    direction: Num,
    pos_type: Num,
    satellite: Num,
    acc_status: Num,
    ignition: Text,
    gps_mode: Num,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PolledAlarm {
    imei: Text,
    alert_type_id: Text,
    alarm_type_name: Text,
    alert_time: Time,
    lat: Num,
    lng: Num,
    speed: Num,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Parking {
    imei: Text,
    start_time: Time,
    end_time: Time,
    dur_second: Num,
    stop_second: Num,
    lat: Num,
    lng: Num,
    addr: Text,
    acc: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DeviceInfo {
    imei: Text,
    account: Text,
    device_name: Text,
    mc_type: Text,
    sim: Text,
    iccid: Text,
    vehicle_name: Text,
    vehicle_number: Text,
    license_plat_no: Text,
    driver_name: Text,
    driver_phone: Text,
    enabled_flag: Num,
    activation_time: Time,
    expiration: Time,
    current_mileage: Num,
}

/// Parses one polled response.
pub fn parse(method: &str, body: &[u8], meta: &Value) -> Outcome {
    if !METHODS.contains(&method) {
        return Outcome::failed(format!(
            "no parser for polled method {method:?} (parser v{})",
            crate::parser::PARSER_VERSION
        ));
    }
    let envelope: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Outcome::failed(format!("the response is not JSON: {e}")),
    };
    let code = jimi::envelope_code(&envelope);
    if code != Some(0) {
        return Outcome::failed(format!("the response carries vendor code {code:?}, not 0"));
    }
    let data = jimi::envelope_data(envelope);
    let items: Vec<Value> = jimi::records(&data).into_iter().cloned().collect();
    let meta_str = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_string);
    read_items(items, |item| match method {
        "jimi.user.device.location.list" | "jimi.device.location.get" => location(item),
        "jimi.device.track.list" => track_point(item, meta_str("imei")),
        "jimi.device.alarm.list" => polled_alarm(item),
        "jimi.open.platform.report.parking" => parking(item, meta_str("acc_type")),
        "jimi.device.track.mileage" | "jimi.open.platform.report.trips" => trip_report(item),
        // The method was checked against METHODS above: the rest are device list and detail.
        _ => device_info(item, meta_str("target")),
    })
}

fn location(item: Value) -> Result<Event, ItemError> {
    let l: Location = decode(item)?;
    let imei = imei(&l.imei)?;
    let t = l.gps_time.0.ok_or("gpsTime is missing or unreadable")?;
    let body = json!({
        "imei": imei, "fix_time": t,
        "lat": l.lat.get().ok_or("lat is missing")?, "lng": l.lng.get().ok_or("lng is missing")?,
        "speed_kmh": bounded(l.speed, 0.0, 1000.0), "heading": bounded_int(l.direction, 0, 360),
        "acc_on": l.acc_status.flag(), "pos_type": pos_type(Num(None), l.pos_type.get()),
        "satellites": bounded_int(l.gps_num, 0, 255),
    });
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "position_fix",
        imei: Some(imei),
        event_time: Some(t),
        body,
    })
}

fn track_point(item: Value, meta_imei: Option<String>) -> Result<Event, ItemError> {
    let p: TrackPoint = decode(item)?;
    let imei = imei(&Text(meta_imei))?;
    let t = p.gps_time.0.ok_or("gpsTime is missing or unreadable")?;
    let acc = p.acc_status.flag().or(match p.ignition.get() {
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        _ => None,
    });
    let body = json!({
        "imei": imei, "fix_time": t,
        "lat": p.lat.get().ok_or("lat is missing")?, "lng": p.lng.get().ok_or("lng is missing")?,
        "speed_kmh": bounded(p.gps_speed, 0.0, 1000.0), "heading": bounded_int(p.direction, 0, 360),
        "acc_on": acc, "pos_type": pos_type(p.pos_type, None), "satellites": bounded_int(p.satellite, 0, 255),
        "gps_mode": bounded_int(p.gps_mode, 0, 255),
    });
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "position_fix",
        imei: Some(imei),
        event_time: Some(t),
        body,
    })
}

fn polled_alarm(item: Value) -> Result<Event, ItemError> {
    let a: PolledAlarm = decode(item)?;
    let imei = imei(&a.imei)?;
    let ty = a
        .alert_type_id
        .get()
        .ok_or("alertTypeId is missing")?
        .to_string();
    let t = a.alert_time.0.ok_or("alertTime is missing or unreadable")?;
    let body = alarm_body(
        &imei,
        &ty,
        t,
        a.alarm_type_name.0,
        a.lat,
        a.lng,
        a.speed,
        None,
    );
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "alarm",
        imei: Some(imei),
        event_time: Some(t),
        body,
    })
}

fn parking(item: Value, acc_type: Option<String>) -> Result<Event, ItemError> {
    let p: Parking = decode(item)?;
    let imei = imei(&p.imei)?;
    let start = p.start_time.0.ok_or("startTime is missing or unreadable")?;
    // acc on = idling (engine running), off = parked; from the row, else from the request.
    let acc = p
        .acc
        .get()
        .or(acc_type.as_deref())
        .map(str::to_ascii_lowercase);
    let on = matches!(acc.as_deref(), Some("on" | "1"));
    let duration = bounded_int(p.dur_second, 0, 366 * 86_400)
        .or_else(|| bounded_int(p.stop_second, 0, 366 * 86_400))
        .or_else(|| {
            p.end_time
                .0
                .map(|e| (e - start).num_seconds())
                .filter(|s| *s >= 0)
        });
    let body = json!({
        "imei": imei, "kind": if on { "idling" } else { "parking" }, "start_time": start, "end_time": p.end_time.0,
        "duration_s": duration, "lat": bounded(p.lat, -90.0, 90.0), "lng": bounded(p.lng, -180.0, 180.0), "address": p.addr.0,
    });
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "parking",
        imei: Some(imei),
        event_time: Some(start),
        body,
    })
}

fn device_info(item: Value, target: Option<String>) -> Result<Event, ItemError> {
    let details = item.clone();
    let d: DeviceInfo = decode(item)?;
    let imei = imei(&d.imei)?;
    let body = json!({
        "imei": imei,
        "account": d.account.0.or(target),
        "device_name": d.device_name.0, "model": d.mc_type.0, "sim": d.sim.0, "iccid": d.iccid.0,
        "vehicle_name": d.vehicle_name.0,
        // The detail calls it licensePlatNo; the list's vehicleNumber is often null (FIX-M18).
        "vehicle_number": d.license_plat_no.0.or(d.vehicle_number.0),
        "driver_name": d.driver_name.0, "driver_phone": d.driver_phone.0,
        "enabled": d.enabled_flag.flag(), "activated_at": d.activation_time.0, "expires_at": d.expiration.0,
        "current_mileage_km": bounded(d.current_mileage, 0.0, 10_000_000.0),
        "details": details,
    });
    Ok(Event {
        text: None,
        item_index: 0,
        kind: "device_info",
        imei: Some(imei),
        event_time: None,
        body,
    })
}

/// The polled methods this module reads.
pub const METHODS: &[&str] = &[
    "jimi.user.device.location.list",
    "jimi.device.location.get",
    "jimi.device.track.list",
    "jimi.device.alarm.list",
    "jimi.open.platform.report.parking",
    "jimi.device.track.mileage",
    "jimi.open.platform.report.trips",
    "jimi.user.device.list",
    "jimi.track.device.detail",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(result: Value) -> Vec<u8> {
        json!({"code": 0, "message": "success", "result": result})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn polled_locations_alarms_parking_trips_and_devices() {
        let loc = parse(
            "jimi.user.device.location.list",
            &ok(
                json!([{"imei": "862798050000001", "gpsTime": "2026-11-23 08:30:00", "lat": "-1.29", "lng": "36.82", "speed": "40", "direction": "-1", "accStatus": "1", "posType": "GPS"}]),
            ),
            &json!({"target": "demo"}),
        );
        assert_eq!(loc.error, None);
        assert_eq!(
            (
                loc.events[0].kind,
                loc.events[0].body["speed_kmh"].clone(),
                loc.events[0].body["pos_type"].clone()
            ),
            ("position_fix", json!(40.0), json!("GPS"))
        );
        let track = parse(
            "jimi.device.track.list",
            &ok(
                json!([{"lng": 36.8, "lat": -1.3, "gpsTime": "2026-11-23 08:00:00", "gpsSpeed": 12, "posType": 1, "ignition": "ON"}]),
            ),
            &json!({"imei": "862798050000001"}),
        );
        assert_eq!(track.events[0].body["acc_on"], true);
        let alarm = parse(
            "jimi.device.alarm.list",
            &ok(
                json!([{"imei": "862798050000001", "alertTypeId": "1", "alarmTypeName": "SOS", "alertTime": "2026-11-23 08:00:00", "speed": "0"}]),
            ),
            &Value::Null,
        );
        assert_eq!(alarm.events[0].body["alarm_name"], "SOS");
        let parking = parse(
            "jimi.open.platform.report.parking",
            &json!({"code": "0", "data": {"rows": [{"imei": "862798050000001", "startTime": "2026-11-23T08:00:00Z", "endTime": "2026-11-23T08:30:00Z", "durSecond": "1800", "lat": "-1.3", "lng": "36.8", "addr": "Kenyatta Ave"}]}})
                .to_string()
                .into_bytes(),
            &json!({"acc_type": "off"}),
        );
        assert_eq!(
            parking.error, None,
            "string code and data.rows are both read"
        );
        assert_eq!(
            (
                parking.events[0].body["kind"].clone(),
                parking.events[0].body["duration_s"].clone()
            ),
            (json!("parking"), json!(1800))
        );
        let trips = parse(
            "jimi.device.track.mileage",
            &ok(
                json!([{"imei": "862798050000001", "startTime": "2026-11-23 07:00:00", "endTime": "2026-11-23 07:30:00", "distance": "8.2", "startMileage": "1000", "endMileage": "9200"}]),
            ),
            &Value::Null,
        );
        assert_eq!(trips.events[0].body["distance_m"], 8200.0);
        let detail = parse(
            "jimi.track.device.detail",
            &ok(
                json!({"imei": "862798050000001", "licensePlatNo": "KCA 542Q", "driverName": "John Otieno", "mcType": "X3", "enabledFlag": 1}),
            ),
            &json!({"target": "demo"}),
        );
        let b = &detail.events[0].body;
        assert_eq!(
            (
                b["vehicle_number"].clone(),
                b["account"].clone(),
                b["enabled"].clone()
            ),
            (json!("KCA 542Q"), json!("demo"), json!(true))
        );
    }

    #[test]
    fn a_renamed_field_is_an_item_error_and_vendor_errors_are_not_data() {
        let drifted = parse(
            "jimi.device.alarm.list",
            &ok(
                json!([{"imei": "862798050000001", "alertId": "1", "alertTime": "2026-11-23 08:00:00"}]),
            ),
            &Value::Null,
        );
        assert!(drifted.events.is_empty());
        assert!(
            drifted
                .error
                .expect("error")
                .contains("alertTypeId is missing")
        );
        let e = parse(
            "jimi.device.alarm.list",
            br#"{"code":1004,"message":"token invalid"}"#,
            &Value::Null,
        );
        assert!(e.error.expect("error").contains("1004"));
        assert!(
            parse("jimi.unknown", &ok(json!([])), &Value::Null)
                .error
                .expect("e")
                .contains("no parser")
        );
    }
}
