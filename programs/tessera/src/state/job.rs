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
    /// Escalation replicas whose reward the escrow holds as the dispute reserve (the
    /// network's `escalation_replicas` when the job was posted).
    pub escalation_replicas: u8,
    /// Sortition seed of the current round (see `state::sortition`).
    pub seed: [u8; 32],
    /// Whether the job is in its escalation round.
    pub escalated: bool,
    /// Unix time the current round started (posting, or escalation).
    pub round_started_at: i64,
    /// End of the current round's commit phase; claims also close then.
    pub commit_deadline: i64,
    /// End of the current round's reveal phase.
    pub reveal_deadline: i64,
    /// Replica slots in claim order: the first round's, then the escalation round's.
    #[max_len(MAX_SLOTS)]
    pub slots: Vec<Slot>,
    /// The accepted result root, once settled.
    pub result_root: Option<[u8; 32]>,
    /// Lifecycle state.
    pub status: JobStatus,
    /// Spot checking: `None` for a full-redundancy job; otherwise whether its audit is still
    /// to be drawn, was skipped, or was drawn.
    pub audit: AuditState,
    /// Audit probability in basis points (the network's `audit_bps` when posted).
    pub audit_bps: u16,
    /// Auditor replicas drawn if audited (the network's `audit_replicas` when posted).
    pub audit_replicas: u8,
    /// Audit fee the submitter prepaid (held in the escrow until settlement; charged once
    /// the audit has been drawn).
    pub audit_fee: u64,
    /// Until the draw, the slot whose hash (or the first later one on chain) draws the audit:
    /// the worker's commit slot plus [`AUDIT_DELAY_SLOTS`] (0 until the worker commits).
    /// After the draw, the slot whose hash decided. When the first audit slot aged out of
    /// SlotHashes, the audit is forced and this is re-armed to a later slot whose hash seeds
    /// the auditors.
    pub audit_slot: u64,
    /// Index of the first slot of the current round: 0 in the first round, the number of
    /// first-round slots once escalated (a round's slots are explicit, however many of the
    /// first round's were claimed).
    pub round_start: u8,
    /// Slot at which the current round's seed became public (posting, escalation, audit
    /// draw). Only nodes registered, and stake locked, before this slot count for the
    /// round's claims and priority (see [`crate::state::Node::round_stake`]).
    pub round_slot: u64,
    /// The network's rates when the job was posted; settlement applies these, so a later
    /// governance change never applies retroactively to an open job.
    pub rates: JobRates,
    /// Whether the audit was forced (its draw slot aged out of SlotHashes): the audit seed
    /// is then drawn from a fresh slot's hash, and the treasury does not subsidize it.
    pub audit_forced: bool,
    /// Whether disagreements are refereed (the kernel was in `refereed_kernels` when posted):
    /// different roots are then decided by dispute games between their backers, not by votes.
    pub refereed: bool,
    /// The dispute of a refereed job, once its revealed roots differed.
    pub dispute: Dispute,
    /// Room for fields added by later versions.
    pub reserved: [u8; 1],
}

/// The games of a refereed job whose revealed roots differ (docs/disputes.md): every pair of
/// slots with different computed roots plays one; a slot that loses any game is eliminated.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct Dispute {
    /// Unix time settlement found the roots different (0: no dispute).
    pub started_at: i64,
    /// Until when its games may be opened (`game_open_window_secs` after the start).
    pub open_until: i64,
    /// Games opened and not yet over.
    pub games_open: u8,
    /// Pairs whose game was opened (bit [`Dispute::pair_bit`]); a pair plays once.
    pub games_opened: u32,
    /// Slots that lost a game (bit = slot index).
    pub lost: u8,
    /// The root accepted and open to challenges until `challenge_until` (zeros: none yet).
    pub proposed_root: [u8; 32],
    /// End of the challenge window of `proposed_root` (0: no window opened).
    pub challenge_until: i64,
    /// Slots that had lost a game when the window opened: eliminated, they play no more.
    pub eliminated: u8,
    /// Challengers' slots, the last ones of the job (see `challenge`).
    pub challengers: u8,
}

impl Dispute {
    /// The bit of the pair of slots `a < b` (at most 28 pairs of 8 slots).
    pub fn pair_bit(a: usize, b: usize) -> u32 {
        1u32 << ((b * (b - 1) / 2 + a) % 32)
    }

    pub fn is_started(&self) -> bool {
        self.started_at != 0
    }

    /// Whether the game of slots `a < b` has been opened.
    pub fn opened(&self, a: usize, b: usize) -> bool {
        self.games_opened & Self::pair_bit(a, b) != 0
    }

    /// Whether slot `index` lost a game.
    pub fn has_lost(&self, index: usize) -> bool {
        index < 8 && self.lost & (1u8 << index) != 0
    }

    /// Whether slot `index` was eliminated before the current challenge window.
    pub fn is_eliminated(&self, index: usize) -> bool {
        index < 8 && self.eliminated & (1u8 << index) != 0
    }

    /// Whether the accepted root may be challenged at `now`.
    pub fn challenge_open(&self, now: i64) -> bool {
        self.challenge_until != 0 && now < self.challenge_until
    }
}

/// The rates settlement applies to a job, frozen from the network's parameters at posting.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct JobRates {
    /// Share of each paid reward that goes to the treasury.
    pub protocol_fee_bps: u16,
    /// Share of a node's stake slashed for a provably wrong result.
    pub slash_bps: u16,
    /// Share of a node's stake slashed for claiming and never revealing.
    pub no_show_bps: u16,
    /// Share of the reward paid to each replica that agreed the input was unavailable.
    pub unavailable_comp_bps: u16,
    /// Share of the penalties taken at expiry paid to whoever expires the job.
    pub expiry_bounty_bps: u16,
    /// Share of the penalties paid to the challengers whose root won.
    pub challenge_reward_bps: u16,
}

impl JobRates {
    /// The rates of `params`.
    pub fn of(params: &crate::state::Params) -> Self {
        Self {
            protocol_fee_bps: params.protocol_fee_bps,
            slash_bps: params.slash_bps,
            no_show_bps: params.no_show_bps,
            unavailable_comp_bps: params.unavailable_comp_bps,
            expiry_bounty_bps: params.expiry_bounty_bps,
            challenge_reward_bps: params.challenge_reward_bps,
        }
    }
}

impl Job {
    /// Tokens a job escrows: its replicas' rewards, the audit reserve (`audit_replicas`
    /// rewards) and audit fee of a spot-check job, and the dispute reserve.
    pub fn full_escrow(
        replicas: u8,
        audit_replicas: u8,
        escalation_replicas: u8,
        reward: u64,
        audit_fee: u64,
    ) -> Result<u64> {
        (u64::from(replicas) + u64::from(audit_replicas) + u64::from(escalation_replicas))
            .checked_mul(reward)
            .and_then(|rewards| rewards.checked_add(audit_fee))
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// Whether the job was posted in spot-check mode.
    pub fn is_spot_check(&self) -> bool {
        self.audit != AuditState::None
    }

    /// Slots of the first round: the replicas, plus the auditors once an audit is drawn (the
    /// audit extends the first round: the worker and its auditors reveal together).
    pub fn first_round_capacity(&self) -> usize {
        let auditors = if self.audit == AuditState::Drawn {
            usize::from(self.audit_replicas)
        } else {
            0
        };
        usize::from(self.replicas) + auditors
    }

    /// Slots the current round holds at most.
    pub fn round_capacity(&self) -> u8 {
        if self.escalated {
            self.escalation_replicas
        } else {
            // At most 1 + audit_replicas ≤ 8 (Params::validate).
            u8::try_from(self.first_round_capacity()).unwrap_or(u8::MAX)
        }
    }

    /// Index of the first slot of the current round.
    pub fn round_start_index(&self) -> usize {
        usize::from(self.round_start)
    }

    /// Index of the first challenger's slot (`slots.len()` when nobody challenged): the
    /// slots before it were claimed in rounds.
    pub fn challenger_start_index(&self) -> usize {
        self.slots
            .len()
            .saturating_sub(usize::from(self.dispute.challengers))
    }

    /// Whether slot `index` is a challenger's (it was not claimed, and is paid no reward).
    pub fn is_challenger(&self, index: usize) -> bool {
        index >= self.challenger_start_index()
    }

    /// Index of the first escalation slot (the first challenger's, or `slots.len()`, before
    /// escalation): slots from here on until the challengers' were paid from the dispute
    /// reserve.
    pub fn escalation_start_index(&self) -> usize {
        if self.escalated {
            self.round_start_index()
        } else {
            self.challenger_start_index()
        }
    }

    /// Whether a committed slot of the current round may reveal now: every slot of the round
    /// has committed or its commit phase is over, and a spot-check job's audit has been drawn
    /// (a worker's root stays hidden until its auditors have committed).
    pub fn reveal_open(&self, now: i64) -> bool {
        self.audit != AuditState::Pending
            && (self.round_all(SlotState::Committed) || now >= self.commit_deadline)
    }

    /// The current round's slots (challengers' are in no round).
    pub fn round_slots(&self) -> &[Slot] {
        self.slots
            .get(self.round_start_index()..self.challenger_start_index())
            .unwrap_or(&[])
    }

    /// Whether the current round has every slot claimed and in at least `state`.
    pub fn round_all(&self, state: SlotState) -> bool {
        let slots = self.round_slots();
        slots.len() == usize::from(self.round_capacity()) && slots.iter().all(|s| s.state >= state)
    }

    /// Position of `node`'s slot in the current round.
    pub fn round_slot_of(&self, node: &Pubkey) -> Option<usize> {
        let start = self.round_start_index();
        self.round_slots()
            .iter()
            .position(|s| s.node == *node)
            .map(|i| i + start)
    }

    /// The root a slot revealed, if it is a computed result (not "input unavailable").
    pub fn computed_root(&self, index: usize) -> Option<[u8; 32]> {
        self.slots
            .get(index)
            .filter(|s| s.state == SlotState::Revealed && s.root != INPUT_UNAVAILABLE_ROOT)
            .map(|s| s.root)
    }

    /// Whether slots `a` and `b` must play a game: both revealed computed roots, the roots
    /// differ, and neither was eliminated before a challenge window (a slot that lost stays
    /// lost; its challengers play the root still standing).
    pub fn disputes(&self, a: usize, b: usize) -> bool {
        if self.dispute.is_eliminated(a) || self.dispute.is_eliminated(b) {
            return false;
        }
        match (self.computed_root(a), self.computed_root(b)) {
            (Some(x), Some(y)) => a < b && x != y,
            _ => false,
        }
    }

    /// The pairs of slots (`a < b`) that must play a game.
    pub fn disputed_pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.slots.len())
            .flat_map(|b| (0..b).map(move |a| (a, b)))
            .filter(|(a, b)| self.disputes(*a, *b))
    }

    /// Whether a refereed job's revealed computed roots differ: settlement opens a dispute.
    pub fn needs_games(&self) -> bool {
        self.refereed && self.disputed_pairs().next().is_some()
    }

    /// Whether a started dispute may be settled at `now`: no game is in play, and every
    /// disputing pair has opened its game or the open window has closed.
    pub fn dispute_settleable(&self, now: i64) -> bool {
        self.dispute.games_open == 0
            && (now >= self.dispute.open_until
                || self
                    .disputed_pairs()
                    .all(|(a, b)| self.dispute.opened(a, b)))
    }

    pub fn is_open(&self) -> bool {
        self.status == JobStatus::Open
    }

    pub fn invariant(&self) -> Result<()> {
        let capacity = self.first_round_capacity() + usize::from(self.escalation_replicas);
        let claimed = self.challenger_start_index();
        require!(
            claimed <= capacity && capacity <= MAX_SLOTS && self.slots.len() <= MAX_SLOTS,
            TesseraError::InvariantViolated
        );
        require!(
            self.escalated || claimed <= self.first_round_capacity(),
            TesseraError::InvariantViolated
        );
        // Challengers come only while a window is (or was) open, with a computed root.
        require!(
            self.dispute.challengers == 0
                || (self.dispute.challenge_until != 0
                    && usize::from(self.dispute.challengers) <= self.slots.len()
                    && (claimed..self.slots.len()).all(|i| self.computed_root(i).is_some())),
            TesseraError::InvariantViolated
        );
        // The current round starts at 0 (first round) or where the first round's claims
        // ended (escalation), and never holds more than its capacity.
        let start = self.round_start_index();
        require!(
            (self.escalated || start == 0)
                && start <= self.first_round_capacity()
                && start <= claimed
                && claimed - start <= usize::from(self.round_capacity()),
            TesseraError::InvariantViolated
        );
        require!(
            self.is_spot_check() || (self.audit_replicas == 0 && self.audit_fee == 0),
            TesseraError::InvariantViolated
        );
        let full = Self::full_escrow(
            self.replicas,
            self.audit_replicas,
            self.escalation_replicas,
            self.reward_per_replica,
            self.audit_fee,
        )?;
        require!(self.escrow <= full, TesseraError::InvariantViolated);
        require!(
            self.round_started_at <= self.commit_deadline
                && self.commit_deadline <= self.reveal_deadline,
            TesseraError::InvariantViolated
        );
        Ok(())
    }
}

/// One replica's place in a job.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Slot {
    /// The node that claimed it.
    pub node: Pubkey,
    /// That node's operator (one slot per operator per job).
    pub operator: Pubkey,
    /// Unix time of the claim.
    pub claimed_at: i64,
    /// `sha256(result_root ‖ node ‖ salt)`, once committed.
    pub commitment: [u8; 32],
    /// The revealed result root ([`INPUT_UNAVAILABLE_ROOT`] for "input unavailable").
    pub root: [u8; 32],
    pub state: SlotState,
}

/// Progress of one slot; ordered, so `state >= Committed` means "committed or revealed".
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    InitSpace,
)]
pub enum SlotState {
    Claimed,
    Committed,
    Revealed,
}

/// Content-addressed input reference.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct InputRef {
    /// Root of the input bytes (the commitment tree of `tessera_step::tree`, so a dispute can
    /// open any one operand); workers refuse input that does not match.
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

/// The audit of a spot-check job.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum AuditState {
    /// Not a spot-check job (full redundancy).
    None,
    /// Spot-check job whose audit is not drawn yet (its worker has not committed, or nobody
    /// has called `draw_audit` since).
    Pending,
    /// The draw decided against an audit: the worker's result stands alone.
    Skipped,
    /// The draw decided for an audit: `audit_replicas` auditors join the first round.
    Drawn,
}

/// Where a job is in its life. Terminal states carry their reason.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobStatus {
    /// Posted and funded; its current round claims, commits and reveals.
    Open,
    /// Over; the escrow has been paid out or refunded.
    Ended { at: i64, reason: JobEndReason },
}

/// Why a job ended.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobEndReason {
    /// The submitter cancelled it before any replica was claimed; fully refunded.
    CancelledBySubmitter,
    /// A result root won (unanimously, by the referee's games, or by strict majority after
    /// escalation for a job that is not refereed).
    Accepted,
    /// The replicas agreed the input was unavailable or invalid.
    InputUnavailable,
    /// Escalation ended without a strict majority; the submitter is refunded.
    NoQuorum,
    /// Nobody revealed a result; the submitter is refunded.
    NoResult,
    /// A refereed job whose every result lost a dispute game; the submitter is refunded.
    Refuted,
}
