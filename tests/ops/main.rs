//! The operator surface, end to end: `/metrics` counters after a known run, `/healthz` and
//! `/readyz`, the listener's limits on slow clients, and `livenotify records --follow` on the
//! real binary.

mod connections;
mod follow;
mod health;
mod metrics;
mod support;
