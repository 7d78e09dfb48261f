//! Ingest hooks: the endpoints media servers call when a stream starts or stops. Each hook is
//! parsed into a source-independent event ([`hook`], [`sources`]), its ingest domain found,
//! paired with its session and deduplicated, and queued with its delivery in one durable
//! transaction before the media server gets its answer ([`accept`], [`routes`]).

pub mod accept;
pub mod config;
pub mod hook;
pub mod routes;
pub mod sources;

pub use accept::{Acceptance, Ingest};
pub use config::{HookFileConfig, HookOverrides, IngestConfig};
pub use routes::router;
