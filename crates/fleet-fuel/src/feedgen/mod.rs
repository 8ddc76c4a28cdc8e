//! A generator of realistic, messy fuel feeds (seeded: the same seed gives the same feed), for
//! tests, the local demo and benchmarks.
//!
//! Each vehicle drives a plausible distance a day and fills up every few days with the litres
//! that distance burns at its consumption, at a pump price of the day. Then the feed is made to
//! look like the WhatsApp-fed table it comes from: plates with and without spaces or dashes,
//! `DISIEL` / `diesel ` / `AGO` / `PMS` / `Dizeli`, departments in their abbreviations, plurals,
//! US/UK spellings, filler words and typos, every value in the ways people write it
//! ([`styles`]: shillings with `/=` and `Ksh`, Ugandan vehicles paying in UGX, litres with their
//! units, 12- and 24-hour clocks, day-first dates, month names, spreadsheet serials), missing
//! fields, a few unreadable records, odometer typos, overfills, hired vehicles not in the fleet,
//! later edits and soft deletes. Every record version carries its `updated_at`, so the same
//! history yields a snapshot at any time and the hourly change files between two times; and its
//! [`Truth`], what each value means, so tests compare what is read with what was meant.

pub mod styles;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fleet_core::fuel::number::Decimal;
use fleet_core::fuel::time::eat;
use serde_json::{Value, json};

pub use fleet_core::rng::Rng;
pub use styles::{Money, with_commas};

/// A vehicle the generator fills up.
#[derive(Debug, Clone)]
pub struct GenVehicle {
    pub plate: String,
    pub department: String,
    pub diesel: bool,
    pub l_per_100km: f64,
    pub tank_litres: f64,
    pub km_per_day: f64,
    pub odometer_km: f64,
    /// What its fills are paid in: Ugandan plates (`U…`) pay in UGX.
    pub currency: Money,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub seed: u64,
    pub vehicles: Vec<GenVehicle>,
    /// History length, ending at `end`.
    pub days: u32,
    pub end: DateTime<Utc>,
    /// Add unreadable records, outliers, edits and deletes (on by default).
    pub messy: bool,
}

/// What a record version means, whatever way it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// The real department (one of [`DEPARTMENTS`]).
    pub department: &'static str,
    /// The vehicle's plate as the fleet writes it (not the record's spelling).
    pub plate: String,
    pub diesel: bool,
    /// `None` where the record was made unreadable on purpose.
    pub litres: Option<Decimal>,
    pub amount: Option<Decimal>,
    /// The currency the amount names (none for a bare number).
    pub currency: Option<&'static str>,
    pub odometer_km: Option<Decimal>,
    pub filled_at: Option<DateTime<Utc>>,
    /// Whether the record is usable: a plate, litres and a fill time that can be read.
    pub readable: bool,
}

/// One version of one record, as the source table had it from `at`.
#[derive(Debug, Clone)]
pub struct Version {
    pub at: DateTime<Utc>,
    pub id: u64,
    pub record: Value,
    pub truth: Truth,
}

/// A generated feed: every version of every record, in time order.
#[derive(Debug, Clone)]
pub struct Feed {
    pub versions: Vec<Version>,
}

/// The real departments and the other ways people spell them (besides case, padding,
/// punctuation and filler words, which [`styles::department`] adds): abbreviations, acronyms,
/// plural and singular, US and UK spellings, typos. Some pairs are close on purpose ("Sales"
/// and "Sales & Marketing", "Team 1" and "Team 2", "North Region" and "South Region"): they are
/// different departments.
pub const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Operations",
        &[
            "OPS",
            "Ops dept",
            "Operation",
            "Opertions",
            "Operations Team",
            "OPERATIONS DEPARTMENT",
        ],
    ),
    (
        "Logistics",
        &[
            "logistic",
            "Logistcs",
            "Log. Dept",
            "Logistics Section",
            "LOGS",
        ],
    ),
    ("Sales", &["sales dept", "Sales Team", "Sale"]),
    (
        "Sales & Marketing",
        &["Sales and Marketing", "SALES & MKTG", "S&M"],
    ),
    (
        "Maintenance",
        &["Maintainance", "maint.", "Mtce", "Maintenance Unit"],
    ),
    ("Administration", &["Admin", "ADMIN DEPT", "Admn"]),
    (
        "Field Service",
        &["Field Services", "Feild Service", "Field Svc"],
    ),
    ("Distribution", &["Distribtion", "Dist.", "Distrib"]),
    ("Procurement", &["procurment", "Procmt", "Proc."]),
    (
        "Human Resources",
        &["HR", "H.R.", "Human Resource", "HR Dept"],
    ),
    (
        "Organisation Development",
        &[
            "Organization Development",
            "Org. Development",
            "Organisation Devt",
        ],
    ),
    (
        "Customer Centre",
        &["Customer Center", "Cust. Centre", "Customer Centres"],
    ),
    ("Engineering", &["Eng.", "Engg", "Engineering Section"]),
    ("Security", &["Security Dept", "Sec."]),
    ("Team 1", &["team-1", "TEAM1", "Team 1 "]),
    ("Team 2", &["team 2", "Team-2"]),
    ("North Region", &["NORTH REGION", "North Regions"]),
    ("South Region", &["south region", "Sth Region"]),
];

const DRIVERS: &[&str] = &[
    "John Otieno",
    "Grace Wanjiku",
    "Peter Kamau",
    "Mary Achieng",
    "David Mwangi",
    "Faith Njeri",
    "James Kiprop",
    "Lucy Wambui",
    "Samuel Odhiambo",
    "Agnes Chebet",
    "Joseph Mutua",
    "Esther Moraa",
];

const STATIONS: &[&str] = &[
    "Shell Westlands",
    "TotalEnergies Ngong Rd",
    "Rubis Thika Rd",
    "Ola Energy Mombasa Rd",
    "Shell Karen",
    "Vivo Energy Industrial Area",
    "TotalEnergies Upper Hill",
];

/// A fleet of `n` vehicles: Kenyan plates, and one in twelve Ugandan.
pub fn vehicles(seed: u64, n: usize) -> Vec<GenVehicle> {
    let mut rng = Rng(seed ^ 0x5eed);
    (0..n)
        .map(|i| {
            let letters: String = (0..2)
                .map(|_| (b'A' + (rng.next_u64() % 26) as u8) as char)
                .collect();
            let country = if i % 12 == 11 { 'U' } else { 'K' };
            let plate = format!(
                "{country}{letters} {:03}{}",
                (i * 7 + 101) % 1000,
                (b'A' + (i % 26) as u8) as char
            );
            vehicle(&mut rng, plate)
        })
        .collect()
}

/// The generator's picture of one of the fleet's plates.
pub fn vehicle_for(seed: u64, plate: &str) -> GenVehicle {
    let mut rng = Rng(seed
        ^ plate
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    vehicle(&mut rng, plate.to_string())
}

fn vehicle(rng: &mut Rng, plate: String) -> GenVehicle {
    let diesel = rng.chance(0.6);
    GenVehicle {
        department: DEPARTMENTS[rng.below(DEPARTMENTS.len())].0.to_string(),
        l_per_100km: if diesel {
            rng.range(11.0, 26.0)
        } else {
            rng.range(7.0, 12.0)
        },
        tank_litres: if diesel {
            rng.range(70.0, 160.0).round()
        } else {
            rng.range(45.0, 70.0).round()
        },
        km_per_day: rng.range(60.0, 260.0),
        odometer_km: rng.range(20_000.0, 240_000.0).round(),
        diesel,
        currency: if plate.trim_start().starts_with('U') {
            Money::Ugx
        } else {
            Money::Kes
        },
        plate,
    }
}

fn department_of(name: &str) -> (&'static str, &'static [&'static str]) {
    DEPARTMENTS
        .iter()
        .find(|(c, _)| *c == name)
        .map_or(("Unknown", &[][..]), |(c, s)| (*c, *s))
}

/// The generated history.
pub fn generate(cfg: &GenConfig) -> Feed {
    let mut rng = Rng(cfg.seed);
    let start = cfg.end - Duration::days(i64::from(cfg.days));
    let mut versions = Vec::new();
    let mut next_id = 1_000u64;
    for v in &cfg.vehicles {
        let mut odometer = v.odometer_km;
        // first fill somewhere in the first days
        let mut t = start + Duration::minutes((rng.range(0.0, 3.0) * 1440.0) as i64);
        let (department, spellings) = department_of(&v.department);
        let driver = *rng.pick(DRIVERS);
        loop {
            let gap_days = rng.range(1.5, 4.5);
            let next = t + Duration::minutes((gap_days * 1440.0) as i64);
            // Fills happen in the working day, EAT; a few around noon and midnight (12-hour clocks).
            let local = next.with_timezone(&eat());
            let hour = match rng.below(20) {
                0 => rng.range(0.0, 1.0),
                1 => rng.range(12.0, 13.0),
                _ => 6.0 + rng.range(0.0, 14.0),
            };
            let fill_local = eat()
                .from_local_datetime(
                    &local
                        .date_naive()
                        .and_hms_opt(
                            hour as u32,
                            (hour.fract() * 60.0) as u32,
                            (rng.next_u64() % 60) as u32,
                        )
                        .expect("a valid time of day"),
                )
                .single()
                .expect("EAT has no gaps");
            let filled = fill_local.with_timezone(&Utc);
            if filled > cfg.end - Duration::minutes(30) {
                break;
            }
            let km = v.km_per_day * gap_days * rng.range(0.8, 1.2);
            odometer += km;
            // pumps show two decimals, some three
            let places = if rng.chance(0.2) { 1000.0 } else { 100.0 };
            let litres = ((km * v.l_per_100km / 100.0 * rng.range(0.93, 1.07))
                .min(v.tank_litres * 0.98)
                * places)
                .round()
                / places;
            let thousandths = (litres * 1000.0).round() as u64;
            let price = match (v.currency, v.diesel) {
                (Money::Ugx, true) => rng.range(4_900.0, 5_300.0),
                (Money::Ugx, false) => rng.range(5_100.0, 5_500.0),
                (Money::Kes, true) => rng.range(168.0, 176.0),
                (Money::Kes, false) => rng.range(178.0, 188.0),
            };
            // whole shillings mostly; UGX in hundreds; some KES amounts with cents
            let cents = match v.currency {
                Money::Ugx => ((litres * price / 100.0).round() * 10_000.0) as u64,
                Money::Kes if rng.chance(0.15) => (litres * price * 100.0).round() as u64,
                Money::Kes => ((litres * price).round() * 100.0) as u64,
            };
            let id = next_id;
            next_id += 1;
            let created = filled + Duration::minutes((rng.range(2.0, 90.0)) as i64);
            let (litres_v, litres_t) = styles::litres(&mut rng, thousandths);
            let (amount_v, amount_t, currency) = styles::money(&mut rng, cents, v.currency);
            let (odo_v, odo_t) = styles::odometer(&mut rng, odometer.round() as u64);
            let (time_fields, filled_t) = styles::time(&mut rng, filled);
            let mut rec = json!({
                "id": id,
                "car": messy_plate(&mut rng, &v.plate),
                "litres": litres_v,
                "amount": amount_v,
                "odometer": odo_v,
                "fuel_type": messy_fuel(&mut rng, v.diesel),
                "driver": if rng.chance(0.3) { driver.to_uppercase() } else { driver.to_string() },
                "department": styles::department(&mut rng, department, spellings),
                "station": rng.pick(STATIONS).to_string(),
                "created_at": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "updated_at": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "deleted_at": Value::Null,
            });
            for (k, val) in time_fields {
                rec[k] = val;
            }
            let mut truth = Truth {
                department,
                plate: v.plate.clone(),
                diesel: v.diesel,
                litres: Some(litres_t),
                amount: Some(amount_t),
                currency,
                odometer_km: Some(odo_t),
                filled_at: Some(filled_t),
                readable: true,
            };
            if cfg.messy {
                make_messy(&mut rng, &mut rec, &mut truth, v, litres);
            }
            versions.push(Version {
                at: created,
                id,
                record: rec.clone(),
                truth: truth.clone(),
            });
            if cfg.messy && rng.chance(0.03) {
                // A later correction (a typo in the litres fixed), or a soft delete.
                let at = created + Duration::minutes(rng.range(30.0, 3000.0) as i64);
                if at < cfg.end {
                    let mut edited = rec;
                    let mut truth = truth;
                    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    if rng.chance(0.5) {
                        let fixed = (thousandths as f64 * 0.9 / 10.0).round() as u64 * 10;
                        edited["litres"] = json!(Decimal::new(i128::from(fixed), 3).to_string());
                        truth.litres = Some(Decimal::new(i128::from(fixed), 3));
                    } else {
                        edited["deleted_at"] = json!(stamp.clone());
                    }
                    edited["updated_at"] = json!(stamp);
                    versions.push(Version {
                        at,
                        id,
                        record: edited,
                        truth,
                    });
                }
            }
            t = filled;
        }
    }
    versions.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    Feed { versions }
}

fn make_messy(rng: &mut Rng, rec: &mut Value, truth: &mut Truth, v: &GenVehicle, litres: f64) {
    let roll = rng.unit();
    if roll < 0.004 {
        rec["litres"] = json!("see receipt");
        truth.litres = None;
        truth.readable = false;
    } else if roll < 0.007 {
        rec["car"] = json!("");
        truth.plate = String::new();
        truth.readable = false;
    } else if roll < 0.010 {
        // counts, with its fuel type missing
        rec["fuel_type"] = json!("see slip?");
    } else if roll < 0.013 {
        for k in ["record_datetime", "date", "time"] {
            if let Some(o) = rec.as_object_mut() {
                o.remove(k);
            }
        }
        rec["record_datetime"] = json!("yesterday");
        truth.filled_at = None;
        truth.readable = false;
    } else if roll < 0.023 {
        // odometer typo: a digit dropped (read as written; an outlier for efficiency)
        let km = truth.odometer_km.map_or(0, |d| d.to_f64().round() as u64);
        let typo = km / 10;
        rec["odometer"] = json!(typo.to_string());
        truth.odometer_km = Some(Decimal::new(i128::from(typo), 0));
    } else if roll < 0.028 {
        let over = (v.tank_litres * 1.4 * 10.0).round() as i128;
        rec["litres"] = json!(Decimal::new(over, 1).to_string());
        truth.litres = Some(Decimal::new(over, 1));
    } else if roll < 0.058 {
        rec["odometer"] = Value::Null;
        truth.odometer_km = None;
    } else if roll < 0.078 {
        let plate = format!(
            "K{}{} {:03}{}",
            (b'A' + (rng.next_u64() % 26) as u8) as char,
            (b'A' + (rng.next_u64() % 26) as u8) as char,
            rng.next_u64() % 1000,
            'H'
        );
        rec["car"] = json!(plate.clone());
        truth.plate = plate;
    } else if roll < 0.098 {
        let half = ((litres * 0.5) * 100.0).round() as i128;
        rec["full_tank"] = json!("no");
        rec["litres"] = json!(Decimal::new(half, 2).to_string());
        truth.litres = Some(Decimal::new(half, 2));
    }
    if rng.chance(0.05)
        && let Some(o) = rec.as_object_mut()
    {
        o.remove("station");
    }
}

fn messy_plate(rng: &mut Rng, plate: &str) -> String {
    let compact: String = plate.chars().filter(|c| !c.is_whitespace()).collect();
    match rng.next_u64() % 6 {
        0 => compact,
        1 => plate.to_lowercase(),
        2 => format!(
            "{}-{}",
            &compact[..3.min(compact.len())],
            &compact[3.min(compact.len())..]
        ),
        3 => format!(" {plate} "),
        _ => plate.to_string(),
    }
}

fn messy_fuel(rng: &mut Rng, diesel: bool) -> String {
    let options: &[&str] = if diesel {
        &[
            "Diesel", "DIESEL", "diesel ", "DISIEL", "Disel", "AGO", "diesel", "Dizeli",
        ]
    } else {
        &[
            "Petrol", "PETROL", "petrol ", "PMS", "Super", "V-Power", "Petro", "Petroli",
        ]
    };
    rng.pick(options).to_string()
}

impl Feed {
    /// The snapshot as the source had it at `at`: the newest version of every record created by then.
    pub fn snapshot(&self, at: DateTime<Utc>) -> Value {
        let mut latest: std::collections::BTreeMap<u64, &Value> = std::collections::BTreeMap::new();
        for v in self.versions.iter().filter(|v| v.at <= at) {
            latest.insert(v.id, &v.record);
        }
        let records: Vec<&Value> = latest.into_values().collect();
        json!({
            "metadata": {"exported_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                         "source": "logistics_department.fuel_records", "count": records.len()},
            "records": records,
        })
    }

    /// The hourly change files between `from` and `to`: `(file name, document)`, every record
    /// version of that hour (new records, edits, soft deletes).
    pub fn changes(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(String, Value)> {
        let mut hours: std::collections::BTreeMap<i64, Vec<&Value>> =
            std::collections::BTreeMap::new();
        for v in self.versions.iter().filter(|v| v.at > from && v.at <= to) {
            hours
                .entry(v.at.timestamp() / 3600)
                .or_default()
                .push(&v.record);
        }
        hours
            .into_iter()
            .map(|(h, records)| {
                let end = DateTime::<Utc>::from_timestamp((h + 1) * 3600, 0).unwrap_or(to);
                (
                    format!("{}.json", end.format("%Y%m%dT%H%M%SZ")),
                    json!({"metadata": {"window_end": end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                        "count": records.len()},
                           "records": records}),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> GenConfig {
        GenConfig {
            seed,
            vehicles: vehicles(seed, 20),
            days: 30,
            end: Utc
                .with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
                .single()
                .expect("time"),
            messy: true,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_feed() {
        let a = generate(&cfg(7));
        let b = generate(&cfg(7));
        let c = generate(&cfg(8));
        assert_eq!(a.snapshot(cfg(7).end), b.snapshot(cfg(7).end));
        assert_ne!(a.snapshot(cfg(7).end), c.snapshot(cfg(8).end));
    }

    #[test]
    fn a_month_of_twenty_vehicles_looks_like_a_fuel_log() {
        let c = cfg(1);
        let feed = generate(&c);
        let snap = feed.snapshot(c.end);
        let records = snap["records"].as_array().expect("records");
        // a fill every 1.5–4.5 days: 7–20 fills per vehicle a month
        assert!((140..=400).contains(&records.len()), "{}", records.len());
        let spellings: std::collections::HashSet<&str> = records
            .iter()
            .filter_map(|r| r["department"].as_str())
            .collect();
        assert!(spellings.len() >= 10, "messy departments: {spellings:?}");
        assert!(
            records
                .iter()
                .any(|r| r["amount"].as_str().is_some_and(|a| a.contains(',')))
        );
        assert!(records.iter().all(|r| r["id"].is_u64()));
        // the change files hold every version, edits and deletes included
        let changes = feed.changes(c.end - Duration::days(31), c.end);
        let versions: usize = changes
            .iter()
            .map(|(_, d)| d["records"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(versions, feed.versions.len());
        assert!(
            versions > records.len(),
            "some records were edited or deleted"
        );
        assert!(
            changes.windows(2).all(|w| w[0].0 < w[1].0),
            "change files sort by time"
        );
    }

    #[test]
    fn numbers_are_written_with_thousands_commas() {
        assert_eq!(with_commas(1234567.0), "1,234,567");
        assert_eq!(with_commas(999.0), "999");
        assert_eq!(with_commas(8000.5), "8,000.50");
    }
}

/// What [`write_bucket_layout`] wrote.
#[derive(Debug)]
pub struct Written {
    pub snapshot: std::path::PathBuf,
    pub changes_dir: std::path::PathBuf,
    pub records: usize,
    pub change_files: usize,
}

/// Writes a generated feed as the bucket holds it: `<dir>/<prefix>/latest.json` (the snapshot at
/// the end) and `<dir>/<prefix>/changes/<time>.json` for the last `change_hours` hours.
pub fn write_bucket_layout(
    dir: &std::path::Path,
    prefix: &str,
    cfg: &GenConfig,
    change_hours: u64,
) -> std::io::Result<Written> {
    let feed = generate(cfg);
    let root = dir.join(prefix);
    let changes_dir = root.join("changes");
    std::fs::create_dir_all(&changes_dir)?;
    let snapshot = feed.snapshot(cfg.end);
    let records = snapshot["records"].as_array().map_or(0, Vec::len);
    let snapshot_path = root.join("latest.json");
    std::fs::write(&snapshot_path, serde_json::to_vec(&snapshot)?)?;
    let hours = i64::try_from(change_hours).unwrap_or(i64::MAX / 7200);
    let files = feed.changes(cfg.end - Duration::hours(hours), cfg.end);
    for (name, doc) in &files {
        std::fs::write(changes_dir.join(name), serde_json::to_vec(doc)?)?;
    }
    Ok(Written {
        snapshot: snapshot_path,
        changes_dir,
        records,
        change_files: files.len(),
    })
}
