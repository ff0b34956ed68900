//! How a job's reveals become an outcome, and what each slot is owed or owes. Pure functions
//! over the job and its nodes; `instructions::settle` moves the tokens.
use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{AuditState, Job, JobEndReason, JobRates, NodeLedger, SlotState, Verdict};

/// What settling the current round leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The first round disagreed (or too few agreed): draw the escalation replicas.
    Escalate,
    /// The job ends. `winner` is the winning root for `Accepted` and `InputUnavailable`.
    Final {
        reason: JobEndReason,
        winner: Option<[u8; 32]>,
    },
}

fn final_for(root: [u8; 32]) -> Decision {
    let reason = if root == INPUT_UNAVAILABLE_ROOT {
        JobEndReason::InputUnavailable
    } else {
        JobEndReason::Accepted
    };
    Decision::Final {
        reason,
        winner: Some(root),
    }
}

/// The root revealed by a strict majority of all reveals, if any.
pub fn majority(roots: &[[u8; 32]]) -> Option<[u8; 32]> {
    roots.iter().copied().find(|candidate| {
        let count = roots.iter().filter(|r| *r == candidate).count();
        2 * count > roots.len()
    })
}

/// Decides the job's outcome from its revealed roots.
///
/// First round (with a spot-check job's auditors when audited): no reveal → `NoResult`; all
/// reveals equal and more than half of the round's slots revealed → that root wins; otherwise escalate (or, with no escalation replicas, take a
/// strict majority of the reveals). Escalation round: a strict majority of every reveal of
/// both rounds wins, else `NoQuorum`.
pub fn decide(job: &Job) -> Decision {
    if job.dispute.is_started() {
        return refereed(job);
    }
    let roots: Vec<[u8; 32]> = job
        .slots
        .iter()
        .filter(|s| s.state == SlotState::Revealed)
        .map(|s| s.root)
        .collect();
    let Some(first) = roots.first().copied() else {
        return Decision::Final {
            reason: JobEndReason::NoResult,
            winner: None,
        };
    };
    if !job.escalated {
        let unanimous = roots.iter().all(|r| *r == first);
        if unanimous && 2 * roots.len() > job.first_round_capacity() {
            return final_for(first);
        }
        if job.escalation_replicas > 0 {
            return Decision::Escalate;
        }
    }
    match majority(&roots) {
        Some(root) => final_for(root),
        None => Decision::Final {
            reason: JobEndReason::NoQuorum,
            winner: None,
        },
    }
}

/// A refereed job's outcome after its games: the computed root whose every backer lost no
/// game (two different roots always played each other, or counted as both lost, so at most
/// one root is left unbeaten); if none is, every result lost and the submitter is refunded.
pub fn refereed(job: &Job) -> Decision {
    let unbeaten = |root: [u8; 32]| {
        (0..job.slots.len())
            .filter(|i| job.computed_root(*i) == Some(root))
            .all(|i| !job.dispute.has_lost(i))
    };
    match (0..job.slots.len())
        .filter_map(|i| job.computed_root(i))
        .find(|root| unbeaten(*root))
    {
        Some(root) => final_for(root),
        None => Decision::Final {
            reason: JobEndReason::Refuted,
            winner: None,
        },
    }
}

/// Marks both slots of every disputing pair whose game nobody opened as lost: a node that
/// does not defend its root loses it, and a pair cannot avoid the referee by not playing.
pub fn forfeit_unopened(job: &mut Job) {
    let unopened: u8 = job
        .disputed_pairs()
        .filter(|(a, b)| !job.dispute.opened(*a, *b))
        .fold(0, |lost, (a, b)| lost | (1u8 << a) | (1u8 << b));
    job.dispute.lost |= unopened;
}

/// What one slot gets and loses at the end of a job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotOutcome {
    /// Paid out of the escrow before the fee (reward or compensation).
    pub gross: u64,
    /// The protocol fee on `gross`.
    pub fee: u64,
    /// Taken from the node's stake.
    pub penalty: u64,
}

/// `amount × bps / 10000`, rounded down.
pub fn bps_of(amount: u64, bps: u16) -> u64 {
    crate::math::mul_bps(amount, u64::from(bps))
}

/// The rates one slot of a job is settled at: the job's frozen rates, adjusted for a
/// spot-check job. `state` is the slot's state at settlement.
pub fn slot_terms(job: &Job, index: usize, state: SlotState) -> JobRates {
    let mut terms = job.rates;
    if !job.is_spot_check() {
        return terms;
    }
    if job.audit != AuditState::Drawn {
        // An unaudited claim that the input was unavailable is unverified: not compensated.
        terms.unavailable_comp_bps = 0;
    }
    if index < usize::from(job.replicas) && state == SlotState::Committed {
        // The worker committed, then never revealed: slashed as a wrong result, whatever the
        // audit's state. After its commit every path (not drawing the audit, withholding the
        // reveal once audited, delaying past the deadline) must cost it at least as much as
        // being audited with a wrong root, or the draw would be a free option.
        terms.no_show_bps = terms.slash_bps;
    }
    terms
}

/// What the end of a job means for one slot, before it touches the node: the one definition
/// of payouts and penalties, used by settlement and by every off-chain reader (the worker's
/// accounting), so the two cannot drift apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotPayout {
    pub verdict: Verdict,
    /// Paid out of the escrow before the fee (reward or compensation).
    pub gross: u64,
    /// The protocol fee on `gross`.
    pub fee: u64,
    /// Share of the node's stake (active, then in cooldown) taken, in basis points.
    pub penalty_bps: u16,
}

impl SlotPayout {
    /// What the node is credited: `gross − fee`.
    pub fn net(&self) -> u64 {
        self.gross - self.fee
    }
}

/// The payout of one slot: `revealed` is its root if it revealed, `winner` the root that won
/// (`Accepted`, `InputUnavailable`), `rates` the slot's terms ([`slot_terms`]), `lost_game`
/// whether it lost a dispute game (a refereed job).
pub fn slot_payout(
    revealed: Option<[u8; 32]>,
    reason: JobEndReason,
    winner: Option<[u8; 32]>,
    reward: u64,
    rates: &JobRates,
    lost_game: bool,
) -> SlotPayout {
    let (verdict, gross, penalty_bps) = match (revealed, reason) {
        (None, _) => (Verdict::NoShow, 0, rates.no_show_bps),
        // The referee found its result wrong (or it did not defend it).
        (Some(_), _) if lost_game => (Verdict::Disagreed, 0, rates.slash_bps),
        (Some(_), JobEndReason::NoQuorum | JobEndReason::Refuted) => (Verdict::Dispute, 0, 0),
        (Some(root), _) if Some(root) == winner => {
            let gross = if reason == JobEndReason::InputUnavailable {
                bps_of(reward, rates.unavailable_comp_bps)
            } else {
                reward
            };
            (Verdict::Agreed, gross, 0)
        }
        (Some(root), _) => {
            // Only a wrong result is a provable fault: claiming the input was unavailable
            // while others fetched it, or computing when the majority could not, is not.
            let penalty = if reason == JobEndReason::Accepted && root != INPUT_UNAVAILABLE_ROOT {
                rates.slash_bps
            } else {
                0
            };
            (Verdict::Disagreed, 0, penalty)
        }
    };
    SlotPayout {
        verdict,
        gross,
        fee: bps_of(gross, rates.protocol_fee_bps),
        penalty_bps,
    }
}

/// Applies the final outcome to one slot's node (stake, earnings, reputation, assignments)
/// and returns what moved.
pub fn settle_slot(
    node: &mut NodeLedger,
    revealed: Option<[u8; 32]>,
    reason: JobEndReason,
    winner: Option<[u8; 32]>,
    reward: u64,
    rates: &JobRates,
    lost_game: bool,
) -> Result<(SlotOutcome, Verdict)> {
    let payout = slot_payout(revealed, reason, winner, reward, rates, lost_game);
    let verdict = payout.verdict;
    let mut out = SlotOutcome {
        gross: payout.gross,
        fee: payout.fee,
        penalty: 0,
    };
    if payout.penalty_bps > 0 {
        out.penalty = node.slash(payout.penalty_bps)?;
    }
    let net = out.gross - out.fee;
    node.earnings = node
        .earnings
        .checked_add(net)
        .ok_or(TesseraError::MathOverflow)?;
    node.open_assignments = node
        .open_assignments
        .checked_sub(1)
        .ok_or(TesseraError::InvariantViolated)?;
    node.reputation.record(verdict, net, out.penalty)?;
    node.invariant()?;
    Ok((out, verdict))
}

#[cfg(test)]
mod tests;
