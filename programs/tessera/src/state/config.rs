use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;

/// The network: who governs it, which mint it uses, where its tokens sit, and its parameters.
/// Written only by admin instructions, so it is never a hot account.
#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[CONFIG_SEED]`); the config signs vault transfers with it.
    pub bump: u8,
    /// The key allowed to change parameters: the initializer, until it hands the network
    /// over to the governance PDA (`[GOVERNANCE_SEED]`); from then on only executed proposals.
    pub authority: Pubkey,
    /// The SPL token mint used for stake, escrow and fees.
    pub mint: Pubkey,
    /// Token account holding all operator stake (PDA `[STAKE_VAULT_SEED]`).
    pub stake_vault: Pubkey,
    /// Token account holding the escrow of every open job (PDA `[ESCROW_VAULT_SEED]`).
    pub escrow_vault: Pubkey,
    /// Token account receiving protocol fees and slashed stake (PDA `[TREASURY_SEED]`).
    pub treasury: Pubkey,
    /// Bumps of the three vault PDAs, in the order above.
    pub vault_bumps: [u8; 3],
    /// Protocol parameters, always within [`Params::validate`]'s bounds.
    pub params: Params,
    /// Whether posting new jobs is paused (by governance); running jobs go on.
    pub paused: bool,
    /// Proposals created so far; the next proposal's id. Locks of voting power record it
    /// (see [`crate::state::LockedPower`]).
    pub proposal_count: u64,
    /// Room for fields added by later versions.
    pub reserved: [u8; 74],
}

impl Config {
    /// Signer seeds of the config PDA.
    pub fn signer_seeds(&self) -> [&[u8]; 2] {
        [CONFIG_SEED, std::slice::from_ref(&self.bump)]
    }

    pub fn invariant(&self) -> Result<()> {
        self.params.validate()
    }

    /// Whether a new job of `kernel_id` is refereed.
    pub fn kernel_refereed(&self, kernel_id: u8) -> bool {
        kernel_id < KERNEL_ID_COUNT && self.params.refereed_kernels & (1u32 << kernel_id) != 0
    }

    /// Whether `kernel_id` may be used by new jobs.
    pub fn kernel_allowed(&self, kernel_id: u8) -> bool {
        kernel_id < KERNEL_ID_COUNT && self.params.allowed_kernels & (1u32 << kernel_id) != 0
    }
}

/// Protocol parameters. Every field has bounds, checked at initialization and on every update.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Params {
    /// Least active stake (token base units) a node needs to claim work.
    pub min_stake: u64,
    /// Seconds between `request_unstake` and `withdraw_stake`; stake stays slashable meanwhile.
    pub unstake_cooldown_secs: i64,
    /// Share of each paid reward that goes to the treasury, in basis points (≤ 2000).
    pub protocol_fee_bps: u16,
    /// Share of a node's stake slashed for a provably wrong result, in basis points.
    pub slash_bps: u16,
    /// Share of a node's stake slashed for claiming and never revealing, in basis points.
    pub no_show_bps: u16,
    /// Most replicas a job may ask for (≤ 8, and ≤ 8 − `escalation_replicas`).
    pub max_replicas: u8,
    /// Least time a round's commit phase lasts: a job's first round commits until
    /// `deadline - reveal_window_secs` (at least this long after posting); an escalation
    /// round commits for exactly this long.
    pub commit_window_secs: u32,
    /// Seconds replicas have to reveal after a round's commit phase ends.
    pub reveal_window_secs: u32,
    /// Longest time from posting to deadline.
    pub max_job_duration_secs: u32,
    /// Bit mask of kernel ids that new jobs may use (bit `k` = kernel id `k`).
    pub allowed_kernels: u32,
    /// Further replicas drawn when a job's replicas disagree; every job escrows their reward
    /// as its dispute reserve. `max_replicas + escalation_replicas` is at most 8.
    pub escalation_replicas: u8,
    /// Seconds from the start of a round during which only nodes whose ticket wins the
    /// stake-weighted sortition may claim.
    pub priority_window_secs: u32,
    /// Governance's estimate of the network's total sortition weight (Σ stake × reputation
    /// factor); a node's priority chance per job is
    /// `min(1, 3 × slots × weight / sortition_weight)`.
    pub sortition_weight: u64,
    /// Share of the reward paid to each replica that agreed the input was unavailable.
    pub unavailable_comp_bps: u16,
    /// Seconds after a round's reveal deadline before anyone may expire the job for a bounty.
    pub expiry_grace_secs: u32,
    /// Share of the penalties taken at expiry paid to whoever expires the job.
    pub expiry_bounty_bps: u16,
    /// Probability, in basis points, that a spot-check job is audited once its worker has
    /// committed.
    pub audit_bps: u16,
    /// Auditor replicas drawn when a spot-check job is audited; 0 disables spot checks.
    pub audit_replicas: u8,
    /// Largest reward per replica a spot-check job may offer: the deterrence rule
    /// ([`Params::spot_check_deters`]) is checked against it.
    pub max_audited_reward: u64,
    /// Least reward per replica a job may offer. With the protocol fee it is the floor of
    /// what a self-dealt job costs its submitter, so reputation cannot be farmed for free.
    pub min_reward: u64,
    /// Kernels whose disagreements are refereed (bit `k` = kernel id `k`): a job of one of
    /// them that reveals different roots is decided by dispute games, not by a vote. Only
    /// kernels the referee can open on chain may be set ([`REFEREE_KERNELS`]).
    pub refereed_kernels: u32,
    /// Each side's chess clock in a dispute game: the seconds it may spend waiting to post,
    /// over the whole game.
    pub game_clock_secs: u32,
    /// Seconds after a dispute starts during which its games may be opened; a pair of
    /// different roots whose game nobody opened counts as lost by both.
    pub game_open_window_secs: u32,
    /// Lamports each player of a game deposits with its first move; the winner takes the
    /// loser's, which pays for the winner's moves.
    pub game_bond_lamports: u64,
    /// Seconds after a refereed job's result is accepted during which any staked node may
    /// challenge it (`challenge`) and play the same games against its backers; the job
    /// settles, and its result is released, only after it. 0: no window (results final at
    /// once); otherwise within the phase bounds.
    pub challenge_window_secs: u32,
    /// Share of the stake slashed at a settlement that goes to the challengers whose root
    /// won, in basis points.
    pub challenge_reward_bps: u16,
}

impl Params {
    pub fn validate(&self) -> Result<()> {
        require!(self.min_stake >= 1, TesseraError::MinStakeOutOfBounds);
        require!(
            (1..=MAX_UNSTAKE_COOLDOWN_SECS).contains(&self.unstake_cooldown_secs),
            TesseraError::CooldownOutOfBounds
        );
        require!(
            self.protocol_fee_bps <= MAX_PROTOCOL_FEE_BPS,
            TesseraError::ProtocolFeeOutOfBounds
        );
        require!(
            (1..=MAX_BPS).contains(&self.slash_bps),
            TesseraError::SlashOutOfBounds
        );
        require!(self.no_show_bps <= MAX_BPS, TesseraError::NoShowOutOfBounds);
        require!(
            (1..=MAX_REPLICAS_CEILING).contains(&self.max_replicas),
            TesseraError::MaxReplicasOutOfBounds
        );
        let window = MIN_PHASE_WINDOW_SECS..=MAX_PHASE_WINDOW_SECS;
        require!(
            window.contains(&self.commit_window_secs) && window.contains(&self.reveal_window_secs),
            TesseraError::PhaseWindowOutOfBounds
        );
        let phases = u64::from(self.commit_window_secs) + u64::from(self.reveal_window_secs);
        require!(
            u64::from(self.max_job_duration_secs) >= phases
                && self.max_job_duration_secs <= MAX_JOB_DURATION_CEILING_SECS,
            TesseraError::JobDurationOutOfBounds
        );
        require!(self.allowed_kernels != 0, TesseraError::NoKernelsAllowed);
        require!(
            usize::from(self.max_replicas) + usize::from(self.escalation_replicas) <= MAX_SLOTS,
            TesseraError::EscalationOutOfBounds
        );
        require!(
            self.priority_window_secs <= self.commit_window_secs,
            TesseraError::PriorityWindowOutOfBounds
        );
        require!(
            self.sortition_weight >= 1,
            TesseraError::SortitionWeightOutOfBounds
        );
        require!(
            self.unavailable_comp_bps <= MAX_BPS && self.expiry_bounty_bps <= MAX_BPS,
            TesseraError::BpsOutOfBounds
        );
        require!(
            (1..=MAX_EXPIRY_GRACE_SECS).contains(&self.expiry_grace_secs),
            TesseraError::ExpiryGraceOutOfBounds
        );
        require!(
            self.audit_bps <= MAX_BPS,
            TesseraError::AuditParamsOutOfBounds
        );
        require!(self.min_reward >= 1, TesseraError::MinRewardOutOfBounds);
        require!(
            self.refereed_kernels & !REFEREE_KERNELS == 0
                && (MIN_PHASE_WINDOW_SECS..=MAX_PHASE_WINDOW_SECS).contains(&self.game_clock_secs)
                && (MIN_PHASE_WINDOW_SECS..=MAX_PHASE_WINDOW_SECS)
                    .contains(&self.game_open_window_secs)
                && self.game_bond_lamports <= MAX_GAME_BOND_LAMPORTS,
            TesseraError::GameParamsOutOfBounds
        );
        require!(
            (self.challenge_window_secs == 0
                || (MIN_PHASE_WINDOW_SECS..=MAX_PHASE_WINDOW_SECS)
                    .contains(&self.challenge_window_secs))
                && self.challenge_reward_bps <= MAX_BPS,
            TesseraError::ChallengeParamsOutOfBounds
        );
        if self.audit_replicas > 0 {
            let slots =
                1 + usize::from(self.audit_replicas) + usize::from(self.escalation_replicas);
            require!(
                self.audit_bps > 0 && slots <= MAX_SLOTS && self.max_audited_reward > 0,
                TesseraError::AuditParamsOutOfBounds
            );
            require!(self.spot_check_deters(), TesseraError::CheatingPays);
        }
        Ok(())
    }

    /// The spot-check deterrence rule. A worker that skips the work and commits a wrong root
    /// gains at most the reward `r` when it is not audited (probability `1 − p`) and loses at
    /// least `slash_bps` of `min_stake` when it is (probability `p`; withholding the reveal
    /// once audited is slashed the same). Cheating must lose in expectation by the margin
    /// `M` ([`SPOT_CHECK_MARGIN_BPS`]):
    /// `p × slash_bps × min_stake ≥ M × (1 − p) × max_audited_reward`, in basis points
    /// `audit_bps × slash_bps × min_stake ≥ M_bps × (10,000 − audit_bps) × max_audited_reward`.
    pub fn spot_check_deters(&self) -> bool {
        let loss =
            u128::from(self.audit_bps) * u128::from(self.slash_bps) * u128::from(self.min_stake);
        let gain = SPOT_CHECK_MARGIN_BPS as u128
            * u128::from(MAX_BPS - self.audit_bps.min(MAX_BPS))
            * u128::from(self.max_audited_reward);
        loss >= gain
    }

    /// The audit fee a spot-check job with reward `reward` prepays: the expected cost of its
    /// audit, `⌈audit_bps × audit_replicas × reward / 10,000⌉`.
    pub fn audit_fee(&self, reward: u64) -> Result<u64> {
        let cost =
            u128::from(self.audit_bps) * u128::from(self.audit_replicas) * u128::from(reward);
        u64::try_from(cost.div_ceil(u128::from(MAX_BPS)))
            .map_err(|_| error!(TesseraError::MathOverflow))
    }

    /// Seconds a job needs at least between posting and its deadline.
    pub fn min_job_duration_secs(&self) -> i64 {
        i64::from(self.commit_window_secs) + i64::from(self.reveal_window_secs)
    }
}
