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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_node_scores_half_and_evidence_moves_it_both_ways() {
        let fresh = Reputation::default();
        assert_eq!(fresh.score_bps, 5_000);
        assert_eq!(
            fresh.weight_factor_bps(),
            10_000,
            "a new node weighs its stake"
        );
        let mut good = fresh;
        let mut last = good.score_bps;
        for _ in 0..40 {
            good.record(Verdict::Agreed, 10, 0).unwrap();
            assert!(good.score_bps >= last, "agreement never lowers the score");
            last = good.score_bps;
        }
        assert!(good.score_bps > 9_000, "{}", good.score_bps);
        assert!(
            good.weight_factor_bps() <= 20_000,
            "at most twice its stake"
        );
        let mut bad = fresh;
        for verdict in [Verdict::Disagreed, Verdict::NoShow] {
            let before = bad.score_bps;
            bad.record(verdict, 0, 5).unwrap();
            assert!(bad.score_bps < before, "{verdict:?} lowers the score");
        }
        // A dispute without a majority is counted but is evidence neither way.
        let before = good;
        good.record(Verdict::Dispute, 0, 0).unwrap();
        assert_eq!(good.score_bps, before.score_bps);
        assert_eq!(good.disputes, 1);
        assert_eq!(good.assigned, before.assigned + 1);
        assert_eq!((good.agreed, good.earned_total), (40, 400));
        assert_eq!((bad.disagreed, bad.no_shows, bad.slashed_total), (1, 1, 10));
    }

    #[test]
    fn old_behaviour_fades_and_evidence_stays_bounded() {
        // A node that cheated 50 times, then worked honestly 100 times, ends near a flawless
        // node: evidence has a memory of about 16 jobs.
        let mut r = Reputation::default();
        for _ in 0..50 {
            r.record(Verdict::Disagreed, 0, 0).unwrap();
        }
        assert!(r.score_bps < 1_000, "{}", r.score_bps);
        for _ in 0..100 {
            r.record(Verdict::Agreed, 0, 0).unwrap();
        }
        assert!(r.score_bps > 9_000, "{}", r.score_bps);
        assert!(r.good_evidence <= 16 * EVIDENCE_UNIT && r.bad_evidence <= 16 * EVIDENCE_UNIT);
        // score_bps is a Beta mean: within [0, 10000] for any evidence.
        for (g, b) in [(0, 0), (u32::MAX, 0), (0, u32::MAX), (u32::MAX, u32::MAX)] {
            assert!(score_bps(g, b) <= 10_000);
        }
    }

    #[test]
    fn counters_that_would_overflow_are_refused() {
        let mut r = Reputation {
            earned_total: u64::MAX,
            ..Reputation::default()
        };
        assert!(r.record(Verdict::Agreed, 1, 0).is_err());
        let mut r = Reputation {
            assigned: u32::MAX,
            ..Reputation::default()
        };
        assert!(r.record(Verdict::Agreed, 0, 0).is_err());
    }
}
