//! Typed values of the stream-callback domain, parsed once at the edge: ingest domain names,
//! UTC instants in Alibaba's format, callback types and results.

mod names;
mod notify;
mod utc;

pub use names::{DomainName, DomainNameError};
pub use notify::{NotifyResult, NotifyType, UnknownValue};
pub use utc::{format_utc_seconds, parse_utc_seconds};
