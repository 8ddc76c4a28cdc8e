//! Property tests of the SQL normalisers (seeded random spellings, checked in one round trip
//! each against a real Postgres): every spelling of a thing maps to the same canonical value.

use fleet_fuel::feedgen::{Rng, with_commas};
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
async fn every_spelling_maps_to_one_canonical_value() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let mut rng = Rng(20261124);

    // Plates: case, spaces, dashes; O and I typed for 0 and 1 in the digit block.
    let mut plates = Vec::new();
    for _ in 0..400 {
        let l = |r: &mut Rng| (b'A' + r.below(26) as u8) as char;
        let (a, b, c) = (l(&mut rng), l(&mut rng), l(&mut rng));
        let digits = format!("{:03}", rng.below(1000));
        let canonical = format!("K{a}{b}{digits}{c}");
        let typed_digits: String = digits
            .chars()
            .map(|d| match (d, rng.below(4)) {
                ('0', 0) => 'O',
                ('1', 0) => 'I',
                (d, _) => d,
            })
            .collect();
        plates.push((
            scramble(&mut rng, &format!("K{a}{b} {typed_digits} {c}")),
            canonical,
        ));
    }
    check(pool, "norm_plate", &plates).await;

    // Fuel types: every trade name and a typo of the common words.
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
            ][..],
        ),
        ("kerosene", &["Kerosene", "paraffin", "DPK"][..]),
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

    // Departments the operators registered: any case, padding, "dept", abbreviations, one typo.
    sqlx::query(
        "INSERT INTO fuel.mappings (kind, raw_value, canonical)
         SELECT 'department', fuel.lookup_key(d), d FROM unnest($1::text[]) d",
    )
    .bind(vec![
        "Operations",
        "Logistics",
        "Field Service",
        "Procurement",
        "Maintenance",
    ])
    .execute(pool)
    .await
    .expect("mappings");
    let mut depts = Vec::new();
    for (canon, extra) in [
        ("Operations", &["OPS", "ops dept", "Operation"][..]),
        (
            "Logistics",
            &["LOGISTIC", "Log. Dept", "logistics department"][..],
        ),
        (
            "Field Service",
            &["field services", "FIELD SERVICE DEPT"][..],
        ),
        ("Procurement", &["procurement section", "Proc."][..]),
        ("Maintenance", &["maint.", "MTCE dept", "Maintainance"][..]),
    ] {
        for _ in 0..15 {
            depts.push((scramble(&mut rng, canon), canon.to_string()));
            let t = typo(&mut rng, canon);
            depts.push((t, canon.to_string()));
            depts.push((extra[rng.below(extra.len())].to_string(), canon.to_string()));
        }
    }
    check(pool, "canon_department", &depts).await;

    // Numbers: commas, currency, units, a decimal comma; the value survives.
    let mut numbers = Vec::new();
    for _ in 0..300 {
        let x = rng.below(2_000_000) as f64 / 100.0;
        let whole = x.trunc() as u64;
        let grouped = with_commas(whole as f64);
        let cents = format!("{:02}", (x.fract() * 100.0).round() as u64);
        let text = match rng.below(5) {
            0 => format!("KES {grouped}.{cents}"),
            1 => format!("{whole}.{cents} L"),
            2 => format!("Ksh.{grouped}.{cents}"),
            3 => format!("{whole},{cents}"),
            _ => format!("{grouped}.{cents}/="),
        };
        numbers.push((text, format!("{whole}.{cents}")));
    }
    let sql = "SELECT c ->> 0, c ->> 1 FROM jsonb_array_elements($1) c
                WHERE fuel.parse_number(c ->> 0) IS DISTINCT FROM (c ->> 1)::numeric";
    let input: Value = numbers.iter().map(|(a, b)| json!([a, b])).collect();
    let wrong: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(input)
        .fetch_all(pool)
        .await
        .expect("numbers");
    assert!(wrong.is_empty(), "parse_number: {wrong:?}");

    // Times: EAT wall times in every layout, and zoned ones, are the same instant.
    let mut times = Vec::new();
    for _ in 0..300 {
        let (y, mo) = (2024 + rng.below(3), 1 + rng.below(12));
        // every day of the month, the 29th to 31st included (the inline ISO path checks those)
        let days = chrono::NaiveDate::from_ymd_opt(y as i32, mo as u32, 1)
            .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
            .and_then(|next| next.pred_opt())
            .map_or(28, |last| chrono::Datelike::day(&last) as usize);
        let (d, h, mi) = (1 + rng.below(days), rng.below(24), rng.below(60));
        let utc = format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:00+03:00");
        let text = match rng.below(4) {
            0 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}"),
            1 => format!("{d:02}/{mo:02}/{y} {h:02}:{mi:02}"),
            2 => format!("{d}/{mo}/{y} {h}:{mi:02}:00"),
            _ => utc.clone(),
        };
        times.push((text, utc));
    }
    let sql = "SELECT c ->> 0, c ->> 1 FROM jsonb_array_elements($1) c
                WHERE fuel.parse_time(c ->> 0) IS DISTINCT FROM (c ->> 1)::timestamptz";
    let input: Value = times.iter().map(|(a, b)| json!([a, b])).collect();
    let wrong: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(input)
        .fetch_all(pool)
        .await
        .expect("times");
    assert!(wrong.is_empty(), "parse_time: {wrong:?}");
    // Impossible dates and times are unreadable, not errors; the edges of the calendar read.
    for (text, want) in [
        ("31/02/2026 10:00", None),
        ("2026-02-29 10:00", None),
        ("2026-04-31T10:00:00Z", None),
        ("2026-11-02 24:00", None),
        ("2026-11-02 05:15:60", None),
        ("2026-13-01", None),
        ("yesterday", None),
        ("2024-02-29 10:00", Some("2024-02-29T07:00:00Z")),
        ("2026-04-30T10:00:00Z", Some("2026-04-30T10:00:00Z")),
        ("2026-12-31 23:59:59.5", Some("2026-12-31T20:59:59.5Z")),
        (" 2026-11-02 05:15 ", Some("2026-11-02T02:15:00Z")),
        ("2026-11-02T05:15:00.5+0300", Some("2026-11-02T02:15:00.5Z")),
        ("2026-11-02 05:15 -05", Some("2026-11-02T10:15:00Z")),
        ("2.3.2026 7:05", Some("2026-03-02T04:05:00Z")),
        ("1700000000", Some("2023-11-14T22:13:20Z")),
        ("1700000000123", Some("2023-11-14T22:13:20.123Z")),
    ] {
        let got: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT fuel.parse_time($1)")
                .bind(text)
                .fetch_one(pool)
                .await
                .expect("time");
        let want = want.map(|w| w.parse::<chrono::DateTime<chrono::Utc>>().expect("want"));
        assert_eq!(got, want, "parse_time({text:?})");
    }
}

/// A fleet with no department mappings and no cost centres still gets one name per department:
/// typos land on a common department name. Registered names win over common ones, and a typo
/// never changes a number.
#[tokio::test]
async fn departments_no_one_registered_still_come_out_as_one_name_each() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let mut rng = Rng(20261125);
    let mut depts = Vec::new();
    for canon in [
        "Operations",
        "Logistics",
        "Field Service",
        "Distribution",
        "Maintenance",
        "Procurement",
        "Administration",
    ] {
        for _ in 0..10 {
            depts.push((scramble(&mut rng, canon), canon.to_string()));
            let t = typo(&mut rng, canon);
            depts.push((t, canon.to_string()));
        }
    }
    for (spelled, canon) in [
        ("Opertions", "Operations"),
        ("Feild Service", "Field Service"),
        ("Logistcs", "Logistics"),
        ("Distribtion", "Distribution"),
        ("Maintainance", "Maintenance"),
        ("procurment", "Procurement"),
        ("Sales dept", "Sales"),
        ("Quarry crew", "Quarry Crew"),
    ] {
        depts.push((spelled.into(), canon.into()));
    }
    check(pool, "canon_department", &depts).await;

    // The fleet's own names: "Team 1" and "Team 2" stay apart, "Team 3" is new, and a registered
    // "Project" wins over the common "Projects".
    sqlx::query(
        "INSERT INTO domain.cost_centres (code, name) VALUES ('T1', 'Team 1'), ('T2', 'Team 2'), ('PR', 'Project')",
    )
    .execute(pool)
    .await
    .expect("cost centres");
    let cases: Vec<(String, String)> = [
        ("team 2", "Team 2"),
        ("TEAM-1", "Team 1"),
        ("Taem 1", "Team 1"),
        ("Team 3", "Team 3"),
        ("Team 12", "Team 12"),
        ("Projects", "Project"),
        ("projetc", "Project"),
        ("Opertions", "Operations"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    check(pool, "canon_department", &cases).await;
}
