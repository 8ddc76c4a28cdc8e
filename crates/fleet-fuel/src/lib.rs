//! The fuel module (ARCHITECTURE §5): the WhatsApp-fed fuel log from an S3-compatible bucket into
//! the event log and `fuel.records`, and a generator of realistic feeds.
//!
//! - [`s3`]: the bucket (SigV4, path-style, `GET` and list);
//! - [`import`]: snapshot / changes / file imports, dry run by default;
//! - [`feedgen`]: seeded messy feeds for tests, the demo and benchmarks;
//! - [`demo`]: the local demo's month of fills.
//!
//! Normalising a record (plates, fuel types, departments, numbers, EAT times) happens in one
//! place, the SQL function `fuel.normalise_each` (migrations 0013, 0014, 0016), which the fuel
//! projector and the import plan call;
//! the read views (`fuel.v_fills`, `v_efficiency`, `v_reconciliation`, `v_data_quality`) and the
//! `/api/analytics/fuel-*` endpoints read from there.

pub mod bench;
pub mod demo;
pub mod feedgen;
pub mod import;
pub mod s3;
