//! The `tessera` command line: the embedded demo (more commands follow).
pub mod demo;
