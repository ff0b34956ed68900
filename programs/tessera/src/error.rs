use anchor_lang::prelude::*;

/// Every way an instruction of this program can be refused.
#[error_code]
pub enum TesseraError {
    // Authority and account substitution.
    #[msg("Signer is not the authority of this account")]
    Unauthorized,
    #[msg("Token account or mint is not the network's mint")]
    WrongMint,
    #[msg("Vault account is not the one recorded in the config")]
    WrongVault,
    #[msg("Token account is not owned by the expected wallet")]
    WrongTokenOwner,

    // Parameter bounds.
    #[msg("min_stake must be at least 1")]
    MinStakeOutOfBounds,
    #[msg("unstake_cooldown_secs must be between 1 and 90 days")]
    CooldownOutOfBounds,
    #[msg("protocol_fee_bps must be at most 2000")]
    ProtocolFeeOutOfBounds,
    #[msg("slash_bps must be between 1 and 10000")]
    SlashOutOfBounds,
    #[msg("no_show_bps must be at most 10000")]
    NoShowOutOfBounds,
    #[msg("max_replicas must be between 1 and 16")]
    MaxReplicasOutOfBounds,
    #[msg("commit and reveal windows must be between 10 seconds and 7 days")]
    PhaseWindowOutOfBounds,
    #[msg("max_job_duration_secs must cover both windows and be at most 30 days")]
    JobDurationOutOfBounds,
    #[msg("at least one kernel id must be allowed")]
    NoKernelsAllowed,

    // Node registration.
    #[msg("GPU model label is empty, too long or not printable ASCII")]
    InvalidGpuModel,
    #[msg("hardware profile is inconsistent (GPU fields on a CPU-only node, zero VRAM, or bad compute capability)")]
    InvalidHardwareProfile,
    #[msg("a node needs at least one CPU core")]
    InvalidCpuCores,
    #[msg("region code must be below 32")]
    InvalidRegion,
    #[msg("endpoint must be an http:// or https:// URL of at most 128 bytes")]
    InvalidEndpoint,

    // Staking.
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    #[msg("amount exceeds the node's active stake")]
    InsufficientStake,
    #[msg("amount exceeds the node's stake in cooldown")]
    InsufficientUnstaking,
    #[msg("unstake cooldown has not elapsed")]
    CooldownNotElapsed,
    #[msg("a node with open assignments must keep at least min_stake active")]
    StakeLockedByAssignments,
    #[msg("node still holds stake (active or in cooldown); withdraw it first")]
    NodeHasStake,
    #[msg("node still has open assignments")]
    NodeHasOpenAssignments,

    // Jobs.
    #[msg("kernel id is not allowed by the network parameters")]
    KernelNotAllowed,
    #[msg("input URI is empty or longer than 200 bytes")]
    InvalidInputUri,
    #[msg("input size must be between 1 byte and 4 GiB")]
    InvalidInputSize,
    #[msg("kernel params exceed 256 bytes")]
    KernelParamsTooLong,
    #[msg("work units must be greater than zero")]
    ZeroWorkUnits,
    #[msg("replicas must be between 1 and the network's max_replicas")]
    InvalidReplicas,
    #[msg("reward per replica must be greater than zero")]
    ZeroReward,
    #[msg("deadline leaves less time than the commit and reveal windows need")]
    DeadlineTooSoon,
    #[msg("deadline is further away than max_job_duration_secs")]
    DeadlineTooFar,
    #[msg("region mask must allow at least one region")]
    EmptyRegionMask,
    #[msg("job is not open")]
    JobNotOpen,
    #[msg("job already has claimed replicas")]
    JobAlreadyClaimed,

    // Arithmetic and invariants.
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("account invariant violated")]
    InvariantViolated,
}
