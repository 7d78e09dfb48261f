//! The callback pipeline end to end: media-server hooks in, signed Alibaba callbacks out to a
//! local receiver, every attempt recorded; receiver faults; crash and restart of the binary.

mod faults;
mod hooks;
mod kill;
mod receiver;
mod support;
