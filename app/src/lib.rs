//! The `tessera` command line: the embedded demo, and commands for submitters, operators and
//! governance against any cluster.
pub mod bank;
pub mod capture;
pub mod commands;
pub mod demo;
pub mod gov;
pub mod localnet;
pub mod sim;
