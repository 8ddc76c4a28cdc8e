//! Numbers as people in Kenya and Uganda write them in a fuel log: amounts, litres, odometer
//! readings, typed by drivers into WhatsApp or exported from a spreadsheet.
//!
//! A value is one number with words and marks around it. The number may carry thousands
//! separators (`4,500`, `4 500`, `4'500`, `1.234.567`, the Indian `1,23,456`), a decimal point or
//! a decimal comma (`45.5`, `45,5`, `1.234,50`), an exponent (Excel's `4.5E+03`), a sign or
//! accounting brackets, and a multiplier (`4.5k`, `1.2 million`). Around it: a currency (`KES`,
//! `Ksh.`, `KShs`, `K.Sh`, `Sh`, `/=`, `bob`; `UGX`, `USh`, `UShs`) before or after, a unit with its
//! abbreviations and plurals (`L`, `ltrs`, `lita`; `km`, `kms`, `mi`), and the East African
//! shilling notation `S/C`: shillings, a slash, then the cents or `=`/`-` for none (`4500/=`,
//! `4,500/-`, `1/50` is 1.50, `-/50` is 0.50), plus receipt words (`only`).
//!
//! Which reading of the separators is meant follows one rule: a separator that occurs more than
//! once, or one followed by exactly three digits while another kind follows it, groups thousands;
//! the last separator is the decimal one when it is a point, or a comma followed by one or two
//! digits. Whatever does not fit (`1,23,4`, two numbers, an unknown word, a unit of the wrong kind)
//! is not guessed: the reading fails and says exactly what was not understood.
//!
//! Values are exact decimals ([`Decimal`]), never floats: `4,500.50` is 450050 × 10⁻².

use std::fmt;

/// An exact decimal: `units × 10^-scale`. Equal values are equal whatever their written
/// decimals (`4500.00` is `4500`).
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

/// More digits than any fuel figure has: a value past this is not a number we read.
const MAX_DIGITS: usize = 24;

impl Decimal {
    pub const fn new(units: i128, scale: u32) -> Self {
        Self { units, scale }
    }

    pub fn is_positive(&self) -> bool {
        self.units > 0
    }

    pub fn is_zero(&self) -> bool {
        self.units == 0
    }

    pub fn to_f64(&self) -> f64 {
        self.units as f64 / 10f64.powi(self.scale as i32)
    }

    /// `self × other`, exact (None on overflow).
    fn times(self, other: Decimal) -> Option<Decimal> {
        Some(
            Decimal {
                units: self.units.checked_mul(other.units)?,
                scale: self.scale + other.scale,
            }
            .trimmed(),
        )
    }

    fn plus(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = self
            .units
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other
            .units
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some(Decimal {
            units: a.checked_add(b)?,
            scale,
        })
    }

    fn negated(self) -> Decimal {
        Decimal {
            units: -self.units,
            scale: self.scale,
        }
    }

    /// Trailing zeros beyond the written decimals dropped after a multiplication (`4.5k` is 4500,
    /// not 4500.0).
    fn trimmed(mut self) -> Decimal {
        while self.scale > 0 && self.units % 10 == 0 {
            self.units /= 10;
            self.scale -= 1;
        }
        self
    }

    /// Rounded half away from zero to at most `places` decimals.
    pub fn rounded(self, places: u32) -> Decimal {
        if self.scale <= places {
            return self;
        }
        let div = 10i128.pow(self.scale - places);
        let (q, r) = (self.units / div, self.units % div);
        let q = if r.abs() * 2 >= div {
            q + self.units.signum()
        } else {
            q
        };
        Decimal {
            units: q,
            scale: places,
        }
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.trimmed(), other.trimmed());
        a.units == b.units && a.scale == b.scale
    }
}

impl Eq for Decimal {}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        if self.scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl std::str::FromStr for Decimal {
    type Err = super::NotUnderstood;
    /// A plain decimal (`-12.50`), as [`Decimal`]'s `Display` writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (neg, body) = s.strip_prefix('-').map_or((false, s), |b| (true, b));
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let d = digits(int, frac)
            .ok_or_else(|| super::NotUnderstood(format!("{s:?} is not a plain decimal")))?;
        Ok(if neg { d.negated() } else { d })
    }
}

/// `int.frac` as a decimal (both digit strings; `frac` may be empty).
fn digits(int: &str, frac: &str) -> Option<Decimal> {
    if int.len() + frac.len() == 0
        || int.len() + frac.len() > MAX_DIGITS
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut units: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        units = units * 10 + i128::from(b - b'0');
    }
    Some(Decimal {
        units,
        scale: frac.len() as u32,
    })
}

/// The currency an amount is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Kenya shillings (`KES`, `Ksh`, `KShs`, `Kenya shillings`).
    Kes,
    /// Uganda shillings (`UGX`, `USh`, `UShs`, `Uganda shillings`).
    Ugx,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Self::Kes => "KES",
            Self::Ugx => "UGX",
        }
    }
}

/// What a value is expected to be; decides which words around the number are understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Money: currencies, the shilling notation, multipliers.
    Money,
    /// Litres of fuel: litre units.
    Litres,
    /// An odometer reading in km: km or miles (converted), a `k` multiplier.
    Kilometres,
    /// A bare number (coordinates).
    Plain,
}

/// A number read from a value, with the currency it was written in (money only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub value: Decimal,
    pub currency: Option<Currency>,
}

/// Text that means "nothing recorded" rather than a number.
pub(crate) fn is_placeholder(s: &str) -> bool {
    let k: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        k.as_str(),
        "" | "-" | "--" | "---" | "n/a" | "na" | "nil" | "none" | "null" | "?" | "tbc" | "tba"
    )
}

/// Reads `text` as `kind`. `Ok(None)`: nothing was recorded (empty, `-`, `N/A`, `nil`).
/// `Err`: what was not understood, in words an operator can act on.
pub fn read(text: &str, kind: Quantity) -> Result<Option<Reading>, super::NotUnderstood> {
    read_text(text, kind)
}

fn read_text(text: &str, kind: Quantity) -> Result<Option<Reading>, super::NotUnderstood> {
    let s: String = text
        .trim()
        .chars()
        .map(|c| match c {
            // no-break, thin, narrow no-break and figure spaces, as spreadsheets export them
            '\u{a0}' | '\u{2009}' | '\u{202f}' | '\u{2007}' => ' ',
            '\u{2019}' => '\'',
            '\u{2212}' | '\u{2013}' => '-',
            c => c,
        })
        .collect();
    // A spreadsheet's "text, not a number" apostrophe, and quotes around the whole value.
    let s = s.trim().trim_start_matches('\'').trim_matches('"').trim();
    if is_placeholder(s) {
        return Ok(None);
    }
    if s.starts_with('#') {
        return Err("it is a spreadsheet error, not a number".into());
    }
    let chars: Vec<char> = s.chars().collect();
    let Some((start, end)) = find_number(&chars) else {
        return Err("there is no number in it".into());
    };
    let core: String = chars[start..end].iter().collect();
    let mut before: String = chars[..start].iter().collect();
    let mut after: String = chars[end..].iter().collect();
    let mut value = number(&core)?;

    // The shilling notation: "4500/=", "4,500/-", "1/50" (1.50), "-/50" (0.50).
    let mut shilling_marks = false;
    if let Some(rest) = after.trim_start().strip_prefix('/') {
        let rest = rest.trim_start();
        let cents: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let tail = &rest[cents.len()..];
        if !cents.is_empty() {
            if cents.len() != 2 {
                return Err(format!(
                    "'/{cents}' is not the cents of a shilling amount (two digits after the slash, as in 4,500/50)"
                ).into());
            }
            if core.contains(['.', ',']) && value_has_fraction(&core) {
                return Err("it has both decimals and cents after a slash".into());
            }
            let c = digits("", &cents).unwrap_or(Decimal::new(0, 2));
            value = value.plus(c).ok_or("the number is too large")?;
        } else if !rest.starts_with(['=', '-']) {
            return Err(format!("'/{rest}' is not understood after the number").into());
        }
        after = tail.trim_start_matches(['=', '-', '/']).to_string();
        shilling_marks = true;
    } else if let Some(rest) = after.strip_prefix(['=', '-']).or_else(|| {
        // "4500=", "4500.-", "4500,-": whole shillings
        after
            .strip_prefix(".-")
            .or_else(|| after.strip_prefix(",-"))
            .or_else(|| after.strip_prefix(".="))
    }) {
        after = rest.trim_start_matches(['=', '-', '/']).to_string();
        shilling_marks = true;
    }
    let b = before.trim_end();
    if let Some(head) = b.strip_suffix('/')
        && let Some(head) = head.trim_end().strip_suffix(['-', '='])
    {
        // "-/50": fifty cents
        if core.len() != 2 || !core.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "'{core}' after '-/' is not a number of cents (two digits, as in -/50)"
            )
            .into());
        }
        value = digits("", &core).ok_or("not a number of cents")?;
        before = head.to_string();
        shilling_marks = true;
    }
    let negative = {
        let b = before.trim_end();
        if let Some(head) = b.strip_suffix('-') {
            before = head.to_string();
            true
        } else if let Some(head) = b.strip_suffix('(') {
            let a = after.trim_start();
            let Some(tail) = a.strip_prefix(')') else {
                return Err("an opening bracket without its closing one".into());
            };
            before = head.to_string();
            after = tail.to_string();
            true
        } else {
            false
        }
    };
    if shilling_marks && kind != Quantity::Money {
        return Err("the shilling marks '/=' and '/-' belong to money".into());
    }

    let mut currency: Option<Currency> = None;
    let mut factor: Option<Decimal> = None;
    let mut unit_seen = false;
    let words = affix_words(&before, true)?
        .into_iter()
        .map(|w| (w, true))
        .chain(affix_words(&after, false)?.into_iter().map(|w| (w, false)));
    for ((word, attached), is_before) in words {
        let w = word.as_str();
        match classify(w) {
            Word::Filler => {}
            // A bare "Sh"/"Shs" names no country: the log's currency (KES) is assumed.
            Word::Currency(c) if kind == Quantity::Money => {
                if let (Some(seen), Some(c)) = (currency, c)
                    && seen != c
                {
                    return Err(format!(
                        "it names two currencies ({} and {})",
                        seen.code(),
                        c.code()
                    )
                    .into());
                }
                currency = currency.or(c);
            }
            Word::Currency(_) => {
                return Err(format!("'{word}' is money, not {}", kind.noun()).into());
            }
            Word::ForeignCurrency => {
                return Err(format!(
                    "'{word}' is a currency this log does not take (amounts are in Kenya or Uganda shillings)"
                ).into());
            }
            Word::Multiplier(m)
                if !is_before && matches!(kind, Quantity::Money | Quantity::Kilometres) =>
            {
                // "4.5k" (attached) or "4.5 thousand"; a lone "k" apart from the number could be anything
                if w == "k" && !attached {
                    return Err(format!("'{word}' after the number is not understood").into());
                }
                if factor.is_some() {
                    return Err("it has two multipliers".into());
                }
                factor = Some(m);
            }
            Word::Litre if kind == Quantity::Litres => unit_seen = true,
            Word::Km(f) if kind == Quantity::Kilometres => {
                if unit_seen {
                    return Err("it has two units".into());
                }
                unit_seen = true;
                if let Some(f) = f {
                    factor = Some(match factor {
                        Some(m) => m.times(f).ok_or("the number is too large")?,
                        None => f,
                    });
                }
            }
            Word::Odometer if kind == Quantity::Kilometres => {}
            Word::Gallon if kind == Quantity::Litres => {
                return Err(
                    "gallons are ambiguous (imperial or US); write the litres from the receipt"
                        .into(),
                );
            }
            Word::Litre | Word::Gallon => {
                return Err(format!("'{word}' is a volume, not {}", kind.noun()).into());
            }
            Word::Km(_) | Word::Odometer => {
                return Err(format!("'{word}' is a distance, not {}", kind.noun()).into());
            }
            Word::Multiplier(_) => {
                return Err(format!("'{word}' is not understood here").into());
            }
            Word::Unknown => {
                return Err(format!("'{word}' is not understood (not a {})", kind.words()).into());
            }
        }
    }
    if let Some(f) = factor {
        value = value.times(f).ok_or("the number is too large")?;
    }
    if negative {
        value = value.negated();
    }
    Ok(Some(Reading { value, currency }))
}

impl Quantity {
    fn noun(self) -> &'static str {
        match self {
            Self::Money => "money",
            Self::Litres => "litres",
            Self::Kilometres => "an odometer reading",
            Self::Plain => "a plain number",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Money => "currency such as KES, Ksh or UGX",
            Self::Litres => "litre unit such as L or ltrs",
            Self::Kilometres => "distance unit such as km",
            Self::Plain => "number",
        }
    }
}

fn value_has_fraction(core: &str) -> bool {
    // "4,500" groups thousands; "4500.50" has decimals
    number(core).is_ok_and(|d| d.scale > 0)
}

/// Where the number is: from the first digit (or a point before a digit) over digits and the
/// separators between them, and an exponent right after.
fn find_number(c: &[char]) -> Option<(usize, usize)> {
    let start = (0..c.len()).find(|&i| {
        c[i].is_ascii_digit()
            || (c[i] == '.'
                && c.get(i + 1).is_some_and(char::is_ascii_digit)
                && (i == 0 || !c[i - 1].is_alphabetic()))
    })?;
    let mut end = start;
    while end < c.len() {
        let ch = c[end];
        // a digit, or a separator between digits (a point may also lead: ".5")
        let separator = matches!(ch, ',' | '.' | '\'' | ' ')
            && c.get(end + 1).is_some_and(char::is_ascii_digit)
            && (end > start || ch == '.');
        if !(ch.is_ascii_digit() || separator) {
            break;
        }
        end += 1;
    }
    // Excel's exponent: "4.5E+03"
    if end < c.len() && matches!(c[end], 'e' | 'E') && c[end - 1].is_ascii_digit() {
        let mut j = end + 1;
        if j < c.len() && matches!(c[j], '+' | '-') {
            j += 1;
        }
        let k = (j..c.len())
            .find(|&k| !c[k].is_ascii_digit())
            .unwrap_or(c.len());
        if k > j && !c.get(k).is_some_and(|ch| ch.is_alphabetic()) {
            end = k;
        }
    }
    Some((start, end))
}

/// The number core: digits, separators, an exponent.
fn number(core: &str) -> Result<Decimal, super::NotUnderstood> {
    let (mantissa, exponent) = match core.find(['e', 'E']) {
        Some(i) => (
            &core[..i],
            Some(
                core[i + 1..]
                    .parse::<i32>()
                    .map_err(|_| format!("'{core}' has an exponent that is not a number"))?,
            ),
        ),
        None => (core, None),
    };
    let mut value = separated(mantissa)?;
    if let Some(e) = exponent {
        if !(-12..=12).contains(&e) {
            return Err(format!("'{core}' is too large or too small to be a reading").into());
        }
        value = if e >= 0 {
            value.times(Decimal::new(10i128.pow(e as u32), 0))
        } else {
            value.times(Decimal::new(1, e.unsigned_abs()))
        }
        .ok_or("the number is too large")?;
    }
    Ok(value)
}

/// Digits with thousands separators and at most one decimal separator.
fn separated(s: &str) -> Result<Decimal, super::NotUnderstood> {
    let s = s
        .strip_prefix('.')
        .map_or_else(|| s.to_string(), |r| format!("0.{r}"));
    let mut groups: Vec<&str> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut from = 0;
    for (i, ch) in s.char_indices() {
        if !ch.is_ascii_digit() {
            groups.push(&s[from..i]);
            seps.push(ch);
            from = i + ch.len_utf8();
        }
    }
    groups.push(&s[from..]);
    if seps.is_empty() {
        return digits(&s, "").ok_or_else(|| format!("'{s}' has too many digits").into());
    }
    // The decimal separator, if any, is the last separator: a point that occurs once, or a
    // comma that occurs once and is not a thousands group of its own ("4,500").
    let last = *seps.last().unwrap_or(&' ');
    let last_group = groups.last().copied().unwrap_or("");
    let n_last = seps.iter().filter(|&&x| x == last).count();
    let mixed = seps.iter().any(|&c| c != last);
    if mixed && n_last > 1 && matches!(last, '.' | ',') {
        return Err(format!("'{s}' has more than one decimal separator").into());
    }
    let decimal = match last {
        '.' => n_last == 1,
        ',' => n_last == 1 && (mixed || last_group.len() != 3 || groups[0] == "0"),
        _ => false,
    };
    if decimal && last == ',' && !mixed && last_group.len() > 3 {
        return Err(format!(
            "'{s}' has a comma that is neither a thousands separator nor a decimal comma"
        )
        .into());
    }
    let (int_groups, int_seps, frac) = if decimal {
        (
            &groups[..groups.len() - 1],
            &seps[..seps.len() - 1],
            last_group,
        )
    } else {
        (&groups[..], &seps[..], "")
    };
    if !int_seps.is_empty() {
        let kind = int_seps[0];
        if int_seps.iter().any(|&c| c != kind) {
            return Err(format!("'{s}' mixes thousands separators ('{kind}' and others)").into());
        }
        if !thousands(int_groups) {
            return Err(format!(
                "'{s}' has separators that are not in thousands groups (as in 4,500 or 1,234,567)"
            )
            .into());
        }
    }
    let int: String = int_groups.concat();
    digits(&int, frac).ok_or_else(|| format!("'{s}' is not a number").into())
}

/// Whether digit groups are thousands groups: Western (`1,234,567`) or Indian (`12,34,567`).
fn thousands(groups: &[&str]) -> bool {
    let Some((first, rest)) = groups.split_first() else {
        return false;
    };
    if first.is_empty() || first.len() > 3 {
        return false;
    }
    let western = rest.iter().all(|g| g.len() == 3);
    let indian = first.len() <= 2
        && rest.len() >= 2
        && rest.last().is_some_and(|g| g.len() == 3)
        && rest[..rest.len() - 1].iter().all(|g| g.len() == 2);
    western || indian
}

/// The words around a number (lowercase, dots inside words dropped: `K.Sh.` is `ksh`), each with
/// whether it touches the number. Digits there mean a second number.
fn affix_words(s: &str, before: bool) -> Result<Vec<(String, bool)>, super::NotUnderstood> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut touching = true;
    let chars: Vec<char> = if before {
        s.chars().rev().collect()
    } else {
        s.chars().collect()
    };
    let mut pending_touch = true;
    let flush = |word: &mut String, words: &mut Vec<(String, bool)>, touch: bool| {
        if !word.is_empty() {
            let w: String = if before {
                word.chars().rev().collect()
            } else {
                word.clone()
            };
            words.push((w.to_lowercase(), touch));
            word.clear();
        }
    };
    for ch in chars {
        if ch.is_alphabetic() || ch == 'ℓ' {
            if word.is_empty() {
                touching = pending_touch;
            }
            word.push(ch);
        } else if ch == '.' {
            // inside or after a word: part of an abbreviation
        } else if ch.is_ascii_digit() {
            return Err("it has more than one number".into());
        } else if ch.is_whitespace()
            || matches!(ch, ',' | ':' | '~' | '*' | '=' | '-' | '/' | '(' | ')')
        {
            flush(&mut word, &mut words, touching);
            pending_touch = false;
        } else if ch == '$' || ch == '€' || ch == '£' {
            return Err(format!(
                "'{ch}' is a currency this log does not take (amounts are in Kenya or Uganda shillings)"
            ).into());
        } else if ch == '@' || ch == '+' || ch == '&' {
            return Err(format!("'{ch}' suggests more than one value").into());
        } else {
            return Err(format!("'{ch}' is not understood").into());
        }
    }
    flush(&mut word, &mut words, touching);
    Ok(words)
}

enum Word {
    Filler,
    /// A currency; `None` for a shilling of no named country ("Sh", "Shs", "/=", "bob").
    Currency(Option<Currency>),
    ForeignCurrency,
    Multiplier(Decimal),
    Litre,
    Gallon,
    /// A distance unit and its factor to km.
    Km(Option<Decimal>),
    Odometer,
    Unknown,
}

fn classify(w: &str) -> Word {
    match w {
        "only" | "approx" | "approximately" | "about" | "ca" | "circa" | "total" | "paid"
        | "cash" | "tu" => Word::Filler,
        "kes" | "ksh" | "kshs" | "kesh" | "kenya" | "kenyan" => Word::Currency(Some(Currency::Kes)),
        "ugx" | "ush" | "ushs" | "ugsh" | "ugshs" | "uganda" | "ugandan" => {
            Word::Currency(Some(Currency::Ugx))
        }
        "sh" | "shs" | "shilling" | "shillings" | "shilingi" | "bob" => Word::Currency(None),
        "usd" | "us" | "dollars" | "dollar" | "eur" | "euro" | "euros" | "tzs" | "tsh" | "tshs"
        | "rwf" | "gbp" => Word::ForeignCurrency,
        "k" | "thousand" | "thou" => Word::Multiplier(Decimal::new(1000, 0)),
        "m" | "mn" | "million" | "millions" => Word::Multiplier(Decimal::new(1_000_000, 0)),
        "l" | "lt" | "lts" | "ltr" | "ltrs" | "litre" | "litres" | "liter" | "liters" | "lit"
        | "lita" | "ℓ" => Word::Litre,
        "gal" | "gals" | "gallon" | "gallons" => Word::Gallon,
        "km" | "kms" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => Word::Km(None),
        "mi" | "mile" | "miles" => Word::Km(Some(Decimal::new(1_609_344, 6))),
        "odo" | "odometer" | "reading" | "mileage" => Word::Odometer,
        _ => Word::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> (String, Option<&'static str>) {
        match read(s, Quantity::Money) {
            Ok(Some(r)) => (r.value.to_string(), r.currency.map(Currency::code)),
            Ok(None) => ("none".into(), None),
            Err(e) => (format!("error: {e}"), None),
        }
    }

    fn of(s: &str, kind: Quantity) -> String {
        match read(s, kind) {
            Ok(Some(r)) => r.value.to_string(),
            Ok(None) => "none".into(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn amounts_as_kenya_and_uganda_write_them() {
        for (text, value, currency) in [
            ("4500", "4500", None),
            ("4,500", "4500", None),
            ("4,500.00", "4500.00", None),
            ("KES 4,500", "4500", Some("KES")),
            ("Kes.4500", "4500", Some("KES")),
            ("KSh 4,500.50", "4500.50", Some("KES")),
            ("Ksh4,500.00", "4500.00", Some("KES")),
            ("KShs. 4,500/=", "4500", Some("KES")),
            ("K.Sh 4500/-", "4500", Some("KES")),
            ("Kshs 4 500", "4500", Some("KES")),
            ("4,500/=", "4500", None),
            ("4500/-", "4500", None),
            ("4500=", "4500", None),
            ("4500.-", "4500", None),
            ("4,500/50", "4500.50", None),
            ("1/50", "1.50", None),
            ("-/50", "0.50", None),
            ("Sh4,500", "4500", None),
            ("Shs. 4,500", "4500", None),
            ("4,500 bob", "4500", None),
            ("4500 KES", "4500", Some("KES")),
            ("4,500ksh", "4500", Some("KES")),
            ("Ksh 4,500 only", "4500", Some("KES")),
            ("Kenya Shillings 4,500", "4500", Some("KES")),
            ("UGX 150,000", "150000", Some("UGX")),
            ("USh 150,000", "150000", Some("UGX")),
            ("UShs.150,000/=", "150000", Some("UGX")),
            ("150,000 Ugx", "150000", Some("UGX")),
            ("4.5k", "4500", None),
            ("KES 4.5K", "4500", Some("KES")),
            ("2 thousand", "2000", None),
            ("1.2 million", "1200000", None),
            ("4 500,50", "4500.50", None),
            ("4.500,50", "4500.50", None),
            ("4'500.00", "4500.00", None),
            ("1,234,567.89", "1234567.89", None),
            ("12,34,567", "1234567", None),
            ("4.5E+03", "4500", None),
            ("4.5e3", "4500", None),
            ("'4500", "4500", None),
            ("\u{a0}4\u{202f}500\u{a0}", "4500", None),
            ("(4,500)", "-4500", None),
            ("-4500", "-4500", None),
            ("12,5", "12.5", None),
            ("0,500", "0.500", None),
            (".5", "0.5", None),
        ] {
            assert_eq!(
                money(text),
                (value.to_string(), currency),
                "money({text:?})"
            );
        }
    }

    #[test]
    fn nothing_recorded_is_no_value_not_an_error() {
        for t in [
            "", "  ", "-", "N/A", "n/a", "nil", "NULL", "none", "?", "--",
        ] {
            assert_eq!(money(t).0, "none", "{t:?}");
        }
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        for (text, why) in [
            ("see receipt", "there is no number in it"),
            ("1,23,4", "not in thousands groups"),
            ("1.234.5", "not in thousands groups"),
            ("45 L @ 180", "suggests more than one value"),
            ("40-45", "more than one number"),
            ("USD 40", "does not take"),
            ("$40", "does not take"),
            ("KES 4,500 UGX", "two currencies"),
            ("#VALUE!", "spreadsheet error"),
            ("4500 litres", "is a volume"),
            ("4500 abc", "'abc' is not understood"),
            ("4,500.00/50", "both decimals and cents"),
            ("4500/123", "two digits after the slash"),
            ("4500/5", "two digits after the slash"),
            (
                "12,5000",
                "neither a thousands separator nor a decimal comma",
            ),
            ("4,500.000.5", "more than one decimal separator"),
            ("4 500,000.5", "mixes thousands separators"),
        ] {
            let got = money(text).0;
            assert!(
                got.starts_with("error:") && got.contains(why),
                "money({text:?}) = {got}, expected an error saying {why:?}"
            );
        }
    }

    #[test]
    fn litres_and_odometers_with_their_units() {
        for (text, kind, want) in [
            ("45", Quantity::Litres, "45"),
            ("45.235 L", Quantity::Litres, "45.235"),
            ("45L", Quantity::Litres, "45"),
            ("45 ltrs", Quantity::Litres, "45"),
            ("45.5 Ltrs.", Quantity::Litres, "45.5"),
            ("45 lts", Quantity::Litres, "45"),
            ("45 litres", Quantity::Litres, "45"),
            ("45 liters", Quantity::Litres, "45"),
            ("lita 45", Quantity::Litres, "45"),
            ("45,5 l", Quantity::Litres, "45.5"),
            ("approx 45 L", Quantity::Litres, "45"),
            ("123,456 km", Quantity::Kilometres, "123456"),
            ("123456KM", Quantity::Kilometres, "123456"),
            ("123456 kms", Quantity::Kilometres, "123456"),
            ("ODO 123,456", Quantity::Kilometres, "123456"),
            ("125k", Quantity::Kilometres, "125000"),
            ("125k km", Quantity::Kilometres, "125000"),
            ("10,000 miles", Quantity::Kilometres, "16093.44"),
            ("-1.2866", Quantity::Plain, "-1.2866"),
        ] {
            assert_eq!(of(text, kind), want, "{kind:?} {text:?}");
        }
        for (text, kind, why) in [
            ("10 gal", Quantity::Litres, "gallons are ambiguous"),
            ("45 km", Quantity::Litres, "is a distance"),
            ("KES 45", Quantity::Litres, "is money"),
            ("45/=", Quantity::Litres, "belong to money"),
            ("45k", Quantity::Litres, "not understood here"),
            ("123 L", Quantity::Kilometres, "is a volume"),
        ] {
            let got = of(text, kind);
            assert!(
                got.contains(why),
                "{kind:?} {text:?} = {got}, expected {why:?}"
            );
        }
    }

    #[test]
    fn decimals_print_exactly_and_round_half_away_from_zero() {
        assert_eq!(Decimal::new(450050, 2).to_string(), "4500.50");
        assert_eq!(Decimal::new(5, 3).to_string(), "0.005");
        assert_eq!(Decimal::new(-5, 1).to_string(), "-0.5");
        assert_eq!(Decimal::new(12345, 3).rounded(2).to_string(), "12.35");
        assert_eq!(Decimal::new(-12345, 3).rounded(2).to_string(), "-12.35");
        assert_eq!("-12.50".parse::<Decimal>(), Ok(Decimal::new(-1250, 2)));
        assert_eq!(Decimal::new(450000, 2), Decimal::new(4500, 0));
        assert_ne!(Decimal::new(450001, 2), Decimal::new(4500, 0));
    }
}
