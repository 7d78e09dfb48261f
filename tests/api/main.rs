//! Integration tests of the RPC API, through HTTP on a random loopback port.

mod access;
mod errors;
mod notify_records;
mod notify_url_config;
mod properties;
mod record_counts;
mod support;
