//! Token-weighted governance: voting power, proposals and votes.
//!
//! **Voting power** is tokens locked in Tessera: a node's operator stake (active and in
//! cooldown) and a governance deposit any holder can lock in a [`Voter`]. The anti-flash-stake
//! rule: a proposal counts only tokens locked *before it was created*, and tokens that back a
//! vote cannot leave Tessera until that vote's voting period has ended.
//!
//! "Before" is measured by the config's proposal counter, not by time: a lock made while
//! `config.proposal_count == n` counts for proposals `n, n + 1, …` (proposal `n` is the next
//! one created). Locking reads the config and creating a proposal writes it, so the runtime
//! orders the two; two transactions in the same second or slot cannot blur it.
use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::Params;

/// Tokens locked by one holder, in two buckets by when they were locked.
///
/// `settled` tokens count for proposals with id ≥ `settled_epoch`, `recent` ones for id ≥
/// `recent_epoch`. A lock adds to `recent` while no proposal was created since it started;
/// otherwise `recent` merges into `settled` (which then counts from the later epoch: a
/// conservative bound, never more than the truth) and a new `recent` starts. Removals take
/// the most recent tokens first.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct LockedPower {
    pub settled: u64,
    pub settled_epoch: u64,
    pub recent: u64,
    pub recent_epoch: u64,
}

impl LockedPower {
    pub fn total(&self) -> Result<u64> {
        self.settled
            .checked_add(self.recent)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// Records `amount` locked while the proposal counter is `epoch`.
    pub fn add(&mut self, amount: u64, epoch: u64) -> Result<()> {
        if self.recent == 0 {
            self.recent_epoch = epoch;
        } else if self.recent_epoch != epoch {
            self.settled_epoch = if self.settled == 0 {
                self.recent_epoch
            } else {
                self.settled_epoch.max(self.recent_epoch)
            };
            self.settled = self.total()?;
            self.recent = 0;
            self.recent_epoch = epoch;
        }
        self.recent = self
            .recent
            .checked_add(amount)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        Ok(())
    }

    /// Removes `amount`, most recent first; fails if fewer tokens are recorded.
    pub fn remove(&mut self, amount: u64) -> Result<()> {
        let from_recent = amount.min(self.recent);
        self.recent -= from_recent;
        self.settled = self
            .settled
            .checked_sub(amount - from_recent)
            .ok_or_else(|| error!(TesseraError::InsufficientDeposit))?;
        Ok(())
    }

    /// Lowers the record to at most `total` tokens (a node's stake can also shrink by
    /// slashing, which does not touch this record), most recent first.
    pub fn clamp(&mut self, total: u64) -> Result<()> {
        let excess = self.total()?.saturating_sub(total);
        self.remove(excess)
    }

    /// Tokens that were locked before proposal `proposal_id` was created.
    pub fn power_for(&self, proposal_id: u64) -> u64 {
        let settled = if self.settled_epoch <= proposal_id {
            self.settled
        } else {
            0
        };
        let recent = if self.recent_epoch <= proposal_id {
            self.recent
        } else {
            0
        };
        settled.saturating_add(recent)
    }
}

/// Governance's own parameters, changeable by proposal like the network's.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct GovParams {
    /// Seconds a proposal takes votes after its creation.
    pub voting_period_secs: u32,
    /// Seconds between the end of voting and the earliest execution of a passed proposal.
    pub timelock_secs: u32,
    /// Seconds after the timelock during which a passed proposal may be executed; after
    /// that it has expired.
    pub execution_window_secs: u32,
    /// Share of the total voting power (at creation) that must vote, abstentions included.
    pub quorum_bps: u16,
    /// A proposal passes when yes × 10000 > pass_threshold_bps × (yes + no).
    pub pass_threshold_bps: u16,
    /// Tokens a proposer deposits (against spam): returned when the proposal is closed or
    /// cancelled, forfeited to the treasury if the proposal fails to reach quorum.
    pub proposal_deposit: u64,
}

impl GovParams {
    pub fn validate(&self) -> Result<()> {
        require!(
            (MIN_VOTING_PERIOD_SECS..=MAX_GOVERNANCE_WINDOW_SECS)
                .contains(&self.voting_period_secs),
            TesseraError::VotingPeriodOutOfBounds
        );
        require!(
            (1..=MAX_GOVERNANCE_WINDOW_SECS).contains(&self.timelock_secs)
                && (1..=MAX_GOVERNANCE_WINDOW_SECS).contains(&self.execution_window_secs),
            TesseraError::TimelockOutOfBounds
        );
        require!(
            (1..=MAX_BPS).contains(&self.quorum_bps)
                && (MIN_PASS_THRESHOLD_BPS..MAX_BPS).contains(&self.pass_threshold_bps),
            TesseraError::VoteThresholdOutOfBounds
        );
        Ok(())
    }
}

/// The governance PDA (`[GOVERNANCE_SEED]`): its parameters and the deposits it holds. After
/// `hand_over_authority` it is the config's authority.
#[account]
#[derive(InitSpace, Debug)]
pub struct Governance {
    pub version: u8,
    pub bump: u8,
    /// Token account (PDA `[GOV_VAULT_SEED]`, authority: the config) holding voters'
    /// deposits and proposals' deposits.
    pub vault: Pubkey,
    pub vault_bump: u8,
    pub params: GovParams,
    /// Sum of every voter's deposit.
    pub voter_deposits: u64,
    /// Sum of the deposits held for proposals not yet closed.
    pub proposal_deposits: u64,
    /// The latest end of a voting period of the proposals created so far. Until then, the
    /// deposits locked before the latest proposal was created count in an open proposal's
    /// quorum base, and cannot be withdrawn (else a deposit made just before a proposal and
    /// withdrawn right after would inflate its base and sink it).
    pub votes_open_until: i64,
    pub reserved: [u8; 56],
}

impl Governance {
    /// Tokens the vault must hold.
    pub fn vault_balance(&self) -> Result<u64> {
        self.voter_deposits
            .checked_add(self.proposal_deposits)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }
}

/// A holder's governance deposit (`[VOTER_SEED, owner]`).
#[account]
#[derive(InitSpace, Debug)]
pub struct Voter {
    pub version: u8,
    pub bump: u8,
    pub owner: Pubkey,
    /// The deposit, by when it was locked; `power.total()` is the deposit.
    pub power: LockedPower,
    /// The deposit cannot be withdrawn before this time: the end of the latest voting period
    /// it voted in.
    pub vote_lock_until: i64,
    pub reserved: [u8; 32],
}

/// Optional changes to each network parameter; a proposal changes the ones it sets.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct ParamChanges {
    pub min_stake: Option<u64>,
    pub unstake_cooldown_secs: Option<i64>,
    pub protocol_fee_bps: Option<u16>,
    pub slash_bps: Option<u16>,
    pub no_show_bps: Option<u16>,
    pub max_replicas: Option<u8>,
    pub commit_window_secs: Option<u32>,
    pub reveal_window_secs: Option<u32>,
    pub max_job_duration_secs: Option<u32>,
    pub allowed_kernels: Option<u32>,
    pub escalation_replicas: Option<u8>,
    pub priority_window_secs: Option<u32>,
    pub sortition_weight: Option<u64>,
    pub unavailable_comp_bps: Option<u16>,
    pub expiry_grace_secs: Option<u32>,
    pub expiry_bounty_bps: Option<u16>,
    pub audit_bps: Option<u16>,
    pub audit_replicas: Option<u8>,
    pub max_audited_reward: Option<u64>,
    pub min_reward: Option<u64>,
    pub refereed_kernels: Option<u32>,
    pub game_clock_secs: Option<u32>,
    pub game_open_window_secs: Option<u32>,
    pub game_bond_lamports: Option<u64>,
    pub challenge_window_secs: Option<u32>,
    pub challenge_reward_bps: Option<u16>,
}

impl ParamChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `params` with these changes applied (not yet validated).
    pub fn apply(&self, params: &Params) -> Params {
        Params {
            min_stake: self.min_stake.unwrap_or(params.min_stake),
            unstake_cooldown_secs: self
                .unstake_cooldown_secs
                .unwrap_or(params.unstake_cooldown_secs),
            protocol_fee_bps: self.protocol_fee_bps.unwrap_or(params.protocol_fee_bps),
            slash_bps: self.slash_bps.unwrap_or(params.slash_bps),
            no_show_bps: self.no_show_bps.unwrap_or(params.no_show_bps),
            max_replicas: self.max_replicas.unwrap_or(params.max_replicas),
            commit_window_secs: self.commit_window_secs.unwrap_or(params.commit_window_secs),
            reveal_window_secs: self.reveal_window_secs.unwrap_or(params.reveal_window_secs),
            max_job_duration_secs: self
                .max_job_duration_secs
                .unwrap_or(params.max_job_duration_secs),
            allowed_kernels: self.allowed_kernels.unwrap_or(params.allowed_kernels),
            escalation_replicas: self
                .escalation_replicas
                .unwrap_or(params.escalation_replicas),
            priority_window_secs: self
                .priority_window_secs
                .unwrap_or(params.priority_window_secs),
            sortition_weight: self.sortition_weight.unwrap_or(params.sortition_weight),
            unavailable_comp_bps: self
                .unavailable_comp_bps
                .unwrap_or(params.unavailable_comp_bps),
            expiry_grace_secs: self.expiry_grace_secs.unwrap_or(params.expiry_grace_secs),
            expiry_bounty_bps: self.expiry_bounty_bps.unwrap_or(params.expiry_bounty_bps),
            audit_bps: self.audit_bps.unwrap_or(params.audit_bps),
            audit_replicas: self.audit_replicas.unwrap_or(params.audit_replicas),
            max_audited_reward: self.max_audited_reward.unwrap_or(params.max_audited_reward),
            min_reward: self.min_reward.unwrap_or(params.min_reward),
            refereed_kernels: self.refereed_kernels.unwrap_or(params.refereed_kernels),
            game_clock_secs: self.game_clock_secs.unwrap_or(params.game_clock_secs),
            game_open_window_secs: self
                .game_open_window_secs
                .unwrap_or(params.game_open_window_secs),
            game_bond_lamports: self.game_bond_lamports.unwrap_or(params.game_bond_lamports),
            challenge_window_secs: self
                .challenge_window_secs
                .unwrap_or(params.challenge_window_secs),
            challenge_reward_bps: self
                .challenge_reward_bps
                .unwrap_or(params.challenge_reward_bps),
        }
    }
}

/// Optional changes to each governance parameter.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct GovParamChanges {
    pub voting_period_secs: Option<u32>,
    pub timelock_secs: Option<u32>,
    pub execution_window_secs: Option<u32>,
    pub quorum_bps: Option<u16>,
    pub pass_threshold_bps: Option<u16>,
    pub proposal_deposit: Option<u64>,
}

impl GovParamChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn apply(&self, params: &GovParams) -> GovParams {
        GovParams {
            voting_period_secs: self.voting_period_secs.unwrap_or(params.voting_period_secs),
            timelock_secs: self.timelock_secs.unwrap_or(params.timelock_secs),
            execution_window_secs: self
                .execution_window_secs
                .unwrap_or(params.execution_window_secs),
            quorum_bps: self.quorum_bps.unwrap_or(params.quorum_bps),
            pass_threshold_bps: self.pass_threshold_bps.unwrap_or(params.pass_threshold_bps),
            proposal_deposit: self.proposal_deposit.unwrap_or(params.proposal_deposit),
        }
    }
}

/// What a proposal does when executed.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ProposalAction {
    /// Changes any subset of the network parameters (the result must be within bounds).
    UpdateParams(ParamChanges),
    /// Allows or disallows one kernel id for new jobs.
    SetKernel { kernel_id: u8, allowed: bool },
    /// Pauses (`true`) or resumes (`false`) the posting of new jobs; running jobs go on.
    SetPaused(bool),
    /// Pays `amount` from the treasury to the token account `recipient`.
    TreasuryGrant { recipient: Pubkey, amount: u64 },
    /// Changes any subset of governance's own parameters.
    UpdateGovernance(GovParamChanges),
}

impl ProposalAction {
    /// Checks the action against the network as it is now: a proposal that could not be
    /// executed today is refused at creation. Execution checks again.
    pub fn validate(&self, params: &Params, gov: &GovParams) -> Result<()> {
        match self {
            Self::UpdateParams(changes) => {
                require!(!changes.is_empty(), TesseraError::EmptyProposal);
                changes.apply(params).validate()
            }
            Self::SetKernel { kernel_id, allowed } => {
                require!(*kernel_id < KERNEL_ID_COUNT, TesseraError::InvalidKernelId);
                set_kernel(params, *kernel_id, *allowed).validate()
            }
            Self::SetPaused(_) => Ok(()),
            Self::TreasuryGrant { amount, .. } => {
                require!(*amount > 0, TesseraError::ZeroAmount);
                Ok(())
            }
            Self::UpdateGovernance(changes) => {
                require!(!changes.is_empty(), TesseraError::EmptyProposal);
                changes.apply(gov).validate()
            }
        }
    }
}

/// `params` with kernel `kernel_id` allowed or not.
pub fn set_kernel(params: &Params, kernel_id: u8, allowed: bool) -> Params {
    let bit = 1u32 << (kernel_id % KERNEL_ID_COUNT);
    let allowed_kernels = if allowed {
        params.allowed_kernels | bit
    } else {
        params.allowed_kernels & !bit
    };
    Params {
        allowed_kernels,
        ..*params
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ProposalStatus {
    /// Taking votes until `voting_ends_at`.
    Voting,
    /// Quorum reached and the vote passed: executable from `executable_at` until
    /// `expires_at` (after that it has expired).
    Passed,
    /// Quorum reached, the vote did not pass.
    Rejected,
    /// Too little of the voting power voted; the deposit went to the treasury.
    QuorumNotReached,
    Executed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum VoteChoice {
    Yes,
    No,
    Abstain,
}

/// A proposal (`[PROPOSAL_SEED, id LE]`).
#[account]
#[derive(InitSpace, Debug)]
pub struct Proposal {
    pub version: u8,
    pub bump: u8,
    /// Sequence number: the config's proposal counter when it was created.
    pub id: u64,
    pub proposer: Pubkey,
    #[max_len(MAX_PROPOSAL_TITLE_LEN)]
    pub title: String,
    pub action: ProposalAction,
    pub status: ProposalStatus,
    /// The proposer's deposit still held in the governance vault.
    pub deposit: u64,
    pub created_at: i64,
    pub voting_ends_at: i64,
    pub executable_at: i64,
    pub expires_at: i64,
    /// All tokens locked in Tessera when the proposal was created (the stake vault, which
    /// also holds unwithdrawn earnings, and every governance deposit): quorum's base.
    pub total_power: u64,
    /// Governance's quorum and pass threshold when it was created: later changes to them do
    /// not move an open proposal's goalposts.
    pub quorum_bps: u16,
    pub pass_threshold_bps: u16,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub voters: u32,
    /// `Governance::votes_open_until` before this proposal was created: cancelling the
    /// latest proposal restores it, so a proposal made and cancelled at once does not lock
    /// every deposit for a voting period.
    pub prev_votes_open_until: i64,
    pub reserved: [u8; 24],
}

impl Proposal {
    pub fn votes(&self) -> Result<u64> {
        self.yes
            .checked_add(self.no)
            .and_then(|v| v.checked_add(self.abstain))
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// Whether the votes cast reach `quorum_bps` of the total power.
    pub fn quorum_reached(&self, quorum_bps: u16) -> Result<bool> {
        let needed = crate::math::mul_bps(self.total_power, u64::from(quorum_bps));
        Ok(self.votes()? >= needed.max(1))
    }

    /// Whether yes is more than `threshold_bps` of yes + no.
    pub fn passes(&self, threshold_bps: u16) -> Result<bool> {
        let decided = self
            .yes
            .checked_add(self.no)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        // For an integer yes, yes > decided × t / 10000 exactly when yes > ⌊decided × t / 10000⌋.
        let needed = crate::math::mul_bps(decided, u64::from(threshold_bps));
        Ok(self.yes > needed)
    }

    /// Whether a passed proposal's execution window is over.
    pub fn expired(&self, now: i64) -> bool {
        self.status == ProposalStatus::Passed && now >= self.expires_at
    }

    /// Whether the proposal can no longer change: executed, rejected, without quorum, or
    /// passed and expired.
    pub fn ended(&self, now: i64) -> bool {
        match self.status {
            ProposalStatus::Voting => false,
            ProposalStatus::Passed => self.expired(now),
            ProposalStatus::Rejected
            | ProposalStatus::QuorumNotReached
            | ProposalStatus::Executed => true,
        }
    }
}

/// One voter's vote on one proposal (`[VOTE_SEED, proposal, voter]`): a second vote by the
/// same wallet cannot create it again.
#[account]
#[derive(InitSpace, Debug)]
pub struct VoteRecord {
    pub version: u8,
    pub bump: u8,
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub choice: VoteChoice,
    /// Governance deposit counted.
    pub deposit_power: u64,
    /// Operator stake counted, over every node passed.
    pub stake_power: u64,
    pub cast_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_counts_only_for_later_proposals() {
        let mut p = LockedPower::default();
        p.add(100, 3).unwrap();
        assert_eq!(
            (p.power_for(2), p.power_for(3), p.power_for(9)),
            (0, 100, 100)
        );
        // Same epoch: still one bucket.
        p.add(50, 3).unwrap();
        assert_eq!(p.power_for(3), 150);
        // A later lock does not count for proposal 3 or 4.
        p.add(10, 5).unwrap();
        assert_eq!((p.power_for(4), p.power_for(5)), (150, 160));
        // A third epoch merges the older buckets conservatively: 160 from epoch 5.
        p.add(1, 7).unwrap();
        assert_eq!(
            (p.power_for(4), p.power_for(6), p.power_for(7)),
            (0, 160, 161)
        );
        // Removals take the most recent first.
        p.remove(11).unwrap();
        assert_eq!((p.total().unwrap(), p.power_for(6)), (150, 150));
        assert!(p.remove(151).is_err());
        p.clamp(40).unwrap();
        assert_eq!((p.total().unwrap(), p.power_for(6)), (40, 40));
    }

    #[test]
    fn pass_threshold_is_strict() {
        let mut p = Proposal {
            version: 1,
            bump: 0,
            id: 0,
            proposer: Pubkey::default(),
            title: String::new(),
            action: ProposalAction::SetPaused(true),
            status: ProposalStatus::Voting,
            deposit: 0,
            created_at: 0,
            voting_ends_at: 0,
            executable_at: 0,
            expires_at: 0,
            total_power: 1_000,
            quorum_bps: 1_000,
            pass_threshold_bps: 5_000,
            yes: 50,
            no: 50,
            abstain: 0,
            voters: 2,
            prev_votes_open_until: 0,
            reserved: [0; 24],
        };
        assert!(!p.passes(5_000).unwrap());
        p.yes = 51;
        assert!(p.passes(5_000).unwrap());
        assert!(!p.passes(6_000).unwrap());
        p.no = 0;
        assert!(p.passes(9_999).unwrap());
        (p.yes, p.no) = (0, 0);
        assert!(!p.passes(5_000).unwrap());
        // Quorum: 100 of 1000 at 10%.
        (p.yes, p.abstain) = (60, 40);
        assert!(p.quorum_reached(1_000).unwrap());
        assert!(!p.quorum_reached(1_100).unwrap());
    }
}
