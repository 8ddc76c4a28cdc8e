//! The typed contract of each vendor method the platform uses (jimi-api.md §4), as data, and
//! the check of a response's records against it. The contract checker (cron) calls each method
//! daily against a sandbox account and stores what this module finds.
//!
//! A rule names a field, what its value must be (IMEI, vendor time, number within a sane range
//! for its unit, 0/1 flag, text) and whether every record must carry it. Problems are grouped per
//! field and kind, with a count and one example, so a renamed field reads as "`alertTypeId`
//! missing in 40 of 40 records; new field `alertId`". Fields the contract does not know are
//! reported as `new_fields` but are not drift: vendors add fields all the time.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::jimi::{lenient_number, parse_time};

/// What a field's value must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// 6–20 letters or digits, as a string or a number.
    Imei,
    /// A vendor time (`yyyy-MM-dd HH:mm:ss` UTC or ISO-8601).
    Time,
    /// A number (or a numeric string, units allowed) within `min..=max`.
    Number { min: f64, max: f64 },
    /// `0`/`1`, as a number or a string.
    Flag,
    /// Any string.
    Text,
}

/// One field of a record.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

const LAT: Kind = Kind::Number {
    min: -90.0,
    max: 90.0,
};
const LNG: Kind = Kind::Number {
    min: -180.0,
    max: 180.0,
};
/// km/h: a road vehicle above 400 km/h is a unit change, not a fast car.
const SPEED: Kind = Kind::Number {
    min: 0.0,
    max: 400.0,
};
/// Degrees, with -1 for "unknown".
const HEADING: Kind = Kind::Number {
    min: -1.0,
    max: 360.0,
};
/// Metres of one trip: up to 5,000 km.
const TRIP_M: Kind = Kind::Number {
    min: 0.0,
    max: 5_000_000.0,
};
const SECONDS: Kind = Kind::Number {
    min: 0.0,
    max: 366.0 * 86_400.0,
};
/// km on an odometer.
const ODOMETER_KM: Kind = Kind::Number {
    min: 0.0,
    max: 10_000_000.0,
};

const LOCATION: &[Field] = &[
    req("imei", Kind::Imei),
    req("gpsTime", Kind::Time),
    req("lat", LAT),
    req("lng", LNG),
    opt("speed", SPEED),
    opt("direction", HEADING),
    opt("accStatus", Kind::Flag),
    opt("status", Kind::Flag),
    opt("posType", Kind::Text),
    opt("currentMileage", ODOMETER_KM),
];

/// Every method the platform calls, with the fields of one of its records.
pub const CONTRACTS: &[(&str, &[Field])] = &[
    (
        "jimi.user.device.list",
        &[
            req("imei", Kind::Imei),
            opt("mcType", Kind::Text),
            opt("enabledFlag", Kind::Flag),
            opt("activationTime", Kind::Time),
            opt("expiration", Kind::Time),
        ],
    ),
    (
        "jimi.track.device.detail",
        &[
            req("imei", Kind::Imei),
            opt("account", Kind::Text),
            opt("licensePlatNo", Kind::Text),
            opt("driverName", Kind::Text),
            opt("driverPhone", Kind::Text),
            opt("currentMileage", ODOMETER_KM),
            opt("status", Kind::Flag),
        ],
    ),
    ("jimi.user.device.location.list", LOCATION),
    ("jimi.device.location.get", LOCATION),
    (
        "jimi.device.track.list",
        &[
            req("gpsTime", Kind::Time),
            req("lat", LAT),
            req("lng", LNG),
            opt("gpsSpeed", SPEED),
            opt("direction", HEADING),
            opt("posType", Kind::Number { min: 1.0, max: 4.0 }),
            opt("gpsMode", Kind::Flag),
        ],
    ),
    (
        "jimi.device.alarm.list",
        &[
            req("imei", Kind::Imei),
            req("alertTypeId", Kind::Text),
            req("alertTime", Kind::Time),
            opt("alarmTypeName", Kind::Text),
            opt("lat", LAT),
            opt("lng", LNG),
            opt("speed", SPEED),
        ],
    ),
    (
        "jimi.device.track.mileage",
        &[
            req("imei", Kind::Imei),
            req("startTime", Kind::Time),
            req("endTime", Kind::Time),
            opt("distance", TRIP_M),
            opt("runTimeSecond", SECONDS),
            opt("avgSpeed", SPEED),
        ],
    ),
    (
        "jimi.open.platform.report.parking",
        &[
            req("imei", Kind::Imei),
            req("startTime", Kind::Time),
            opt("endTime", Kind::Time),
            req("durSecond", SECONDS),
            opt("lat", LAT),
            opt("lng", LNG),
        ],
    ),
];

/// The contract of `method`, if the platform uses it.
pub fn contract(method: &str) -> Option<&'static [Field]> {
    CONTRACTS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, f)| *f)
}

/// One way the records break the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub field: String,
    /// `missing`, `wrong_type` or `out_of_range`.
    pub issue: &'static str,
    pub expected: String,
    /// One offending value (`null` when missing).
    pub example: Value,
    /// Records with this problem.
    pub records: usize,
}

/// What a check of one method's records found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub records: usize,
    pub problems: Vec<Problem>,
    /// Fields no rule names (not drift on their own, but the likely new name of a missing one).
    pub new_fields: Vec<String>,
}

impl Report {
    pub fn drifted(&self) -> bool {
        !self.problems.is_empty()
    }
}

fn expected(kind: Kind) -> String {
    match kind {
        Kind::Imei => "an IMEI (6-20 letters or digits)".into(),
        Kind::Time => "a time, yyyy-MM-dd HH:mm:ss UTC or ISO-8601".into(),
        Kind::Number { min, max } => format!("a number from {min} to {max}"),
        Kind::Flag => "0 or 1".into(),
        Kind::Text => "text".into(),
    }
}

/// Checks one value; `Err(issue)` when it breaks the rule.
fn check_value(kind: Kind, v: &Value) -> Result<(), &'static str> {
    let text = match v {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => lenient_number(s),
        _ => None,
    };
    match kind {
        Kind::Imei => {
            let s = match v {
                Value::String(s) => s.trim().to_string(),
                Value::Number(n) => n.to_string(),
                _ => return Err("wrong_type"),
            };
            let ok = (6..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric());
            if ok { Ok(()) } else { Err("wrong_type") }
        }
        Kind::Time => match text.and_then(parse_time) {
            Some(_) => Ok(()),
            None => Err("wrong_type"),
        },
        Kind::Number { min, max } => match number {
            Some(x) if (min..=max).contains(&x) => Ok(()),
            Some(_) => Err("out_of_range"),
            None => Err("wrong_type"),
        },
        Kind::Flag => match number {
            Some(x) if x == 0.0 || x == 1.0 => Ok(()),
            _ => Err("wrong_type"),
        },
        Kind::Text => match v {
            Value::String(_) | Value::Number(_) => Ok(()),
            _ => Err("wrong_type"),
        },
    }
}

/// Checks `records` (the response's data items) against `fields`.
pub fn check(fields: &[Field], records: &[Value]) -> Report {
    let mut found: BTreeMap<(String, &'static str), Problem> = BTreeMap::new();
    let mut new_fields: Vec<String> = Vec::new();
    let mut note = |field: &Field, issue: &'static str, example: &Value| {
        found
            .entry((field.name.to_string(), issue))
            .and_modify(|p| p.records += 1)
            .or_insert_with(|| Problem {
                field: field.name.to_string(),
                issue,
                expected: expected(field.kind),
                example: example.clone(),
                records: 1,
            });
    };
    for record in records {
        let Some(obj) = record.as_object() else {
            let whole = Field {
                name: "(record)",
                kind: Kind::Text,
                required: true,
            };
            note(&whole, "wrong_type", record);
            continue;
        };
        for f in fields {
            match obj.get(f.name) {
                None | Some(Value::Null) => {
                    if f.required {
                        note(f, "missing", &Value::Null);
                    }
                }
                // Empty strings stand for "unknown" in this API (jimi-api.md §7).
                Some(Value::String(s)) if s.trim().is_empty() && !f.required => {}
                Some(v) => {
                    if let Err(issue) = check_value(f.kind, v) {
                        note(f, issue, v);
                    }
                }
            }
        }
        for k in obj.keys() {
            if !fields.iter().any(|f| f.name == k) && !new_fields.contains(k) {
                new_fields.push(k.clone());
            }
        }
    }
    // Only fields that no documented method mentions are "new"; the rest are known extras.
    new_fields.retain(|k| !DOCUMENTED_EXTRAS.contains(&k.as_str()));
    new_fields.sort();
    Report {
        records: records.len(),
        problems: found.into_values().collect(),
        new_fields,
    }
}

/// Fields jimi-api.md documents that no rule checks.
const DOCUMENTED_EXTRAS: &[&str] = &[
    "deviceName",
    "mcTypeUseScope",
    "sim",
    "reMark",
    "vehicleName",
    "vehicleIcon",
    "vehicleNumber",
    "vehicleModels",
    "carFrame",
    "engineNumber",
    "deviceGroupId",
    "deviceGroup",
    "customerName",
    "iccid",
    "imsi",
    "vin",
    "vehicleBrand",
    "fuel_100km",
    "expireFlag",
    "activationFlag",
    "hbTime",
    "electQuantity",
    "powerValue",
    "batteryPowerVal",
    "distance",
    "temperature",
    "trackerOil",
    "gpsSignal",
    "gpsNum",
    "confidence",
    "satellite",
    "ignition",
    "model",
    "account",
    "positioningTime",
    "geoid",
    "startLat",
    "startLng",
    "endLat",
    "endLng",
    "elapsed",
    "maxSpeed",
    "stopSecond",
    "addr",
    "acc",
    "expiration",
    "enabledFlag",
    "driverName",
    "driverPhone",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_clean_record_passes_and_strings_for_numbers_are_fine() {
        let fields = contract("jimi.user.device.location.list").expect("known");
        let r = check(
            fields,
            &[
                json!({"imei": "862798050000001", "gpsTime": "2026-11-23 08:30:00", "lat": "-1.29", "lng": 36.82,
                     "speed": "40", "direction": "-1", "accStatus": "1", "posType": "GPS", "trackerOil": "0.00L"}),
            ],
        );
        assert_eq!(
            r,
            Report {
                records: 1,
                problems: vec![],
                new_fields: vec![]
            }
        );
    }

    #[test]
    fn a_renamed_field_is_missing_and_its_new_name_is_reported() {
        let fields = contract("jimi.device.alarm.list").expect("known");
        let rec = |i: u32| json!({"imei": format!("86279805000000{i}"), "alertId": "48", "alertTime": "2026-11-23 08:30:00"});
        let r = check(fields, &[rec(1), rec(2), rec(3)]);
        assert!(r.drifted());
        assert_eq!(r.problems.len(), 1);
        assert_eq!(
            (
                r.problems[0].field.as_str(),
                r.problems[0].issue,
                r.problems[0].records
            ),
            ("alertTypeId", "missing", 3)
        );
        assert_eq!(r.new_fields, vec!["alertId".to_string()]);
    }

    #[test]
    fn types_and_units_are_checked() {
        let fields = contract("jimi.device.track.mileage").expect("known");
        let r = check(
            fields,
            &[
                json!({"imei": "862798050000001", "startTime": "2026-11-23 08:00:00", "endTime": "yesterday", "distance": "12.5"}),
                json!({"imei": "86-27", "startTime": "2026-11-23 08:00:00", "endTime": "2026-11-23 09:00:00", "distance": "9000000"}),
                json!("not an object"),
            ],
        );
        let issues: Vec<(&str, &str)> = r
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.issue))
            .collect();
        assert_eq!(
            issues,
            [
                ("(record)", "wrong_type"),
                ("distance", "out_of_range"),
                ("endTime", "wrong_type"),
                ("imei", "wrong_type")
            ]
        );
        assert_eq!(r.problems[1].example, json!("9000000"));
    }

    #[test]
    fn optional_fields_may_be_null_or_empty_but_not_wrong() {
        let fields = contract("jimi.user.device.list").expect("known");
        let ok = check(
            fields,
            &[json!({"imei": "862798050000001", "mcType": null, "expiration": ""})],
        );
        assert!(!ok.drifted(), "{ok:?}");
        let bad = check(
            fields,
            &[json!({"imei": "862798050000001", "enabledFlag": "yes"})],
        );
        assert_eq!(bad.problems[0].field, "enabledFlag");
    }

    #[test]
    fn every_contract_names_each_field_once() {
        for (method, fields) in CONTRACTS {
            for (i, f) in fields.iter().enumerate() {
                assert!(
                    !fields[..i].iter().any(|g| g.name == f.name),
                    "{method}: {} twice",
                    f.name
                );
            }
        }
    }
}
