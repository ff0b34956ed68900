use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{sortition, LockedPower, Reputation};

/// A worker machine run by an operator: what it offers, and the stake that backs it.
///
/// Fixed-size fields come first, and the six that settlement changes (`stake` through
/// `reputation`) sit together at [`NODE_LEDGER_OFFSET`], so settling a job reads and writes
/// just those bytes of each node instead of decoding its strings ([`NodeLedger`]).
#[account]
#[derive(InitSpace, Debug)]
pub struct Node {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[NODE_SEED, operator, index LE]`).
    pub bump: u8,
    /// Wallet that registered the node, owns its stake and receives its earnings.
    pub operator: Pubkey,
    /// Index among the operator's nodes (an operator may run several machines).
    pub index: u16,
    /// Region code (0..32) used by jobs' region masks.
    pub region: u8,
    /// Lowest reward per work unit the node accepts (token base units).
    pub min_price_per_unit: u64,
    /// Whether the operator wants new work; a paused node keeps its stake and assignments.
    pub accepting_jobs: bool,
    /// Active stake: counts for eligibility and weight, and is slashable.
    pub stake: u64,
    /// Stake in cooldown after `request_unstake`: no weight, still slashable.
    pub unstaking: u64,
    /// Unix time from which `unstaking` may be withdrawn.
    pub unstake_available_at: i64,
    /// Replica slots held by this node whose jobs have not ended.
    pub open_assignments: u32,
    /// Rewards credited by settlement, held in the stake vault until withdrawn. Never
    /// slashed and not part of the stake.
    pub earnings: u64,
    /// Track record and score, written only by settlement.
    pub reputation: Reputation,
    /// Unix time of registration.
    pub registered_at: i64,
    /// What the machine can run.
    pub hardware: HardwareProfile,
    /// Where the node serves results after their reveal phase (http:// or https://).
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    /// The stake (active and in cooldown) by when it was locked, for governance votes.
    /// Settlement's slashing does not update it: a vote counts at most the stake there is.
    pub gov_power: LockedPower,
    /// Stake cannot be withdrawn before this time: the end of the latest voting period the
    /// operator voted in with this node.
    pub vote_lock_until: i64,
    /// Slot of registration: the node counts only for rounds whose seed became public in a
    /// later slot (a node made after seeing a seed cannot claim in that round).
    pub registered_slot: u64,
    /// Stake added in slot `warming_since_slot` (the latest slot with a `stake`): it does not
    /// count for rounds whose seed became public at or before that slot.
    pub warming_stake: u64,
    /// Slot of the latest `stake` (0: never staked).
    pub warming_since_slot: u64,
    /// The stake of earlier `stake` slots, kept as one older lot counted from the latest of
    /// them (a third distinct slot merges the two older lots: conservative, a top-up may
    /// count a little later than it could, never earlier).
    pub older_warming_stake: u64,
    /// Slot from which `older_warming_stake` counts.
    pub older_warming_since_slot: u64,
    /// Room for fields added by later versions.
    pub reserved: [u8; 8],
}

/// Byte offset of [`NodeLedger`] in a node account: discriminator, version, bump, operator,
/// index, region, min_price_per_unit, accepting_jobs.
pub const NODE_LEDGER_OFFSET: usize = 8 + 1 + 1 + 32 + 2 + 1 + 8 + 1;

/// The part of a [`Node`] that settlement changes, laid out exactly as in the account.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLedger {
    pub stake: u64,
    pub unstaking: u64,
    pub unstake_available_at: i64,
    pub open_assignments: u32,
    pub earnings: u64,
    pub reputation: Reputation,
}

impl NodeLedger {
    /// Stake and stake in cooldown.
    pub fn total_locked(&self) -> Result<u64> {
        self.stake
            .checked_add(self.unstaking)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// All tokens of this node held in the stake vault: stake, cooldown and earnings.
    pub fn vault_balance(&self) -> Result<u64> {
        self.total_locked()?
            .checked_add(self.earnings)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// Takes `bps` of the node's stake (active first, then cooling down) and returns the
    /// amount taken. Earnings are not stake and are never slashed.
    pub fn slash(&mut self, bps: u16) -> Result<u64> {
        let amount = crate::math::mul_bps(self.total_locked()?, u64::from(bps.min(MAX_BPS)));
        let from_stake = amount.min(self.stake);
        self.stake -= from_stake;
        let from_unstaking = amount - from_stake;
        self.unstaking = self
            .unstaking
            .checked_sub(from_unstaking)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        if self.unstaking == 0 {
            self.unstake_available_at = 0;
        }
        Ok(amount)
    }

    pub fn invariant(&self) -> Result<()> {
        self.vault_balance()?;
        require!(
            self.unstaking > 0 || self.unstake_available_at == 0,
            TesseraError::InvariantViolated
        );
        Ok(())
    }

    /// Bytes of the ledger in the account.
    pub const LEN: usize = 8 + 8 + 8 + 4 + 8 + Reputation::LEN;

    /// Reads the ledger of the node account `info` (owner and type checked). Decoded by
    /// hand: settlement does this for every slot, and Borsh's reader costs several times
    /// more compute per field.
    pub fn load(info: &AccountInfo) -> Result<Self> {
        require_keys_eq!(*info.owner, crate::ID, TesseraError::WrongSlotNodes);
        let data = info.try_borrow_data()?;
        require!(
            data.get(..8) == Some(Node::DISCRIMINATOR),
            TesseraError::WrongSlotNodes
        );
        let bytes = data
            .get(NODE_LEDGER_OFFSET..NODE_LEDGER_OFFSET + Self::LEN)
            .ok_or_else(|| error!(TesseraError::WrongSlotNodes))?;
        let mut r = LeReader(bytes);
        Ok(Self {
            stake: r.u64(),
            unstaking: r.u64(),
            unstake_available_at: r.u64() as i64,
            open_assignments: r.u32(),
            earnings: r.u64(),
            reputation: Reputation {
                assigned: r.u32(),
                agreed: r.u32(),
                disagreed: r.u32(),
                no_shows: r.u32(),
                disputes: r.u32(),
                slashed_total: r.u64(),
                earned_total: r.u64(),
                good_evidence: r.u32(),
                bad_evidence: r.u32(),
                score_bps: r.u16(),
            },
        })
    }

    /// Writes the ledger back into the node account `info`.
    pub fn store(&self, info: &AccountInfo) -> Result<()> {
        let mut data = info.try_borrow_mut_data()?;
        let bytes = data
            .get_mut(NODE_LEDGER_OFFSET..NODE_LEDGER_OFFSET + Self::LEN)
            .ok_or_else(|| error!(TesseraError::WrongSlotNodes))?;
        let mut w = LeWriter(bytes);
        let rep = &self.reputation;
        w.put(&self.stake.to_le_bytes());
        w.put(&self.unstaking.to_le_bytes());
        w.put(&self.unstake_available_at.to_le_bytes());
        w.put(&self.open_assignments.to_le_bytes());
        w.put(&self.earnings.to_le_bytes());
        for counter in [
            rep.assigned,
            rep.agreed,
            rep.disagreed,
            rep.no_shows,
            rep.disputes,
        ] {
            w.put(&counter.to_le_bytes());
        }
        w.put(&rep.slashed_total.to_le_bytes());
        w.put(&rep.earned_total.to_le_bytes());
        w.put(&rep.good_evidence.to_le_bytes());
        w.put(&rep.bad_evidence.to_le_bytes());
        w.put(&rep.score_bps.to_le_bytes());
        Ok(())
    }
}

/// Little-endian reads from a slice whose length the caller has checked.
struct LeReader<'a>(&'a [u8]);

impl LeReader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let (head, rest) = self.0.split_at(N.min(self.0.len()));
        out[..head.len()].copy_from_slice(head);
        self.0 = rest;
        out
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
}

/// Sequential writes into a slice whose length the caller has checked.
struct LeWriter<'a>(&'a mut [u8]);

impl LeWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.0.len());
        let (head, rest) = std::mem::take(&mut self.0).split_at_mut(n);
        head.copy_from_slice(&bytes[..n]);
        self.0 = rest;
    }
}

impl Node {
    /// The settlement-relevant fields, as a copy.
    pub fn ledger(&self) -> NodeLedger {
        NodeLedger {
            stake: self.stake,
            unstaking: self.unstaking,
            unstake_available_at: self.unstake_available_at,
            open_assignments: self.open_assignments,
            earnings: self.earnings,
            reputation: self.reputation,
        }
    }

    /// Stake and stake in cooldown.
    pub fn total_locked(&self) -> Result<u64> {
        self.ledger().total_locked()
    }

    /// Operator stake that counts for proposal `proposal_id`: locked before its creation and
    /// still locked (active or in cooldown).
    pub fn voting_power(&self, proposal_id: u64) -> Result<u64> {
        Ok(self
            .gov_power
            .power_for(proposal_id)
            .min(self.total_locked()?))
    }

    /// Sortition weight: active stake × reputation factor.
    pub fn weight(&self) -> u64 {
        sortition::weight(self.stake, self.reputation.weight_factor_bps())
    }

    /// The active stake that counts for a round whose seed became public at `round_slot`:
    /// nothing if the node was registered at or after that slot; otherwise its stake less
    /// what was added at or after it (the warm-up). Stake that predates the randomness is
    /// the only stake that can win a round, so capturing a job needs a real share of the
    /// network's stake, not keys ground after the seed was known.
    pub fn round_stake(&self, round_slot: u64) -> u64 {
        if self.registered_slot >= round_slot {
            return 0;
        }
        let mut warming = 0u64;
        if self.warming_since_slot >= round_slot {
            warming = warming.saturating_add(self.warming_stake);
        }
        if self.older_warming_since_slot >= round_slot {
            warming = warming.saturating_add(self.older_warming_stake);
        }
        self.stake.saturating_sub(warming)
    }

    /// Records `amount` staked in `slot` (after `stake` grew by it) for the warm-up.
    pub fn record_stake(&mut self, amount: u64, slot: u64) {
        if self.warming_stake > 0 && self.warming_since_slot != slot {
            self.older_warming_stake = self
                .older_warming_stake
                .saturating_add(self.warming_stake)
                .min(self.stake);
            self.older_warming_since_slot = self.warming_since_slot;
            self.warming_stake = 0;
        }
        self.warming_stake = self.warming_stake.saturating_add(amount).min(self.stake);
        self.warming_since_slot = slot;
    }

    /// Sortition weight for a round whose seed became public at `round_slot`.
    pub fn round_weight(&self, round_slot: u64) -> u64 {
        sortition::weight(
            self.round_stake(round_slot),
            self.reputation.weight_factor_bps(),
        )
    }

    pub fn invariant(&self) -> Result<()> {
        self.ledger().invariant()?;
        self.hardware.validate()?;
        validate_region(self.region)?;
        validate_endpoint(&self.endpoint)?;
        Ok(())
    }
}

/// GPU machine or CPU-only machine.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum HardwareKind {
    CpuOnly,
    Gpu,
}

/// The hardware a node declares; jobs' requirements are matched against it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct HardwareProfile {
    /// GPU or CPU-only.
    pub kind: HardwareKind,
    /// GPU model label (empty for CPU-only), printable ASCII.
    #[max_len(MAX_GPU_MODEL_LEN)]
    pub gpu_model: String,
    /// GPU memory in MiB (0 for CPU-only).
    pub vram_mib: u32,
    /// CUDA compute capability as major * 10 + minor, e.g. 90 (0 for CPU-only).
    pub compute_capability: u16,
    /// CPU cores available to the worker.
    pub cpu_cores: u16,
}

impl HardwareProfile {
    pub fn validate(&self) -> Result<()> {
        require!(self.cpu_cores >= 1, TesseraError::InvalidCpuCores);
        match self.kind {
            HardwareKind::CpuOnly => require!(
                self.gpu_model.is_empty() && self.vram_mib == 0 && self.compute_capability == 0,
                TesseraError::InvalidHardwareProfile
            ),
            HardwareKind::Gpu => {
                require!(
                    !self.gpu_model.is_empty()
                        && self.gpu_model.len() <= MAX_GPU_MODEL_LEN
                        && self.gpu_model.bytes().all(|b| (0x20..0x7f).contains(&b)),
                    TesseraError::InvalidGpuModel
                );
                require!(
                    self.vram_mib > 0
                        && (MIN_COMPUTE_CAPABILITY..=MAX_COMPUTE_CAPABILITY)
                            .contains(&self.compute_capability),
                    TesseraError::InvalidHardwareProfile
                );
            }
        }
        Ok(())
    }
}

pub fn validate_region(region: u8) -> Result<()> {
    require!(region < REGION_COUNT, TesseraError::InvalidRegion);
    Ok(())
}

pub fn validate_endpoint(endpoint: &str) -> Result<()> {
    let has_scheme = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty());
    require!(
        has_scheme
            && endpoint.len() <= MAX_ENDPOINT_LEN
            && endpoint.bytes().all(|b| (0x21..0x7f).contains(&b)),
        TesseraError::InvalidEndpoint
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_sits_at_its_offset_in_the_account() {
        let mut reputation = Reputation::default();
        reputation
            .record(crate::state::Verdict::Agreed, 7, 0)
            .unwrap();
        let node = Node {
            version: ACCOUNT_VERSION,
            bump: 254,
            operator: Pubkey::new_unique(),
            index: 3,
            region: 9,
            min_price_per_unit: 11,
            accepting_jobs: true,
            stake: 1_000,
            unstaking: 200,
            unstake_available_at: 99,
            open_assignments: 4,
            earnings: 7,
            reputation,
            registered_at: 5,
            hardware: HardwareProfile {
                kind: HardwareKind::Gpu,
                gpu_model: "NVIDIA H200".into(),
                vram_mib: 1,
                compute_capability: 90,
                cpu_cores: 2,
            },
            endpoint: "https://a.example".into(),
            gov_power: LockedPower::default(),
            vote_lock_until: 0,
            registered_slot: 0,
            warming_stake: 0,
            warming_since_slot: 0,
            older_warming_stake: 0,
            older_warming_since_slot: 0,
            reserved: [0; 8],
        };
        let mut account = Vec::new();
        node.try_serialize(&mut account).unwrap();
        let mut ledger = Vec::new();
        node.ledger().serialize(&mut ledger).unwrap();
        assert_eq!(
            &account[NODE_LEDGER_OFFSET..NODE_LEDGER_OFFSET + ledger.len()],
            &ledger[..]
        );
        assert_eq!(ledger.len(), NodeLedger::LEN);

        // The hand-written codec reads and writes exactly those bytes.
        let (key, owner) = (Pubkey::new_unique(), crate::ID);
        let mut lamports = 1;
        let info = AccountInfo::new(
            &key,
            false,
            true,
            &mut lamports,
            &mut account,
            &owner,
            false,
        );
        let mut read = NodeLedger::load(&info).unwrap();
        assert_eq!(read, node.ledger());
        read.stake = 1;
        read.reputation
            .record(crate::state::Verdict::NoShow, 0, 999)
            .unwrap();
        read.store(&info).unwrap();
        let back = Node::try_deserialize(&mut &info.try_borrow_data().unwrap()[..]).unwrap();
        assert_eq!(back.ledger(), read);
        assert_eq!(
            (back.registered_at, back.endpoint.as_str()),
            (5, "https://a.example")
        );
        // Anything but a node of this program is refused.
        let stranger = Pubkey::new_unique();
        let mut data = info.try_borrow_data().unwrap().to_vec();
        let mut lamports = 1;
        let foreign = AccountInfo::new(
            &key,
            false,
            true,
            &mut lamports,
            &mut data,
            &stranger,
            false,
        );
        assert!(NodeLedger::load(&foreign).is_err());
    }
}
