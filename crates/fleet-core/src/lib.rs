//! Pure types and rules shared by every area of Fleet Platform: no I/O lives here (`http` only
//! builds the one kind of outbound client every area uses).
//!
//! Today: configuration, the Jimi wire contracts and the outbound HTTP client builder. Later areas add domain ids, normalisers, the operational-state rule,
//! EAT time helpers and the vendor wire contracts.

pub mod config;
pub mod contract;
pub mod fuel;
pub mod http;
pub mod jimi;
pub mod registry;

pub use config::{Config, ConfigError, LogFormat};
