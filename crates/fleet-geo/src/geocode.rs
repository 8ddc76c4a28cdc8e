//! Geocoding: addresses for positions (reverse) and positions for addresses (forward) from the
//! loaded OSM data (the issue "Routing with observed speeds, addresses, and the routes page").
//! Empty until then.
