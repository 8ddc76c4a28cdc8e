//! Pure types and rules shared by every area of Fleet Platform: no I/O lives here.
//!
//! Today: configuration. Later areas add domain ids, normalisers, the operational-state rule,
//! EAT time helpers and the vendor wire contracts.

pub mod config;

pub use config::{Config, ConfigError, LogFormat};
