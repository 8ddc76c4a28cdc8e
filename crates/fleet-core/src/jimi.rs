//! Jimi IoT / Tracksolid Pro wire contracts (vendor types, kept apart from domain types).
//!
//! The vendor is loose with types (jimi-api.md §7): numbers arrive as numbers or strings, with
//! units inside (`"0.00L"`, `"12km/h"`), thousands separators, `""`, `"-1"` or null; times are
//! `yyyy-MM-dd HH:mm:ss` UTC or ISO-8601. [`Num`], [`Text`] and [`parse_time`] absorb that once,
//! so the contracts below read like the documentation.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number the vendor may send as a number, a string (with units or commas), `""` or null.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Num(pub Option<f64>);

impl Num {
    pub fn get(self) -> Option<f64> {
        self.0
    }

    /// As an integer (rounded), when present and finite.
    pub fn int(self) -> Option<i64> {
        self.0.filter(|v| v.is_finite()).map(|v| v.round() as i64)
    }

    /// `true` for 1, `false` for 0, `None` otherwise.
    pub fn flag(self) -> Option<bool> {
        match self.int() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        }
    }
}

/// Reads the leading number of `s`: `"12.5km/h"` → 12.5, `"1,234"` → 1234, `"0.00L"` → 0.
pub fn lenient_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != ',' && *c != '_').collect();
    let end = cleaned
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit()
                || *c == '.'
                || ((*c == '-' || *c == '+') && *i == 0)
                || *c == 'e'
                || *c == 'E'
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    let mut num = &cleaned[..end];
    // Trailing exponent markers without digits ("12e") are not part of the number.
    while num.ends_with(['e', 'E', '.', '-', '+']) {
        num = &num[..num.len() - 1];
    }
    num.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Num(match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => lenient_number(&s),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }))
    }
}

/// Text the vendor may send as a string or a number; empty and null are `None`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text(pub Option<String>);

impl Text {
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Text(match Value::deserialize(d)? {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }))
    }
}

/// Parses a vendor time: `yyyy-MM-dd HH:mm:ss` (UTC), ISO-8601 with zone, or epoch seconds/millis.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        let n: i64 = t.parse().ok()?;
        // Millisecond epochs have 13 digits in this century.
        let secs = if n > 100_000_000_000 { n / 1000 } else { n };
        return Utc.timestamp_opt(secs, 0).single();
    }
    None
}

/// Formats a time the way the vendor writes it: `yyyy-MM-dd HH:mm:ss`, UTC.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A vendor time field (see [`parse_time`]); numbers are epoch seconds or millis.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Time(match Value::deserialize(d)? {
            Value::String(s) => parse_time(&s),
            Value::Number(n) => n.as_i64().and_then(|v| parse_time(&v.to_string())),
            _ => None,
        }))
    }
}

/// IoT Hub `/pushgps` item.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushGps {
    pub device_imei: Text,
    pub gps_time: Time,
    pub gate_time: Time,
    pub satellite_num: Num,
    pub lat: Num,
    pub lng: Num,
    pub gps_mode: Num,
    pub gps_speed: Num,
    pub direction: Num,
    pub acc: Num,
    pub post_type: Num,
    pub altitude: Num,
    pub status: Text,
    /// Odometer in metres.
    pub distance: Num,
    pub post_method: Text,
    pub sos_status: Num,
    pub door_status: Num,
    pub temperature: Num,
}

/// IoT Hub `/pushhb` item.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushHeartbeat {
    pub device_imei: Text,
    pub gate_time: Time,
    pub power_level: Num,
    pub gsm_sign: Num,
    pub acc: Num,
    pub oil_ele: Num,
    pub gps_pos: Num,
    pub remote_lock: Num,
    pub power_status: Text,
    pub fortify: Num,
}

/// IoT Hub `/pushalarm` item; the alarm itself is in `msg`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushAlarm {
    pub msg_class: Text,
    #[serde(rename = "type")]
    pub kind: Text,
    pub gate_time: Time,
    pub msg: PushAlarmMsg,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushAlarmMsg {
    pub device_imei: Text,
    pub alert_type: Text,
    pub alarm_time: Time,
    pub lat: Num,
    pub lng: Num,
    pub gps_speed: Num,
    pub alert_value: Text,
}

/// The Open API envelope's code, a number or a string (jimi-api.md §3).
pub fn envelope_code(envelope: &Value) -> Option<i64> {
    match envelope.get("code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The envelope's payload: `result`, else `data` (some methods use one, some the other).
pub fn envelope_data(envelope: Value) -> Value {
    let Value::Object(mut o) = envelope else {
        return Value::Null;
    };
    match o.remove("result") {
        Some(r) if !r.is_null() => r,
        _ => o.remove("data").unwrap_or(Value::Null),
    }
}

/// The `imei` of each record that has one (device lists).
pub fn imeis_of<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    records
        .into_iter()
        .filter_map(|d| d.get("imei").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The records of a payload: the array itself, an object's `rows` (paged reports), or a single
/// object (detail calls).
pub fn records(data: &Value) -> Vec<&Value> {
    match data {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("rows") {
            Some(Value::Array(rows)) => rows.iter().collect(),
            _ => vec![data],
        },
        _ => Vec::new(),
    }
}

/// The `alertType` that ends an alarm instead of raising one.
pub const REMOVE_ALARM: &str = "removeAlarmType";

/// IoT Hub `/pushevent` item (LOGIN / LOGOUT).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushEvent {
    pub device_imei: Text,
    #[serde(rename = "type")]
    pub kind: Text,
    pub gate_time: Time,
    pub timezone: Text,
}

/// IoT Hub `/pushlbs` item.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PushLbs {
    pub device_imei: Text,
    pub gate_time: Time,
    pub post_type: Num,
    pub lbs_json: LbsJson,
}

/// `lbsJson` may itself arrive as a JSON string.
#[derive(Debug, Default)]
pub struct LbsJson {
    pub mcc: Num,
    pub mnc: Num,
    /// `"LAC,CI,RSSI;LAC,CI,RSSI"`.
    pub cell_list: Text,
}

impl<'de> Deserialize<'de> for LbsJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Default, Deserialize)]
        #[serde(default, rename_all = "camelCase")]
        struct Inner {
            mcc: Num,
            mnc: Num,
            cell_list: Text,
        }
        let v = Value::deserialize(d)?;
        let v = match v {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
            other => other,
        };
        let inner: Inner = serde_json::from_value(v).unwrap_or_default();
        Ok(LbsJson {
            mcc: inner.mcc,
            mnc: inner.mnc,
            cell_list: inner.cell_list,
        })
    }
}

/// One cell of an LBS report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    pub lac: i64,
    pub ci: i64,
    pub rssi: Option<i64>,
}

/// Parses `"LAC,CI,RSSI;..."`, skipping malformed cells.
pub fn parse_cells(list: &str) -> Vec<Cell> {
    list.split(';')
        .filter_map(|c| {
            let mut it = c.split(',').map(|p| p.trim().parse::<i64>().ok());
            let lac = it.next()??;
            let ci = it.next()??;
            Some(Cell {
                lac,
                ci,
                rssi: it.next().flatten(),
            })
        })
        .collect()
}

/// Open API alarm push (`msgType=jimi.push.device.alarm`) `data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AlarmPushData {
    pub imei: Text,
    pub device_name: Text,
    pub alarm_type: Text,
    pub alarm_name: Text,
    pub lat: Num,
    pub lng: Num,
    pub alarm_time: Time,
}

/// The IoT Hub paths the gateway accepts (jimi-api.md §6), without the leading slash.
pub const IOT_HUB_PATHS: &[&str] = &[
    "pushgps",
    "pushhb",
    "pushalarm",
    "pushevent",
    "pushlbs",
    "pushobd",
    "pushoil",
    "pushtem",
    "pushtripreport",
    "pushfaultinfo",
];

/// The `kind` under which the Open API alarm push is stored.
pub const ALARM_PUSH_KIND: &str = "jimi.push.device.alarm";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_vendor_shape() {
        let cases: &[(&str, Option<f64>)] = &[
            ("12", Some(12.0)),
            ("\"12.5\"", Some(12.5)),
            ("\"0.00L\"", Some(0.0)),
            ("\"45km/h\"", Some(45.0)),
            ("\"1,234.5\"", Some(1234.5)),
            ("\"-1\"", Some(-1.0)),
            ("\"\"", None),
            ("null", None),
            ("\"abc\"", None),
            ("true", Some(1.0)),
            ("\" 7 \"", Some(7.0)),
            ("\"1e3\"", Some(1000.0)),
            ("\"12e\"", Some(12.0)),
        ];
        for (json, want) in cases {
            let got: Num = serde_json::from_str(json).expect(json);
            assert_eq!(got.0, *want, "{json}");
        }
    }

    #[test]
    fn text_accepts_numbers_and_drops_empties() {
        assert_eq!(
            serde_json::from_str::<Text>("862798050000001")
                .expect("n")
                .0
                .as_deref(),
            Some("862798050000001")
        );
        assert_eq!(serde_json::from_str::<Text>("\"  \"").expect("e").0, None);
        assert_eq!(serde_json::from_str::<Text>("null").expect("n").0, None);
    }

    #[test]
    fn times_in_every_vendor_shape() {
        let want = Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).single();
        for s in [
            "2026-11-23 08:30:00",
            "2026-11-23T08:30:00Z",
            "2026-11-23T11:30:00+03:00",
            "1795422600",
            "1795422600000",
        ] {
            assert_eq!(parse_time(s), want, "{s}");
        }
        assert_eq!(parse_time(""), None);
        let t = want.expect("valid");
        assert_eq!(format_time(t), "2026-11-23 08:30:00");
        assert_eq!(parse_time(&format_time(t)), Some(t));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn cells_parse_and_skip_garbage() {
        assert_eq!(
            parse_cells("100,2001,-70;bad;101,2002"),
            vec![
                Cell {
                    lac: 100,
                    ci: 2001,
                    rssi: Some(-70)
                },
                Cell {
                    lac: 101,
                    ci: 2002,
                    rssi: None
                }
            ]
        );
    }

    #[test]
    fn gps_item_reads_string_typed_fields() {
        let item: PushGps = serde_json::from_str(
            r#"{"deviceImei":"862798050000001","gpsTime":"2026-11-23 08:30:00","lat":"-1.2921","lng":36.8219,"gpsSpeed":"42","direction":"-1","acc":"1","distance":"123456","unknownField":1}"#,
        )
        .expect("parse");
        assert_eq!(item.device_imei.get(), Some("862798050000001"));
        assert_eq!(item.lat.get(), Some(-1.2921));
        assert_eq!(item.gps_speed.get(), Some(42.0));
        assert_eq!(item.acc.flag(), Some(true));
        assert_eq!(item.distance.int(), Some(123_456));
    }

    #[test]
    fn lbs_json_may_be_a_string() {
        let item: PushLbs =
            serde_json::from_str(r#"{"deviceImei":"1","gateTime":"2026-11-23 08:30:00","lbsJson":"{\"mcc\":639,\"mnc\":2,\"cellList\":\"1,2,3\"}"}"#).expect("parse");
        assert_eq!(item.lbs_json.mcc.int(), Some(639));
        assert_eq!(item.lbs_json.cell_list.get(), Some("1,2,3"));
    }
}
