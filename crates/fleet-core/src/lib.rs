//! Pure types and rules shared by every area of Fleet Platform: no I/O lives here.
//!
//! Today: configuration and the Jimi wire contracts. Later areas add domain ids, normalisers, the operational-state rule,
//! EAT time helpers and the vendor wire contracts.

pub mod config;
pub mod jimi;

pub use config::{Config, ConfigError, LogFormat};
