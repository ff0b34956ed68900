//! The `tessera` command line: the embedded demo, and commands for submitters, operators and
//! governance against any cluster.
pub mod bank;
pub mod capture;
pub mod cluster;
pub mod commands;
pub mod demo;
pub mod gov;
pub mod job;
pub mod localnet;
pub mod sim;
pub mod spec;
