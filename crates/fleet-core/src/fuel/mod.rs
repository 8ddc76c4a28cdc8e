//! The fuel feed (ARCHITECTURE §5): its wire shape and the rules that read it.
//!
//! A document is `{metadata, records[]}` (the snapshot `fuel_records/latest.json` and the hourly
//! `fuel_records/changes/<ts>.json` alike). Records are kept as their original JSON text
//! ([`RawValue`]) so the event log stores exactly what the feed said.
//!
//! - [`record`] reads a record's fields (numbers by [`number`], times by [`time`]); the parser
//!   stores that reading with each event and a dry run computes the same, so they never disagree.
//! - [`departments`] groups the feed's spellings of one department (a rule over all spellings,
//!   refreshed whenever the records or the known names change).
//! - The plate against the fleet and the fuel type against `fuel.mappings` are SQL
//!   (`fuel.norm_plate`, `fuel.canon_fuel_type`): they need the database.

pub mod departments;
pub mod number;
pub mod record;
pub mod time;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// `events.raw.source` of everything the fuel feed brings.
pub const SOURCE: &str = "fuel_feed";
/// A batch of records, verbatim: `{"object": key, "records": [...]}`.
pub const KIND_RECORDS: &str = "fuel_records";
/// Records a full snapshot no longer lists: `{"object": key, "record_ids": [...]}`.
pub const KIND_VANISHED: &str = "fuel_vanished";

/// One feed document.
#[derive(Debug)]
pub struct Feed {
    pub metadata: Value,
    pub records: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    metadata: Value,
    #[serde(default, alias = "changes", alias = "data", alias = "items")]
    records: Option<Vec<Box<RawValue>>>,
}

/// Why a feed document as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is not a valid JSON array of records: {0}")]
    NotAnArray(serde_json::Error),
    #[error("the feed is not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error(
        "the feed document has no \"records\" list (expected {{\"metadata\": ..., \"records\": [...]}})"
    )]
    NoRecords,
    #[error("the feed is empty or not JSON (expected {{\"metadata\": ..., \"records\": [...]}})")]
    Empty,
}

/// What a reader could not understand in a value, in words for the person who wrote it (the
/// record keeps the value and lists this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotUnderstood(pub String);

impl From<String> for NotUnderstood {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for NotUnderstood {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// Reads a feed document: `{metadata, records}` (also `changes`, `data` or `items` for the list),
/// or a bare array of records. The error says what is wrong with the document as a whole; a
/// record that is not an object is kept and reported by the normaliser, never dropped here.
pub fn parse_feed(bytes: &[u8]) -> Result<Feed, FeedError> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| bytes[i]) {
        Some(b'[') => serde_json::from_slice::<Vec<Box<RawValue>>>(bytes)
            .map(|records| Feed {
                metadata: Value::Null,
                records,
            })
            .map_err(FeedError::NotAnArray),
        Some(b'{') => {
            let doc: Doc = serde_json::from_slice(bytes).map_err(FeedError::NotJson)?;
            let records = doc.records.ok_or(FeedError::NoRecords)?;
            Ok(Feed {
                metadata: doc.metadata,
                records,
            })
        }
        _ => Err(FeedError::Empty),
    }
}

/// The source key of a record: its `id` (or `record_id`, `_id`), a number or a string. A record
/// with none still needs a stable key to be kept and listed: `noid-` and a hash of its text.
pub fn record_id(record: &RawValue) -> String {
    #[derive(Deserialize)]
    struct Ids {
        id: Option<Value>,
        record_id: Option<Value>,
        #[serde(rename = "_id")]
        underscore_id: Option<Value>,
    }
    let ids: Option<Ids> = serde_json::from_str(record.get()).ok();
    let id = ids.and_then(|i| {
        [i.id, i.record_id, i.underscore_id]
            .into_iter()
            .flatten()
            .find_map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    });
    id.unwrap_or_else(|| format!("noid-{:016x}", crate::fnv1a(record.get().bytes())))
}

/// A batch of records, last version of each id wins (a changes file may edit a record twice),
/// in first-seen order.
pub fn latest_per_id(records: &[Box<RawValue>]) -> Vec<(String, &RawValue)> {
    let mut index = std::collections::HashMap::new();
    let mut out: Vec<(String, &RawValue)> = Vec::with_capacity(records.len());
    for r in records {
        let id = record_id(r);
        match index.get(&id) {
            Some(&i) => out[i] = (id, r.as_ref()),
            None => {
                index.insert(id.clone(), out.len());
                out.push((id, r.as_ref()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_in_each_accepted_shape() {
        let f = parse_feed(br#"{"metadata":{"count":2},"records":[{"id":1},{"id":"a2"}]}"#)
            .expect("doc");
        assert_eq!(f.records.len(), 2);
        assert_eq!(f.metadata["count"], 2);
        let f = parse_feed(br#" [{"id":1}]"#).expect("array");
        assert_eq!(f.records.len(), 1);
        let f = parse_feed(br#"{"changes":[{"id":1}]}"#).expect("changes");
        assert_eq!(f.records.len(), 1);
        assert!(
            parse_feed(b"{\"metadata\":{}}")
                .expect_err("an error")
                .to_string()
                .contains("no \"records\"")
        );
        assert!(
            parse_feed(b"")
                .expect_err("an error")
                .to_string()
                .contains("empty")
        );
        assert!(
            parse_feed(b"{\"records\": [1,")
                .expect_err("an error")
                .to_string()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn records_keep_their_text_and_get_a_stable_id() {
        let f = parse_feed(
            br#"{"records":[{"id": 7, "car":"KCA 542Q"}, {"car":"x"}, "junk", {"id":" 9 "}]}"#,
        )
        .expect("doc");
        assert_eq!(f.records[0].get(), r#"{"id": 7, "car":"KCA 542Q"}"#);
        assert_eq!(record_id(&f.records[0]), "7");
        let noid = record_id(&f.records[1]);
        assert!(noid.starts_with("noid-"), "{noid}");
        assert_eq!(noid, record_id(&f.records[1]), "stable");
        assert!(record_id(&f.records[2]).starts_with("noid-"));
        assert_eq!(record_id(&f.records[3]), "9");
    }

    #[test]
    fn the_last_version_of_a_record_wins_within_a_batch() {
        let f = parse_feed(br#"[{"id":1,"v":1},{"id":2},{"id":1,"v":2}]"#).expect("doc");
        let l = latest_per_id(&f.records);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].0, "1");
        assert_eq!(l[0].1.get(), r#"{"id":1,"v":2}"#);
    }
}
