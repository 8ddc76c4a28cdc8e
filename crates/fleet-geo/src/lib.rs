//! The road graph and everything on it.
//!
//! - [`osm`]: loads an OpenStreetMap extract into PostGIS (`geo.ways`, pgRouting's edge table,
//!   with `geo.ways_vertices_pgr`, and `geo.pois`); `fleet import osm` and `fleet up` call it.
//! - [`tiles`]: the offline basemap's vector tiles (the SQL is `sql/geo/tile.sql`); the HTTP
//!   endpoint that serves them is `fleet_serve::pages`.
//! - [`roads`]: the same roads as an in-memory graph with fastest-path routing, which the vendor
//!   simulator (`fleet_jimi::sim`) drives its fleet on.
//! - [`point`]: points, great-circle distances and bearings.
//! - [`matching`]: the HMM map matcher over `geo.ways`, trace readers, ground truth and its
//!   benchmark (`fleet geo match`, `fleet bench match`), and the projector the worker runs.
//! - [`speeds`]: observed speed bands per segment, direction, EAT day and hour.
//! - [`routing`]: time-dependent fastest routes over the observed speeds (the router; its API
//!   and page are issue 19's next steps).
//! - A home the geo issues fill, empty today: [`geocode`] (addresses from the loaded OSM data).
//!
//! **May depend on** `fleet-core` only (and `fleet-store`'s pool type through `sqlx`); it knows
//! nothing of HTTP, the vendor or the event log. Its SQL functions live in `sql/geo/`, one per
//! file. **Where a change goes**: a new road-derived table is a migration plus its loader here;
//! a new SQL function on the graph is a file in `sql/geo/` listed in
//! `fleet_store::objects`; a new endpoint over the graph is a handler in `fleet-serve` calling a
//! function here.

pub mod geocode;
pub mod matching;
pub mod nominatim;
pub mod osm;
pub mod point;
pub mod roads;
pub mod routing;
pub mod speeds;
pub mod tags;
pub mod tiles;

pub use point::{Point, bearing_deg, haversine_m};

/// The Monaco extract shipped with the binary (© OpenStreetMap contributors, ODbL): the demo's
/// and the tests' roads.
pub const MONACO_PBF: &[u8] = include_bytes!("../../../data/osm/monaco.osm.pbf");
