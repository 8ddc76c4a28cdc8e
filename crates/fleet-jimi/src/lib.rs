//! The vendor: Jimi IoT / Tracksolid Pro. Today: the simulator of its cloud (pushes from a fleet
//! driving on real OSM roads). The Open API client and the simulator's Open API side follow.

pub mod sign;
pub mod sim;
