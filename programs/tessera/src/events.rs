//! One event per state change. Workers, the CLI and the dashboard index these.
use anchor_lang::prelude::*;

use crate::state::{HardwareProfile, JobEndReason, Params, Requirements};

#[event]
pub struct NetworkInitialized {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub mint: Pubkey,
    pub stake_vault: Pubkey,
    pub escrow_vault: Pubkey,
    pub treasury: Pubkey,
    pub params: Params,
}

#[event]
pub struct ParamsUpdated {
    pub authority: Pubkey,
    pub old: Params,
    pub new: Params,
}

#[event]
pub struct NodeRegistered {
    pub node: Pubkey,
    pub operator: Pubkey,
    pub index: u16,
    pub hardware: HardwareProfile,
    pub region: u8,
    pub min_price_per_unit: u64,
    pub endpoint: String,
}

#[event]
pub struct NodeUpdated {
    pub node: Pubkey,
    pub old_hardware: HardwareProfile,
    pub new_hardware: HardwareProfile,
    pub old_region: u8,
    pub new_region: u8,
    pub old_min_price_per_unit: u64,
    pub new_min_price_per_unit: u64,
    pub old_endpoint: String,
    pub new_endpoint: String,
    pub old_accepting_jobs: bool,
    pub new_accepting_jobs: bool,
}

#[event]
pub struct Staked {
    pub node: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
pub struct UnstakeRequested {
    pub node: Pubkey,
    pub amount: u64,
    pub stake: u64,
    pub unstaking: u64,
    pub available_at: i64,
}

#[event]
pub struct StakeWithdrawn {
    pub node: Pubkey,
    pub amount: u64,
    pub unstaking: u64,
    pub destination: Pubkey,
}

#[event]
pub struct NodeClosed {
    pub node: Pubkey,
    pub operator: Pubkey,
}

#[event]
pub struct JobPosted {
    pub job: Pubkey,
    pub submitter: Pubkey,
    pub nonce: u64,
    pub kernel_id: u8,
    pub input_hash: [u8; 32],
    pub work_units: u64,
    pub replicas: u8,
    pub reward_per_replica: u64,
    pub escrow: u64,
    pub deadline: i64,
    pub requirements: Requirements,
}

#[event]
pub struct JobEnded {
    pub job: Pubkey,
    pub reason: JobEndReason,
    pub refunded: u64,
}
