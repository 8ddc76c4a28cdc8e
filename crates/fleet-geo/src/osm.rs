//! Loads an OpenStreetMap extract (`.osm.pbf`) into PostGIS: the drivable roads into `geo.ways`
//! (split at junctions, pgRouting's edge table: cost in seconds, one-way streets with a negative
//! reverse cost) with their vertices in `geo.ways_vertices_pgr`, points of interest into
//! `geo.pois` (`kind` = the `amenity` value, e.g. `fuel`; station areas become their centroid),
//! and what addresses are made of: named places (`place=*`) into `geo.places` and house numbers
//! (`addr:housenumber`, on nodes and buildings) into `geo.addresses`; admin boundaries
//! (`boundary=administrative` relations, rings assembled from their ways) into `geo.boundaries`
//! and turn restrictions (`type=restriction` with a via node) into `geo.turn_restrictions`.
//! The pages' offline basemap (`geo.tile`) and the fuel reconciliation read them.
//!
//! A load builds the new graph beside the live one (`geo.ways_next`), checks it (it has roads, is
//! not a fraction of the live one, holds together and routes), and swaps it in with one short
//! lock in the same transaction, so readers never see a half-loaded graph and are not blocked
//! while it loads; POIs are upserted by OSM id. Segment ids are stable across loads
//! ([`segment_id`]). Tags are read by [`crate::tags`] (speed limits, one-way incl. `-1`).

use std::collections::HashMap;

use crate::roads::class_speed;
use crate::tags::{Direction, direction, maxspeed_kmh};
use crate::{Point, haversine_m};
use osmpbf::{Element, ElementReader};
use serde_json::{Value, json};
use sqlx::PgPool;

/// What a load wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsmReport {
    pub ways: usize,
    pub vertices: usize,
    pub pois: usize,
    pub places: usize,
    pub addresses: usize,
    /// Admin boundaries whose outline closed (those cut by the extract's edge do not).
    pub boundaries: usize,
    pub turn_restrictions: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    #[error("cannot read the OSM extract: {0}")]
    Read(String),
    #[error("the OSM extract has no drivable roads")]
    Empty,
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Amenities worth a POI (what a fleet stops at).
const AMENITIES: &[&str] = &[
    "fuel",
    "parking",
    "car_wash",
    "car_repair",
    "charging_station",
    "police",
    "hospital",
];

struct Way {
    id: i64,
    refs: Vec<i64>,
    name: Option<String>,
    highway: String,
    speed_kmh: f64,
    maxspeed: Option<f64>,
    one_way: bool,
}

/// Where a tagged element other than a road goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Poi,
    Place,
    Address,
}

/// A point of interest, a named place or a house number: its row without a position yet (a
/// node's own, or the centroid of a way's nodes once they are all read).
struct Extra {
    table: Table,
    row: serde_json::Map<String, Value>,
    at: Option<Point>,
    refs: Vec<i64>,
}

/// The kinds of `place=*` an address is made of (Nominatim's address ranks 16–25).
const PLACES: &[&str] = &[
    "city",
    "town",
    "village",
    "hamlet",
    "suburb",
    "quarter",
    "neighbourhood",
    "city_block",
    "locality",
    "isolated_dwelling",
    "municipality",
    "county",
];

fn extras_of(osm_type: &'static str, id: i64, tags: &HashMap<&str, &str>) -> Vec<Extra> {
    let mut out = Vec::new();
    let base = || {
        let mut m = serde_json::Map::new();
        m.insert("osm_type".into(), json!(osm_type));
        m.insert("osm_id".into(), json!(id));
        m
    };
    let text = |k: &str| tags.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(kind) = tags.get("amenity").filter(|a| AMENITIES.contains(a)) {
        let mut row = base();
        row.insert("kind".into(), json!(kind));
        row.insert("name".into(), json!(text("name")));
        row.insert("brand".into(), json!(text("brand")));
        out.push(Extra {
            table: Table::Poi,
            row,
            at: None,
            refs: Vec::new(),
        });
    }
    if let (Some(place), Some(name)) = (
        tags.get("place").filter(|p| PLACES.contains(p)),
        text("name"),
    ) {
        let mut row = base();
        row.insert("place".into(), json!(place));
        row.insert("name".into(), json!(name));
        out.push(Extra {
            table: Table::Place,
            row,
            at: None,
            refs: Vec::new(),
        });
    }
    if let Some(number) = text("addr:housenumber") {
        let mut row = base();
        row.insert("housenumber".into(), json!(number));
        row.insert("street".into(), json!(text("addr:street")));
        row.insert("place".into(), json!(text("addr:place")));
        out.push(Extra {
            table: Table::Address,
            row,
            at: None,
            refs: Vec::new(),
        });
    }
    out
}

/// A `boundary=administrative` relation: its level, name and member ways (outer and inner).
struct Boundary {
    id: i64,
    level: i16,
    name: String,
    ways: Vec<i64>,
}

/// A `type=restriction` relation with a via node, as a `geo.turn_restrictions` row.
fn restriction_of(r: &osmpbf::Relation) -> Option<Value> {
    let tags: HashMap<&str, &str> = r.tags().collect();
    if tags.get("type") != Some(&"restriction") {
        return None;
    }
    let kind = tags
        .get("restriction:motorcar")
        .or(tags.get("restriction"))?
        .trim();
    let only = kind.starts_with("only_");
    if !only && !kind.starts_with("no_") {
        return None;
    }
    // a restriction cars are exempt from is not one for the fleet
    if tags
        .get("except")
        .is_some_and(|e| e.split(';').any(|x| x.trim() == "motorcar"))
    {
        return None;
    }
    let (mut from, mut via, mut to) = (Vec::new(), Vec::new(), Vec::new());
    for m in r.members() {
        let role = m.role().unwrap_or("");
        match (role, m.member_type) {
            ("from", osmpbf::RelMemberType::Way) => from.push(m.member_id),
            ("to", osmpbf::RelMemberType::Way) => to.push(m.member_id),
            ("via", osmpbf::RelMemberType::Node) => via.push(m.member_id),
            // a via way (a restriction over several junctions) is not read
            ("via", _) => return None,
            _ => {}
        }
    }
    let ([f], [v], [t]) = (from.as_slice(), via.as_slice(), to.as_slice()) else {
        return None;
    };
    Some(
        json!({"osm_id": r.id(), "from_way": f, "via_node": v, "to_way": t, "only_turn": only, "kind": kind}),
    )
}

/// One road segment between junctions, as `geo.ways` holds it (pgRouting's edge table).
#[derive(Debug, Clone, PartialEq)]
pub struct WayRow {
    pub gid: i64,
    pub osm_id: i64,
    /// OSM node id of the first point.
    pub source: i64,
    /// OSM node id of the last point.
    pub target: i64,
    pub name: Option<String>,
    pub highway: String,
    pub length_m: f64,
    pub maxspeed_kmh: Option<f64>,
    pub one_way: bool,
    /// Seconds to drive it from source to target.
    pub cost: f64,
    /// Seconds from target to source; negative = not allowed (one-way).
    pub reverse_cost: f64,
    /// The geometry, source to target.
    pub points: Vec<Point>,
    /// The OSM node of each point (empty when the row did not come from an extract).
    pub nodes: Vec<i64>,
}

/// The segment id of the stretch of OSM way `way` from node `a` to node `b`: the same in every
/// load where that way and node pair are unchanged, so what was observed on a segment (speeds,
/// matched traversals) is not orphaned by a monthly reload. An FNV-1a hash of the three ids cut to
/// 53 bits (exact as a JSON number in every client, JavaScript included); the rare collision
/// within one load moves to the next free id (deterministically, by the extract's order).
pub fn segment_id(way: i64, a: i64, b: i64, used: &mut std::collections::HashSet<i64>) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in [way, a, b] {
        for byte in x.to_le_bytes() {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    const MAX: i64 = (1 << 53) - 1;
    let mut id = ((h & MAX as u64) as i64).max(1);
    while !used.insert(id) {
        id = if id == MAX { 1 } else { id + 1 };
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_ids_are_stable_json_safe_and_unique() {
        let mut used = std::collections::HashSet::new();
        let a = segment_id(4_000_000_123, 1, 2, &mut used);
        assert!(a > 0 && a < (1 << 53));
        assert_eq!(
            segment_id(4_000_000_123, 1, 2, &mut std::collections::HashSet::new()),
            a
        );
        assert_ne!(segment_id(4_000_000_123, 2, 1, &mut used), a);
        // the same way and nodes again in one load (a way drawn twice) get the next free id
        assert_eq!(segment_id(4_000_000_123, 1, 2, &mut used), a + 1);
    }
}

/// An extract, parsed: road segments, their end vertices, and the rows of POIs, named places
/// and house numbers.
pub struct Parsed {
    pub ways: Vec<WayRow>,
    pub vertices: HashMap<i64, Point>,
    pois: Vec<Value>,
    places: Vec<Value>,
    addresses: Vec<Value>,
    /// `{osm_id, admin_level, name, lines}`: each boundary with its member ways' lines.
    boundaries: Vec<Value>,
    restrictions: Vec<Value>,
}

impl Parsed {
    /// (Admin boundaries, turn restrictions) read.
    pub fn relations(&self) -> (usize, usize) {
        (self.boundaries.len(), self.restrictions.len())
    }

    /// (POIs, named places, house numbers) read.
    pub fn extras(&self) -> (usize, usize, usize) {
        (self.pois.len(), self.places.len(), self.addresses.len())
    }
}

/// Parses `pbf` into road segments split at junctions (and POIs), without a database.
pub fn parse(pbf: &[u8]) -> Result<Parsed, OsmError> {
    let mut coords: HashMap<i64, Point> = HashMap::new();
    let mut ways: Vec<Way> = Vec::new();
    let mut extras: Vec<Extra> = Vec::new();
    let mut node = |id: i64, p: Point, tags: HashMap<&str, &str>| {
        coords.insert(id, p);
        if !tags.is_empty() {
            for mut x in extras_of("node", id, &tags) {
                x.at = Some(p);
                extras.push(x);
            }
        }
    };
    let mut way_extras = Vec::new();
    let mut boundaries: Vec<Boundary> = Vec::new();
    let mut restrictions: Vec<Value> = Vec::new();
    ElementReader::new(std::io::Cursor::new(pbf))
        .for_each(|el| match el {
            Element::DenseNode(n) => node(
                n.id(),
                Point {
                    lat: n.lat(),
                    lng: n.lon(),
                },
                n.tags().collect(),
            ),
            Element::Node(n) => node(
                n.id(),
                Point {
                    lat: n.lat(),
                    lng: n.lon(),
                },
                n.tags().collect(),
            ),
            Element::Way(w) => {
                let tags: HashMap<&str, &str> = w.tags().collect();
                for mut x in extras_of("way", w.id(), &tags) {
                    x.refs = w.refs().collect();
                    way_extras.push(x);
                }
                let Some(highway) = tags.get("highway") else {
                    return;
                };
                let Some(speed) = class_speed(highway) else {
                    return;
                };
                if tags
                    .get("access")
                    .is_some_and(|a| *a == "no" || *a == "private")
                {
                    return;
                }
                let maxspeed = tags.get("maxspeed").and_then(|m| maxspeed_kmh(m));
                // a way one-way against its drawing is stored drawn the way it is driven
                let mut refs: Vec<i64> = w.refs().collect();
                let dir = direction(&tags);
                if dir == Direction::Backward {
                    refs.reverse();
                }
                ways.push(Way {
                    id: w.id(),
                    refs,
                    name: tags.get("name").map(|s| s.to_string()),
                    highway: highway.to_string(),
                    speed_kmh: maxspeed.unwrap_or(speed),
                    maxspeed,
                    one_way: dir != Direction::Both,
                });
            }
            Element::Relation(r) => {
                if let Some(row) = restriction_of(&r) {
                    restrictions.push(row);
                    return;
                }
                let tags: HashMap<&str, &str> = r.tags().collect();
                if tags.get("boundary") != Some(&"administrative") {
                    return;
                }
                let (Some(level), Some(name)) = (
                    tags.get("admin_level")
                        .and_then(|l| l.trim().parse::<i16>().ok()),
                    tags.get("name").map(|n| n.trim()).filter(|n| !n.is_empty()),
                ) else {
                    return;
                };
                let ways = r
                    .members()
                    .filter(|m| {
                        m.member_type == osmpbf::RelMemberType::Way
                            && matches!(m.role(), Ok("outer" | "inner" | ""))
                    })
                    .map(|m| m.member_id)
                    .collect();
                boundaries.push(Boundary {
                    id: r.id(),
                    level,
                    name: name.to_string(),
                    ways,
                });
            }
        })
        .map_err(|e| OsmError::Read(e.to_string()))?;
    extras.extend(way_extras);
    // relations come after the ways in an extract: a second read for the boundaries' ways
    let boundaries = boundary_rows(pbf, boundaries, &coords)?;

    // Junctions: a node two roads share (or a road's own ends) splits it into edges.
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for w in &ways {
        for (i, r) in w.refs.iter().enumerate() {
            let end = i == 0 || i + 1 == w.refs.len();
            *uses.entry(*r).or_default() += if end { 2 } else { 1 };
        }
    }
    let mut edges = Vec::new();
    let mut used: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut vertices: HashMap<i64, Point> = HashMap::new();
    for w in &ways {
        let pts: Vec<(i64, Point)> = w
            .refs
            .iter()
            .filter_map(|r| coords.get(r).map(|p| (*r, *p)))
            .collect();
        let mut start = 0;
        for i in 1..pts.len() {
            if i + 1 < pts.len() && uses.get(&pts[i].0).copied().unwrap_or(0) < 2 {
                continue;
            }
            let seg = &pts[start..=i];
            start = i;
            let length_m: f64 = seg.windows(2).map(|p| haversine_m(p[0].1, p[1].1)).sum();
            if length_m <= 0.0 {
                continue;
            }
            let (a, b) = (seg[0], seg[seg.len() - 1]);
            vertices.insert(a.0, a.1);
            vertices.insert(b.0, b.1);
            let cost = length_m / (w.speed_kmh / 3.6);
            edges.push(WayRow {
                gid: segment_id(w.id, a.0, b.0, &mut used),
                osm_id: w.id,
                source: a.0,
                target: b.0,
                name: w.name.clone(),
                highway: w.highway.clone(),
                length_m,
                maxspeed_kmh: w.maxspeed,
                one_way: w.one_way,
                cost,
                reverse_cost: if w.one_way { -1.0 } else { cost },
                points: seg.iter().map(|(_, p)| *p).collect(),
                nodes: seg.iter().map(|(n, _)| *n).collect(),
            });
        }
    }
    if edges.is_empty() {
        return Err(OsmError::Empty);
    }
    let (mut pois, mut places, mut addresses) = (Vec::new(), Vec::new(), Vec::new());
    for x in extras {
        let Some(at) = x.at.or_else(|| {
            let pts: Vec<Point> = x
                .refs
                .iter()
                .filter_map(|r| coords.get(r).copied())
                .collect();
            (!pts.is_empty()).then(|| Point {
                lat: pts.iter().map(|q| q.lat).sum::<f64>() / pts.len() as f64,
                lng: pts.iter().map(|q| q.lng).sum::<f64>() / pts.len() as f64,
            })
        }) else {
            continue;
        };
        let mut row = x.row;
        row.insert("lat".into(), json!(at.lat));
        row.insert("lng".into(), json!(at.lng));
        match x.table {
            Table::Poi => pois.push(Value::Object(row)),
            Table::Place => places.push(Value::Object(row)),
            Table::Address => addresses.push(Value::Object(row)),
        }
    }
    Ok(Parsed {
        ways: edges,
        vertices,
        pois,
        places,
        addresses,
        boundaries,
        restrictions,
    })
}

/// Each boundary as `{osm_id, admin_level, name, lines}` with its member ways' lines as
/// `[[lng, lat], …]` (the database assembles the rings); member ways the extract lacks are left
/// out, and the outline then does not close.
fn boundary_rows(
    pbf: &[u8],
    boundaries: Vec<Boundary>,
    coords: &HashMap<i64, Point>,
) -> Result<Vec<Value>, OsmError> {
    if boundaries.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: std::collections::HashSet<i64> = boundaries
        .iter()
        .flat_map(|b| b.ways.iter().copied())
        .collect();
    let mut lines: HashMap<i64, Vec<[f64; 2]>> = HashMap::new();
    ElementReader::new(std::io::Cursor::new(pbf))
        .for_each(|el| {
            if let Element::Way(w) = el
                && wanted.contains(&w.id())
            {
                let pts: Option<Vec<[f64; 2]>> = w
                    .refs()
                    .map(|r| coords.get(&r).map(|p| [p.lng, p.lat]))
                    .collect();
                if let Some(pts) = pts.filter(|p| p.len() >= 2) {
                    lines.insert(w.id(), pts);
                }
            }
        })
        .map_err(|e| OsmError::Read(e.to_string()))?;
    Ok(boundaries
        .into_iter()
        .filter_map(|b| {
            let ls: Vec<&Vec<[f64; 2]>> = b.ways.iter().filter_map(|w| lines.get(w)).collect();
            (!ls.is_empty()).then(
                || json!({"osm_id": b.id, "admin_level": b.level, "name": b.name, "lines": ls}),
            )
        })
        .collect())
}

/// How a load may replace the graph.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Replace a graph with one under a tenth of its size (another, smaller region; otherwise
    /// refused as a likely truncated or wrong extract).
    pub allow_shrink: bool,
}

/// Reads the extract `source` names: the file, or the URL downloaded (up to 30 minutes).
pub async fn fetch(source: &fleet_core::config::OsmSource) -> Result<Vec<u8>, OsmError> {
    use fleet_core::config::OsmSource;
    match source {
        OsmSource::File(path) => tokio::fs::read(path)
            .await
            .map_err(|e| OsmError::Read(format!("{}: {e}", path.display()))),
        OsmSource::Url(url) => {
            let fail = |e: String| OsmError::Read(format!("downloading {url}: {e}"));
            let res = fleet_core::http::client(std::time::Duration::from_secs(1800))
                .build()
                .map_err(|e| fail(e.to_string()))?
                .get(url)
                .send()
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !res.status().is_success() {
                return Err(fail(format!("HTTP {}", res.status())));
            }
            Ok(res.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec())
        }
    }
}

/// Loads `pbf` into `pool`'s geo tables (see [`load_with`]).
pub async fn load(pool: &PgPool, pbf: &[u8]) -> Result<OsmReport, OsmError> {
    load_with(pool, pbf, LoadOptions::default()).await
}

/// Checks the graph built in `geo.ways_next` before it replaces the live one: it has roads; it is
/// not a tenth of the live graph (unless allowed); and its largest connected network holds at
/// least a third of the vertices, with pgRouting finding a route from its westernmost vertex to
/// its easternmost.
async fn check_next(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    opts: LoadOptions,
) -> Result<(), OsmError> {
    let (next, live): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM geo.ways_next), (SELECT count(*) FROM geo.ways)",
    )
    .fetch_one(&mut **tx)
    .await?;
    if next == 0 {
        return Err(OsmError::Refused(
            "the extract has no drivable roads".into(),
        ));
    }
    if !opts.allow_shrink && live > 0 && next * 10 < live {
        return Err(OsmError::Refused(format!(
            "the new graph has {next} road segments, the loaded one {live}: a truncated or wrong extract? \
             Load it anyway with --replace-smaller (another, smaller region)"
        )));
    }
    let (share, routed): (f64, bool) = sqlx::query_as(
        "WITH cc AS MATERIALIZED (
              SELECT * FROM pgr_connectedComponents('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways_next')),
              big AS (SELECT component, count(*) AS n FROM cc GROUP BY 1 ORDER BY 2 DESC LIMIT 1),
              vs AS (SELECT v.id, ST_X(v.the_geom) AS x FROM cc JOIN big USING (component)
                     JOIN geo.ways_vertices_pgr_next v ON v.id = cc.node)
         SELECT (SELECT n FROM big)::float8 / greatest((SELECT count(*) FROM geo.ways_vertices_pgr_next), 1),
                (SELECT count(*) > 0 FROM pgr_dijkstra('SELECT gid AS id, source, target, cost, reverse_cost FROM geo.ways_next',
                     (SELECT id FROM vs ORDER BY x, id LIMIT 1), (SELECT id FROM vs ORDER BY x DESC, id LIMIT 1), false))",
    )
    .fetch_one(&mut **tx)
    .await?;
    if share < 1.0 / 3.0 || !routed {
        return Err(OsmError::Refused(format!(
            "the new graph does not hold together (its largest network has {:.0} % of the junctions; a route across it: {}); \
             the loaded graph is kept",
            share * 100.0,
            if routed { "found" } else { "none" }
        )));
    }
    Ok(())
}

/// Loads `pbf` into `pool`'s geo tables: the roads are built beside the live graph, checked
/// ([`check_next`]), then swapped in atomically; POIs are upserted. A refused load leaves the
/// live graph as it was.
pub async fn load_with(
    pool: &PgPool,
    pbf: &[u8],
    opts: LoadOptions,
) -> Result<OsmReport, OsmError> {
    load_parsed(pool, parse(pbf)?, opts).await
}

/// [`load_with`] of an extract already parsed (the load benchmark builds large ones).
pub async fn load_parsed(
    pool: &PgPool,
    parsed: Parsed,
    opts: LoadOptions,
) -> Result<OsmReport, OsmError> {
    let Parsed {
        ways,
        vertices,
        pois: poi_rows,
        places,
        addresses,
        boundaries,
        restrictions,
    } = parsed;
    // rows become JSON a chunk at a time: a country's roads never sit in memory twice
    let edge_rows = |chunk: &[WayRow]| -> Vec<Value> {
        chunk
            .iter()
            .map(|w| {
                json!({
                    "gid": w.gid, "osm_id": w.osm_id, "source": w.source, "target": w.target,
                    "name": w.name, "highway": w.highway, "length_m": w.length_m, "maxspeed_kmh": w.maxspeed_kmh,
                    "one_way": w.one_way, "cost": w.cost, "reverse_cost": w.reverse_cost,
                    "wkt": format!("LINESTRING({})", w.points.iter().map(|p| format!("{} {}", p.lng, p.lat)).collect::<Vec<_>>().join(",")),
                })
            })
            .collect()
    };
    let vertex_list: Vec<(i64, Point)> = vertices.into_iter().collect();

    let mut tx = pool.begin().await?;
    // the next graph is built beside the live one: readers keep the live graph, unblocked,
    // until the swap at the end, which is one short exclusive lock and a commit
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS geo.ways_next, geo.ways_vertices_pgr_next;
         CREATE TABLE geo.ways_next (LIKE geo.ways INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
         CREATE TABLE geo.ways_vertices_pgr_next (LIKE geo.ways_vertices_pgr INCLUDING DEFAULTS INCLUDING CONSTRAINTS);",
    )
    .execute(&mut *tx)
    .await?;
    for chunk in ways.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.ways_next (gid, osm_id, source, target, name, highway, length_m, maxspeed_kmh, one_way,
                                   cost, reverse_cost, x1, y1, x2, y2, the_geom)
             SELECT gid, osm_id, source, target, name, highway, length_m, maxspeed_kmh, one_way, cost, reverse_cost,
                    ST_X(ST_StartPoint(g)), ST_Y(ST_StartPoint(g)), ST_X(ST_EndPoint(g)), ST_Y(ST_EndPoint(g)), g
               FROM jsonb_to_recordset($1) AS x(gid bigint, osm_id bigint, source bigint, target bigint, name text,
                    highway text, length_m float8, maxspeed_kmh real, one_way boolean, cost float8,
                    reverse_cost float8, wkt text),
                    LATERAL (SELECT ST_GeomFromText(x.wkt, 4326) AS g) l",
        )
        .bind(Value::Array(edge_rows(chunk)))
        .execute(&mut *tx)
        .await?;
    }
    for chunk in vertex_list.chunks(10_000) {
        sqlx::query(
            "INSERT INTO geo.ways_vertices_pgr_next (id, osm_node_id, the_geom)
             SELECT id, id, ST_SetSRID(ST_MakePoint(lng, lat), 4326)
               FROM jsonb_to_recordset($1) AS x(id bigint, lat float8, lng float8)",
        )
        .bind(Value::Array(
            chunk
                .iter()
                .map(|(id, p)| json!({"id": id, "lat": p.lat, "lng": p.lng}))
                .collect(),
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::raw_sql(
        "ALTER TABLE geo.ways_next ADD CONSTRAINT ways_next_pkey PRIMARY KEY (gid);
         CREATE INDEX ways_next_geom_idx ON geo.ways_next USING gist (the_geom);
         CREATE INDEX ways_next_source_idx ON geo.ways_next (source);
         CREATE INDEX ways_next_target_idx ON geo.ways_next (target);
         ALTER TABLE geo.ways_vertices_pgr_next ADD CONSTRAINT ways_vertices_pgr_next_pkey PRIMARY KEY (id);
         CREATE INDEX ways_vertices_next_geom_idx ON geo.ways_vertices_pgr_next USING gist (the_geom);
         ANALYZE geo.ways_next; ANALYZE geo.ways_vertices_pgr_next;",
    )
    .execute(&mut *tx)
    .await?;
    check_next(&mut tx, opts).await?;
    sqlx::raw_sql(
        "LOCK TABLE geo.ways, geo.ways_vertices_pgr IN ACCESS EXCLUSIVE MODE;
         DROP TABLE geo.ways, geo.ways_vertices_pgr;
         ALTER TABLE geo.ways_next RENAME TO ways;
         ALTER TABLE geo.ways_vertices_pgr_next RENAME TO ways_vertices_pgr;
         ALTER TABLE geo.ways RENAME CONSTRAINT ways_next_pkey TO ways_pkey;
         ALTER INDEX geo.ways_next_geom_idx RENAME TO ways_geom_idx;
         ALTER INDEX geo.ways_next_source_idx RENAME TO ways_source_idx;
         ALTER INDEX geo.ways_next_target_idx RENAME TO ways_target_idx;
         ALTER TABLE geo.ways_vertices_pgr RENAME CONSTRAINT ways_vertices_pgr_next_pkey TO ways_vertices_pgr_pkey;
         ALTER INDEX geo.ways_vertices_next_geom_idx RENAME TO ways_vertices_geom_idx;
         COMMENT ON TABLE geo.ways IS 'Routable road segments from the OSM extract (pgRouting edge table; cost in seconds, negative reverse_cost = one-way).';
         COMMENT ON TABLE geo.ways_vertices_pgr IS 'Graph vertices of geo.ways (pgRouting topology).';",
    )
    .execute(&mut *tx)
    .await?;
    for chunk in poi_rows.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.pois (osm_type, osm_id, kind, name, brand, geom)
             SELECT osm_type, osm_id, kind, name, brand, ST_SetSRID(ST_MakePoint(lng, lat), 4326)
               FROM jsonb_to_recordset($1) AS x(osm_type text, osm_id bigint, kind text, name text, brand text,
                    lat float8, lng float8)
             ON CONFLICT (osm_type, osm_id) DO UPDATE
                SET kind = excluded.kind, name = excluded.name, brand = excluded.brand, geom = excluded.geom",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    // the parts of addresses are the extract's, like its roads: replaced with them
    // and the addresses made from the old ones are made again by the geocoder
    sqlx::raw_sql(
        "DELETE FROM geo.places; DELETE FROM geo.addresses; DELETE FROM geo.boundaries;
         DELETE FROM geo.turn_restrictions;
         DELETE FROM state.geocoded_positions WHERE provider = 'osm';",
    )
    .execute(&mut *tx)
    .await?;
    for chunk in places.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.places (osm_type, osm_id, place, name, geom)
             SELECT osm_type, osm_id, place, name, ST_SetSRID(ST_MakePoint(lng, lat), 4326)
               FROM jsonb_to_recordset($1) AS x(osm_type text, osm_id bigint, place text, name text, lat float8, lng float8)
             ON CONFLICT DO NOTHING",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    for chunk in addresses.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.addresses (osm_type, osm_id, housenumber, street, place, geom)
             SELECT osm_type, osm_id, housenumber, street, place, ST_SetSRID(ST_MakePoint(lng, lat), 4326)
               FROM jsonb_to_recordset($1) AS x(osm_type text, osm_id bigint, housenumber text, street text,
                    place text, lat float8, lng float8)
             ON CONFLICT DO NOTHING",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    // the rings are assembled from the member ways (ST_BuildArea: outer and inner rings, a
    // multipolygon), made valid, and cut into pieces of at most 256 points
    for chunk in boundaries.chunks(200) {
        sqlx::query(
            "INSERT INTO geo.boundaries (osm_id, piece, admin_level, name, geom)
             SELECT x.osm_id, row_number() OVER (PARTITION BY x.osm_id), x.admin_level, x.name, d.geom
               FROM jsonb_to_recordset($1) AS x(osm_id bigint, admin_level smallint, name text, lines jsonb),
                    LATERAL (SELECT ST_CollectionExtract(ST_MakeValid(ST_BuildArea(ST_SetSRID(ST_GeomFromGeoJSON(
                                 jsonb_build_object('type', 'MultiLineString', 'coordinates', x.lines)), 4326))), 3) AS a) b,
                    LATERAL (SELECT (ST_Dump(ST_Subdivide(b.a, 256))).geom) d
              WHERE b.a IS NOT NULL AND NOT ST_IsEmpty(b.a) AND GeometryType(d.geom) = 'POLYGON'
             ON CONFLICT DO NOTHING",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    for chunk in restrictions.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.turn_restrictions (osm_id, from_way, via_node, to_way, only_turn, kind)
             SELECT osm_id, from_way, via_node, to_way, only_turn, kind
               FROM jsonb_to_recordset($1) AS x(osm_id bigint, from_way bigint, via_node bigint, to_way bigint,
                    only_turn boolean, kind text)
             ON CONFLICT DO NOTHING",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    assign_regions(&mut *tx).await?;
    let (boundaries_loaded, restrictions_loaded): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(DISTINCT osm_id) FROM geo.boundaries), (SELECT count(*) FROM geo.turn_restrictions)",
    )
    .fetch_one(&mut *tx)
    .await?;
    // what search finds: POIs, places, and each street name once per area of about 5 km
    sqlx::raw_sql(
        "DELETE FROM geo.search_names;
         INSERT INTO geo.search_names (kind, name, detail, ref, geom)
         SELECT 'poi', coalesce(name, brand), kind, 'poi:' || poi_id, geom FROM geo.pois
          WHERE coalesce(name, brand) IS NOT NULL;
         INSERT INTO geo.search_names (kind, name, detail, geom)
         SELECT 'place', name, place, geom FROM geo.places;
         INSERT INTO geo.search_names (kind, name, detail, geom)
         SELECT 'street', name, NULL, ST_ClosestPoint(ST_Collect(the_geom), ST_Centroid(ST_Collect(the_geom)))
           FROM geo.ways WHERE name IS NOT NULL AND btrim(name) <> ''
          GROUP BY name, floor(ST_X(ST_StartPoint(the_geom)) / 0.05), floor(ST_Y(ST_StartPoint(the_geom)) / 0.05);
         UPDATE geo.search_names s
            SET detail = (SELECT p.name FROM geo.places p WHERE p.place IN ('city', 'town', 'village', 'suburb')
                           ORDER BY p.geom <-> s.geom LIMIT 1)
          WHERE s.kind = 'street';
         ANALYZE geo.places; ANALYZE geo.addresses; ANALYZE geo.search_names; ANALYZE geo.boundaries;",
    )
        .execute(&mut *tx)
        .await?;
    index_search_words(&mut *tx).await?;
    tx.commit().await?;
    Ok(OsmReport {
        ways: ways.len(),
        vertices: vertex_list.len(),
        pois: poi_rows.len(),
        places: places.len(),
        addresses: addresses.len(),
        boundaries: boundaries_loaded as usize,
        turn_restrictions: restrictions_loaded as usize,
    })
}

/// Sets each named place's region (`geo.places.region_osm_id`): the shallowest admin boundary
/// below the country (`admin_level >= 4`) it is in. The load does it after the boundaries.
pub async fn assign_regions(
    conn: impl sqlx::Executor<'_, Database = sqlx::Postgres>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE geo.places p
            SET region_osm_id = (SELECT b.osm_id FROM geo.boundaries b
                                  WHERE b.admin_level >= 4 AND ST_Intersects(b.geom, p.geom)
                                  ORDER BY b.admin_level, b.osm_id LIMIT 1)",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Rebuilds the word index of `geo.search_names` (every word of every name, and the distinct
/// words with their counts) that search finds names and typos by. The load does it after the names.
pub async fn index_search_words(
    conn: impl sqlx::Executor<'_, Database = sqlx::Postgres>,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "DELETE FROM geo.search_words; DELETE FROM geo.search_vocabulary;
         INSERT INTO geo.search_words (word, id)
         SELECT w, s.id FROM geo.search_names s, regexp_split_to_table(lower(s.name), '[^[:alnum:]]+') w WHERE w <> '';
         INSERT INTO geo.search_vocabulary (word, names) SELECT word, count(*) FROM geo.search_words GROUP BY word;
         ANALYZE geo.search_words; ANALYZE geo.search_vocabulary;",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `copies` of a parsed extract side by side on a grid (each shifted by the extract's own
/// extent, its ids offset by `k · 2⁵³`), joined into one network by a two-way road from each
/// copy's first junction to the same junction of its left (or upper) neighbour: a country-sized graph for the load benchmark
/// (`fleet bench osm`) from a real extract. Points of interest are left out.
pub fn tiled(p: &Parsed, copies: usize) -> Parsed {
    let (mut lat0, mut lat1, mut lng0, mut lng1) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for v in p.vertices.values() {
        (lat0, lat1) = (lat0.min(v.lat), lat1.max(v.lat));
        (lng0, lng1) = (lng0.min(v.lng), lng1.max(v.lng));
    }
    let (dlat, dlng) = ((lat1 - lat0) * 1.1 + 0.01, (lng1 - lng0) * 1.1 + 0.01);
    let cols = (copies as f64).sqrt().ceil() as usize;
    let shift = |k: usize, pt: Point| Point {
        lat: (pt.lat + (k / cols) as f64 * dlat).min(89.0),
        lng: ((pt.lng + (k % cols) as f64 * dlng + 180.0).rem_euclid(360.0)) - 180.0,
    };
    let id = |k: usize, v: i64| (k as i64) << 53 | v;
    let mut ways = Vec::with_capacity(p.ways.len() * copies + copies);
    let mut vertices = HashMap::with_capacity(p.vertices.len() * copies);
    let hub = p.ways.first().map(|w| w.source);
    for k in 0..copies {
        for w in &p.ways {
            let mut w = w.clone();
            w.gid = id(k, w.gid);
            w.osm_id = id(k, w.osm_id);
            w.source = id(k, w.source);
            w.target = id(k, w.target);
            w.points = w.points.iter().map(|&pt| shift(k, pt)).collect();
            w.nodes = w.nodes.iter().map(|&n| id(k, n)).collect();
            ways.push(w);
        }
        for (&v, &pt) in &p.vertices {
            vertices.insert(id(k, v), shift(k, pt));
        }
        // joined to the copy on its left, or the first of a row to the one above: short roads
        let before = if k % cols > 0 {
            k - 1
        } else {
            k.saturating_sub(cols)
        };
        if let (Some(h), true) = (hub, k > 0)
            && let Some(&a) = p.vertices.get(&h)
        {
            let (from, to) = (shift(before, a), shift(k, a));
            let length_m = haversine_m(from, to);
            ways.push(WayRow {
                gid: id(k, (1 << 53) - 1),
                osm_id: 0,
                source: id(before, h),
                target: id(k, h),
                name: Some("connector".into()),
                highway: "trunk".into(),
                length_m,
                maxspeed_kmh: None,
                one_way: false,
                cost: length_m / 20.0,
                reverse_cost: length_m / 20.0,
                points: vec![from, to],
                nodes: Vec::new(),
            });
        }
    }
    Parsed {
        ways,
        vertices,
        pois: Vec::new(),
        places: Vec::new(),
        addresses: Vec::new(),
        boundaries: Vec::new(),
        restrictions: Vec::new(),
    }
}
