//! `tessera-worker`: the operator's agent. It registers its node, discovers open jobs through
//! the SDK's `Chain`, chooses the ones worth taking, claims, fetches and checks inputs, runs the
//! kernel, commits, reveals at the right moment, cranks settlement, serves settled results,
//! and exposes metrics. State that later transactions depend on is written to an embedded
//! database first, so a crash at any point is recovered by the next start.
pub mod agent;
pub mod behaviour;
pub mod config;
pub mod db;
pub mod fetch;
pub mod hardware;
pub mod metrics;
pub mod retry;
pub mod server;
pub mod status;
pub mod store;

pub use agent::{Agent, AgentSettings, Pass};
