//! The fuel module (ARCHITECTURE §5): the WhatsApp-fed fuel log from an S3-compatible bucket into
//! the event log and `fuel.records`, and a generator of realistic feeds.
//!
//! - [`s3`]: the bucket (SigV4, path-style, `GET` and list);
//! - [`import`]: snapshot / changes / file imports, dry run by default;
//! - [`feedgen`]: seeded messy feeds for tests, the demo and benchmarks;
//! - [`demo`]: the local demo's month of fills;
//! - [`bench`](mod@bench): `fleet bench fuel`.
//!
//! Reading a record (amounts, litres, odometers, times as people write them) is the versioned
//! parser's, in Rust (`fleet_core::fuel`, called by `fleet_ingest::parser`); plates, fuel types and
//! departments are canonicalised by the SQL in `sql/fuel/` (`fuel.normalise_each`), which the
//! `fuel_records` projector and the import plan call. The read views (`fuel.v_fills`,
//! `v_efficiency`, `v_reconciliation`, `v_data_quality`) are `sql/fuel/` too, served by
//! `/api/analytics/fuel-*`.
//!
//! **May depend on** `fleet-core` and `fleet-ingest` (to append and project). **Where a change
//! goes**: a new import mode or feed source here; a new reading rule in `fleet_core::fuel`; a new
//! fuel view in `sql/fuel/` with its endpoint in `fleet-serve`.

pub mod bench;
pub mod demo;
pub mod feedgen;
pub mod import;
