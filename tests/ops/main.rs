//! The operator surface, end to end: `/metrics` counters after a known run, `/healthz` and
//! `/readyz`, and `livenotify records --follow` on the real binary.

mod follow;
mod health;
mod metrics;
mod support;
