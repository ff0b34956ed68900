use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;

/// A node's track record, written only by settlement.
///
/// The score is the mean of a Beta(1, 1) prior updated with decayed evidence:
/// `score = (good + 1) / (good + bad + 2)`, where every settlement first keeps 15/16 of the
/// old evidence and then adds one observation (agreed with the accepted result: good;
/// disagreed with it, or claimed and never revealed: bad). Old behaviour fades with an
/// effective memory of about 16 jobs; a new node scores 0.5. Disputes without a majority
/// (`NoQuorum`) are counted but are evidence neither way.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Reputation {
    /// Replica slots this node held in settled jobs.
    pub assigned: u32,
    /// Slots where it revealed the winning result.
    pub agreed: u32,
    /// Slots where it revealed something other than the winning result.
    pub disagreed: u32,
    /// Slots it claimed and never revealed.
    pub no_shows: u32,
    /// Slots in jobs that ended without a majority.
    pub disputes: u32,
    /// Stake taken from it by slashing and no-show penalties, in token base units.
    pub slashed_total: u64,
    /// Rewards credited to it after the protocol fee, in token base units.
    pub earned_total: u64,
    /// Decayed good evidence, in thousandths of an observation.
    pub good_evidence: u32,
    /// Decayed bad evidence, in thousandths of an observation.
    pub bad_evidence: u32,
    /// Beta-mean score in basis points (5000 for a new node).
    pub score_bps: u16,
}

/// What one settled slot says about the node that held it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agreed,
    Disagreed,
    NoShow,
    Dispute,
}

impl Default for Reputation {
    fn default() -> Self {
        Self {
            assigned: 0,
            agreed: 0,
            disagreed: 0,
            no_shows: 0,
            disputes: 0,
            slashed_total: 0,
            earned_total: 0,
            good_evidence: 0,
            bad_evidence: 0,
            score_bps: score_bps(0, 0),
        }
    }
}

/// `10000 × (good + 1) / (good + bad + 2)` with evidence in thousandths.
pub fn score_bps(good_evidence: u32, bad_evidence: u32) -> u16 {
    let good = u64::from(good_evidence) + u64::from(EVIDENCE_UNIT);
    let all = u64::from(good_evidence) + u64::from(bad_evidence) + 2 * u64::from(EVIDENCE_UNIT);
    // good <= all, so the quotient is at most 10000.
    (good * u64::from(MAX_BPS) / all) as u16
}

fn decay(evidence: u32) -> u32 {
    // Bounded: evidence never exceeds 16 units (16,000), so this cannot overflow.
    evidence / EVIDENCE_DECAY_DEN * EVIDENCE_DECAY_NUM
        + evidence % EVIDENCE_DECAY_DEN * EVIDENCE_DECAY_NUM / EVIDENCE_DECAY_DEN
}

impl Reputation {
    /// Borsh size: five u32 counters, two u64 totals, two u32 evidences, one u16 score.
    pub const LEN: usize = 5 * 4 + 2 * 8 + 2 * 4 + 2;

    /// Records one settled slot.
    pub fn record(&mut self, verdict: Verdict, earned: u64, slashed: u64) -> Result<()> {
        let overflow = || error!(TesseraError::MathOverflow);
        self.assigned = self.assigned.checked_add(1).ok_or_else(overflow)?;
        self.earned_total = self.earned_total.checked_add(earned).ok_or_else(overflow)?;
        self.slashed_total = self
            .slashed_total
            .checked_add(slashed)
            .ok_or_else(overflow)?;
        let (counter, good, bad) = match verdict {
            Verdict::Agreed => (&mut self.agreed, EVIDENCE_UNIT, 0),
            Verdict::Disagreed => (&mut self.disagreed, 0, EVIDENCE_UNIT),
            Verdict::NoShow => (&mut self.no_shows, 0, EVIDENCE_UNIT),
            Verdict::Dispute => (&mut self.disputes, 0, 0),
        };
        *counter = counter.checked_add(1).ok_or_else(overflow)?;
        if verdict != Verdict::Dispute {
            self.good_evidence = decay(self.good_evidence) + good;
            self.bad_evidence = decay(self.bad_evidence) + bad;
        }
        self.score_bps = score_bps(self.good_evidence, self.bad_evidence);
        Ok(())
    }

    /// Multiplier of a node's stake in the sortition weight, in basis points: twice the
    /// score, so a new node weighs its stake (10000), a flawless one up to twice its stake,
    /// and one that keeps failing tends to zero.
    pub fn weight_factor_bps(&self) -> u64 {
        2 * u64::from(self.score_bps)
    }
}
