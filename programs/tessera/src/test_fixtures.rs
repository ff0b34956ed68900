//! Unit-test fixtures for the program's pure logic (settlement, reputation, sortition): jobs
//! and ledgers built in memory, no bank. The integration suite's fixture is `tests/src/lib.rs`.
use anchor_lang::prelude::Pubkey;

use crate::state::*;

/// The reward per replica of every fixture job.
pub const REWARD: u64 = 1_000_000;

/// The network's default rates: 2.5 % fee, half the stake for a wrong result, a tenth for a
/// no-show, a fifth of the reward for an unavailable input.
pub fn rates() -> JobRates {
    JobRates {
        protocol_fee_bps: 250,
        slash_bps: 5_000,
        no_show_bps: 1_000,
        unavailable_comp_bps: 2_000,
        expiry_bounty_bps: 1_000,
        challenge_reward_bps: 5_000,
    }
}

/// An open full-redundancy job of `replicas` replicas with `escalation_replicas` more on a
/// disagreement, and no slot yet.
pub fn job(replicas: u8, escalation_replicas: u8) -> Job {
    Job {
        version: 1,
        bump: 255,
        submitter: Pubkey::new_unique(),
        nonce: 1,
        kernel_id: 2,
        input: InputRef {
            hash: [7; 32],
            uri: "file:///a.bin".into(),
            size_bytes: 1,
        },
        kernel_params: Vec::new(),
        work_units: 1,
        replicas,
        reward_per_replica: REWARD,
        escrow: 0,
        deadline: 0,
        requirements: Requirements {
            gpu_required: false,
            min_vram_mib: 0,
            region_mask: u32::MAX,
        },
        posted_at: 0,
        escalation_replicas,
        seed: [0; 32],
        escalated: false,
        round_started_at: 0,
        commit_deadline: 0,
        reveal_deadline: 0,
        slots: Vec::new(),
        result_root: None,
        status: JobStatus::Open,
        audit: AuditState::None,
        audit_bps: 0,
        audit_replicas: 0,
        audit_fee: 0,
        audit_slot: 0,
        round_start: 0,
        round_slot: 0,
        rates: rates(),
        audit_forced: false,
        refereed: false,
        dispute: Default::default(),
        reserved: [0; 1],
    }
}

/// `job` with one slot per entry: `Some(root)` revealed that root, `None` only committed.
pub fn with_reveals(mut job: Job, reveals: &[Option<[u8; 32]>]) -> Job {
    job.slots = reveals
        .iter()
        .map(|r| Slot {
            node: Pubkey::new_unique(),
            operator: Pubkey::new_unique(),
            claimed_at: 0,
            commitment: [1; 32],
            root: r.unwrap_or([0; 32]),
            state: if r.is_some() {
                SlotState::Revealed
            } else {
                SlotState::Committed
            },
        })
        .collect();
    job
}

/// A node's ledger with `stake` staked, one open assignment, nothing else.
pub fn ledger(stake: u64) -> NodeLedger {
    NodeLedger {
        stake,
        unstaking: 0,
        unstake_available_at: 0,
        open_assignments: 1,
        earnings: 0,
        reputation: Reputation::default(),
    }
}
