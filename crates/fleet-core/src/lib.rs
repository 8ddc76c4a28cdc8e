//! Pure types and rules shared by every area of Fleet Platform; no I/O lives here (`http` only
//! builds the one kind of outbound client every area uses).
//!
//! Owns: configuration from the environment ([`config`], with [`secret::Secret`] for every secret
//! and the list of known variables), the Jimi wire types ([`jimi`]) and per-method contracts
//! ([`contract`]), the registry CSV reader ([`registry`]), the fuel feed's readers ([`fuel`]:
//! numbers, times, records, departments), the liveness record and role names ([`health`]),
//! metric names ([`metrics`]), a seeded RNG ([`rng`]).
//!
//! **Depends on** no other crate of the workspace; every other crate may depend on it.
//! **Where a change goes**: a new setting is a field of [`Config`], a line of `.env.example` and an
//! entry of `config::KNOWN_VARS`; a rule that needs no database or network goes here.

pub mod build;
pub mod config;
pub mod contract;
pub mod fuel;
pub mod health;
pub mod http;
pub mod jimi;
pub mod metrics;
pub mod registry;
pub mod rng;
pub mod secret;

pub use config::{Config, ConfigError, LogFormat};

/// FNV-1a (64 bit): a stable, non-cryptographic fingerprint of bytes (names of things derived
/// from content, such as the test template database or a fuel record without an id).
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
