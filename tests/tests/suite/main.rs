//! The integration suite: one binary (one link of the bank), one module per area.
mod attacks;
mod canary;
mod challenges;
mod compute_units;
mod config;
mod conservation;
mod escrow;
mod events;
mod games;
mod governance;
mod lifecycle;
mod mlp_games;
mod referee;
mod render_games;
mod spot_check;
mod staking;
mod verification;
