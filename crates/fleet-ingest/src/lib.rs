//! Ingest: gateway push receivers, the versioned parser, projectors and replay (the worker role).

pub mod parser;
pub mod project;
pub mod push;
pub mod replay;
pub mod worker;
