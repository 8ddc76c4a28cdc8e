//! Traces as people export them: CSV with a header naming the time and position columns in any
//! common spelling (time as ISO 8601, `YYYY-MM-DD HH:MM:SS` read as UTC, or epoch seconds or
//! milliseconds), or GPX track points. A row that cannot be read is kept out of the trace and
//! listed with its line and reason; a file with no usable header is an error that says which
//! columns were looked for.

use chrono::{DateTime, NaiveDateTime};

use super::hmm::Fix;
use crate::Point;

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rejected {
    pub line: usize,
    pub reason: String,
}

/// A trace read from a file.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub fixes: Vec<Fix>,
    /// The line of each fix in the file.
    pub lines: Vec<usize>,
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error(
        "the CSV header has no {what} column (looked for {wanted}); name it so, e.g. time,lat,lon"
    )]
    MissingColumn { what: &'static str, wanted: String },
    #[error("the file is empty")]
    Empty,
    #[error("the GPX has no track points (<trkpt lat=… lon=…><time>…</time></trkpt>)")]
    NoTrackPoints,
    #[error("{0}")]
    GeoJson(String),
}

const TIME: &[&str] = &[
    "time",
    "timestamp",
    "gpstime",
    "gps_time",
    "datetime",
    "date_time",
    "recorded_at",
    "fix_time",
    "utc",
    "ts",
    "epoch",
    "unix_time",
];
const LAT: &[&str] = &["lat", "latitude", "y"];
const LNG: &[&str] = &["lon", "lng", "long", "longitude", "x"];

/// Reads a CSV or GPX trace (GPX when the text starts like XML).
pub fn read(text: &str) -> Result<Trace, TraceError> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        return Err(TraceError::Empty);
    }
    if t.starts_with('<') {
        read_gpx(t)
    } else {
        read_csv(t)
    }
}

fn norm(h: &str) -> String {
    h.trim()
        .trim_matches('"')
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
}

fn column(
    header: &[String],
    names: &[&'static str],
    what: &'static str,
) -> Result<usize, TraceError> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
        .ok_or_else(|| TraceError::MissingColumn {
            what,
            wanted: names.join(", "),
        })
}

/// Fields of one CSV line (double quotes and doubled quotes inside them).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' | ';' | '\t' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn read_csv(text: &str) -> Result<Trace, TraceError> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or(TraceError::Empty)?;
    let header: Vec<String> = fields(header).iter().map(|h| norm(h)).collect();
    let (ti, la, lo) = (
        column(&header, TIME, "time")?,
        column(&header, LAT, "latitude")?,
        column(&header, LNG, "longitude")?,
    );
    let mut trace = Trace::default();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        let get = |i: usize| f.get(i).map(|s| s.trim().trim_matches('"')).unwrap_or("");
        let reject = |reason: String| Rejected {
            line: n + 1,
            reason,
        };
        let time = match parse_time(get(ti)) {
            Some(t) => t,
            None => {
                trace.rejected.push(reject(format!(
                    "time {:?} is not ISO 8601, YYYY-MM-DD HH:MM:SS or epoch seconds",
                    get(ti)
                )));
                continue;
            }
        };
        let (lat, lng) = match (get(la).parse::<f64>(), get(lo).parse::<f64>()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => {
                trace.rejected.push(reject(format!(
                    "position {:?},{:?} is not two numbers",
                    get(la),
                    get(lo)
                )));
                continue;
            }
        };
        trace.fixes.push(Fix {
            time,
            at: Point { lat, lng },
        });
        trace.lines.push(n + 1);
    }
    Ok(trace)
}

fn read_gpx(text: &str) -> Result<Trace, TraceError> {
    let mut trace = Trace::default();
    let mut rest = text;
    let mut n = 0;
    while let Some(i) = rest.find("<trkpt").or_else(|| rest.find("<rtept")) {
        n += 1;
        rest = &rest[i..];
        let end = rest
            .find("</trkpt>")
            .or_else(|| rest.find("</rtept>"))
            .or_else(|| rest.find("/>"))
            .unwrap_or(rest.len());
        let point = &rest[..end];
        rest = &rest[end.min(rest.len())..];
        if rest.len() > 1 {
            rest = &rest[1..];
        }
        let attr = |name: &str| {
            let key = format!("{name}=");
            let j = point.find(&key)? + key.len();
            let q = point[j..].chars().next()?;
            let v = &point[j + 1..];
            v.find(q).map(|k| &v[..k])
        };
        let time = point.find("<time>").and_then(|j| {
            point[j + 6..]
                .find("</time>")
                .map(|k| &point[j + 6..j + 6 + k])
        });
        let reject = |reason: String| Rejected { line: n, reason };
        let (Some(lat), Some(lng)) = (
            attr("lat").and_then(|v| v.parse().ok()),
            attr("lon").and_then(|v| v.parse().ok()),
        ) else {
            trace
                .rejected
                .push(reject("track point without numeric lat/lon".into()));
            continue;
        };
        let Some(time) = time.and_then(parse_time) else {
            trace
                .rejected
                .push(reject("track point without a readable <time>".into()));
            continue;
        };
        trace.fixes.push(Fix {
            time,
            at: Point { lat, lng },
        });
        trace.lines.push(n);
    }
    if n == 0 {
        return Err(TraceError::NoTrackPoints);
    }
    Ok(trace)
}

/// A trace from GeoJSON: a `LineString` (Feature or bare geometry) with `properties.times`
/// (or `coordTimes`, as GPX converters write it) of the same length, or a `FeatureCollection` of
/// `Point` features with `properties.time`. `lines` are the indices of the points.
pub fn from_geojson(v: &serde_json::Value) -> Result<Trace, TraceError> {
    let bad = |m: &str| TraceError::GeoJson(m.to_string());
    let mut trace = Trace::default();
    let push = |i: usize,
                c: Option<&serde_json::Value>,
                t: Option<&serde_json::Value>,
                trace: &mut Trace| {
        let pos = c
            .and_then(|c| c.as_array())
            .and_then(|c| Some((c.first()?.as_f64()?, c.get(1)?.as_f64()?)));
        let time = t.and_then(|t| t.as_f64().or_else(|| t.as_str().and_then(parse_time)));
        match (pos, time) {
            (Some((lng, lat)), Some(time)) => {
                trace.fixes.push(Fix {
                    time,
                    at: Point { lat, lng },
                });
                trace.lines.push(i);
            }
            (None, _) => trace.rejected.push(Rejected {
                line: i,
                reason: "coordinates are not [longitude, latitude]".into(),
            }),
            (_, None) => trace.rejected.push(Rejected {
                line: i,
                reason: "no readable time (ISO 8601 or epoch seconds)".into(),
            }),
        }
    };
    let kind = v.get("type").and_then(|t| t.as_str()).unwrap_or("");
    match kind {
        "FeatureCollection" => {
            let features = v
                .get("features")
                .and_then(|f| f.as_array())
                .ok_or_else(|| bad("a FeatureCollection needs features"))?;
            for (i, f) in features.iter().enumerate() {
                let g = &f["geometry"];
                if g["type"] != "Point" {
                    trace.rejected.push(Rejected {
                        line: i,
                        reason: "not a Point feature".into(),
                    });
                    continue;
                }
                push(
                    i,
                    g.get("coordinates"),
                    f["properties"].get("time"),
                    &mut trace,
                );
            }
        }
        "Feature" | "LineString" => {
            let (g, props) = if kind == "Feature" {
                (&v["geometry"], &v["properties"])
            } else {
                (v, &serde_json::Value::Null)
            };
            if g["type"] != "LineString" {
                return Err(bad(
                    "a Feature must be a LineString with properties.times, or send a FeatureCollection of Points",
                ));
            }
            let coords = g["coordinates"]
                .as_array()
                .ok_or_else(|| bad("a LineString needs coordinates"))?;
            let times = props
                .get("times")
                .or_else(|| props.get("coordTimes"))
                .and_then(|t| t.as_array())
                .ok_or_else(|| {
                    bad("a LineString needs properties.times: one time per coordinate")
                })?;
            if times.len() != coords.len() {
                return Err(bad(&format!(
                    "properties.times has {} times for {} coordinates",
                    times.len(),
                    coords.len()
                )));
            }
            for (i, (c, t)) in coords.iter().zip(times).enumerate() {
                push(i, Some(c), Some(t), &mut trace);
            }
        }
        _ => {
            return Err(bad(
                "expected a GeoJSON FeatureCollection of Points or a LineString Feature",
            ));
        }
    }
    Ok(trace)
}

/// Seconds since the epoch from ISO 8601 (with or without zone; none = UTC), `YYYY-MM-DD
/// HH:MM:SS[.fff]`, or epoch seconds (milliseconds when over 10¹¹).
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<f64>() {
        return n
            .is_finite()
            .then(|| if n.abs() > 1e11 { n / 1000.0 } else { n });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros() as f64 / 1e6);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_micros() as f64 / 1e6);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_headers_in_common_spellings_and_bad_rows_listed() {
        let t = read("\"id\",\"timestamp\",\"Latitude\",\"Longitude\"\n1,\"2026-01-26 15:57:02\",53.44451,-2.925173\n2,never,53.4,-2.9\n3,1769443044,53.445026,x\n4,2026-01-26T15:57:48Z,53.445033,-2.92346\n").expect("trace");
        assert_eq!(t.fixes.len(), 2);
        assert_eq!(t.lines, vec![2, 5]);
        assert_eq!(
            t.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert_eq!(t.fixes[1].time - t.fixes[0].time, 46.0);
        let e = read("when,where\n1,2\n").expect_err("no columns");
        assert!(e.to_string().contains("time"), "{e}");
    }

    #[test]
    fn times_in_every_form() {
        let t = 1_769_443_022.0;
        assert_eq!(parse_time("2026-01-26 15:57:02"), Some(t));
        assert_eq!(parse_time("2026-01-26T18:57:02+03:00"), Some(t));
        assert_eq!(parse_time("1769443022"), Some(t));
        assert_eq!(parse_time("1769443022000"), Some(t));
        assert_eq!(parse_time("2026-01-26T15:57:02.500Z"), Some(t + 0.5));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn gpx_track_points() {
        let g = r#"<?xml version="1.0"?><gpx><trk><trkseg>
            <trkpt lat="43.73" lon="7.42"><ele>5</ele><time>2026-01-26T15:57:02Z</time></trkpt>
            <trkpt lat='43.731' lon='7.421'><time>2026-01-26T15:57:12Z</time></trkpt>
            <trkpt lat="43.732"><time>2026-01-26T15:57:22Z</time></trkpt>
            </trkseg></trk></gpx>"#;
        let t = read(g).expect("gpx");
        assert_eq!(t.fixes.len(), 2);
        assert_eq!(t.rejected.len(), 1);
        assert_eq!(t.fixes[1].time - t.fixes[0].time, 10.0);
        assert!(matches!(
            read("<gpx></gpx>"),
            Err(TraceError::NoTrackPoints)
        ));
    }
}
