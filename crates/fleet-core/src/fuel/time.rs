//! Fill times as people and spreadsheets write them; East Africa Time (UTC+3, no daylight
//! saving) when no zone is given.
//!
//! A value is a date and, usually, a time of day, in either order, with words between them:
//! - dates: ISO `2026-11-02` (also with `/` or `.`), day first as Kenya and Uganda write them
//!   (`2/11/2026`, `02-11-26`, `02.11.2026`), month names in English or Swahili (`2 Nov 2026`,
//!   `02-Nov-26`, `2nd November 2026`, `Nov 2, 2026`, `Mon, 02 Nov 2026`, `2 Novemba 2026`);
//! - times: 24-hour (`08:15`, `08:15:30.5`, `0815hrs`, `14.15 hrs`) or 12-hour (`8:15 AM`,
//!   `8:15pm`, `8.15 p.m.`, `8 am`, `12:30 AM` is 00:30, `noon`, `midnight`);
//! - zones: `Z`, `UTC`, `GMT`, `EAT`, `+03:00`, `+0300`, `+03`, `GMT+3`, after the time;
//! - the M-Pesa shape `on 6/4/24 at 5:40 pm` (`at`, `on`, weekdays and commas are ignored);
//! - numbers: Unix seconds or milliseconds, `YYYYMMDDHHMMSS` (M-Pesa's TransTime, EAT), and
//!   spreadsheet serial dates (`46329.34375`, days since 1899-12-30, EAT wall time).
//!
//! A date with both parts ≤ 12 is read day first; `11/25/2026` is not turned around (a US date
//! in a Kenyan log is more likely a typo than a format), it is refused with the reason.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::number::is_placeholder;

/// East Africa Time, the zone of a time written without one.
pub fn eat() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).expect("UTC+3 is a valid offset")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Word(String),
    Sym(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// No space between this token and the one before it.
    glued: bool,
}

/// Reads a fill time. `Ok(None)`: nothing recorded. `Err`: what was not understood.
pub fn read(text: &str) -> Result<Option<DateTime<Utc>>, super::NotUnderstood> {
    rfc3339(text.trim()).map_or_else(|| read_text(text), |t| Ok(Some(t)))
}

/// The one shape machines write (`2026-11-02T05:30:00Z`, `…T08:30:00.5+03:00`), read without
/// the general reader: most times in a feed are its `created_at` and `updated_at` stamps. It
/// reads them as [`read_text`] does (a test holds the two equal); anything else is `None`.
fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shaped = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        // a leap second is the general reader's to refuse
        && b[17] < b'6';
    if !shaped {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn read_text(text: &str) -> Result<Option<DateTime<Utc>>, super::NotUnderstood> {
    let s = text.trim();
    if is_placeholder(s) {
        return Ok(None);
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.bytes().any(|b| b.is_ascii_digit()) {
        return numeric(s).map(Some);
    }
    let lower = s
        .to_lowercase()
        .replace("a.m.", "am")
        .replace("p.m.", "pm")
        .replace("a.m", "am")
        .replace("p.m", "pm")
        .replace("a. m.", "am")
        .replace("p. m.", "pm");
    let tokens = tokenize(&lower);
    let mut used = vec![false; tokens.len()];
    let clock = clock(&tokens, &mut used)?;
    let zone = zone(&tokens, &mut used, clock.as_ref().map(|c| c.end))?;
    let date = date(&tokens, &used)?;
    let (h, m, sec, nanos) = clock.map_or((0, 0, 0, 0), |c| (c.hour, c.minute, c.second, c.nanos));
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
        .ok_or_else(|| format!("{h:02}:{m:02}:{sec:02} is not a time of day"))?;
    let local = NaiveDateTime::new(date, time);
    let offset = zone.unwrap_or_else(eat);
    offset
        .from_local_datetime(&local)
        .single()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| "the time does not exist in its zone".into())
}

fn tokenize(s: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut glued = false;
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            glued = false;
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(d);
                chars.next();
            }
            Tok::Num(n)
        } else if c.is_alphabetic() {
            let mut w = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                w.push(d);
                chars.next();
            }
            Tok::Word(w)
        } else {
            chars.next();
            Tok::Sym(c)
        };
        out.push(Token { tok, glued });
        glued = true;
    }
    out
}

fn num(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Num(n)) => Some(n.as_str()),
        _ => None,
    }
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn sym(t: Option<&Token>, c: char) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Sym(x)) if *x == c)
}

struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// The index just after the clock (where a zone may follow).
    end: usize,
}

fn is_meridiem(w: Option<&str>) -> Option<bool> {
    match w {
        Some("am") => Some(false),
        Some("pm") => Some(true),
        _ => None,
    }
}

fn is_hours_word(w: Option<&str>) -> bool {
    matches!(w, Some("hrs" | "hr" | "h" | "hours" | "hour"))
}

/// Finds the time of day and marks its tokens used.
fn clock(t: &[Token], used: &mut [bool]) -> Result<Option<Clock>, super::NotUnderstood> {
    let mut found: Option<Clock> = None;
    let mut i = 0;
    while i < t.len() {
        let start = i;
        let mut parsed: Option<(u32, u32, u32, u32, usize)> = None;
        if let Some(h) = num(t.get(i)).filter(|h| h.len() <= 2) {
            let h: u32 = h.parse().unwrap_or(99);
            if sym(t.get(i + 1), ':') && num(t.get(i + 2)).is_some_and(|m| m.len() == 2) {
                // 08:15[:30[.5]]
                let m = num(t.get(i + 2)).unwrap_or("0").parse().unwrap_or(99);
                let mut j = i + 3;
                let (mut s, mut nanos) = (0, 0);
                if sym(t.get(j), ':') && num(t.get(j + 1)).is_some_and(|s| s.len() == 2) {
                    s = num(t.get(j + 1)).unwrap_or("0").parse().unwrap_or(99);
                    j += 2;
                    if (sym(t.get(j), '.') || sym(t.get(j), ','))
                        && let Some(f) = num(t.get(j + 1))
                    {
                        nanos = fraction_nanos(f);
                        j += 2;
                    }
                }
                parsed = Some((h, m, s, nanos, j));
            } else if sym(t.get(i + 1), '.')
                && num(t.get(i + 2)).is_some_and(|m| m.len() == 2)
                && (is_meridiem(word(t.get(i + 3))).is_some() || is_hours_word(word(t.get(i + 3))))
            {
                // 8.15 pm, 14.15 hrs
                let m = num(t.get(i + 2)).unwrap_or("0").parse().unwrap_or(99);
                parsed = Some((h, m, 0, 0, i + 3));
            } else if is_meridiem(word(t.get(i + 1))).is_some() {
                // 8am, 8 pm
                parsed = Some((h, 0, 0, 0, i + 1));
            }
        }
        if parsed.is_none()
            && let Some(n) = num(t.get(i)).filter(|n| n.len() == 3 || n.len() == 4)
            && is_hours_word(word(t.get(i + 1)))
        {
            // 0815hrs, 1415 h
            let v: u32 = n.parse().unwrap_or(9999);
            parsed = Some((v / 100, v % 100, 0, 0, i + 1));
        }
        if parsed.is_none() {
            match word(t.get(i)) {
                Some("noon" | "midday") => parsed = Some((12, 0, 0, 0, i + 1)),
                Some("midnight") => parsed = Some((0, 0, 0, 0, i + 1)),
                _ => {}
            }
        }
        let Some((mut h, m, s, nanos, mut end)) = parsed else {
            i += 1;
            continue;
        };
        if let Some(pm) = is_meridiem(word(t.get(end))) {
            if h == 0 || h > 12 {
                return Err(format!(
                    "{h} {} is not a time: a 12-hour clock runs from 1 to 12",
                    if pm { "PM" } else { "AM" }
                )
                .into());
            }
            h = match (h, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
            end += 1;
        }
        while is_hours_word(word(t.get(end))) {
            end += 1;
        }
        if h > 23 {
            return Err(format!("hour {h} does not exist (24-hour clock: 0 to 23)").into());
        }
        if m > 59 {
            return Err(format!("minute {m} does not exist").into());
        }
        if s > 59 {
            return Err(format!("second {s} does not exist").into());
        }
        if found.is_some() {
            return Err("it has two times of day".into());
        }
        for u in used.iter_mut().take(end).skip(start) {
            *u = true;
        }
        found = Some(Clock {
            hour: h,
            minute: m,
            second: s,
            nanos,
            end,
        });
        // a zone after the time ("+03:00") is not a second clock
        i = end;
        if matches!(word(t.get(i)), Some("z" | "utc" | "gmt" | "eat")) {
            i += 1;
        }
        if (sym(t.get(i), '+') || sym(t.get(i), '-')) && num(t.get(i + 1)).is_some() {
            i += 2;
            if sym(t.get(i), ':') && num(t.get(i + 1)).is_some() {
                i += 2;
            }
        }
    }
    Ok(found)
}

fn fraction_nanos(f: &str) -> u32 {
    let padded: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
    padded.parse().unwrap_or(0)
}

/// A zone right after the time of day: `z`, `utc`, `gmt`, `eat`, `+03:00`, `+0300`, `+03`,
/// `gmt+3`.
fn zone(
    t: &[Token],
    used: &mut [bool],
    after: Option<usize>,
) -> Result<Option<FixedOffset>, super::NotUnderstood> {
    let Some(mut i) = after else {
        return Ok(None);
    };
    let mut base: Option<i32> = None;
    if let Some(w) = word(t.get(i)) {
        base = match w {
            "z" | "utc" | "gmt" => Some(0),
            "eat" => Some(3 * 3600),
            _ => None,
        };
        if base.is_some() {
            used[i] = true;
            i += 1;
        }
    }
    let sign = if sym(t.get(i), '+') {
        Some(1)
    } else if sym(t.get(i), '-') {
        Some(-1)
    } else {
        None
    };
    if let Some(sign) = sign
        && let Some(hh) = num(t.get(i + 1))
        && (base.is_none() || base == Some(0))
    {
        let (hours, mut mins, mut end) = match hh.len() {
            1 | 2 => (hh.parse::<i32>().unwrap_or(99), 0, i + 2),
            4 => (
                hh[..2].parse::<i32>().unwrap_or(99),
                hh[2..].parse::<i32>().unwrap_or(99),
                i + 2,
            ),
            _ => return Err(format!("'{hh}' is not a zone offset").into()),
        };
        if hh.len() <= 2
            && sym(t.get(end), ':')
            && num(t.get(end + 1)).is_some_and(|m| m.len() == 2)
        {
            mins = num(t.get(end + 1)).unwrap_or("0").parse().unwrap_or(99);
            end += 2;
        }
        if hours > 14 || mins > 59 {
            return Err(format!("{hours:02}:{mins:02} is not a zone offset").into());
        }
        for u in used.iter_mut().take(end).skip(i) {
            *u = true;
        }
        return FixedOffset::east_opt(sign * (hours * 3600 + mins * 60))
            .map(Some)
            .ok_or_else(|| "not a zone offset".into());
    }
    Ok(base.and_then(FixedOffset::east_opt))
}

fn month_of(w: &str) -> Option<u32> {
    const NAMES: [&[&str]; 12] = [
        &["jan", "january", "januari"],
        &["feb", "february", "februari"],
        &["mar", "march", "machi"],
        &["apr", "april", "aprili"],
        &["may", "mei"],
        &["jun", "june", "juni"],
        &["jul", "july", "julai"],
        &["aug", "august", "agosti"],
        &["sep", "sept", "september", "septemba"],
        &["oct", "october", "oktoba"],
        &["nov", "november", "novemba"],
        &["dec", "december", "desemba"],
    ];
    NAMES
        .iter()
        .position(|names| names.contains(&w))
        .map(|i| i as u32 + 1)
}

fn is_filler(w: &str) -> bool {
    matches!(
        w,
        "at" | "on"
            | "of"
            | "the"
            | "t"
            | "date"
            | "time"
            | "hrs"
            | "tarehe"
            | "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "weds"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
            | "jumatatu"
            | "jumanne"
            | "jumatano"
            | "alhamisi"
            | "ijumaa"
            | "jumamosi"
            | "jumapili"
    )
}

/// One part of a date: a number (with its digit count) or a month name.
#[derive(Debug, Clone, Copy)]
enum Part {
    Num(u32, usize),
    Month(u32),
}

/// The date from the tokens the clock and zone left.
fn date(t: &[Token], used: &[bool]) -> Result<NaiveDate, super::NotUnderstood> {
    let mut parts: Vec<Part> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if used[i] {
            i += 1;
            continue;
        }
        match &t[i].tok {
            Tok::Num(n) => {
                if n.len() > 4 {
                    if n.len() == 8 && parts.is_empty() {
                        // YYYYMMDD
                        let v = |a: usize, b: usize| n[a..b].parse::<u32>().unwrap_or(0);
                        parts.extend([
                            Part::Num(v(0, 4), 4),
                            Part::Num(v(4, 6), 2),
                            Part::Num(v(6, 8), 2),
                        ]);
                        seps.extend(['-', '-']);
                        i += 1;
                        continue;
                    }
                    return Err(format!("'{n}' is not part of a date").into());
                }
                if !parts.is_empty() && seps.len() < parts.len() {
                    seps.push(' ');
                }
                parts.push(Part::Num(n.parse().unwrap_or(0), n.len()));
                // an ordinal: 2nd, 21st
                if let Some(w) = word(t.get(i + 1))
                    && t[i + 1].glued
                    && matches!(w, "st" | "nd" | "rd" | "th")
                {
                    i += 1;
                }
            }
            Tok::Word(w) => {
                if let Some(m) = month_of(w) {
                    if !parts.is_empty() && seps.len() < parts.len() {
                        seps.push(' ');
                    }
                    parts.push(Part::Month(m));
                } else if !is_filler(w) {
                    return Err(format!("'{w}' is not understood").into());
                }
            }
            Tok::Sym(c @ ('-' | '/' | '.')) => {
                if parts.is_empty() || seps.len() == parts.len() {
                    return Err(format!("'{c}' is not understood here").into());
                }
                seps.push(*c);
            }
            Tok::Sym(',' | '(' | ')' | '|' | ';') => {}
            Tok::Sym(c) => return Err(format!("'{c}' is not understood").into()),
        }
        i += 1;
    }
    if seps.len() >= parts.len() && !parts.is_empty() {
        // a separator after the last part ("2/11/2026 -")
        seps.truncate(parts.len() - 1);
    }
    if parts.is_empty() {
        return Err("there is no date in it".into());
    }
    let numeric_seps_agree = seps.windows(2).all(|w| w[0] == w[1]);
    let (y, m, d) = match parts.as_slice() {
        [Part::Num(y, 4), Part::Num(m, 1..=2), Part::Num(d, 1..=2)] if numeric_seps_agree => {
            if *m > 12 {
                return Err(format!("month {m} does not exist").into());
            }
            (*y as i32, *m, *d)
        }
        [Part::Num(d, 1..=2), Part::Num(m, 1..=2), Part::Num(y, 2 | 4)] if numeric_seps_agree => {
            if *m > 12 {
                return Err(format!(
                    "month {m} does not exist (dates are read day/month/year)"
                ).into());
            }
            (year(*y), *m, *d)
        }
        [Part::Num(d, 1..=2), Part::Month(m), Part::Num(y, 2 | 4)]
        | [Part::Month(m), Part::Num(d, 1..=2), Part::Num(y, 4)]
        | [Part::Num(y, 4), Part::Month(m), Part::Num(d, 1..=2)] => (year(*y), *m, *d),
        [Part::Num(_, 1..=2), Part::Num(_, 1..=2)] | [Part::Num(_, 1..=2), Part::Month(_)] | [Part::Month(_), Part::Num(_, 1..=2)] => {
            return Err("the date has no year".into());
        }
        _ => return Err("the date is not in a form that can be read (day/month/year, year-month-day, or with a month name)".into()),
    };
    if !(1970..=2100).contains(&y) {
        return Err(format!("the year {y} is not a plausible fill date").into());
    }
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
        super::NotUnderstood(format!(
            "day {d} does not exist in {} {y}",
            [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December"
            ][(m as usize).saturating_sub(1).min(11)]
        ))
    })
}

fn year(y: u32) -> i32 {
    if y < 100 { 2000 + y as i32 } else { y as i32 }
}

/// A value that is only digits: Unix seconds or milliseconds, YYYYMMDD[HHMM[SS]], or a
/// spreadsheet serial date.
fn numeric(s: &str) -> Result<DateTime<Utc>, super::NotUnderstood> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.contains('.') {
        return Err(format!("'{s}' is not a date").into());
    }
    let compact = |fmt: &str| {
        NaiveDateTime::parse_from_str(int, fmt)
            .ok()
            .and_then(|t| eat().from_local_datetime(&t).single())
            .map(|t| t.with_timezone(&Utc))
    };
    let plausible = |t: DateTime<Utc>| (1970..=2100).contains(&chrono::Datelike::year(&t));
    let starts_like_a_year = int.starts_with("19") || int.starts_with("20");
    match int.len() {
        14 if frac.is_empty() && starts_like_a_year => compact("%Y%m%d%H%M%S")
            .ok_or_else(|| format!("'{s}' is not a valid YYYYMMDDHHMMSS time").into()),
        12 if frac.is_empty() && starts_like_a_year => compact("%Y%m%d%H%M")
            .ok_or_else(|| format!("'{s}' is not a valid YYYYMMDDHHMM time").into()),
        8 if frac.is_empty() && starts_like_a_year => NaiveDate::parse_from_str(int, "%Y%m%d")
            .ok()
            .and_then(|d| eat().from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("'{s}' is not a valid YYYYMMDD date").into()),
        9..=11 | 13 => {
            let ms: i32 = if int.len() == 13 { 1 } else { 1000 };
            let whole: i64 = int.parse().map_err(|_| format!("'{s}' is not a number"))?;
            let frac_ms = if frac.is_empty() {
                0
            } else {
                (format!("0.{frac}").parse::<f64>().unwrap_or(0.0) * f64::from(ms)).round() as i64
            };
            DateTime::from_timestamp_millis(whole * i64::from(ms) + frac_ms)
                .filter(|t| plausible(*t))
                .ok_or_else(|| format!("'{s}' is not a plausible Unix time").into())
        }
        5 => {
            // spreadsheet serial: days since 1899-12-30, wall time in EAT
            let days: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
            if !(20_000.0..80_000.0).contains(&days) {
                return Err(format!("'{s}' is not a plausible spreadsheet date").into());
            }
            let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .ok_or("calendar")?;
            let secs = (days * 86_400.0).round() as i64;
            let local = epoch + chrono::Duration::seconds(secs);
            eat()
                .from_local_datetime(&local)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| format!("'{s}' is not a plausible spreadsheet date").into())
        }
        _ => Err(format!(
            "'{s}' is a number that is neither a date, a Unix time nor a spreadsheet date"
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        match read(s) {
            Ok(Some(t)) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            Ok(None) => "none".into(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// The machine-stamp shortcut reads what the general reader reads, over generated stamps
    /// (dates, fractions, zones both sides of UTC) and near misses that must fall through.
    #[test]
    fn the_rfc3339_shortcut_agrees_with_the_general_reader() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut read_fast = 0;
        for _ in 0..20_000 {
            let (y, mo, d) = (1990 + next(60), 1 + next(12), 1 + next(31));
            let (h, mi, sec) = (next(24), next(60), next(60));
            let frac = match next(4) {
                0 => String::new(),
                1 => format!(".{}", next(10)),
                2 => format!(".{:03}", next(1000)),
                _ => format!(".{:09}", next(1_000_000_000)),
            };
            let zone = match next(5) {
                0 => "Z".to_string(),
                1 => "z".to_string(),
                2 => format!("+{:02}:{:02}", next(15), 15 * next(4)),
                3 => format!("-{:02}:{:02}", next(13), 30 * next(2)),
                _ => format!("+{:02}{:02}", next(15), 0),
            };
            let sep = if next(8) == 0 { ' ' } else { 'T' };
            let s = format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{sec:02}{frac}{zone}");
            let fast = rfc3339(&s);
            if fast.is_some() {
                read_fast += 1;
            }
            match (fast, read_text(&s)) {
                (Some(f), Ok(Some(g))) => assert_eq!(f, g, "{s}"),
                (Some(f), other) => panic!("{s}: the shortcut read {f}, the reader {other:?}"),
                (None, _) => {}
            }
        }
        // most generated stamps are the shape the shortcut takes (a valid date, a 'T', a zone)
        assert!(read_fast > 10_000, "the shortcut read only {read_fast}");
        for s in [
            "2026-11-02T05:15:60Z",
            "2026-11-02T05:15Z",
            "2026-02-30T05:15:00Z",
            "2026-11-02T05:15:00",
        ] {
            assert_eq!(rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn the_ways_a_fill_time_is_written() {
        for (text, utc) in [
            ("2026-11-02T05:15:00Z", "2026-11-02T05:15:00Z"),
            ("2026-11-02T08:15:00+03:00", "2026-11-02T05:15:00Z"),
            ("2026-11-02T05:15:00.5+0300", "2026-11-02T02:15:00.500Z"),
            ("2026-11-02 05:15 -05", "2026-11-02T10:15:00Z"),
            ("2026-11-02 08:15", "2026-11-02T05:15:00Z"),
            (" 2026-11-02 05:15 ", "2026-11-02T02:15:00Z"),
            ("2026/11/02 08:15:30", "2026-11-02T05:15:30Z"),
            ("02/11/2026 08:15", "2026-11-02T05:15:00Z"),
            ("2/11/2026 8:15", "2026-11-02T05:15:00Z"),
            ("2.3.2026 7:05", "2026-03-02T04:05:00Z"),
            ("02-11-26 08:15", "2026-11-02T05:15:00Z"),
            ("2/11/2026 8:15 AM", "2026-11-02T05:15:00Z"),
            ("2/11/2026 8:15 PM", "2026-11-02T17:15:00Z"),
            ("2/11/2026 8:15pm", "2026-11-02T17:15:00Z"),
            ("2/11/2026 8.15 p.m.", "2026-11-02T17:15:00Z"),
            ("2/11/2026 08:15 a.m.", "2026-11-02T05:15:00Z"),
            ("2/11/2026 12:30 AM", "2026-11-01T21:30:00Z"),
            ("2/11/2026 12:30 PM", "2026-11-02T09:30:00Z"),
            ("2/11/2026 8am", "2026-11-02T05:00:00Z"),
            ("2/11/2026 0815hrs", "2026-11-02T05:15:00Z"),
            ("2/11/2026 14.15 hrs", "2026-11-02T11:15:00Z"),
            ("2/11/2026 noon", "2026-11-02T09:00:00Z"),
            ("8:15 AM 2/11/2026", "2026-11-02T05:15:00Z"),
            ("on 6/4/24 at 5:40 pm", "2024-04-06T14:40:00Z"),
            ("on6/4/24 at 5:40 pm", "2024-04-06T14:40:00Z"),
            ("2 Nov 2026 08:15", "2026-11-02T05:15:00Z"),
            ("02-Nov-26 8:15 AM", "2026-11-02T05:15:00Z"),
            ("2nd November 2026, 8:15 pm", "2026-11-02T17:15:00Z"),
            ("November 2, 2026 8:15 PM", "2026-11-02T17:15:00Z"),
            ("Mon, 02 Nov 2026 08:15:00 +0300", "2026-11-02T05:15:00Z"),
            ("2 Novemba 2026 8:15", "2026-11-02T05:15:00Z"),
            ("02/11/2026 08:15 EAT", "2026-11-02T05:15:00Z"),
            ("02/11/2026 05:15 UTC", "2026-11-02T05:15:00Z"),
            ("02/11/2026 08:15 GMT+3", "2026-11-02T05:15:00Z"),
            ("02/11/2026", "2026-11-01T21:00:00Z"),
            ("2024-02-29 10:00", "2024-02-29T07:00:00Z"),
            ("1700000000", "2023-11-14T22:13:20Z"),
            ("1700000000123", "2023-11-14T22:13:20.123Z"),
            ("20261102081530", "2026-11-02T05:15:30Z"),
            ("46328.34375", "2026-11-02T05:15:00Z"),
        ] {
            assert_eq!(at(text), utc, "read({text:?})");
        }
    }

    #[test]
    fn impossible_times_say_why() {
        for (text, why) in [
            ("31/02/2026 10:00", "day 31 does not exist in February 2026"),
            ("2026-02-29 10:00", "day 29 does not exist in February 2026"),
            (
                "11/25/2026 08:00",
                "month 25 does not exist (dates are read day/month/year)",
            ),
            ("2026-13-01", "month 13 does not exist"),
            ("2026-11-02 24:00", "hour 24"),
            ("2026-11-02 05:15:60", "second 60"),
            ("2/11/2026 13:15 PM", "a 12-hour clock"),
            ("yesterday", "'yesterday' is not understood"),
            ("2/11 08:15", "no year"),
            ("08:15", "no date"),
            ("2026-11-02-05", "not in a form"),
            ("12345", "not a plausible spreadsheet date"),
            ("08:15 09:30 2/11/2026", "two times of day"),
        ] {
            let got = at(text);
            assert!(
                got.contains(why),
                "read({text:?}) = {got}, expected {why:?}"
            );
        }
        assert_eq!(at(""), "none");
        assert_eq!(at("N/A"), "none");
    }
}
