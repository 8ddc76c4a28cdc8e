//! Ingest: the event log's appends, the versioned parser, projectors and replay (the worker
//! role). The HTTP receivers that append pushes and operator actions are `fleet_serve`'s: this
//! crate knows nothing of HTTP and depends only on `fleet-core` and `fleet-store` (the vendor
//! crate, `fleet-jimi`, only in its tests).
//!
//! Where a change goes: a new kind of raw record gets a parser in [`parser`] (bump
//! `PARSER_VERSION` and list it in `REPARSE_BELOW` when old rows must be read again); a new
//! projector is one SQL file in `project/` and an entry in [`project`]'s list; a new operator
//! action is a kind in [`actions`].

pub mod actions;
pub mod parser;
pub mod poll;
pub mod project;
pub mod rawlog;
pub mod registry;
pub mod replay;
pub mod worker;
