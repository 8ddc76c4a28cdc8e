//! Ingest: gateway push receivers, the versioned parser, projectors and replay (the worker role).

pub mod worker;
