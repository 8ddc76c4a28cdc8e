//! Property tests of the fuel readers over generated feeds (no database): every value the
//! generator writes, in every style people write it, reads back exactly as what it means, and
//! every real department's spellings come out as one name, no two departments merged.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{TimeZone, Utc};
use fleet_core::fuel::departments::{self, DecidedBy};
use fleet_core::fuel::record;
use fleet_fuel::feedgen::{self, GenConfig};

fn feed(seed: u64, vehicles: usize) -> feedgen::Feed {
    feedgen::generate(&GenConfig {
        seed,
        vehicles: feedgen::vehicles(seed, vehicles),
        days: 30,
        end: Utc
            .with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
            .single()
            .expect("time"),
        messy: true,
    })
}

#[test]
fn every_value_in_every_style_reads_as_what_it_means() {
    for seed in [1, 2, 3, 4] {
        let feed = feed(seed, 120);
        assert!(
            feed.versions.len() >= 1000,
            "{} versions",
            feed.versions.len()
        );
        let mut wrong = Vec::new();
        for v in &feed.versions {
            let r = record::read(&v.record);
            let t = &v.truth;
            let got = (r.litres, r.amount, r.currency, r.odometer_km, r.filled_at);
            let want = (t.litres, t.amount, t.currency, t.odometer_km, t.filled_at);
            if got != want {
                wrong.push(format!("{}: read {got:?}, meant {want:?}", v.record));
            }
            // what the generator kept usable has no error; the rest has one
            if t.readable != r.errors.is_empty() {
                wrong.push(format!("{}: errors {:?}", v.record, r.errors));
            }
            if !r.warnings.is_empty() && t.odometer_km.is_some() {
                wrong.push(format!("{}: warnings {:?}", v.record, r.warnings));
            }
        }
        assert!(
            wrong.is_empty(),
            "seed {seed}: {} wrong, e.g.\n{}",
            wrong.len(),
            wrong[..wrong.len().min(12)].join("\n")
        );
    }
}

#[test]
fn a_generated_feed_uses_every_style() {
    let feed = feed(5, 60);
    let texts: Vec<String> = feed.versions.iter().map(|v| v.record.to_string()).collect();
    for mark in [
        "/=", "/-", "Ksh", "KShs", "UGX", "USh", "bob", "E+0", "k\"", " only", "Ltrs", "lita",
        " lts", "ODO ", " kms", " AM", " pm", "p.m.", "hrs", "EAT", "UTC", "Nov", "November",
        " at ", "+0300", "\"date\"", "\"time\"",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(mark)),
            "no record written with {mark:?}"
        );
    }
}

#[test]
fn departments_come_out_one_name_each_and_never_merged() {
    for seed in [1, 2, 3, 4, 5, 6] {
        let feed = feed(seed, 160);
        // the live records' spellings, as the refresh counts them
        let mut latest: BTreeMap<u64, &feedgen::Version> = BTreeMap::new();
        for v in &feed.versions {
            latest.insert(v.id, v);
        }
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut truth: HashMap<String, &str> = HashMap::new();
        for v in latest.values().filter(|v| v.record["deleted_at"].is_null()) {
            let r = record::read(&v.record);
            let Some(d) = r.department else { continue };
            *counts.entry(d.clone()).or_default() += 1;
            let real = truth.entry(d.clone()).or_insert(v.truth.department);
            assert_eq!(
                *real, v.truth.department,
                "one spelling, two departments: {d:?}"
            );
        }
        let spellings: Vec<(String, i64)> = counts.into_iter().collect();
        let decisions = departments::decide(&spellings, &[], &[]);
        assert_eq!(decisions.len(), spellings.len());
        let mut names: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for d in &decisions {
            names
                .entry(truth[&d.spelling])
                .or_default()
                .insert(d.canonical.as_str());
        }
        let split: Vec<_> = names.iter().filter(|(_, n)| n.len() > 1).collect();
        let odd: Vec<_> = decisions
            .iter()
            .filter(|d| names[truth[&d.spelling]].len() > 1)
            .map(|d| (&d.spelling, &d.canonical, d.decided_by, &d.reason))
            .collect();
        assert!(
            split.is_empty(),
            "seed {seed}: departments split: {split:?}\n{odd:#?}"
        );
        let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
        for (real, n) in &names {
            let canonical = n.iter().next().copied().unwrap_or_default();
            if let Some(other) = owners.insert(canonical, real) {
                panic!("seed {seed}: {other} and {real} merged into {canonical}");
            }
        }
        assert!(
            decisions
                .iter()
                .all(|d| d.decided_by != DecidedBy::Suggestion),
            "seed {seed}: a suggestion where the evidence is clear: {:?}",
            decisions
                .iter()
                .filter(|d| d.decided_by == DecidedBy::Suggestion)
                .collect::<Vec<_>>()
        );
    }
}
