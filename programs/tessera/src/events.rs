//! One event per state change. Workers, the CLI and the dashboard index these.
use anchor_lang::prelude::*;

use crate::state::{
    GovParams, HardwareProfile, JobEndReason, Params, ProposalAction, ProposalStatus, Requirements,
    Verdict, VoteChoice,
};

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
    /// Spot-check mode (one replica, audited with probability `audit_bps`).
    pub spot_check: bool,
    pub audit_bps: u16,
    pub audit_replicas: u8,
    /// Audit fee included in `escrow`.
    pub audit_fee: u64,
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

/// A spot-check job's audit was drawn: skipped, or drawn with a fresh seed and round.
#[event]
pub struct AuditDrawn {
    pub job: Pubkey,
    pub audited: bool,
    /// The audit slot had aged out of SlotHashes: the audit was forced.
    pub forced: bool,
    /// The slot whose hash decided (for a forced audit, the slot whose hash seeds its
    /// auditors).
    pub drawn_from_slot: u64,
    /// Auditors to claim (0 when skipped).
    pub auditors: u8,
    pub seed: [u8; 32],
    pub commit_deadline: i64,
    pub reveal_deadline: i64,
}

/// A spot-check job's audit slot aged out of SlotHashes before anyone drew it: the audit is
/// forced, and its auditors' seed will come from the hash of `audit_slot` (the next
/// `draw_audit` after that slot is final).
#[event]
pub struct AuditForced {
    pub job: Pubkey,
    pub audit_slot: u64,
}

/// A job's settlement: its outcome and every token it moved — the receipt of each slot's
/// node, and of the treasury, the submitter and the expiry caller. One event for all of
/// them: settlement is the costliest instruction, and each event costs compute.
#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub reason: JobEndReason,
    pub result_root: Option<[u8; 32]>,
    pub submitter: Pubkey,
    /// Escrow left for the submitter (unfilled or unpaid slots, unused reserve, penalties
    /// reimbursed); paid out by `close_job`.
    pub refund: u64,
    /// Part of `refund` that came from penalties, covering escalation rewards ("loser pays").
    pub reimbursed: u64,
    /// Protocol fees of all payouts, to the treasury.
    pub protocol_fees: u64,
    /// Penalties not otherwise used, to the treasury.
    pub penalties_to_treasury: u64,
    /// Audit fee charged to the submitter (spot-check jobs whose audit was drawn), to the
    /// treasury.
    pub audit_fee: u64,
    /// Paid by the treasury towards the auditors' rewards (what the penalties did not cover),
    /// back into the job's refund: the audit fees of all spot-check jobs fund the audits.
    pub audit_subsidy: u64,
    /// Penalties paid to whoever expired the job, and the token account they went to.
    pub bounty: u64,
    pub bounty_to: Option<Pubkey>,
    /// Penalties paid to the challengers whose root won (in their receipts' `paid`).
    pub challenge_rewards: u64,
    /// One receipt per slot, in slot order.
    pub slots: Vec<SlotReceipt>,
}

/// What one slot's node got and lost at settlement, inside [`JobSettled`].
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotReceipt {
    pub node: Pubkey,
    pub verdict: Verdict,
    /// Credited to the node's earnings (reward, or compensation for unavailable input),
    /// after the fee.
    pub paid: u64,
    /// Protocol fee taken from the node's reward.
    pub fee: u64,
    /// Stake taken: a slash for `Disagreed` on a wrong result, the no-show penalty for
    /// `NoShow`.
    pub penalty: u64,
    /// The node's reputation score after this settlement (its counters follow from the
    /// verdicts; the node account holds them all).
    pub score_bps: u16,
    /// Whether the slot lost a dispute game (a refereed job; an unopened game counts).
    pub lost_game: bool,
    /// Whether the slot was a challenger's (paid out of the penalties, not the escrow).
    pub challenger: bool,
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

#[event]
pub struct GovernanceInitialized {
    pub governance: Pubkey,
    pub vault: Pubkey,
    pub params: GovParams,
}

#[event]
pub struct AuthorityHandedOver {
    pub old_authority: Pubkey,
    pub new_authority: Pubkey,
}

#[event]
pub struct GovDeposited {
    pub voter: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub deposit: u64,
}

#[event]
pub struct GovWithdrawn {
    pub voter: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub deposit: u64,
    pub destination: Pubkey,
}

#[event]
pub struct ProposalCreated {
    pub proposal: Pubkey,
    pub id: u64,
    pub proposer: Pubkey,
    pub title: String,
    pub action: ProposalAction,
    pub deposit: u64,
    pub total_power: u64,
    pub voting_ends_at: i64,
    pub executable_at: i64,
    pub expires_at: i64,
}

#[event]
pub struct VoteCast {
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub choice: VoteChoice,
    pub deposit_power: u64,
    pub stake_power: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
}

#[event]
pub struct ProposalFinalized {
    pub proposal: Pubkey,
    pub status: ProposalStatus,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub total_power: u64,
    /// Deposit forfeited to the treasury (proposal without quorum).
    pub forfeited: u64,
}

/// An executed proposal; the change itself has its own event with old and new values
/// ([`ParamsUpdated`], [`PauseChanged`], [`TreasuryGranted`], [`GovParamsUpdated`]).
#[event]
pub struct ProposalExecuted {
    pub proposal: Pubkey,
    pub id: u64,
    pub action: ProposalAction,
}

#[event]
pub struct PauseChanged {
    pub old: bool,
    pub new: bool,
}

#[event]
pub struct TreasuryGranted {
    pub recipient: Pubkey,
    pub amount: u64,
    pub treasury_before: u64,
    pub treasury_after: u64,
}

#[event]
pub struct GovParamsUpdated {
    pub old: GovParams,
    pub new: GovParams,
}

#[event]
pub struct ProposalClosed {
    pub proposal: Pubkey,
    pub proposer: Pubkey,
    /// Whether it was cancelled before any vote (otherwise closed after it ended).
    pub cancelled: bool,
    pub refunded: u64,
}

/// The input buffer of a disputed render job was opened (`len` bytes, none loaded yet).
#[event]
pub struct InputBufferOpened {
    pub buffer: Pubkey,
    pub job: Pubkey,
    pub payer: Pubkey,
    pub len: u32,
}

/// A piece of a job's input was loaded into its buffer, proven against the input root.
#[event]
pub struct InputPieceLoaded {
    pub buffer: Pubkey,
    pub job: Pubkey,
    pub index: u32,
    /// Whether every piece is now loaded.
    pub complete: bool,
}

/// An input buffer was closed after its job; its rent went back to its payer.
#[event]
pub struct InputBufferClosed {
    pub buffer: Pubkey,
    pub job: Pubkey,
    pub to: Pubkey,
    pub lamports: u64,
}

/// A refereed job's result is accepted, and open to challenges until `challenge_until`; the
/// job settles after that.
#[event]
pub struct ChallengeWindowOpened {
    pub job: Pubkey,
    pub root: [u8; 32],
    pub challenge_until: i64,
}

/// A staked node challenged a refereed job's accepted root with the root it computed; its
/// games against the root's backers may be opened until `open_until`.
#[event]
pub struct ResultChallenged {
    pub job: Pubkey,
    pub node: Pubkey,
    pub operator: Pubkey,
    pub slot: u8,
    pub root: [u8; 32],
    pub accepted_root: [u8; 32],
    pub open_until: i64,
}

/// A refereed job's revealed roots differ: its games may be opened until `open_until`.
#[event]
pub struct DisputeStarted {
    pub job: Pubkey,
    pub open_until: i64,
}

/// A player opened the game between two slots of a disputed job.
#[event]
pub struct GameOpened {
    pub game: Pubkey,
    pub job: Pubkey,
    pub slots: [u8; 2],
    pub nodes: [Pubkey; 2],
    /// The side that opened it (and paid its rent and its bond).
    pub opener: u8,
    pub clock_secs: i64,
    pub bond: u64,
}

/// A side posted a move; `phase` is the game's phase after it (a new round once both posted).
#[event]
pub struct GameMoved {
    pub game: Pubkey,
    pub side: u8,
    pub phase: crate::state::GamePhase,
    pub moves: u16,
    pub clock_left: i64,
}

/// A game is over: which sides lost, and why.
#[event]
pub struct GameEnded {
    pub game: Pubkey,
    pub job: Pubkey,
    pub slots: [u8; 2],
    pub lost: [bool; 2],
    pub reason: crate::state::GameEnd,
    pub moves: [u16; 2],
}

/// An ended game's account closed: its rent and bonds went to `to`.
#[event]
pub struct GameClosed {
    pub game: Pubkey,
    pub to: Pubkey,
    pub lamports: u64,
}
