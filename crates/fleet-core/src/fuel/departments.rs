//! Departments as a fuel log spells them, grouped into one name per real department.
//!
//! A WhatsApp-fed log spells one department many ways (`Operations`, `OPS`, `ops dept`,
//! `Operation`, `Opertions`), and a fresh install has no mappings or cost centres to name them.
//! The rule, deterministic for a given set of spellings (same feed, same answer):
//!
//! 1. **Same words.** Case, punctuation, spacing, `&`/`and`, filler words (`team`, `dept`,
//!    `department`, `section`, `unit`, `division`, `group`; kept when only a number would
//!    remain, so `Team 3` stays itself), plural and singular, and US/UK spellings (`-ise`/`-ize`,
//!    `-our`/`-or`, `-tre`/`-ter`, `-ence`/`-ense`, `-ll-`/`-l-`, `-mme`) are ignored: spellings
//!    that differ only there are one department.
//! 2. **Known names anchor.** A spelling mapped in `fuel.mappings` is what the mapping says.
//!    The mappings' names and the cost centres' names win over everything; the common names
//!    (`fuel.department_vocabulary`) name a group only when the feed has no full spelling of it.
//!    Two known names never merge.
//! 3. **Typos** (one edit in a word of 4–7 letters, two in a longer one, same first letter, never a
//!    different number) join the name they are a typo of when the evidence is clear: the name is
//!    known, or used at least twice as often. Otherwise the pair is a suggestion.
//! 4. **Abbreviations** (`Admin`, `Maint`, `Procmt`, `Mgmt`, `Ops`; acronyms such as `HR`) join
//!    the one full name they abbreviate, word by word; a prefix (`Proc`: Procurement) beats a
//!    contraction (`Proc` is also in P-r-o-jects). An abbreviation of several names stays apart
//!    and is a suggestion.
//! 5. A group's name is the cost centre or mapping it matches, else its most used full spelling
//!    (cleaned of filler words, in title case), else the common name it abbreviates.
//!
//! When unsure, spellings are kept apart and the pair is surfaced as a suggestion: merging two
//! real departments would misstate both, while a suggestion costs one click to confirm.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Where a known department name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A canonical name in `fuel.mappings` (kind department).
    Mapping,
    /// A cost centre's name.
    CostCentre,
    /// A common department name (`fuel.department_vocabulary`).
    Vocabulary,
}

impl Source {
    /// Registry names (mappings, cost centres) name a group over anything the feed writes.
    fn registered(self) -> bool {
        self != Self::Vocabulary
    }
}

/// A department name the fleet knows.
#[derive(Debug, Clone)]
pub struct Known {
    pub name: String,
    pub source: Source,
}

/// How a spelling's department was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// `fuel.mappings` names this spelling.
    Mapping,
    /// It matches a cost centre.
    CostCentre,
    /// It matches a common department name.
    Vocabulary,
    /// It is grouped with other spellings of the feed.
    Learned,
    /// A department of its own (no other spelling, no known name).
    Own,
    /// Kept apart, with a suggestion to confirm or reject.
    Suggestion,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mapping => "mapping",
            Self::CostCentre => "cost_centre",
            Self::Vocabulary => "vocabulary",
            Self::Learned => "learned",
            Self::Own => "own",
            Self::Suggestion => "suggestion",
        }
    }
}

/// The department of one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub spelling: String,
    pub records: i64,
    pub canonical: String,
    pub decided_by: DecidedBy,
    /// For a spelling kept apart: the department it may belong to.
    pub suggestion: Option<String>,
    /// Why, in words.
    pub reason: String,
}

/// The words of a spelling as the rule compares them (case, punctuation, filler words, plurals
/// and US/UK spellings folded): spellings with the same words are one department unless a
/// mapping names one of them.
pub fn words_of(spelling: &str) -> String {
    words(spelling).key()
}

/// How `fuel.mappings` keys a spelling (as SQL's `fuel.lookup_key`): lower case, letters and
/// digits only.
pub fn lookup_key(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

const FILLERS: &[&str] = &[
    "team",
    "teams",
    "dept",
    "depts",
    "deptt",
    "department",
    "departments",
    "dep",
    "dpt",
    "section",
    "sections",
    "sect",
    "unit",
    "units",
    "division",
    "divisions",
    "div",
    "group",
    "grp",
];
const STOPWORDS: &[&str] = &["and", "of", "the", "for"];

/// A department name as words: `raw` lower-case words, `folded` the same with plurals and
/// US/UK spellings folded, both without filler and stop words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Words {
    raw: Vec<String>,
    folded: Vec<String>,
}

impl Words {
    fn key(&self) -> String {
        self.folded.join(" ")
    }
}

/// Words of a name, in original case (for display) and lower case; letters and digits split
/// ("Team3" is "Team 3"), runs of single letters joined ("H.R." and "S&M" are one word).
fn split(s: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut last_digit: Option<bool> = None;
    for c in s.chars() {
        if c.is_alphanumeric() {
            let digit = c.is_ascii_digit();
            if last_digit.is_some_and(|d| d != digit) && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            cur.push(c);
            last_digit = Some(digit);
        } else {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            if c == '&' {
                words.push("&".into());
            }
            last_digit = None;
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let single = |w: &str| w.chars().count() == 1 && w.chars().all(char::is_alphabetic);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if single(&words[i]) {
            // "h r", "s & m": one acronym
            let mut run = words[i].clone();
            let mut j = i + 1;
            while j < words.len() {
                if single(&words[j]) {
                    run.push_str(&words[j]);
                    j += 1;
                } else if words[j] == "&" && words.get(j + 1).is_some_and(|w| single(w)) {
                    j += 1;
                } else {
                    break;
                }
            }
            out.push(run);
            i = j;
        } else {
            out.push(if words[i] == "&" {
                "and".into()
            } else {
                words[i].clone()
            });
            i += 1;
        }
    }
    out
}

/// Without filler words (and stop words, for comparing), unless nothing but numbers would be
/// left ("Team 3" keeps its "Team").
fn meaningful(words: Vec<String>, drop_stopwords: bool) -> Vec<String> {
    let stop = |w: &String| drop_stopwords && STOPWORDS.contains(&w.to_lowercase().as_str());
    let keep: Vec<String> = words
        .iter()
        .filter(|w| !FILLERS.contains(&w.to_lowercase().as_str()) && !stop(w))
        .cloned()
        .collect();
    if keep.iter().any(|w| w.chars().any(char::is_alphabetic)) {
        return keep;
    }
    words.into_iter().filter(|w| !stop(w)).collect()
}

fn words(s: &str) -> Words {
    let raw: Vec<String> = meaningful(split(s), true)
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect();
    let folded = raw.iter().map(|w| fold(w)).collect();
    Words { raw, folded }
}

/// One word with its plural and its US/UK spelling folded (both sides of a comparison are
/// folded alike, so the folded form need not be a real word).
fn fold(w: &str) -> String {
    if w.chars().any(|c| c.is_ascii_digit()) {
        return w.to_string();
    }
    let mut w = w.to_string();
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        w.truncate(n - 3);
        w.push('y');
    } else if w.ends_with("sses")
        || (n > 4 && (w.ends_with("ches") || w.ends_with("shes") || w.ends_with("xes")))
    {
        w.truncate(n - 2);
    } else if n >= 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        w.truncate(n - 1);
    }
    for (uk, us) in [
        ("isation", "ization"),
        ("ise", "ize"),
        ("ising", "izing"),
        ("ised", "ized"),
        ("yse", "yze"),
        ("tre", "ter"),
        ("ence", "ense"),
        ("ogue", "og"),
        ("amme", "am"),
    ] {
        if w.len() > uk.len() + 2 && w.ends_with(uk) {
            w.truncate(w.len() - uk.len());
            w.push_str(us);
            break;
        }
    }
    if w.len() > 4 && w.ends_with("our") {
        w.truncate(w.len() - 3);
        w.push_str("or");
    }
    let mut out = String::with_capacity(w.len());
    let mut prev = '\0';
    for c in w.chars() {
        if !(c == 'l' && prev == 'l') {
            out.push(c);
        }
        prev = c;
    }
    out.replace("ae", "e").replace("oe", "e")
}

/// Optimal string alignment distance (edits, adjacent swaps count one).
fn edits(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn alphabetic(w: &str) -> bool {
    !w.is_empty() && w.chars().all(char::is_alphabetic)
}

/// Whether word `a` is one typo from word `b` (not equal).
fn typo_word(a: &str, b: &str) -> bool {
    if a == b || !alphabetic(a) || !alphabetic(b) || a.chars().next() != b.chars().next() {
        return false;
    }
    let shortest = a.chars().count().min(b.chars().count());
    let allowed = match shortest {
        0..=3 => return false,
        4..=7 => 1,
        _ => 2,
    };
    edits(a, b) <= allowed
}

/// How well an abbreviation matches: a prefix (`Admin`) beats a contraction (`Mgmt`), which
/// beats an acronym (`HR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    Prefix,
    Contraction,
    Acronym,
}

fn subsequence(a: &str, b: &str) -> bool {
    let mut it = b.chars();
    a.chars().all(|c| it.any(|d| d == c))
}

/// Whether word `a` abbreviates word `b`.
fn abbreviates_word(a: &str, b: &str) -> Option<Fit> {
    if !alphabetic(a) || !alphabetic(b) || a.len() >= b.len() || a.len() < 2 {
        return None;
    }
    if b.starts_with(a) {
        Some(Fit::Prefix)
    } else if a.len() >= 3 && a.chars().next() == b.chars().next() && subsequence(a, b) {
        Some(Fit::Contraction)
    } else {
        None
    }
}

/// Whether name `a` abbreviates name `b`, word by word (raw or folded forms), or as an acronym.
fn abbreviates(a: &Words, b: &Words) -> Option<Fit> {
    if a.folded.len() == b.folded.len() {
        let mut worst: Option<Fit> = None;
        for i in 0..a.folded.len() {
            if a.folded[i] == b.folded[i] {
                continue;
            }
            let fit = [
                abbreviates_word(&a.folded[i], &b.folded[i]),
                abbreviates_word(&a.raw[i], &b.raw[i]),
            ]
            .into_iter()
            .flatten()
            .min()?;
            worst = Some(worst.map_or(fit, |w| w.max(fit)));
        }
        return worst;
    }
    if a.raw.len() == 1
        && b.raw.len() >= 2
        && (2..=5).contains(&a.raw[0].len())
        && alphabetic(&a.raw[0])
    {
        let initials: String = b.raw.iter().filter_map(|w| w.chars().next()).collect();
        if initials == a.raw[0] {
            return Some(Fit::Acronym);
        }
    }
    None
}

/// Whether name `a` is a typo of name `b`: same number of words, each equal or one typo away,
/// at least one a typo.
fn typo(a: &Words, b: &Words) -> bool {
    a.folded.len() == b.folded.len()
        && a.folded != b.folded
        && a.folded
            .iter()
            .zip(&b.folded)
            .all(|(x, y)| x == y || typo_word(x, y))
}

/// A spelling as a department name: filler words dropped, words in title case except short
/// all-capital ones (`HR`, `ICT`) and mixed-case ones as written.
pub fn display(spelling: &str) -> String {
    let ws = meaningful(split_display(spelling), false);
    let mut out = Vec::with_capacity(ws.len());
    for (i, w) in ws.iter().enumerate() {
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().all(|c| c.is_uppercase());
        let lower = letters.iter().all(|c| c.is_lowercase());
        let shown = if w == "&" {
            "&".to_string()
        } else if i > 0 && STOPWORDS.contains(&w.to_lowercase().as_str()) {
            w.to_lowercase()
        } else if upper && (2..=3).contains(&letters.len()) {
            w.clone()
        } else if upper || lower {
            super::record::title_case(w)
        } else {
            w.clone()
        };
        out.push(shown);
    }
    out.join(" ")
}

/// Words for display: split at anything but letters, digits and `&` (kept as a word).
/// Letters and digits are words of their own ("TEAM1" shows as "Team 1").
fn split_display(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in s
        .replace('&', " & ")
        .split(|c: char| !(c.is_alphanumeric() || c == '&'))
        .filter(|w| !w.is_empty())
    {
        let mut cur = String::new();
        for c in w.chars() {
            if cur
                .chars()
                .last()
                .is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit())
            {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        out.push(cur);
    }
    out
}

/// The name a group of spellings shows: the display form its spellings write most often
/// ("OPERATIONS", "operations" and " Operations " are all "Operations"), ties by name.
fn group_display(g: &Group, spellings: &[(String, i64)]) -> Option<String> {
    let mut forms: BTreeMap<String, i64> = BTreeMap::new();
    for &i in &g.spellings {
        *forms.entry(display(&spellings[i].0)).or_default() += spellings[i].1;
    }
    forms
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(name, _)| name)
}

/// A group of spellings with the same words (or a known name no spelling has yet).
#[derive(Debug)]
struct Group {
    words: Words,
    /// Indexes into the spellings, most used first.
    spellings: Vec<usize>,
    records: i64,
    known: Option<Known>,
}

impl Group {
    fn of(words: Words) -> Self {
        Group {
            words,
            spellings: Vec::new(),
            records: 0,
            known: None,
        }
    }
}

/// Decides every spelling's department. `spellings`: each distinct spelling with its number of
/// records; `mappings`: `(lookup_key, canonical)` of the department mappings; `known`: the
/// names the fleet knows (the mappings' canonical names, the cost centres, the vocabulary).
pub fn decide(
    spellings: &[(String, i64)],
    mappings: &[(String, String)],
    known: &[Known],
) -> Vec<Decision> {
    let mapped: HashMap<&str, &str> = mappings
        .iter()
        .map(|(k, c)| (k.as_str(), c.as_str()))
        .collect();
    let mut decisions: Vec<Option<Decision>> = vec![None; spellings.len()];

    // 1. Groups of the same words, in key order (deterministic).
    let mut by_key: BTreeMap<String, Group> = BTreeMap::new();
    for (i, (s, n)) in spellings.iter().enumerate() {
        if let Some(c) = mapped.get(lookup_key(s).as_str()) {
            decisions[i] = Some(Decision {
                spelling: s.clone(),
                records: *n,
                canonical: (*c).to_string(),
                decided_by: DecidedBy::Mapping,
                suggestion: None,
                reason: "fuel.mappings names this spelling".into(),
            });
            continue;
        }
        let w = words(s);
        if w.folded.is_empty() {
            decisions[i] = Some(Decision {
                spelling: s.clone(),
                records: *n,
                canonical: s.clone(),
                decided_by: DecidedBy::Own,
                suggestion: None,
                reason: "no words to compare".into(),
            });
            continue;
        }
        let g = by_key.entry(w.key()).or_insert_with(|| Group::of(w));
        g.spellings.push(i);
        g.records += n;
    }
    let mut knowns: Vec<&Known> = known.iter().collect();
    knowns.sort_by(|a, b| a.source.cmp(&b.source).then(a.name.cmp(&b.name)));
    for k in knowns {
        let w = words(&k.name);
        if w.folded.is_empty() {
            continue;
        }
        let g = by_key.entry(w.key()).or_insert_with(|| Group::of(w));
        if g.known.is_none() {
            g.known = Some(k.clone());
        }
    }
    let mut groups: Vec<Group> = by_key.into_values().collect();
    for g in &mut groups {
        g.spellings.sort_by(|a, b| {
            spellings[*b]
                .1
                .cmp(&spellings[*a].1)
                .then(spellings[*a].0.cmp(&spellings[*b].0))
        });
    }
    let n = groups.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut how: Vec<Option<(usize, &'static str)>> = vec![None; n];
    let mut suggest: Vec<Option<(usize, String)>> = vec![None; n];
    fn root(parent: &[usize], mut i: usize) -> usize {
        while parent[i] != i {
            i = parent[i];
        }
        i
    }
    // Only unanchored groups ever join another, so a group holds a known name exactly when its
    // root does.
    let anchored = |g: &Group| g.known.is_some();

    // 2. Typos: join the name they are a typo of when it is known or used at least twice as often.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| groups[*a].records.cmp(&groups[*b].records).then(a.cmp(b)));
    for &a in &order {
        if anchored(&groups[a]) || groups[a].spellings.is_empty() {
            continue;
        }
        let near: Vec<usize> = (0..n)
            .filter(|&b| b != a && typo(&groups[a].words, &groups[b].words))
            .collect();
        let dominant: Vec<usize> = near
            .iter()
            .copied()
            .filter(|&b| anchored(&groups[b]) || groups[b].records >= 2 * groups[a].records.max(1))
            .collect();
        let mut roots: Vec<usize> = dominant.iter().map(|&b| root(&parent, b)).collect();
        roots.sort_unstable();
        roots.dedup();
        roots.retain(|&r| r != root(&parent, a));
        match roots.as_slice() {
            [r] => {
                parent[a] = *r;
                how[a] = Some((*r, "a typo of"));
            }
            [] => {
                // close, but not clearly a typo: the rarer one gets the suggestion
                if let Some(&b) = near
                    .iter()
                    .filter(|&&b| {
                        groups[b].records > groups[a].records
                            || (groups[b].records == groups[a].records && b < a)
                    })
                    .max_by_key(|&&b| (groups[b].records, std::cmp::Reverse(b)))
                {
                    suggest[a] = Some((
                        b,
                        format!(
                            "one letter or two from '{}' ({} records): too close in use to be sure it is a typo",
                            display_of(&groups[b], spellings),
                            groups[b].records
                        ),
                    ));
                }
            }
            many => {
                suggest[a] = Some((many[0], format!("a typo of {} names", many.len())));
            }
        }
    }

    // 3. Abbreviations, longest names first (so `Procmt` has joined Procurement before `Proc`
    // looks for what it abbreviates).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| {
        groups[*b]
            .words
            .key()
            .len()
            .cmp(&groups[*a].words.key().len())
            .then(a.cmp(b))
    });
    for &a in &order {
        if root(&parent, a) != a || groups[a].spellings.is_empty() {
            continue;
        }
        let mut fits: Vec<(Fit, usize)> = (0..n)
            .filter(|&b| root(&parent, b) != a)
            .filter_map(|b| abbreviates(&groups[a].words, &groups[b].words).map(|f| (f, b)))
            .collect();
        let Some(best) = fits.iter().map(|(f, _)| *f).min() else {
            continue;
        };
        fits.retain(|(f, _)| *f == best);
        let mut roots: Vec<usize> = fits.iter().map(|(_, b)| root(&parent, *b)).collect();
        roots.sort_unstable();
        roots.dedup();
        let a_known = anchored(&groups[a]);
        match roots.as_slice() {
            [r] if !a_known => {
                parent[a] = *r;
                how[a] = Some((*r, "an abbreviation of"));
            }
            // a known name abbreviates a longer spelling: ask rather than merge
            [r] if !anchored(&groups[*r]) && suggest[*r].is_none() => {
                suggest[*r] = Some((
                    a,
                    format!(
                        "'{}' (a known name) may be short for it",
                        display_of(&groups[a], spellings)
                    ),
                ));
            }
            many if !a_known => {
                let best = *many
                    .iter()
                    .max_by_key(|&&r| (cluster_records(&parent, &groups, r), std::cmp::Reverse(r)))
                    .unwrap_or(&many[0]);
                let names: Vec<String> = many
                    .iter()
                    .map(|&r| format!("'{}'", cluster_name(&parent, &groups, spellings, r).0))
                    .collect();
                suggest[a] = Some((best, format!("could abbreviate {}", names.join(" or "))));
            }
            _ => {}
        }
    }

    // 4. Every spelling gets its group's name.
    for (gi, g) in groups.iter().enumerate() {
        let r = root(&parent, gi);
        let (canonical, source) = cluster_name(&parent, &groups, spellings, r);
        let clustered = (0..n)
            .filter(|&i| root(&parent, i) == r)
            .map(|i| groups[i].spellings.len())
            .sum::<usize>()
            > 1;
        for &si in &g.spellings {
            let (s, recs) = &spellings[si];
            let mut d = Decision {
                spelling: s.clone(),
                records: *recs,
                canonical: canonical.clone(),
                decided_by: match source {
                    Some(Source::Mapping) => DecidedBy::Learned,
                    Some(Source::CostCentre) => DecidedBy::CostCentre,
                    Some(Source::Vocabulary) => DecidedBy::Vocabulary,
                    None if clustered => DecidedBy::Learned,
                    None => DecidedBy::Own,
                },
                suggestion: None,
                reason: String::new(),
            };
            d.reason = match (how[gi], source) {
                (Some((t, what)), _) => format!("{what} '{}'", display_of(&groups[t], spellings)),
                (None, Some(Source::Mapping)) => {
                    format!("the same words as the mapped department '{canonical}'")
                }
                (None, Some(Source::CostCentre)) => {
                    format!("the same words as the cost centre '{canonical}'")
                }
                (None, Some(Source::Vocabulary)) => {
                    format!("the same words as the common department name '{canonical}'")
                }
                (None, None) if g.spellings.len() > 1 => {
                    "the same words as the group's other spellings".into()
                }
                (None, None) => {
                    "its own department: no other spelling or known name is close".into()
                }
            };
            if r == gi
                && let Some((t, why)) = &suggest[gi]
            {
                let target = cluster_name(&parent, &groups, spellings, root(&parent, *t)).0;
                if target != canonical {
                    d.decided_by = DecidedBy::Suggestion;
                    d.suggestion = Some(target);
                    d.reason = why.clone();
                }
            }
            decisions[si] = Some(d);
        }
    }
    decisions.into_iter().flatten().collect()
}

fn display_of(g: &Group, spellings: &[(String, i64)]) -> String {
    match (&g.known, group_display(g, spellings)) {
        (Some(k), _) if k.source.registered() => k.name.clone(),
        (_, Some(name)) => name,
        (Some(k), None) => k.name.clone(),
        (None, None) => g.words.key(),
    }
}

fn cluster_records(parent: &[usize], groups: &[Group], r: usize) -> i64 {
    (0..groups.len())
        .filter(|&i| {
            let mut j = i;
            while parent[j] != j {
                j = parent[j];
            }
            j == r
        })
        .map(|i| groups[i].records)
        .sum()
}

/// The name of the group rooted at `r` and where it comes from: a registered name in it; else
/// the root's most used spelling; else the common name the root is.
fn cluster_name(
    parent: &[usize],
    groups: &[Group],
    spellings: &[(String, i64)],
    r: usize,
) -> (String, Option<Source>) {
    let members: Vec<usize> = (0..groups.len())
        .filter(|&i| {
            let mut j = i;
            while parent[j] != j {
                j = parent[j];
            }
            j == r
        })
        .collect();
    if let Some(k) = members
        .iter()
        .filter_map(|&i| groups[i].known.as_ref())
        .filter(|k| k.source.registered())
        .min_by(|a, b| a.source.cmp(&b.source).then(a.name.cmp(&b.name)))
    {
        return (k.name.clone(), Some(k.source));
    }
    // the feed's own most used full spelling, even where it writes a common name's words
    let g = &groups[r];
    match (group_display(g, spellings), &g.known) {
        (Some(name), _) => (name, None),
        (None, Some(k)) => (k.name.clone(), Some(k.source)),
        (None, None) => (g.words.key(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vec<Known> {
        [
            "Administration",
            "Customer Service",
            "Distribution",
            "Engineering",
            "Field Service",
            "Finance",
            "Human Resources",
            "Installations",
            "Logistics",
            "Maintenance",
            "Management",
            "Marketing",
            "Operations",
            "Procurement",
            "Projects",
            "Sales",
            "Security",
            "Stores",
            "Technical",
            "Transport",
        ]
        .into_iter()
        .map(|n| Known {
            name: n.into(),
            source: Source::Vocabulary,
        })
        .collect()
    }

    fn canon(feed: &[(&str, i64)], known: &[Known]) -> HashMap<String, Decision> {
        let spellings: Vec<(String, i64)> = feed.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        decide(&spellings, &[], known)
            .into_iter()
            .map(|d| (d.spelling.clone(), d))
            .collect()
    }

    #[test]
    fn one_name_per_department_without_a_registry() {
        let feed = [
            ("Operations", 40),
            ("OPERATIONS ", 12),
            ("operation", 5),
            ("OPS", 9),
            ("ops dept", 4),
            ("Opertions", 2),
            ("Operations Team", 3),
            ("Logistics", 20),
            ("logistic", 3),
            ("Log. Dept", 2),
            ("Logistcs", 1),
            ("LOGISTICS DEPARTMENT", 2),
            ("Procurement", 10),
            ("Procmt", 3),
            ("Proc.", 2),
            ("procurment", 1),
            ("Admin", 15),
            ("ADMIN DEPT", 4),
            ("administration ", 2),
            ("Field Services", 12),
            ("field service", 5),
            ("Feild Service", 1),
            ("FS", 2),
            ("Maintenance", 9),
            ("maint.", 3),
            ("Maintainance", 2),
            ("MTCE", 1),
            ("Fleet Organisation", 4),
            ("fleet organization", 3),
            ("Human Resources", 2),
            ("HR", 5),
            ("Team 1", 5),
            ("team-1", 2),
            ("Team 2", 6),
            ("Taem 2", 1),
            ("Team 3", 1),
            ("Sales & Marketing", 7),
            ("Sales and Marketing", 2),
            ("Sales", 11),
        ];
        let c = canon(&feed, &vocabulary());
        let name = |s: &str| c[s].canonical.as_str();
        for s in [
            "Operations",
            "OPERATIONS ",
            "operation",
            "OPS",
            "ops dept",
            "Opertions",
            "Operations Team",
        ] {
            assert_eq!(name(s), "Operations", "{s}: {:?}", c[s]);
        }
        for s in [
            "Logistics",
            "logistic",
            "Log. Dept",
            "Logistcs",
            "LOGISTICS DEPARTMENT",
        ] {
            assert_eq!(name(s), "Logistics", "{s}: {:?}", c[s]);
        }
        for s in ["Procurement", "Procmt", "Proc.", "procurment"] {
            assert_eq!(name(s), "Procurement", "{s}: {:?}", c[s]);
        }
        // the most used full spelling names the group; the abbreviation does not
        for s in ["Admin", "ADMIN DEPT", "administration "] {
            assert_eq!(name(s), "Administration", "{s}: {:?}", c[s]);
        }
        for s in ["Field Services", "field service", "Feild Service", "FS"] {
            assert_eq!(name(s), "Field Services", "{s}: {:?}", c[s]);
        }
        for s in ["Maintenance", "maint.", "Maintainance", "MTCE"] {
            assert_eq!(name(s), "Maintenance", "{s}: {:?}", c[s]);
        }
        assert_eq!(name("fleet organization"), "Fleet Organisation");
        assert_eq!(name("HR"), "Human Resources");
        assert_eq!(name("team-1"), "Team 1");
        // the form written most often names the group, whatever the case of each spelling
        let c2 = canon(
            &[
                ("Operation", 4),
                ("OPERATIONS", 3),
                ("Operations", 2),
                ("operations ", 2),
            ],
            &[],
        );
        assert_eq!(c2["Operation"].canonical, "Operations");
        assert_eq!(name("Taem 2"), "Team 2");
        assert_eq!(name("Team 3"), "Team 3", "a typo never changes a number");
        assert_eq!(name("Sales and Marketing"), "Sales & Marketing");
        assert_eq!(
            name("Sales"),
            "Sales",
            "Sales & Marketing is another department"
        );
        assert_eq!(c["Opertions"].decided_by, DecidedBy::Learned);
        assert!(
            c["Opertions"].reason.contains("a typo of 'Operations'"),
            "{:?}",
            c["Opertions"]
        );
        assert_eq!(c["Team 1"].decided_by, DecidedBy::Learned);
        assert_eq!(c["Team 3"].decided_by, DecidedBy::Own);
    }

    #[test]
    fn unsure_pairs_stay_apart_as_suggestions() {
        let feed = [
            ("Planning", 20),
            ("Planting", 15),
            ("Tech", 3),
            ("Technical", 8),
            ("Technology", 6),
        ];
        let c = canon(&feed, &[]);
        assert_eq!(c["Planning"].canonical, "Planning");
        assert_eq!(c["Planting"].canonical, "Planting");
        assert_eq!(c["Planting"].decided_by, DecidedBy::Suggestion);
        assert_eq!(c["Planting"].suggestion.as_deref(), Some("Planning"));
        assert_eq!(c["Tech"].canonical, "Tech");
        assert_eq!(c["Tech"].decided_by, DecidedBy::Suggestion);
        assert_eq!(c["Tech"].suggestion.as_deref(), Some("Technical"));
        assert!(
            c["Tech"].reason.contains("'Technical' or 'Technology'"),
            "{:?}",
            c["Tech"]
        );
        assert_eq!(c["Technology"].canonical, "Technology");
    }

    #[test]
    fn registered_names_win_and_never_merge_with_each_other() {
        let known = vec![
            Known {
                name: "Team 1".into(),
                source: Source::CostCentre,
            },
            Known {
                name: "Team 2".into(),
                source: Source::CostCentre,
            },
            Known {
                name: "Project".into(),
                source: Source::CostCentre,
            },
            Known {
                name: "Ops & Logistics".into(),
                source: Source::Mapping,
            },
        ];
        let mut all = known.clone();
        all.extend(vocabulary());
        let feed = [
            ("team 2", 3),
            ("TEAM-1", 2),
            ("Taem 1", 1),
            ("Projects", 4),
            ("projetc", 1),
            ("Ops and Logistics", 5),
            ("Quarry crew", 2),
        ];
        let c = canon(&feed, &all);
        assert_eq!(c["team 2"].canonical, "Team 2");
        assert_eq!(c["team 2"].decided_by, DecidedBy::CostCentre);
        assert_eq!(c["TEAM-1"].canonical, "Team 1");
        assert_eq!(c["Taem 1"].canonical, "Team 1");
        assert_eq!(
            c["Projects"].canonical, "Project",
            "the registered name beats the common one"
        );
        assert_eq!(c["projetc"].canonical, "Project");
        assert_eq!(c["Ops and Logistics"].canonical, "Ops & Logistics");
        assert_eq!(c["Quarry crew"].canonical, "Quarry Crew");

        let spellings = vec![("Ops & Logs".to_string(), 3)];
        let d = decide(
            &spellings,
            &[(lookup_key("ops & logs"), "Operations".into())],
            &all,
        );
        assert_eq!(d[0].canonical, "Operations");
        assert_eq!(d[0].decided_by, DecidedBy::Mapping);
    }

    #[test]
    fn the_same_feed_gives_the_same_answer_in_any_order() {
        let feed = [
            ("Ops", 3),
            ("Operations", 5),
            ("Opertions", 1),
            ("Tech", 2),
            ("Technical", 2),
            ("Technology", 2),
        ];
        let a: Vec<(String, i64)> = feed.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        let mut b = a.clone();
        b.reverse();
        let mut da = decide(&a, &[], &vocabulary());
        let mut db = decide(&b, &[], &vocabulary());
        da.sort_by(|x, y| x.spelling.cmp(&y.spelling));
        db.sort_by(|x, y| x.spelling.cmp(&y.spelling));
        assert_eq!(da, db);
    }

    #[test]
    fn words_fold_plurals_and_uk_us_spellings() {
        assert_eq!(fold("operations"), "operation");
        assert_eq!(fold("deliveries"), "delivery");
        assert_eq!(fold("organisation"), fold("organization"));
        assert_eq!(fold("centre"), fold("center"));
        assert_eq!(fold("labour"), fold("labor"));
        assert_eq!(fold("licence"), fold("license"));
        assert_eq!(fold("travelling"), fold("traveling"));
        assert_eq!(fold("programme"), fold("program"));
        assert_eq!(words("H.R. Dept").raw, vec!["hr"]);
        assert_eq!(words("Team3").raw, vec!["team", "3"]);
        assert_eq!(words("S&M").raw, vec!["sm"]);
        assert_eq!(words("Sales & Marketing").raw, vec!["sales", "marketing"]);
        assert_eq!(display("  sales   dept "), "Sales");
        assert_eq!(display("SALES & MARKETING"), "Sales & Marketing");
        assert_eq!(display("ICT unit"), "ICT");
        assert_eq!(display("team 3"), "Team 3");
        assert_eq!(display("TEAM1"), "Team 1");
    }
}
