//! Map matching: snapping GPS traces to the roads of `geo.ways` (the issue "Map matching and
//! observed road speeds").
//!
//! - [`graph`]: the directed road graph in memory with a grid for the candidate search, from
//!   `geo.ways` rows ([`load`]) or straight from an extract.
//! - [`hmm`]: the HMM matcher (Newson & Krumm 2009) and its parameters.
//! - [`trace`]: traces from CSV or GPX, as people export them.
//! - [`project`]: the matching projector the worker runs: fixes → segment traversals, matched
//!   tracks and speed bands.
//! - [`truth`]: traces with known true paths (driven on the graph, sampled, with noise and
//!   outliers) and the scores of a match against them; `fleet bench match` runs them.

pub mod bench;
pub mod graph;
pub mod hmm;
pub mod project;
pub mod trace;
pub mod truth;

pub use graph::MatchGraph;
pub use hmm::{Fix, Matched, Matcher, Params, Skip};

use sqlx::PgPool;

use crate::Point;
use crate::osm::WayRow;

/// The graph of whatever is in `geo.ways` (loaded by `fleet import osm`, or inserted by hand
/// with at least `gid, source, target, length_m, cost, reverse_cost, the_geom`).
pub async fn load(pool: &PgPool) -> Result<MatchGraph, sqlx::Error> {
    type Row = (i64, Option<i64>, Option<i64>, f64, f64, f64, String);
    let mut ways = Vec::new();
    let mut after = i64::MIN;
    // in pages, so a country's rows are never all in memory as text at once
    loop {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT gid, source, target, length_m, cost, reverse_cost, ST_AsText(the_geom) FROM geo.ways
              WHERE gid > $1 ORDER BY gid LIMIT 100000",
        )
        .bind(after)
        .fetch_all(pool)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        ways.extend(rows.into_iter().filter_map(
            |(gid, source, target, length_m, cost, reverse_cost, wkt)| {
                let points = parse_linestring(&wkt)?;
                // a row without topology (inserted by hand) joins others where their ends meet
                let (first, last) = (*points.first()?, *points.last()?);
                Some(WayRow {
                    gid,
                    osm_id: 0,
                    source: source.unwrap_or_else(|| end_key(first)),
                    target: target.unwrap_or_else(|| end_key(last)),
                    name: None,
                    highway: String::new(),
                    length_m,
                    maxspeed_kmh: None,
                    one_way: reverse_cost < 0.0,
                    cost,
                    reverse_cost,
                    points,
                    nodes: Vec::new(),
                })
            },
        ));
    }
    // rows come by gid, which is a hash: in space order instead, so that nodes near each other
    // are near each other in memory (a search reads its neighbourhood; measured on a
    // 2-million-edge graph, in gid order routes took twice as long)
    ways.sort_by_cached_key(|w| w.points.first().map_or(0, |&p| z_order(p)));
    Ok(MatchGraph::new(&ways))
}

/// The Z-order (Morton) key of a point on a 2¹⁶ × 2¹⁶ grid of the world.
fn z_order(p: Point) -> u64 {
    let q = |x: f64, span: f64| (((x + span / 2.0) / span).clamp(0.0, 1.0) * 65535.0) as u64;
    let spread = |mut v: u64| {
        v &= 0xffff;
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(q(p.lng, 360.0)) | (spread(q(p.lat, 180.0)) << 1)
}

/// The JSON answer of a match (`fleet geo match` prints it, `POST /api/geo/match` answers it):
/// edges in travel order with their directions, each matched fix, breaks, skipped fixes with
/// the reason, rows of the input that could not be read, the path with entry and exit times, and
/// the matching speed.
pub fn report(trace: &trace::Trace, r: &Matched, seconds: f64) -> serde_json::Value {
    use serde_json::json;
    let line = |i: usize| trace.lines.get(i).copied();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let mut edges: Vec<(i64, bool)> = Vec::new();
    let mut path = Vec::new();
    for seg in &r.segments {
        for p in seg {
            if edges.last() != Some(&(p.gid, p.forward)) {
                edges.push((p.gid, p.forward));
            }
            path.push(
                json!({"gid": p.gid, "forward": p.forward, "entered": p.entered, "left": p.left,
                "driven_m": round(p.driven_m)}),
            );
        }
    }
    json!({
        "edges": edges.iter().map(|e| e.0).collect::<Vec<_>>(),
        "forward": edges.iter().map(|e| e.1).collect::<Vec<_>>(),
        "fixes": r.fixes.iter().map(|f| json!({"i": f.i, "line": line(f.i), "gid": f.gid,
            "forward": f.forward, "offset_m": round(f.offset_m), "distance_m": round(f.distance_m)}))
            .collect::<Vec<_>>(),
        "breaks": r.breaks,
        "skipped": r.skipped.iter().map(|(i, why)| json!({"i": i, "line": line(*i), "reason": why}))
            .collect::<Vec<_>>(),
        "rejected": trace.rejected,
        "path": path,
        "fixes_per_second": (trace.fixes.len() as f64 / seconds.max(1e-9)).round(),
    })
}

/// A node id for an end point: the same for ends within about a centimetre (negative, so it
/// never meets an OSM node id).
fn end_key(p: Point) -> i64 {
    let (a, b) = ((p.lat * 1e7).round() as i64, (p.lng * 1e7).round() as i64);
    -((a.rem_euclid(1 << 31) << 32) | b.rem_euclid(1 << 32)) - 1
}

/// `LINESTRING(x y, x y, …)` as points.
fn parse_linestring(wkt: &str) -> Option<Vec<Point>> {
    let inner = wkt.trim().strip_prefix("LINESTRING")?.trim();
    let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(|pair| {
            let mut it = pair.split_whitespace();
            let lng: f64 = it.next()?.parse().ok()?;
            let lat: f64 = it.next()?.parse().ok()?;
            Some(Point { lat, lng })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linestrings_are_read() {
        let p = parse_linestring("LINESTRING(7.41 43.73,7.42 43.74)").expect("parsed");
        assert_eq!(p.len(), 2);
        assert_eq!((p[1].lng, p[1].lat), (7.42, 43.74));
        assert_eq!(parse_linestring("POINT(1 2)"), None);
    }
}
