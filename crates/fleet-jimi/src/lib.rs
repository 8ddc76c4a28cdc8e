//! The vendor: Jimi IoT / Tracksolid Pro. Request signing, the Open API client (with the token
//! cache shared through Postgres), and the simulator of the vendor's cloud (a fleet driving on real
//! OSM roads, pushing like the IoT Hub, and serving the Open API).

pub mod client;
pub mod sign;
pub mod sim;
