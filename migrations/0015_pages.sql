-- What the pages (issue 7) read beyond the existing views: the offline basemap (Mapbox vector
-- tiles of the loaded OSM roads and POIs, straight from PostGIS, so the local demo shows streets
-- with no internet) and the contract-check panel of the operations page.

-- The functions, views and triggers this migration defined live in sql/ now (issue 16): one
-- file per object, re-applied whenever it changes (crates/fleet-store/src/objects.rs).
