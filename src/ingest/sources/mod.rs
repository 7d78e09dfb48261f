//! One parser per kind of media-server hook, each turning its body into a [`HookEvent`].
//!
//! [`HookEvent`]: super::hook::HookEvent

pub mod generic;
pub mod nginx_rtmp;
pub mod srs;
