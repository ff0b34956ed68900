//! One event per state change. Workers, the CLI and the dashboard index these.
use anchor_lang::prelude::*;

use crate::state::{HardwareProfile, JobEndReason, Params, Reputation, Requirements};

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
    pub escalation_replicas: u8,
    pub seed: [u8; 32],
    pub deadline: i64,
    pub requirements: Requirements,
}

#[event]
pub struct JobEnded {
    pub job: Pubkey,
    pub reason: JobEndReason,
    pub refunded: u64,
}

#[event]
pub struct SlotClaimed {
    pub job: Pubkey,
    pub node: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub escalation: bool,
    /// Whether the claim came inside the priority window (its ticket won).
    pub by_priority: bool,
}

#[event]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub node: Pubkey,
    pub slot: u8,
    pub commitment: [u8; 32],
}

#[event]
pub struct ResultRevealed {
    pub job: Pubkey,
    pub node: Pubkey,
    pub slot: u8,
    pub root: [u8; 32],
}

#[event]
pub struct EscalationStarted {
    pub job: Pubkey,
    pub replicas: u8,
    pub seed: [u8; 32],
    pub commit_deadline: i64,
    pub reveal_deadline: i64,
}

#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub reason: JobEndReason,
    pub result_root: Option<[u8; 32]>,
    /// Tokens left for the submitter (paid out when the job is closed).
    pub refund: u64,
    /// Whether the settlement came through `expire_job`.
    pub expired: bool,
}

/// Why tokens moved at settlement.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptKind {
    /// Reward for a winning result, after the fee; credited to the node's earnings.
    Reward,
    /// Compensation for agreeing the input was unavailable, after the fee.
    Compensation,
    /// Protocol fee on a reward or compensation, to the treasury.
    ProtocolFee,
    /// Stake taken for revealing a result the majority rejected.
    Slash,
    /// Stake taken for claiming and never revealing.
    NoShowPenalty,
    /// Penalties returned to the submitter to cover escalation rewards ("loser pays").
    EscalationReimbursement,
    /// Penalties paid to whoever expired the job.
    ExpiryBounty,
    /// Penalties not otherwise used, to the treasury.
    PenaltyToTreasury,
    /// Escrow left for the submitter (unfilled slots, unused reserve, no result).
    Refund,
}

/// One token movement of a settlement: who, how much, why.
#[event]
pub struct Receipt {
    pub job: Pubkey,
    /// The node, the submitter, the treasury or the expiry caller.
    pub party: Pubkey,
    pub amount: u64,
    pub kind: ReceiptKind,
}

#[event]
pub struct ReputationUpdated {
    pub node: Pubkey,
    pub job: Pubkey,
    pub reputation: Reputation,
}

#[event]
pub struct EarningsWithdrawn {
    pub node: Pubkey,
    pub amount: u64,
    pub earnings: u64,
    pub destination: Pubkey,
}

#[event]
pub struct JobClosed {
    pub job: Pubkey,
    pub submitter: Pubkey,
    pub refunded: u64,
}
