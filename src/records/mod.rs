//! Notify records beyond the API: their JSON shape, import and export of files in that shape,
//! and retention.

pub mod export;
pub mod import;
pub mod retention;
pub mod shape;
