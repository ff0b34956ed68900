//! The `tessera` command line: the embedded demo, and commands for submitters and operators
//! against any cluster.
pub mod commands;
pub mod demo;
pub mod localnet;
