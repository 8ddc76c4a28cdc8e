//! Loads an OpenStreetMap extract (`.osm.pbf`) into PostGIS: the drivable roads into `geo.ways`
//! (split at junctions, pgRouting's edge table: cost in seconds, one-way streets with a negative
//! reverse cost) with their vertices in `geo.ways_vertices_pgr`, and points of interest into
//! `geo.pois` (`kind` = the `amenity` value, e.g. `fuel`; station areas become their centroid).
//! The pages' offline basemap (`geo.tile`) and the fuel reconciliation read them.
//!
//! A load replaces the road graph in one transaction; POIs are upserted by OSM id.

use std::collections::HashMap;

use crate::roads::{class_speed, parse_maxspeed};
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
}

#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    #[error("cannot read the OSM extract: {0}")]
    Read(String),
    #[error("the OSM extract has no drivable roads")]
    Empty,
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

struct Poi {
    osm_type: &'static str,
    id: i64,
    kind: String,
    name: Option<String>,
    brand: Option<String>,
    at: Option<Point>,
    refs: Vec<i64>,
}

fn poi_of<'a>(
    osm_type: &'static str,
    id: i64,
    tags: impl Iterator<Item = (&'a str, &'a str)>,
) -> Option<Poi> {
    let tags: HashMap<&str, &str> = tags.collect();
    let kind = tags.get("amenity").filter(|a| AMENITIES.contains(a))?;
    Some(Poi {
        osm_type,
        id,
        kind: (*kind).to_string(),
        name: tags.get("name").map(|s| s.to_string()),
        brand: tags.get("brand").map(|s| s.to_string()),
        at: None,
        refs: Vec::new(),
    })
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
}

/// An extract, parsed: road segments, their end vertices, and POI rows.
pub struct Parsed {
    pub ways: Vec<WayRow>,
    pub vertices: HashMap<i64, Point>,
    pois: Vec<Value>,
}

/// Parses `pbf` into road segments split at junctions (and POIs), without a database.
pub fn parse(pbf: &[u8]) -> Result<Parsed, OsmError> {
    let mut coords: HashMap<i64, Point> = HashMap::new();
    let mut ways: Vec<Way> = Vec::new();
    let mut pois: Vec<Poi> = Vec::new();
    let mut node = |id: i64, p: Point, poi: Option<Poi>| {
        coords.insert(id, p);
        if let Some(mut poi) = poi {
            poi.at = Some(p);
            pois.push(poi);
        }
    };
    let mut way_pois = Vec::new();
    ElementReader::new(std::io::Cursor::new(pbf))
        .for_each(|el| match el {
            Element::DenseNode(n) => node(
                n.id(),
                Point {
                    lat: n.lat(),
                    lng: n.lon(),
                },
                poi_of("node", n.id(), n.tags()),
            ),
            Element::Node(n) => node(
                n.id(),
                Point {
                    lat: n.lat(),
                    lng: n.lon(),
                },
                poi_of("node", n.id(), n.tags()),
            ),
            Element::Way(w) => {
                if let Some(mut poi) = poi_of("way", w.id(), w.tags()) {
                    poi.refs = w.refs().collect();
                    way_pois.push(poi);
                }
                let tags: HashMap<&str, &str> = w.tags().collect();
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
                let maxspeed = tags.get("maxspeed").and_then(|m| parse_maxspeed(m));
                ways.push(Way {
                    id: w.id(),
                    refs: w.refs().collect(),
                    name: tags.get("name").map(|s| s.to_string()),
                    highway: highway.to_string(),
                    speed_kmh: maxspeed.unwrap_or(speed),
                    maxspeed,
                    one_way: tags.get("oneway").is_some_and(|o| *o == "yes" || *o == "1")
                        || tags.get("junction").is_some_and(|j| *j == "roundabout"),
                });
            }
            _ => {}
        })
        .map_err(|e| OsmError::Read(e.to_string()))?;
    pois.extend(way_pois);

    // Junctions: a node two roads share (or a road's own ends) splits it into edges.
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for w in &ways {
        for (i, r) in w.refs.iter().enumerate() {
            let end = i == 0 || i + 1 == w.refs.len();
            *uses.entry(*r).or_default() += if end { 2 } else { 1 };
        }
    }
    let mut edges = Vec::new();
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
                gid: edges.len() as i64 + 1,
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
            });
        }
    }
    if edges.is_empty() {
        return Err(OsmError::Empty);
    }
    let poi_rows: Vec<Value> = pois
        .iter()
        .filter_map(|p| {
            let at = p.at.or_else(|| {
                let pts: Vec<Point> = p
                    .refs
                    .iter()
                    .filter_map(|r| coords.get(r).copied())
                    .collect();
                (!pts.is_empty()).then(|| Point {
                    lat: pts.iter().map(|q| q.lat).sum::<f64>() / pts.len() as f64,
                    lng: pts.iter().map(|q| q.lng).sum::<f64>() / pts.len() as f64,
                })
            })?;
            Some(
                json!({"osm_type": p.osm_type, "osm_id": p.id, "kind": p.kind, "name": p.name,
                        "brand": p.brand, "lat": at.lat, "lng": at.lng}),
            )
        })
        .collect();
    Ok(Parsed {
        ways: edges,
        vertices,
        pois: poi_rows,
    })
}

/// Loads `pbf` into `pool`'s geo tables.
pub async fn load(pool: &PgPool, pbf: &[u8]) -> Result<OsmReport, OsmError> {
    let Parsed {
        ways,
        vertices,
        pois: poi_rows,
    } = parse(pbf)?;
    let edges: Vec<Value> = ways
        .iter()
        .map(|w| {
            json!({
                "gid": w.gid, "osm_id": w.osm_id, "source": w.source, "target": w.target,
                "name": w.name, "highway": w.highway, "length_m": w.length_m, "maxspeed_kmh": w.maxspeed_kmh,
                "one_way": w.one_way, "cost": w.cost, "reverse_cost": w.reverse_cost,
                "wkt": format!("LINESTRING({})", w.points.iter().map(|p| format!("{} {}", p.lng, p.lat)).collect::<Vec<_>>().join(",")),
            })
        })
        .collect();
    let vertex_rows: Vec<Value> = vertices
        .iter()
        .map(|(id, p)| json!({"id": id, "lat": p.lat, "lng": p.lng}))
        .collect();

    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE geo.ways, geo.ways_vertices_pgr")
        .execute(&mut *tx)
        .await?;
    for chunk in edges.chunks(5_000) {
        sqlx::query(
            "INSERT INTO geo.ways (gid, osm_id, source, target, name, highway, length_m, maxspeed_kmh, one_way,
                                   cost, reverse_cost, x1, y1, x2, y2, the_geom)
             SELECT gid, osm_id, source, target, name, highway, length_m, maxspeed_kmh, one_way, cost, reverse_cost,
                    ST_X(ST_StartPoint(g)), ST_Y(ST_StartPoint(g)), ST_X(ST_EndPoint(g)), ST_Y(ST_EndPoint(g)), g
               FROM jsonb_to_recordset($1) AS x(gid bigint, osm_id bigint, source bigint, target bigint, name text,
                    highway text, length_m float8, maxspeed_kmh real, one_way boolean, cost float8,
                    reverse_cost float8, wkt text),
                    LATERAL (SELECT ST_GeomFromText(x.wkt, 4326) AS g) l",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
    for chunk in vertex_rows.chunks(10_000) {
        sqlx::query(
            "INSERT INTO geo.ways_vertices_pgr (id, osm_node_id, the_geom)
             SELECT id, id, ST_SetSRID(ST_MakePoint(lng, lat), 4326)
               FROM jsonb_to_recordset($1) AS x(id bigint, lat float8, lng float8)",
        )
        .bind(Value::Array(chunk.to_vec()))
        .execute(&mut *tx)
        .await?;
    }
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
    tx.commit().await?;
    Ok(OsmReport {
        ways: edges.len(),
        vertices: vertex_rows.len(),
        pois: poi_rows.len(),
    })
}
