//! How people write each value of a fuel record, as the generator writes them: every style the
//! readers in `fleet_core::fuel` must understand, each returned with the exact value it means,
//! so tests compare what was read with what was meant.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use fleet_core::fuel::number::Decimal;
use fleet_core::fuel::time::eat;
use fleet_core::rng::Rng;
use serde_json::{Value, json};

/// The currency a vehicle's fills are paid in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Money {
    Kes,
    Ugx,
}

/// Digits grouped in threes with `sep`: `with_sep(1234567, ",")` is `1,234,567`.
pub fn with_sep(whole: u64, sep: &str) -> String {
    let s = whole.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// A number as people write money: thousands commas, two decimals when it has any.
pub fn with_commas(x: f64) -> String {
    let whole = x.trunc() as u64;
    let cents = ((x - x.trunc()) * 100.0).round() as u64;
    let mut out = with_sep(whole, ",");
    if cents > 0 {
        out.push_str(&format!(".{cents:02}"));
    }
    out
}

/// `4500` as Excel's scientific text: `4.5E+03` (exact: the digits are kept).
fn scientific(whole: u64) -> String {
    if whole == 0 {
        return "0".into();
    }
    let digits = whole.to_string();
    let mantissa = digits.trim_end_matches('0');
    let (first, rest) = mantissa.split_at(1);
    let rest = if rest.is_empty() { "0" } else { rest };
    format!("{first}.{rest}E+{:02}", digits.len() - 1)
}

/// An amount of `cents` (hundredths of a shilling) in one of the ways it is written; the value
/// written and the currency it names (none for a bare number or a bare shilling mark).
pub fn money(rng: &mut Rng, cents: u64, currency: Money) -> (Value, Decimal, Option<&'static str>) {
    let (w, c) = (cents / 100, cents % 100);
    let exact = Decimal::new(i128::from(cents), 2);
    let commas = with_sep(w, ",");
    if currency == Money::Ugx {
        let styles = [
            format!("UGX {commas}"),
            format!("USh {commas}"),
            format!("UShs.{commas}/="),
            format!("{commas} Ugx"),
            format!("Ugx{w}"),
            format!("UGX {}", with_sep(w, " ")),
            format!("Ushs {commas}/-"),
        ];
        return (json!(rng.pick(&styles).clone()), exact, Some("UGX"));
    }
    if c > 0 {
        let cc = format!("{c:02}");
        let (text, cur) = match rng.below(8) {
            0 => return (json!(cents as f64 / 100.0), exact, None),
            1 => (format!("{w}.{cc}"), None),
            2 => (format!("{commas}.{cc}"), None),
            3 => (format!("KSh {commas}.{cc}"), Some("KES")),
            4 => (format!("{commas}/{cc}"), None),
            5 => (format!("Ksh{commas}.{cc}"), Some("KES")),
            6 => (format!("{},{cc}", with_sep(w, " ")), None),
            _ => (format!("{},{cc} KES", with_sep(w, ".")), Some("KES")),
        };
        return (json!(text), exact, cur);
    }
    let k = if w % 100 == 0 && w >= 1000 {
        let thousands = Decimal::new(i128::from(w), 3);
        Some(format!(
            "{}k",
            thousands
                .to_string()
                .trim_end_matches('0')
                .trim_end_matches('.')
        ))
    } else {
        None
    };
    let styles: Vec<(String, Option<&'static str>)> = vec![
        (w.to_string(), None),
        (commas.clone(), None),
        (format!("KES {commas}"), Some("KES")),
        (format!("Kes.{w}"), Some("KES")),
        (format!("KShs. {commas}/="), Some("KES")),
        (format!("K.Sh {w}/-"), Some("KES")),
        (format!("Kshs {}", with_sep(w, " ")), Some("KES")),
        (format!("{commas}/="), None),
        (format!("{w}/-"), None),
        (format!("{w}="), None),
        (format!("{w}.-"), None),
        (format!("Sh{commas}"), None),
        (format!("Shs. {commas}"), None),
        (format!("{commas} bob"), None),
        (format!("{w} KES"), Some("KES")),
        (format!("{commas}ksh"), Some("KES")),
        (format!("Ksh {commas} only"), Some("KES")),
        (format!("{commas}.00"), None),
        (format!("Ksh{commas}.00"), Some("KES")),
        (
            k.map_or_else(|| commas.clone(), |k| format!("Ksh {k}")),
            None,
        ),
        (scientific(w), None),
        (format!("'{w}"), None),
        (format!("{}\u{a0}KES", with_sep(w, "\u{a0}")), Some("KES")),
        (with_sep(w, "'"), None),
        (format!("{w},00"), None),
        (format!("{},00", with_sep(w, ".")), None),
        (format!("Kenya Shillings {commas} only"), Some("KES")),
    ];
    let i = rng.below(styles.len() + 2);
    if i >= styles.len() {
        return (json!(w), exact, None);
    }
    let (text, cur) = styles[i].clone();
    // "Ksh 4.5k" says KES; the plain styles say nothing
    let cur = if text.starts_with("Ksh ") && text.ends_with('k') {
        Some("KES")
    } else {
        cur
    };
    (json!(text), exact, cur)
}

/// Litres in `thousandths` (a pump shows two or three decimals) as people write them.
pub fn litres(rng: &mut Rng, thousandths: u64) -> (Value, Decimal) {
    let exact = Decimal::new(i128::from(thousandths), 3);
    let text = exact.to_string();
    let short = text.trim_end_matches('0').trim_end_matches('.').to_string();
    let two = thousandths.is_multiple_of(10);
    let comma = short.replace('.', ",");
    let styles = [
        short.clone(),
        format!("{short} L"),
        format!("{short}L"),
        format!("{short} ltrs"),
        format!("{short} Ltrs."),
        format!("{short} litres"),
        format!("{short} liters"),
        format!("lita {short}"),
        format!("{short} lts"),
        format!("approx {short} L"),
        format!("{text} L"),
        // a decimal comma only with one or two decimals ("45,235" groups thousands)
        if two {
            format!("{comma} l")
        } else {
            format!("{short} l")
        },
    ];
    let i = rng.below(styles.len() + 3);
    if i >= styles.len() {
        return (json!(exact.to_f64()), exact);
    }
    (json!(styles[i].clone()), exact)
}

/// An odometer reading in whole km as people write it.
pub fn odometer(rng: &mut Rng, km: u64) -> (Value, Decimal) {
    let exact = Decimal::new(i128::from(km), 0);
    let styles = [
        km.to_string(),
        format!("{} km", with_sep(km, ",")),
        format!("{km}KM"),
        format!("{km} kms"),
        format!("ODO {}", with_sep(km, ",")),
        format!("{} km", with_sep(km, " ")),
        format!("{}.0", with_sep(km, ",")),
        format!("{km} Km."),
    ];
    let i = rng.below(styles.len() + 2);
    if i >= styles.len() {
        return (json!(km), exact);
    }
    (json!(styles[i].clone()), exact)
}

fn ordinal(d: u32) -> String {
    let suffix = match (d % 10, d % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{d}{suffix}")
}

/// A fill time written one of the ways people and spreadsheets write it: the fields to put in the
/// record (usually one, `record_datetime`; some logs keep `date` and `time` apart) and the
/// instant the text means (to the precision it is written in).
pub fn time(rng: &mut Rng, t: DateTime<Utc>) -> (Vec<(&'static str, Value)>, DateTime<Utc>) {
    let local = t.with_timezone(&eat());
    let minute = t
        - Duration::seconds(i64::from(t.second()))
        - Duration::nanoseconds(i64::from(t.nanosecond()));
    let second = t - Duration::nanoseconds(i64::from(t.nanosecond()));
    let f = |fmt: &str| local.format(fmt).to_string();
    let one = |s: String| vec![("record_datetime", json!(s))];
    let (fields, meant) = match rng.below(22) {
        0 => (one(f("%Y-%m-%d %H:%M:%S")), second),
        1 => (one(f("%d/%m/%Y %H:%M")), minute),
        2 => (one(f("%Y-%m-%dT%H:%M:%S%:z")), second),
        3 => (one(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()), second),
        4 => (one(f("%Y-%m-%d %H:%M")), minute),
        5 => (one(f("%-d/%-m/%Y %-I:%M %p")), minute),
        6 => (one(f("%d-%m-%y %H:%M")), minute),
        7 => (one(f("%d.%m.%Y %H:%M:%S")), second),
        8 => (one(f("%-d %b %Y %H:%M")), minute),
        9 => (one(f("%d-%b-%y %-I:%M %p")), minute),
        10 => (
            one(format!(
                "{} {}",
                ordinal(chrono::Datelike::day(&local)),
                f("%B %Y, %-I:%M %P")
            )),
            minute,
        ),
        11 => (one(f("%B %-d, %Y %-I:%M %p")), minute),
        12 => (one(f("%a, %d %b %Y %H:%M:%S +0300")), second),
        13 => (one(f("on %-d/%-m/%y at %-I:%M %P")), minute),
        14 => (one(f("%H%Mhrs %d/%m/%Y")), minute),
        15 => (
            one(format!(
                "{} {}",
                f("%-I.%M"),
                f("%P %-d/%-m/%Y")
                    .replace("am", "a.m.")
                    .replace("pm", "p.m.")
            )),
            minute,
        ),
        16 => {
            let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("the spreadsheet epoch");
            let secs = (local.naive_local() - epoch).num_seconds();
            (one(format!("{:.10}", secs as f64 / 86_400.0)), second)
        }
        17 => (vec![("record_datetime", json!(t.timestamp()))], second),
        18 => (one(f("%Y%m%d%H%M%S")), second),
        19 => (
            vec![
                ("date", json!(f("%d/%m/%Y"))),
                ("time", json!(f("%-I:%M %p"))),
            ],
            minute,
        ),
        20 => (one(f("%d/%m/%Y %H:%M EAT")), minute),
        _ => (one(t.format("%d/%m/%Y %H:%M UTC").to_string()), minute),
    };
    (fields, meant)
}

/// How people type department names: the name, or one of its other spellings, in any case,
/// with padding, a trailing point, a dash for a space, or a filler word after it.
pub fn department(rng: &mut Rng, canonical: &str, spellings: &[&str]) -> String {
    let base = if rng.chance(0.5) || spellings.is_empty() {
        canonical.to_string()
    } else {
        rng.pick(spellings).to_string()
    };
    let mut s = match rng.below(5) {
        0 => base.to_uppercase(),
        1 => base.to_lowercase(),
        _ => base,
    };
    let has_filler = s.split(|c: char| !c.is_alphanumeric()).any(|w| {
        ["team", "dept", "department", "section", "unit"].contains(&w.to_lowercase().as_str())
    });
    if !has_filler && !s.chars().any(|c| c.is_ascii_digit()) && rng.chance(0.15) {
        const FILLERS: [&str; 5] = [" Dept", " Department", " team", " SECTION", " Unit"];
        let filler = *rng.pick(&FILLERS);
        s.push_str(filler);
    }
    match rng.below(8) {
        0 => format!("  {s} "),
        1 if !s.ends_with('.') => format!("{s}."),
        2 => s.replacen(' ', "-", 1),
        3 => s.replacen(' ', "  ", 1),
        _ => s,
    }
}
