//! A generator of realistic, messy fuel feeds (seeded: the same seed gives the same feed), for
//! tests, the local demo and benchmarks.
//!
//! Each vehicle drives a plausible distance a day and fills up every few days with the litres
//! that distance burns at its consumption, at a pump price of the day. Then the feed is made to
//! look like the WhatsApp-fed table it comes from: plates with and without spaces or dashes,
//! `DISIEL` / `diesel ` / `AGO` / `PMS`, some thirty spellings of eight departments, numbers as
//! strings with commas, currency or units, local times without a zone in several layouts,
//! missing fields, a few unreadable records, odometer typos, overfills, hired vehicles not in the
//! fleet, later edits and soft deletes. Every record version carries its `updated_at`, so the
//! same history yields a snapshot at any time and the hourly change files between two times.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde_json::{Value, json};

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

/// One version of one record, as the source table had it from `at`.
#[derive(Debug, Clone)]
pub struct Version {
    pub at: DateTime<Utc>,
    pub id: u64,
    pub record: Value,
}

/// A generated feed: every version of every record, in time order.
#[derive(Debug, Clone)]
pub struct Feed {
    pub versions: Vec<Version>,
}

/// The canonical departments and how people type them.
pub const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Operations",
        &[
            "Operations",
            "OPS",
            "ops dept",
            "Operation",
            "OPERATIONS ",
            "Opertions",
        ],
    ),
    (
        "Logistics",
        &[
            "Logistics",
            "LOGISTICS",
            "logistic",
            "Logistcs",
            "Log. Dept",
        ],
    ),
    (
        "Sales",
        &["Sales", "SALES", "sales dept", "Sales & Marketing"],
    ),
    (
        "Maintenance",
        &["Maintenance", "MAINTENANCE", "Maintainance", "maint."],
    ),
    (
        "Administration",
        &["Administration", "Admin", "ADMIN DEPT", "administration "],
    ),
    (
        "Field Service",
        &[
            "Field Service",
            "FIELD SERVICE",
            "field services",
            "Feild Service",
        ],
    ),
    (
        "Distribution",
        &["Distribution", "DISTRIBUTION", "Distribtion"],
    ),
    ("Procurement", &["Procurement", "PROCUREMENT", "procurment"]),
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

/// A small, fast, seeded generator (SplitMix64): the feed (and the property tests' cases) must
/// be the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A whole number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// A fleet of `n` vehicles with Kenyan plates, for when no registry is at hand.
pub fn vehicles(seed: u64, n: usize) -> Vec<GenVehicle> {
    let mut rng = Rng(seed ^ 0x5eed);
    (0..n)
        .map(|i| {
            let letters: String = (0..2)
                .map(|_| (b'A' + (rng.next_u64() % 26) as u8) as char)
                .collect();
            let plate = format!(
                "K{letters} {:03}{}",
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
        plate,
    }
}

fn eat() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("EAT is a valid offset")
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
        let spellings = DEPARTMENTS
            .iter()
            .find(|(c, _)| *c == v.department)
            .map(|(_, s)| *s)
            .unwrap_or(&[]);
        let driver = *rng.pick(DRIVERS);
        loop {
            let gap_days = rng.range(1.5, 4.5);
            let next = t + Duration::minutes((gap_days * 1440.0) as i64);
            // Fills happen in the working day, EAT.
            let local = next.with_timezone(&eat());
            let hour = 6.0 + rng.range(0.0, 14.0);
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
            let mut litres =
                (km * v.l_per_100km / 100.0 * rng.range(0.93, 1.07)).min(v.tank_litres * 0.98);
            litres = (litres * 100.0).round() / 100.0;
            let price = if v.diesel {
                rng.range(168.0, 176.0)
            } else {
                rng.range(178.0, 188.0)
            };
            let amount = (litres * price).round();
            let id = next_id;
            next_id += 1;
            let created = filled + Duration::minutes((rng.range(2.0, 90.0)) as i64);
            let mut rec = json!({
                "id": id,
                "car": messy_plate(&mut rng, &v.plate),
                "litres": messy_number(&mut rng, litres, &["", " L", " litres", "L"]),
                "amount": messy_money(&mut rng, amount),
                "odometer": messy_number(&mut rng, odometer.round(), &["", " km", "KM"]),
                "fuel_type": messy_fuel(&mut rng, v.diesel),
                "driver": if rng.chance(0.3) { driver.to_uppercase() } else { driver.to_string() },
                "department": rng.pick(spellings).to_string(),
                "record_datetime": messy_time(&mut rng, filled),
                "station": rng.pick(STATIONS).to_string(),
                "created_at": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "updated_at": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "deleted_at": Value::Null,
            });
            if cfg.messy {
                make_messy(&mut rng, &mut rec, v, litres);
            }
            versions.push(Version {
                at: created,
                id,
                record: rec.clone(),
            });
            if cfg.messy && rng.chance(0.03) {
                // A later correction (a typo in the litres fixed), or a soft delete.
                let at = created + Duration::minutes(rng.range(30.0, 3000.0) as i64);
                if at < cfg.end {
                    let mut edited = rec;
                    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    if rng.chance(0.5) {
                        edited["litres"] = json!(format!("{:.2}", litres * 0.9));
                    } else {
                        edited["deleted_at"] = json!(stamp.clone());
                    }
                    edited["updated_at"] = json!(stamp);
                    versions.push(Version {
                        at,
                        id,
                        record: edited,
                    });
                }
            }
            t = filled;
        }
    }
    versions.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    Feed { versions }
}

fn make_messy(rng: &mut Rng, rec: &mut Value, v: &GenVehicle, litres: f64) {
    let roll = rng.unit();
    if roll < 0.004 {
        rec["litres"] = json!("see receipt");
    } else if roll < 0.007 {
        rec["car"] = json!("");
    } else if roll < 0.010 {
        rec["fuel_type"] = json!("mafuta ya taa?");
    } else if roll < 0.013 {
        rec["record_datetime"] = json!("yesterday");
    } else if roll < 0.023 {
        // odometer typo: a digit dropped
        if let Some(o) = rec["odometer"]
            .as_str()
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit() && c != ',').next())
        {
            let digits: String = o.chars().filter(char::is_ascii_digit).collect();
            rec["odometer"] = json!(digits[..digits.len().saturating_sub(1)].to_string());
        } else if let Some(o) = rec["odometer"].as_f64() {
            rec["odometer"] = json!((o / 10.0).round());
        }
    } else if roll < 0.028 {
        rec["litres"] = json!(format!("{:.1}", v.tank_litres * 1.4));
    } else if roll < 0.058 {
        rec["odometer"] = Value::Null;
    } else if roll < 0.078 {
        rec["car"] = json!(format!(
            "K{}{} {:03}{}",
            (b'A' + (rng.next_u64() % 26) as u8) as char,
            (b'A' + (rng.next_u64() % 26) as u8) as char,
            rng.next_u64() % 1000,
            'H'
        ));
    } else if roll < 0.098 {
        rec["full_tank"] = json!("no");
        rec["litres"] = json!(format!("{:.2}", litres * 0.5));
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

fn messy_number(rng: &mut Rng, x: f64, units: &[&str]) -> Value {
    match rng.next_u64() % 5 {
        0 => json!(x),
        1 => json!(format!("{x}")),
        2 => json!(format!("{}{}", with_commas(x), rng.pick(units))),
        3 => json!(format!("{x}{}", rng.pick(units))),
        _ => json!(x),
    }
}

fn messy_money(rng: &mut Rng, x: f64) -> Value {
    match rng.next_u64() % 6 {
        0 => json!(x),
        1 => json!(with_commas(x)),
        2 => json!(format!("KES {}", with_commas(x))),
        3 => json!(format!("{x}/=")),
        4 => json!(format!("Ksh {}.00", with_commas(x))),
        _ => json!(format!("{x}")),
    }
}

/// A number as people write money: thousands commas, two decimals when it has any.
pub fn with_commas(x: f64) -> String {
    let whole = x.trunc() as i64;
    let frac = x - x.trunc();
    let s = whole.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if frac > 0.0 {
        out.push_str(&format!("{frac:.2}")[1..]);
    }
    out
}

fn messy_fuel(rng: &mut Rng, diesel: bool) -> String {
    let options: &[&str] = if diesel {
        &[
            "Diesel", "DIESEL", "diesel ", "DISIEL", "Disel", "AGO", "diesel",
        ]
    } else {
        &[
            "Petrol", "PETROL", "petrol ", "PMS", "Super", "V-Power", "Petro",
        ]
    };
    rng.pick(options).to_string()
}

fn messy_time(rng: &mut Rng, t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&eat());
    match rng.next_u64() % 5 {
        0 => local.format("%Y-%m-%d %H:%M:%S").to_string(),
        1 => local.format("%d/%m/%Y %H:%M").to_string(),
        2 => local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        3 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        _ => local.format("%Y-%m-%d %H:%M").to_string(),
    }
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
