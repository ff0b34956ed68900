//! The integration suite: one binary (one link of the bank), one module per area.
mod canary;
mod config;
mod escrow;
mod staking;
mod compute_units;
mod conservation;
