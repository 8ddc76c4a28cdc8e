//! The simulator of the vendor's cloud: a fleet on real roads (`fleet`, `roads`), delivering
//! pushes like the IoT Hub (`push`), and answering the Open API (`openapi`).

pub mod fleet;
pub mod openapi;
pub mod push;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A simulated fleet on the shipped Monaco roads, shared by the pusher and the Open API.
pub fn new_sim(
    vehicles: usize,
    seed: u64,
    start: DateTime<Utc>,
) -> Result<Arc<Mutex<fleet::Sim>>, fleet_geo::roads::RoadsError> {
    let roads = Arc::new(fleet_geo::roads::Roads::from_pbf(fleet_geo::MONACO_PBF)?);
    Ok(Arc::new(Mutex::new(fleet::Sim::new(
        roads, vehicles, seed, start,
    ))))
}
