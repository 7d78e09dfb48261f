//! livenotify: a self-hosted stream-callback service, wire compatible with the stream callback
//! part of Alibaba Cloud ApsaraVideo Live (API version 2016-11-01).
//!
//! The crate follows the data flow of `DESIGN.md`: media-server hooks ([`ingest`]) become
//! events in the [`storage`] queue, the [`delivery`] worker calls each customer's NotifyUrl and
//! records every attempt, and the [`api`] serves the records and the callback configuration to
//! the official SDKs, behind [`auth`].

pub mod api;
pub mod auth;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod console;
pub mod delivery;
pub mod domain;
pub mod ingest;
pub mod ops;
pub mod records;
pub mod server;
pub mod storage;
