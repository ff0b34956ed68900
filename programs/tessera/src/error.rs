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
    #[msg("max_replicas must be between 1 and 8")]
    MaxReplicasOutOfBounds,
    #[msg("commit and reveal windows must be between 10 seconds and 7 days")]
    PhaseWindowOutOfBounds,
    #[msg("max_job_duration_secs must cover both windows and be at most 30 days")]
    JobDurationOutOfBounds,
    #[msg("at least one kernel id must be allowed")]
    NoKernelsAllowed,
    #[msg("max_replicas + escalation_replicas must be at most 8")]
    EscalationOutOfBounds,
    #[msg("priority_window_secs must not exceed commit_window_secs")]
    PriorityWindowOutOfBounds,
    #[msg("sortition_weight must be at least 1")]
    SortitionWeightOutOfBounds,
    #[msg("unavailable_comp_bps and expiry_bounty_bps must be at most 10000")]
    BpsOutOfBounds,
    #[msg("expiry_grace_secs must be between 1 second and 30 days")]
    ExpiryGraceOutOfBounds,

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
    #[msg("node still holds slots of open jobs: pause it and wait for them to end")]
    NodeHasOpenAssignments,
    #[msg("node still holds earnings; withdraw them first")]
    NodeHasEarnings,
    #[msg("amount exceeds the node's earnings")]
    InsufficientEarnings,

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
    #[msg("account is not the SlotHashes sysvar, or it holds no slot hash")]
    WrongSlotHashes,

    // Claims.
    #[msg("node is not accepting jobs")]
    NodeNotAccepting,
    #[msg("node's active stake is below min_stake")]
    StakeBelowMinimum,
    #[msg("node does not meet the job's hardware requirements")]
    HardwareMismatch,
    #[msg("node's region is not allowed by the job")]
    RegionMismatch,
    #[msg("job's reward per work unit is below the node's minimum price")]
    PriceBelowNodeMinimum,
    #[msg("every replica slot of this round is taken")]
    RoundFull,
    #[msg("this round no longer takes claims")]
    ClaimWindowClosed,
    #[msg("node already holds a slot of this job")]
    NodeAlreadyAssigned,
    #[msg("operator already holds a slot of this job with another node")]
    OperatorAlreadyAssigned,
    #[msg("node's ticket did not win the priority sortition; claim after the priority window")]
    NotPrioritySelected,

    // Commit and reveal.
    #[msg("node holds no slot of this job in the current round")]
    NotAssigned,
    #[msg("slot has already committed")]
    AlreadyCommitted,
    #[msg("commit deadline has passed")]
    CommitWindowClosed,
    #[msg("slot has not committed")]
    NotCommitted,
    #[msg("slot has already revealed")]
    AlreadyRevealed,
    #[msg("reveal phase has not started: slots are still committing")]
    RevealNotOpen,
    #[msg("reveal deadline has passed")]
    RevealWindowClosed,
    #[msg("revealed root and salt do not open this node's commitment")]
    CommitmentMismatch,

    // Settlement.
    #[msg(
        "round is not complete: slots are still revealing and the reveal deadline has not passed"
    )]
    RoundNotComplete,
    #[msg("job cannot be expired before its reveal deadline plus the expiry grace")]
    NotExpired,
    #[msg("settlement needs every slot's node account, writable and in slot order")]
    WrongSlotNodes,
    #[msg("job has not ended")]
    JobNotEnded,

    // Governance.
    #[msg("voting_period_secs must be between 10 seconds and 30 days")]
    VotingPeriodOutOfBounds,
    #[msg("timelock_secs and execution_window_secs must be between 1 second and 30 days")]
    TimelockOutOfBounds,
    #[msg("quorum_bps must be 1-10000 and pass_threshold_bps 5000-9999")]
    VoteThresholdOutOfBounds,
    #[msg("the network is paused by governance: no new jobs")]
    NetworkPaused,
    #[msg("governance is not initialized")]
    GovernanceNotInitialized,
    #[msg("the config's authority has not been handed to governance")]
    GovernanceNotInControl,
    #[msg("amount exceeds the voter's deposit")]
    InsufficientDeposit,
    #[msg("tokens back an open vote: they stay locked until its voting period ends")]
    VotesLocked,
    #[msg("a proposal must change at least one parameter")]
    EmptyProposal,
    #[msg("kernel id must be below 32")]
    InvalidKernelId,
    #[msg("proposal title is longer than 80 bytes or not printable")]
    InvalidProposalTitle,
    #[msg("proposal is not taking votes (voting ended or it was finalized)")]
    VotingClosed,
    #[msg("voting period has not ended yet")]
    VotingNotEnded,
    #[msg("proposal is not in the state this needs")]
    ProposalNotInState,
    #[msg("timelock has not elapsed: the proposal cannot be executed yet")]
    TimelockNotElapsed,
    #[msg("proposal expired: its execution window has passed")]
    ProposalExpired,
    #[msg("proposal has votes: it can no longer be cancelled")]
    ProposalHasVotes,
    #[msg("proposal has not ended yet")]
    ProposalNotEnded,
    #[msg("no voting power: nothing was locked before this proposal was created")]
    NoVotingPower,
    #[msg("vote nodes must be distinct nodes of the voter, writable, at most 6")]
    WrongVoteNodes,
    #[msg("treasury grant recipient is missing or not the proposal's")]
    WrongGrantRecipient,

    // Spot checks.
    #[msg("audit parameters out of bounds: audit_bps at most 10,000 and above 0 when audit replicas are set, 1 + audit replicas + escalation replicas at most 8, a positive max audited reward")]
    AuditParamsOutOfBounds,
    #[msg("cheating would pay: audit_bps × slash_bps × min_stake must be at least 2 × (10,000 − audit_bps) × max_audited_reward")]
    CheatingPays,
    #[msg("spot checks are disabled on this network (audit_replicas = 0)")]
    SpotCheckDisabled,
    #[msg("a spot-check job has exactly one replica")]
    SpotCheckNeedsOneReplica,
    #[msg("reward per replica exceeds the network's max audited reward for spot-check jobs")]
    RewardAboveAuditedMax,
    #[msg("the job's audit is not waiting to be drawn (not a spot-check job, already drawn, or the worker has not committed)")]
    AuditNotPending,
    #[msg("the audit slot's hash is not on chain yet: retry a few slots later")]
    AuditNotReady,
    #[msg("the audit has not been drawn yet: call draw_audit first")]
    AuditNotDrawn,

    // Arithmetic and invariants.
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("account invariant violated")]
    InvariantViolated,

    // Added after the attacker's review (kept last so earlier codes do not move).
    #[msg("the node, or enough of its stake, was registered or staked after this round's seed became public: it counts from the next round")]
    StakeNotWarm,
    #[msg("the expiry bounty cannot go to an operator penalised by this settlement")]
    BountyToPenalised,
    #[msg("this deposit counts in an open proposal's quorum base: it can be withdrawn once the voting periods end")]
    DepositInQuorumBase,
    #[msg("reward per replica is below the network's min_reward")]
    RewardBelowMinimum,
    #[msg("min_reward must be at least 1")]
    MinRewardOutOfBounds,
    #[msg("only the program's upgrade authority (from its ProgramData account) may initialize the network")]
    NotUpgradeAuthority,

    // Refereed disputes (issue 2/6).
    #[msg("the step's operands are malformed (a shift above 31, a scene of 0 or more than 64 objects or the wrong number of values, an undecodable ray, zero image size or samples)")]
    BadStep,
    #[msg("the referee cannot play this job's kernel to its last step on chain yet (render, matmul_f32 and matmul_i8 only)")]
    NotRefereed,
    #[msg("an operand does not open against the job's input root at the offset the step names")]
    BadOpening,
    #[msg("refereed kernels must be ones the referee opens; game clocks and open windows within the phase bounds; the bond at most 1 SOL")]
    GameParamsOutOfBounds,
    #[msg("a refereed job needs params and an input size its kernel decodes")]
    BadRefereedJob,
    #[msg("these two slots do not dispute: both must have revealed different computed roots")]
    NotInDispute,
    #[msg("the job is not in a dispute, or its games may no longer be opened")]
    GameOpenClosed,
    #[msg("only a player of the game may do this")]
    NotAPlayer,
    #[msg("this move does not fit the game's phase")]
    WrongMove,
    #[msg("the move does not open what the side committed")]
    BadMove,
    #[msg("this side has already moved this round")]
    AlreadyMoved,
    #[msg("the game is over")]
    GameOver,
    #[msg("no clock has run out")]
    ClockNotExpired,
    #[msg("this side's clock has run out")]
    ClockExpired,
    #[msg("the job's games are still being played or may still be opened")]
    GamesInProgress,
    #[msg("the game has not ended")]
    GameNotOver,

    // Challenge window (issue 2/6, item 5).
    #[msg("the challenge window is 0 or within the phase bounds; the challengers' reward at most 10000 bps")]
    ChallengeParamsOutOfBounds,
    #[msg("the job's result is not open to challenges now")]
    ChallengeWindowClosed,
    #[msg("a challenge must name a computed root other than the one accepted")]
    ChallengeSameRoot,
    #[msg("the job holds as many slots as it can; no further challenger fits")]
    NoRoomToChallenge,
    #[msg("the job's challenge window is still open")]
    ChallengeWindowOpen,

    // Render games (issue 2/6, item 3).
    #[msg("only a disputed refereed render job's scene is loaded on chain")]
    InputNotNeeded,
    #[msg("the piece is not the job's input at that index (its bytes or siblings do not prove against the input root)")]
    BadInputPiece,
    #[msg("this piece of the input is already loaded")]
    PieceAlreadyLoaded,
    #[msg("the step reads the job's input: pass its buffer with every piece loaded")]
    InputNotLoaded,
}
