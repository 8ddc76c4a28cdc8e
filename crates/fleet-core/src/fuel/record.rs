//! One fuel record, read: every field found under any of the names feeds give it, and every
//! value that needs no database (numbers, times, flags, names) read by the rules in
//! [`super::number`] and [`super::time`].
//!
//! The parser stores this reading with each `fuel_record` event (so a rule change is a new
//! parser version and a re-parse), and a dry run computes the same reading, so the two never
//! disagree. What needs the database (the plate against the fleet and `fuel.mappings`, the fuel
//! type, the department's canonical name) is done in SQL and by the department grouping.
//!
//! Problems come in two kinds. An **error** makes the record unusable (no plate, no litres, no
//! readable fill time): it is kept and listed, never counted. A **warning** leaves the record
//! usable with one value missing (an amount or odometer that cannot be read, an unknown
//! currency): it counts, without that value, and is listed too.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::number::{self, Currency, Decimal, Quantity};
use super::time;

/// A record as the parser reads it. Serialised without what is absent or default (`deleted`
/// false, `full_tank` true, no problems): the parsed log keeps a reading per record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Read {
    /// The plate as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub car: Option<String>,
    /// The fuel type as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_type: Option<String>,
    /// The department as written (spaces collapsed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub litres: Option<Decimal>,
    /// The amount in the currency it was written in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// `KES` or `UGX`; none when the amount names no country (the log's currency, KES).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The feed marks the record deleted.
    #[serde(skip_serializing_if = "is_false")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "is_true")]
    pub full_tank: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub missed_before: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lng: Option<f64>,
    /// What makes the record unusable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What the record lacks while still counting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A field name without case, spaces or punctuation: "Amount (KES)" is `amountkes`.
fn key(name: &str) -> String {
    name.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect()
}

const CAR: &[&str] = &[
    "car",
    "plate",
    "plateno",
    "platenumber",
    "numberplate",
    "vehicle",
    "vehicleno",
    "vehiclenumber",
    "vehiclereg",
    "regno",
    "registration",
    "reg",
];
const FUEL_TYPE: &[&str] = &["fueltype", "fuel", "type", "product", "grade"];
const DEPARTMENT: &[&str] = &["department", "dept", "division", "costcentre", "costcenter"];
const LITRES: &[&str] = &[
    "litres",
    "liters",
    "litre",
    "liter",
    "ltrs",
    "quantity",
    "qty",
    "volume",
    "volumel",
    "volumelitres",
    "litresfilled",
    "fuellitres",
];
const AMOUNT: &[&str] = &[
    "amount",
    "amountkes",
    "amountksh",
    "amountugx",
    "kes",
    "ksh",
    "ugx",
    "cost",
    "totalcost",
    "totalamount",
    "total",
    "price",
    "spend",
];
const ODOMETER: &[&str] = &[
    "odometer",
    "odometerkm",
    "odometerreading",
    "odoreading",
    "mileage",
    "odo",
    "km",
    "kms",
];
const DRIVER: &[&str] = &["driver", "drivername", "staff"];
const FILLED: &[&str] = &[
    "recorddatetime",
    "recordtime",
    "filledat",
    "filltime",
    "filldate",
    "datetime",
    "timestamp",
    "transactiontime",
    "transactiondate",
    "date",
];
const TIME_OF_DAY: &[&str] = &["time", "filltimeofday", "timeofday"];
const CREATED: &[&str] = &["createdat", "created", "createdon"];
const UPDATED: &[&str] = &["updatedat", "updated", "modifiedat", "modified"];
const DELETED: &[&str] = &["deletedat", "deleted", "isdeleted"];
const FULL: &[&str] = &["fulltank", "full", "filltype", "tankfull"];
const MISSED: &[&str] = &["missedfill", "missedprevious", "missed"];
const STATION: &[&str] = &[
    "station",
    "stationname",
    "fuelstation",
    "location",
    "place",
    "site",
];
const LAT: &[&str] = &["lat", "latitude"];
const LNG: &[&str] = &["lng", "lon", "long", "longitude"];

/// The record's fields by key, each value as text (`None` when null or blank).
struct Fields<'a> {
    by_key: HashMap<String, (&'a str, &'a Value)>,
}

impl<'a> Fields<'a> {
    /// The first of `names` the record has with a value: (the name as written, its text).
    fn get(&self, names: &[&str]) -> Option<(&'a str, String)> {
        names.iter().find_map(|n| {
            let (name, v) = self.by_key.get(*n)?;
            text(v).map(|t| (*name, t))
        })
    }

    fn text(&self, names: &[&str]) -> Option<String> {
        self.get(names).map(|(_, t)| t)
    }

    /// The feed marks the record deleted: a deletion time, or a yes in a deleted flag.
    fn deleted(&self) -> bool {
        self.text(DELETED)
            .is_some_and(|t| flag(&t).unwrap_or(!number::is_placeholder(&t)))
    }

    fn of(map: &'a serde_json::Map<String, Value>) -> Self {
        Fields {
            by_key: map.iter().map(|(k, v)| (key(k), (k.as_str(), v))).collect(),
        }
    }
}

/// Whether the feed marks a record deleted (what a plan needs without the whole reading).
pub fn deleted(record: &Value) -> bool {
    record.as_object().is_some_and(|m| Fields::of(m).deleted())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Reads one record.
pub fn read(record: &Value) -> Read {
    let mut r = Read {
        full_tank: true,
        ..Read::default()
    };
    let Value::Object(map) = record else {
        r.errors.push("the record is not a JSON object".into());
        return r;
    };
    let f = Fields::of(map);
    r.car = f.text(CAR);
    if r.car.is_none() {
        r.errors.push("no number plate".into());
    }
    r.fuel_type = f.text(FUEL_TYPE);
    r.department = f
        .text(DEPARTMENT)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
    r.driver = f.text(DRIVER).map(|d| title_case(&d));
    r.station = f.text(STATION);

    match f.text(LITRES) {
        None => r.errors.push("no litres".into()),
        Some(t) => match number::read(&t, Quantity::Litres) {
            Ok(Some(n)) if n.value.is_positive() => r.litres = Some(n.value),
            Ok(Some(n)) => r.errors.push(format!("litres {} is not positive", n.value)),
            Ok(None) => r.errors.push("no litres".into()),
            Err(why) => r
                .errors
                .push(format!("litres {} not understood: {why}", quoted(&t))),
        },
    }

    if let Some((name, t)) = f.get(AMOUNT) {
        match number::read(&t, Quantity::Money) {
            Ok(Some(n)) => {
                // the field's name may say the currency ("amount_ugx", "KES")
                let from_name = match key(name) {
                    k if k.contains("ugx") || k.contains("ush") => Some(Currency::Ugx),
                    k if k.contains("kes") || k.contains("ksh") => Some(Currency::Kes),
                    _ => None,
                };
                match (n.currency, from_name) {
                    (Some(a), Some(b)) if a != b => r.warnings.push(format!(
                        "amount {} is in {} but the field {name:?} says {}",
                        quoted(&t),
                        a.code(),
                        b.code()
                    )),
                    (a, b) => {
                        r.amount = Some(n.value);
                        r.currency = a.or(b).map(Currency::code);
                    }
                }
            }
            Ok(None) => {}
            Err(why) => r
                .warnings
                .push(format!("amount {} not understood: {why}", quoted(&t))),
        }
    }

    if let Some(t) = f.text(ODOMETER) {
        match number::read(&t, Quantity::Kilometres) {
            Ok(Some(n)) => r.odometer_km = Some(n.value.rounded(1)),
            Ok(None) => {}
            Err(why) => r
                .warnings
                .push(format!("odometer {} not understood: {why}", quoted(&t))),
        }
    }

    let stamp = |names: &[&str]| f.text(names).and_then(|t| time::read(&t).ok().flatten());
    r.created_at = stamp(CREATED);
    r.updated_at = stamp(UPDATED);
    let deleted_text = f.text(DELETED);
    r.deleted = deleted_text
        .as_deref()
        .is_some_and(|t| flag(t).unwrap_or(!number::is_placeholder(t)));
    r.deleted_at = stamp(DELETED);

    // A date and a time of day in separate columns are one fill time.
    let filled = match (f.text(FILLED), f.text(TIME_OF_DAY)) {
        (Some(d), Some(t)) if !d.contains(':') => Some(format!("{d} {t}")),
        (Some(d), _) => Some(d),
        (None, t) => t,
    };
    match filled.as_deref().map(|t| (t, time::read(t))) {
        Some((_, Ok(Some(t)))) => r.filled_at = Some(t),
        Some((t, Err(why))) => r
            .errors
            .push(format!("fill time {} not understood: {why}", quoted(t))),
        None | Some((_, Ok(None))) => match r.created_at {
            Some(c) => {
                r.filled_at = Some(c);
                r.warnings
                    .push("no fill time: the time the message was sent is used".into());
            }
            None => r.errors.push("no fill time".into()),
        },
    }

    if let Some(t) = f.text(FULL) {
        match flag(&t) {
            Some(b) => r.full_tank = b,
            None => r.warnings.push(format!(
                "full tank {} not understood: counted as a full fill",
                quoted(&t)
            )),
        }
    }
    r.missed_before = f.text(MISSED).and_then(|t| flag(&t)).unwrap_or(false);

    let coordinate = |names: &[&str], limit: f64| {
        f.text(names)
            .and_then(|t| number::read(&t, Quantity::Plain).ok().flatten())
            .map(|n| n.value.to_f64())
            .filter(|x| x.abs() <= limit)
    };
    if let (Some(lat), Some(lng)) = (coordinate(LAT, 90.0), coordinate(LNG, 180.0)) {
        r.lat = Some(lat);
        r.lng = Some(lng);
    }
    r
}

/// Yes or no as a log writes it (English and Swahili), or "full" / "partial" for a fill.
pub fn flag(t: &str) -> Option<bool> {
    match key(t).as_str() {
        "true" | "t" | "yes" | "y" | "1" | "full" | "filled" | "fulltank" | "ndiyo" | "ndio" => {
            Some(true)
        }
        "false" | "f" | "no" | "n" | "0" | "partial" | "topup" | "part" | "hapana" => Some(false),
        _ => None,
    }
}

/// "JOHN  otieno" is "John Otieno"; a letter after anything but a letter starts a word
/// ("o'brien" is "O'Brien").
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            if c.is_alphabetic() {
                if start {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
                start = false;
            } else {
                out.push(c);
                start = !c.is_alphanumeric();
            }
        }
        start = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_in_the_client_feed_shape() {
        let r = read(&json!({
            "id": 7, "car": " KCA 542Q ", "litres": "45.5 L", "amount": "Ksh 8,190/=",
            "odometer": "123,456 km", "fuel_type": "DISIEL", "driver": "JOHN  otieno",
            "department": "  ops   dept ", "record_datetime": "2/11/2026 8:15 AM",
            "station": "Shell Westlands", "created_at": "2026-11-02T05:30:00Z",
            "updated_at": "2026-11-02T05:30:00Z", "deleted_at": null
        }));
        assert_eq!(r.errors, Vec::<String>::new());
        assert_eq!(r.warnings, Vec::<String>::new());
        assert_eq!(r.car.as_deref(), Some("KCA 542Q"));
        assert_eq!(r.litres.map(|d| d.to_string()).as_deref(), Some("45.5"));
        assert_eq!(r.amount.map(|d| d.to_string()).as_deref(), Some("8190"));
        assert_eq!(r.currency, Some("KES"));
        assert_eq!(
            r.odometer_km.map(|d| d.to_string()).as_deref(),
            Some("123456")
        );
        assert_eq!(r.department.as_deref(), Some("ops dept"));
        assert_eq!(r.driver.as_deref(), Some("John Otieno"));
        assert_eq!(
            r.filled_at.map(|t| t.to_rfc3339()),
            Some("2026-11-02T05:15:00+00:00".into())
        );
        assert!(r.full_tank && !r.deleted);
    }

    #[test]
    fn field_names_in_other_spellings_and_split_date_and_time() {
        let r = read(&json!({
            "Vehicle Reg": "KBZ 001A", "Volume (L)": 40, "Amount (UGX)": "150,000",
            "Odometer Reading": 98000, "Date": "02/11/2026", "Time": "2:05 PM",
            "Fill Type": "partial", "Deleted": "no"
        }));
        assert_eq!(r.errors, Vec::<String>::new(), "{r:?}");
        assert_eq!(r.car.as_deref(), Some("KBZ 001A"));
        assert_eq!(r.currency, Some("UGX"));
        assert_eq!(r.amount.map(|d| d.to_string()).as_deref(), Some("150000"));
        assert_eq!(
            r.filled_at.map(|t| t.to_rfc3339()),
            Some("2026-11-02T11:05:00+00:00".into())
        );
        assert!(!r.full_tank && !r.deleted);
    }

    #[test]
    fn errors_make_a_record_unusable_and_warnings_leave_it_counting() {
        let r = read(
            &json!({"car": "KCA 542Q", "litres": "see receipt", "record_datetime": "yesterday"}),
        );
        assert_eq!(r.errors.len(), 2, "{r:?}");
        assert_eq!(
            read(&json!({"car": " ", "litres": 40, "date": "2/11/2026"})).errors,
            vec!["no number plate"]
        );
        assert!(r.errors[0].starts_with("litres 'see receipt' not understood: "));
        assert!(r.errors[1].starts_with("fill time 'yesterday' not understood: "));
        let r = read(&json!({"car": "KCA 542Q", "litres": 40, "amount": "4,50,0",
                             "odometer": "12 L", "created_at": "2026-11-02T05:30:00Z"}));
        assert_eq!(r.errors, Vec::<String>::new());
        assert_eq!(r.warnings.len(), 3, "{r:?}");
        assert!(r.amount.is_none() && r.odometer_km.is_none());
        assert!(r.filled_at.is_some(), "the message time stands in");
        assert_eq!(
            read(&json!("junk")).errors,
            vec!["the record is not a JSON object"]
        );
        let r =
            read(&json!({"car": "KCA 542Q", "litres": 0, "record_datetime": "2026-11-02 08:00"}));
        assert_eq!(r.errors, vec!["litres 0 is not positive"]);
    }

    #[test]
    fn deleted_records_in_either_marking() {
        assert!(read(&json!({"deleted_at": "2026-11-02T05:30:00Z"})).deleted);
        assert!(read(&json!({"deleted": true})).deleted);
        assert!(read(&json!({"is_deleted": "yes"})).deleted);
        assert!(!read(&json!({"deleted_at": null})).deleted);
        assert!(!read(&json!({"deleted": "false"})).deleted);
    }

    #[test]
    fn names_are_title_cased() {
        assert_eq!(title_case("  mary   ACHIENG "), "Mary Achieng");
        assert_eq!(title_case("o'brien-smith"), "O'Brien-Smith");
    }
}
