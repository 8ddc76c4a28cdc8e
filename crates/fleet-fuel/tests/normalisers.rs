//! The fuel normalisers end to end against a real Postgres: a generated feed of more than a
//! thousand records, written in every style people write amounts, litres, odometers, times and
//! departments, goes through the real import (event log, parser, projector) and every value that
//! lands in `fuel.records` is compared with what the generator meant. Plates and fuel types, the
//! rules SQL keeps, are property-tested over seeded spellings.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use fleet_core::fuel::number::Decimal;
use fleet_fuel::feedgen::{self, GenConfig, Rng};
use fleet_fuel::import;
use fleet_testkit::TestDb;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Case, padding and separators as people type them.
fn scramble(rng: &mut Rng, s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if rng.below(2) == 0 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    match rng.below(4) {
        0 => out = format!("  {out} "),
        1 => out = out.replace(' ', "-"),
        2 => out = out.replace(' ', ""),
        _ => {}
    }
    out
}

/// One letter dropped, doubled or swapped with the next.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = 1 + rng.below(c.len().saturating_sub(2).max(1));
    match rng.below(3) {
        0 => {
            c.remove(i);
        }
        1 => {
            let dup = c[i];
            c.insert(i, dup);
        }
        _ => {
            let j = (i + 1).min(c.len() - 1);
            c.swap(i, j);
        }
    }
    c.into_iter().collect()
}

async fn check(pool: &PgPool, function: &str, cases: &[(String, String)]) {
    let sql = format!(
        "SELECT c ->> 0, c ->> 1, fuel.{function}(c ->> 0) FROM jsonb_array_elements($1) c
          WHERE fuel.{function}(c ->> 0) IS DISTINCT FROM c ->> 1"
    );
    let input: Value = cases.iter().map(|(a, b)| json!([a, b])).collect();
    let wrong: Vec<(String, String, Option<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(input)
        .fetch_all(pool)
        .await
        .expect(function);
    assert!(
        wrong.is_empty(),
        "{function}: {} of {} wrong: {:?}",
        wrong.len(),
        cases.len(),
        &wrong[..wrong.len().min(10)]
    );
}

#[tokio::test]
async fn every_spelling_of_a_plate_or_fuel_type_maps_to_one_canonical_value() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let mut rng = Rng(20261124);

    // Plates: case, spaces, dashes; O and I typed for 0 and 1 in the digit block.
    let mut plates = Vec::new();
    for _ in 0..400 {
        let l = |r: &mut Rng| (b'A' + r.below(26) as u8) as char;
        let (a, b, c) = (l(&mut rng), l(&mut rng), l(&mut rng));
        let digits = format!("{:03}", rng.below(1000));
        let country = if rng.below(5) == 0 { 'U' } else { 'K' };
        let canonical = format!("{country}{a}{b}{digits}{c}");
        let typed_digits: String = digits
            .chars()
            .map(|d| match (d, rng.below(4)) {
                ('0', 0) => 'O',
                ('1', 0) => 'I',
                (d, _) => d,
            })
            .collect();
        plates.push((
            scramble(&mut rng, &format!("{country}{a}{b} {typed_digits} {c}")),
            canonical,
        ));
    }
    check(pool, "norm_plate", &plates).await;

    // Fuel types: every trade name (English and Swahili) and a typo of the common words.
    let mut fuels = Vec::new();
    for (canon, names) in [
        (
            "diesel",
            &[
                "Diesel",
                "DIESEL",
                "disiel",
                "AGO",
                "gas oil",
                "Diesel 50ppm",
                "Dizeli",
            ][..],
        ),
        (
            "petrol",
            &[
                "Petrol",
                "PMS",
                "Super",
                "Unleaded",
                "V-Power",
                "premium petrol",
                "Petroli",
            ][..],
        ),
        (
            "kerosene",
            &["Kerosene", "paraffin", "DPK", "mafuta ya taa"][..],
        ),
    ] {
        for _ in 0..40 {
            let n = names[rng.below(names.len())];
            fuels.push((scramble(&mut rng, n), canon.to_string()));
        }
        for _ in 0..20 {
            let t = typo(&mut rng, canon);
            fuels.push((scramble(&mut rng, &t), canon.to_string()));
        }
    }
    check(pool, "canon_fuel_type", &fuels).await;
}

/// The newest version of every record of a feed at `end`, by id.
fn latest(feed: &feedgen::Feed, end: DateTime<Utc>) -> BTreeMap<u64, &feedgen::Version> {
    let mut out = BTreeMap::new();
    for v in feed.versions.iter().filter(|v| v.at <= end) {
        out.insert(v.id, v);
    }
    out
}

/// One stored record: what the tests compare.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    record_id: String,
    litres: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    amount_kes: Option<String>,
    odometer_km: Option<String>,
    filled_at: Option<DateTime<Utc>>,
    plate_key: Option<String>,
    fuel_type: Option<String>,
    normalise_errors: Vec<String>,
    department: Option<String>,
}

async fn stored(pool: &PgPool) -> BTreeMap<String, Stored> {
    sqlx::query_as::<_, Stored>(
        "SELECT r.record_id, r.litres::text, r.amount::text, r.currency, r.amount_kes::text, r.odometer_km::text,
                r.filled_at, r.plate_key, r.fuel_type, r.normalise_errors, d.canonical AS department
           FROM fuel.records r LEFT JOIN fuel.department_spellings d ON d.spelling = r.department_spelling
          WHERE r.deleted_at IS NULL",
    )
    .fetch_all(pool)
    .await
    .expect("records")
    .into_iter()
    .map(|s| (s.record_id.clone(), s))
    .collect()
}

fn dec(s: &Option<String>) -> Option<Decimal> {
    s.as_deref().map(|s| s.parse().expect("a stored decimal"))
}

/// Compares every record with what the generator meant; returns the departments' names.
fn compare(
    feed: &BTreeMap<u64, &feedgen::Version>,
    got: &BTreeMap<String, Stored>,
    ugx_per_kes: Decimal,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut names: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for v in feed.values().filter(|v| v.record["deleted_at"].is_null()) {
        let t = &v.truth;
        let Some(s) = got.get(&v.id.to_string()) else {
            wrong.push(format!("{}: not stored", v.id));
            continue;
        };
        if t.readable != s.normalise_errors.is_empty() {
            wrong.push(format!(
                "{}: errors {:?} for {}",
                v.id, s.normalise_errors, v.record
            ));
        }
        let kes = match (t.amount, t.currency) {
            (Some(a), Some("UGX")) => Some(
                format!("{:.2}", a.to_f64() / ugx_per_kes.to_f64())
                    .parse::<Decimal>()
                    .expect("kes"),
            ),
            (a, _) => a,
        };
        let plate: String = t
            .plate
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_uppercase();
        let fuel = match v.record["fuel_type"].as_str() {
            Some("see slip?") => None,
            _ if t.diesel => Some("diesel".to_string()),
            _ => Some("petrol".to_string()),
        };
        let got_values = (
            dec(&s.litres),
            dec(&s.amount),
            s.currency.as_deref(),
            dec(&s.amount_kes),
            dec(&s.odometer_km),
            s.filled_at,
            s.plate_key.clone(),
            s.fuel_type.clone(),
        );
        let meant = (
            t.litres,
            t.amount,
            t.currency,
            kes,
            t.odometer_km,
            t.filled_at,
            (!plate.is_empty()).then_some(plate),
            fuel,
        );
        if got_values != meant {
            wrong.push(format!(
                "{}: stored {got_values:?}, meant {meant:?}, record {}",
                v.id, v.record
            ));
        }
        if let Some(d) = &s.department {
            names.entry(t.department).or_default().insert(d.clone());
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} records wrong, e.g.\n{}",
        wrong.len(),
        feed.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
    let split: Vec<_> = names.iter().filter(|(_, n)| n.len() != 1).collect();
    assert!(
        split.is_empty(),
        "a department came out under several names: {split:?}"
    );
    let canonical: Vec<String> = names.values().flat_map(|n| n.iter().cloned()).collect();
    let distinct: BTreeSet<&String> = canonical.iter().collect();
    assert_eq!(
        distinct.len(),
        canonical.len(),
        "two departments merged: {names:?}"
    );
    canonical
}

#[tokio::test]
async fn a_generated_feed_in_every_style_imports_with_every_value_read_exactly() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let end = Utc
        .with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
        .single()
        .expect("time");
    let feed = feedgen::generate(&GenConfig {
        seed: 15,
        vehicles: feedgen::vehicles(15, 120),
        days: 30,
        end,
        messy: true,
    });
    let records = latest(&feed, end);
    assert!(records.len() >= 1000, "{} records", records.len());
    let doc = serde_json::to_vec(&feed.snapshot(end)).expect("json");
    let report = import::run(
        pool,
        import::Mode::File,
        vec![("hard.json".into(), doc)],
        true,
        None,
    )
    .await
    .expect("import");
    assert_eq!(report.counts.records, records.len());
    let rate: f64 =
        sqlx::query_scalar("SELECT threshold FROM slo.targets WHERE metric = 'fuel_ugx_per_kes'")
            .fetch_one(pool)
            .await
            .expect("rate");
    let rate: Decimal = rate.to_string().parse().expect("rate");
    let names = compare(&records, &stored(pool).await, rate);
    assert!(names.len() >= 15, "{names:?}");
    // No suggestion where the evidence is clear, and every spelling counted.
    let (suggestions, counted): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE decided_by = 'suggestion'), coalesce(sum(records), 0) FROM fuel.department_spellings",
    )
    .fetch_one(pool)
    .await
    .expect("spellings");
    assert_eq!(suggestions, 0);
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM fuel.records WHERE deleted_at IS NULL AND department_spelling IS NOT NULL",
    )
    .fetch_one(pool)
    .await
    .expect("live");
    assert_eq!(counted, live);

    // Replayable: a rebuild from the log gives the same records and departments.
    fleet_ingest::replay::rebuild(pool, "fuel.records", 500, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    assert_eq!(compare(&records, &stored(pool).await, rate), names);

    // An install upgraded from parser v1: its fuel rows are re-parsed when a worker starts, and
    // the records follow the new reading (here: values an older reading got wrong).
    sqlx::query("UPDATE events.raw SET parser_version = 1 WHERE source = 'fuel_feed'")
        .execute(pool)
        .await
        .expect("as if parsed by v1");
    sqlx::query("UPDATE fuel.records SET litres = NULL, amount_kes = NULL WHERE record_id IN (SELECT record_id FROM fuel.records LIMIT 100)")
        .execute(pool)
        .await
        .expect("an older reading");
    let requeued = fleet_ingest::worker::requeue_failed_older(pool)
        .await
        .expect("requeue");
    assert!(requeued > 0);
    while fleet_ingest::worker::drain_once(pool, fleet_ingest::worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
    assert_eq!(compare(&records, &stored(pool).await, rate), names);
    assert_eq!(
        fleet_ingest::worker::requeue_failed_older(pool)
            .await
            .expect("requeue"),
        0,
        "once re-parsed, never again"
    );
}

/// A fleet with no mappings and no cost centres gets one name per department from the feed's own
/// spellings; registered names win over common and learned ones, a typo never changes a number,
/// and a mapping regroups old records at once.
#[tokio::test]
async fn departments_follow_the_registry_and_the_mappings() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let spelled = [
        ("Opertions", 1),
        ("Operations", 4),
        ("OPS", 3),
        ("Feild Service", 1),
        ("field services", 2),
        ("Logistcs", 1),
        ("Sales dept", 2),
        ("Quarry crew", 2),
        ("team 2", 2),
        ("TEAM-1", 1),
        ("Taem 1", 1),
        ("Team 3", 1),
        ("Projects", 2),
        ("projetc", 1),
        ("Tech", 2),
        ("Technical", 3),
        ("Technology", 3),
    ];
    let mut recs = Vec::new();
    for (s, n) in spelled {
        for i in 0..n {
            recs.push(
                json!({"id": format!("{s}-{i}"), "car": "KCA 542Q", "litres": 40,
                             "record_datetime": "2026-11-02 08:00", "department": s}),
            );
        }
    }
    let doc = serde_json::to_vec(&json!({"records": recs})).expect("json");
    import::run(
        pool,
        import::Mode::File,
        vec![("d.json".into(), doc.clone())],
        true,
        None,
    )
    .await
    .expect("import");
    let canon = |s: &'static str| async move {
        sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT canonical, decided_by, suggestion FROM fuel.department_spellings WHERE spelling = $1",
        )
        .bind(s)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    assert_eq!(canon("Opertions").await.0, "Operations");
    assert_eq!(canon("OPS").await.0, "Operations");
    assert_eq!(canon("Feild Service").await.0, "Field Services");
    assert_eq!(canon("Logistcs").await.0, "Logistics");
    assert_eq!(canon("Sales dept").await.0, "Sales");
    assert_eq!(canon("Quarry crew").await.0, "Quarry Crew");
    assert_eq!(canon("Taem 1").await.0, "Team 1");
    assert_eq!(canon("Team 3").await.0, "Team 3");
    let tech = canon("Tech").await;
    assert_eq!(
        (tech.0.as_str(), tech.1.as_str(), tech.2.as_deref()),
        ("Tech", "suggestion", Some("Technical"))
    );

    // The fleet's own names: cost centres Team 1, Team 2 and Project (the registry's import
    // refreshes the spellings) win over the common "Projects".
    fleet_ingest::registry::append(
        pool,
        b"IMEI,Number Plate,Department\n862798050000001,KCA 542Q,Team 1\n862798050000002,KBZ 001A,Team 2\n862798050000003,KDD 300C,Project\n",
        "cc.csv",
        Some("fireside"),
    )
    .await
    .expect("registry");
    while fleet_ingest::worker::drain_once(pool, fleet_ingest::worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM domain.cost_centres ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("cost centres");
    assert!(names.contains(&"Project".to_string()), "{names:?}");
    assert_eq!(
        canon("Projects").await,
        ("Project".into(), "cost_centre".into(), None)
    );
    assert_eq!(canon("projetc").await.0, "Project");
    assert_eq!(canon("TEAM-1").await.1, "cost_centre");

    // A mapping (an operator action) regroups at once: "Tech" confirmed as Technical.
    fleet_ingest::rawlog::append_one(
        pool,
        fleet_ingest::rawlog::TrustedRow {
            source: "operator",
            kind: "fuel_mapping",
            content_type: "application/json",
            verification: "test",
            meta: &json!({}),
            body: br#"{"kind": "department", "raw_value": "TECH", "canonical": "Technical", "actor": "test"}"#,
        },
    )
    .await
    .expect("mapping");
    while fleet_ingest::worker::drain_once(pool, fleet_ingest::worker::BATCH)
        .await
        .expect("drain")
        > 0
    {}
    assert_eq!(
        canon("Tech").await,
        ("Technical".into(), "mapping".into(), None)
    );
    let fills: i64 =
        sqlx::query_scalar("SELECT count(*) FROM fuel.v_fills WHERE department = 'Technical'")
            .fetch_one(pool)
            .await
            .expect("fills");
    assert_eq!(fills, 5, "Tech's two records and Technical's three");
    // ... and a rebuild of the mappings from the log gives the same.
    fleet_ingest::replay::rebuild(pool, "fuel.mappings", 500, &mut |_, _, _| {})
        .await
        .expect("rebuild");
    assert_eq!(canon("Tech").await.0, "Technical");
}
