//! Map matching: snapping GPS traces to the roads of [`crate::osm`]'s graph (the issue "Map
//! matching and observed road speeds"). Empty until then: the matcher, its candidates and
//! transition model, and the matched-trip tables' writers go here.
