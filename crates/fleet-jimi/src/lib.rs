//! The vendor: Jimi IoT / Tracksolid Pro. Request signing, the Open API client (with the token
//! cache shared through Postgres), and the simulator of the vendor's cloud (a fleet driving on real
//! OSM roads, pushing like the IoT Hub, and serving the Open API).
//!
//! **May depend on** `fleet-core` and `fleet-geo` (the simulator drives on its road graph).
//! **Where a change goes**: a new vendor method is a call in [`client`], its contract in
//! `fleet_core::contract`, and the simulator's answer in `sim::openapi`; a vendor quirk is handled
//! where the quirk shows (the client for transport, the parser in `fleet-ingest` for payloads).

pub mod client;
pub mod sign;
pub mod sim;
