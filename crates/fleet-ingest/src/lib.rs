//! Ingest: gateway push receivers, the versioned parser, projectors and replay (the worker role).

pub mod actions;
pub mod bench;
pub mod bench_views;
pub mod fuel_actions;
pub mod gateway;
pub mod mirror;
pub mod parser;
pub mod poll;
pub mod project;
pub mod push;
pub mod rawlog;
pub mod registry;
pub mod replay;
pub mod worker;
