use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;

/// A unit of compute a submitter pays for, and the escrow that pays it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[JOB_SEED, submitter, nonce LE]`).
    pub bump: u8,
    /// Wallet that posted and funded the job; receives refunds and the account's rent.
    pub submitter: Pubkey,
    /// Submitter-chosen nonce; makes the address unique and a replayed post fail.
    pub nonce: u64,
    /// Kernel to run (see the kernels crate for ids).
    pub kernel_id: u8,
    /// Where the input is and what it must hash to.
    pub input: InputRef,
    /// Kernel parameters, encoded as the kernel defines.
    #[max_len(MAX_KERNEL_PARAMS_LEN)]
    pub kernel_params: Vec<u8>,
    /// Size of the work in the kernel's work units (used for pricing).
    pub work_units: u64,
    /// Independent replicas that must compute the result.
    pub replicas: u8,
    /// Reward paid to each agreeing replica, before the protocol fee.
    pub reward_per_replica: u64,
    /// Tokens of this job still held in the escrow vault.
    pub escrow: u64,
    /// Unix time by which the job must be settled.
    pub deadline: i64,
    /// What a node must offer to claim a replica.
    pub requirements: Requirements,
    /// Unix time the job was posted.
    pub posted_at: i64,
    /// Replica slots claimed so far.
    pub claimed: u8,
    /// Lifecycle state.
    pub status: JobStatus,
    /// Room for fields added by later versions.
    pub reserved: [u8; 64],
}

impl Job {
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.claimed <= self.replicas,
            TesseraError::InvariantViolated
        );
        let full = u64::from(self.replicas)
            .checked_mul(self.reward_per_replica)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        require!(self.escrow <= full, TesseraError::InvariantViolated);
        Ok(())
    }
}

/// Content-addressed input reference.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct InputRef {
    /// SHA-256 of the input bytes; workers refuse input that does not match.
    pub hash: [u8; 32],
    /// Where to fetch it (file://, http(s)://, s3://).
    #[max_len(MAX_INPUT_URI_LEN)]
    pub uri: String,
    /// Exact size in bytes; workers refuse larger downloads.
    pub size_bytes: u64,
}

/// Hardware and placement a job requires of the nodes that claim it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Requirements {
    /// Only GPU nodes may claim.
    pub gpu_required: bool,
    /// Least GPU memory in MiB (0 = any).
    pub min_vram_mib: u32,
    /// Regions allowed (bit `r` = region code `r`); `u32::MAX` = anywhere.
    pub region_mask: u32,
}

/// Where a job is in its life. Terminal states carry their reason.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobStatus {
    /// Posted and funded; replicas may claim.
    Open,
    /// Over; the escrow has been paid out or refunded.
    Ended { at: i64, reason: JobEndReason },
}

/// Why a job ended.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobEndReason {
    /// The submitter cancelled it before any replica was claimed; fully refunded.
    CancelledBySubmitter,
}
