//! Settlement's decisions and payouts, on jobs built in memory (no bank): who wins a round,
//! when it escalates, what the referee's games leave standing, and what each slot is paid or
//! loses.
use super::*;
use crate::test_fixtures::{job, ledger, rates, with_reveals, REWARD};

const A: [u8; 32] = [0xa; 32];
const B: [u8; 32] = [0xb; 32];
const C: [u8; 32] = [0xc; 32];

fn accepted(root: [u8; 32]) -> Decision {
    Decision::Final {
        reason: JobEndReason::Accepted,
        winner: Some(root),
    }
}

fn ended(reason: JobEndReason) -> Decision {
    Decision::Final {
        reason,
        winner: None,
    }
}

#[test]
fn a_strict_majority_of_all_reveals_or_none() {
    assert_eq!(majority(&[A, A, B]), Some(A));
    assert_eq!(majority(&[A, B]), None, "a tie is no majority");
    assert_eq!(majority(&[A, B, C]), None);
    assert_eq!(majority(&[A, A, B, B]), None);
    assert_eq!(majority(&[]), None);
}

#[test]
fn a_first_round_is_accepted_only_unanimous_and_with_more_than_half_revealed() {
    let r3 = || job(3, 2);
    assert_eq!(decide(&with_reveals(r3(), &[Some(A); 3])), accepted(A));
    // Two of three revealed, both the same: more than half of the round.
    assert_eq!(
        decide(&with_reveals(r3(), &[Some(A), Some(A), None])),
        accepted(A)
    );
    // One of three is not enough: escalate.
    assert_eq!(
        decide(&with_reveals(r3(), &[Some(A), None, None])),
        Decision::Escalate
    );
    // Any disagreement escalates, even with a majority.
    assert_eq!(
        decide(&with_reveals(r3(), &[Some(A), Some(A), Some(B)])),
        Decision::Escalate
    );
    // Nobody revealed: no result.
    assert_eq!(
        decide(&with_reveals(r3(), &[None, None, None])),
        ended(JobEndReason::NoResult)
    );
    // A unanimous "input unavailable" ends the job as such.
    assert_eq!(
        decide(&with_reveals(r3(), &[Some(INPUT_UNAVAILABLE_ROOT); 3])),
        Decision::Final {
            reason: JobEndReason::InputUnavailable,
            winner: Some(INPUT_UNAVAILABLE_ROOT),
        }
    );
}

#[test]
fn without_escalation_replicas_and_after_escalation_a_strict_majority_decides() {
    assert_eq!(
        decide(&with_reveals(job(3, 0), &[Some(A), Some(A), Some(B)])),
        accepted(A)
    );
    assert_eq!(
        decide(&with_reveals(job(3, 0), &[Some(A), Some(B), Some(C)])),
        ended(JobEndReason::NoQuorum)
    );
    // Escalated: the five reveals of both rounds count together.
    let mut escalated = with_reveals(job(3, 2), &[Some(A), Some(B), Some(B), Some(A), Some(A)]);
    escalated.escalated = true;
    assert_eq!(decide(&escalated), accepted(A));
    let mut split = with_reveals(job(3, 2), &[Some(A), Some(B), Some(C), Some(A), Some(B)]);
    split.escalated = true;
    assert_eq!(decide(&split), ended(JobEndReason::NoQuorum));
}

/// A refereed job with a dispute under way, slots revealing `reveals`, slots `lost` lost.
fn disputed(reveals: &[Option<[u8; 32]>], lost: &[usize]) -> Job {
    let mut j = with_reveals(job(reveals.len() as u8, 0), reveals);
    j.refereed = true;
    j.dispute.started_at = 1;
    for i in lost {
        j.dispute.lost |= 1 << i;
    }
    j
}

#[test]
fn the_referee_accepts_the_root_whose_backers_lost_no_game_however_few() {
    // One honest replica against two colluders who lost their games: no vote, the truth.
    assert_eq!(
        decide(&disputed(&[Some(B), Some(A), Some(B)], &[0, 2])),
        accepted(A)
    );
    // Every result lost (two liars against each other): refuted, the submitter refunded.
    assert_eq!(
        decide(&disputed(&[Some(B), Some(C)], &[0, 1])),
        ended(JobEndReason::Refuted)
    );
    // A root is beaten if any of its backers lost: a Sybil that loses on purpose hurts only
    // the root it backs, and the root standing is the one nobody refuted.
    assert_eq!(
        decide(&disputed(&[Some(A), Some(A), Some(B)], &[1])),
        accepted(B)
    );
    // "Input unavailable" is not a computed root: it neither plays nor wins a dispute.
    assert_eq!(
        decide(&disputed(
            &[Some(INPUT_UNAVAILABLE_ROOT), Some(A), Some(B)],
            &[2]
        )),
        accepted(A)
    );
}

#[test]
fn a_pair_that_does_not_open_its_game_loses_both_sides() {
    let mut j = disputed(&[Some(A), Some(B), Some(A)], &[]);
    // Slots 0 and 1 opened their game; slot 2 (backing A, like 0) never played 1.
    j.dispute.games_opened |= crate::state::Dispute::pair_bit(0, 1);
    forfeit_unopened(&mut j);
    assert!(j.dispute.has_lost(1) && j.dispute.has_lost(2));
    assert!(
        !j.dispute.has_lost(0),
        "its game was opened: the referee decides it"
    );
}

#[test]
fn a_spot_check_slot_is_settled_at_adjusted_terms() {
    let full = with_reveals(job(3, 2), &[Some(A); 3]);
    assert_eq!(slot_terms(&full, 0, SlotState::Committed), full.rates);
    let mut spot = with_reveals(job(1, 2), &[None]);
    spot.audit = AuditState::Pending;
    spot.audit_replicas = 2;
    let terms = slot_terms(&spot, 0, SlotState::Committed);
    assert_eq!(terms.unavailable_comp_bps, 0, "unverified: not compensated");
    assert_eq!(
        terms.no_show_bps, terms.slash_bps,
        "a worker that committed and withheld its reveal pays as a wrong result"
    );
    spot.audit = AuditState::Drawn;
    let auditor = slot_terms(&spot, 1, SlotState::Committed);
    assert_eq!(
        auditor.no_show_bps,
        rates().no_show_bps,
        "an auditor is a replica"
    );
    assert_eq!(auditor.unavailable_comp_bps, rates().unavailable_comp_bps);
}

#[test]
fn payouts_follow_the_verdict() {
    let r = rates();
    let pay =
        |revealed, reason, winner, lost| slot_payout(revealed, reason, winner, REWARD, &r, lost);
    let fee = REWARD * 250 / 10_000;
    // The winner is paid the reward less the fee.
    let won = pay(Some(A), JobEndReason::Accepted, Some(A), false);
    assert_eq!(
        (won.verdict, won.gross, won.fee, won.penalty_bps),
        (Verdict::Agreed, REWARD, fee, 0)
    );
    assert_eq!(won.net(), REWARD - fee);
    // A wrong result is slashed; so is a lost game, whatever the outcome.
    let wrong = pay(Some(B), JobEndReason::Accepted, Some(A), false);
    assert_eq!(
        (wrong.verdict, wrong.gross, wrong.penalty_bps),
        (Verdict::Disagreed, 0, 5_000)
    );
    let lost = pay(Some(A), JobEndReason::Refuted, None, true);
    assert_eq!(
        (lost.verdict, lost.penalty_bps),
        (Verdict::Disagreed, 5_000)
    );
    // A no-show pays the no-show rate.
    let absent = pay(None, JobEndReason::Accepted, Some(A), false);
    assert_eq!(
        (absent.verdict, absent.gross, absent.penalty_bps),
        (Verdict::NoShow, 0, 1_000)
    );
    // No quorum, or every result refuted without this slot losing: no pay, no penalty.
    for reason in [JobEndReason::NoQuorum, JobEndReason::Refuted] {
        let p = pay(Some(A), reason, None, false);
        assert_eq!(
            (p.verdict, p.gross, p.penalty_bps),
            (Verdict::Dispute, 0, 0)
        );
    }
    // An unavailable input: the agreeing slots get the compensation; a slot that computed
    // while the others could not fetch is not at fault, nor is one that claimed
    // unavailability when the others computed.
    let comp = pay(
        Some(INPUT_UNAVAILABLE_ROOT),
        JobEndReason::InputUnavailable,
        Some(INPUT_UNAVAILABLE_ROOT),
        false,
    );
    assert_eq!(
        (comp.verdict, comp.gross),
        (Verdict::Agreed, REWARD * 2_000 / 10_000)
    );
    let computed = pay(
        Some(A),
        JobEndReason::InputUnavailable,
        Some(INPUT_UNAVAILABLE_ROOT),
        false,
    );
    assert_eq!(
        (computed.verdict, computed.penalty_bps),
        (Verdict::Disagreed, 0)
    );
    let claimed = pay(
        Some(INPUT_UNAVAILABLE_ROOT),
        JobEndReason::Accepted,
        Some(A),
        false,
    );
    assert_eq!(
        (claimed.verdict, claimed.penalty_bps),
        (Verdict::Disagreed, 0)
    );
}

#[test]
fn every_payout_conserves_the_reward_and_the_stake() {
    // Over every verdict path and a spread of rewards, stakes and rates: the net and the fee
    // add up to the gross, the gross never exceeds the reward, and a settled ledger loses
    // exactly the penalty from its stake and gains exactly the net.
    let roots = [None, Some(A), Some(B), Some(INPUT_UNAVAILABLE_ROOT)];
    let reasons = [
        JobEndReason::Accepted,
        JobEndReason::InputUnavailable,
        JobEndReason::NoQuorum,
        JobEndReason::Refuted,
        JobEndReason::NoResult,
    ];
    let mut cases = 0;
    for reward in [1, 999, REWARD, u64::MAX / 4] {
        for fee_bps in [0u16, 250, 10_000] {
            for stake in [0u64, 1, 10_000_000, u64::MAX / 2] {
                let r = JobRates {
                    protocol_fee_bps: fee_bps,
                    ..rates()
                };
                for revealed in roots {
                    for reason in reasons {
                        for winner in [None, Some(A), Some(INPUT_UNAVAILABLE_ROOT)] {
                            for lost in [false, true] {
                                let p = slot_payout(revealed, reason, winner, reward, &r, lost);
                                assert!(p.gross <= reward);
                                assert_eq!(p.net() + p.fee, p.gross);
                                let mut node = ledger(stake);
                                let (out, verdict) = settle_slot(
                                    &mut node, revealed, reason, winner, reward, &r, lost,
                                )
                                .unwrap();
                                assert_eq!(verdict, p.verdict);
                                assert_eq!(node.stake, stake - out.penalty);
                                assert_eq!(out.penalty, bps_of(stake, p.penalty_bps));
                                assert_eq!(node.earnings, p.net());
                                assert_eq!(node.open_assignments, 0);
                                assert_eq!(node.reputation.assigned, 1);
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 4 * 3 * 4 * 4 * 5 * 3 * 2);
}

#[test]
fn a_slot_settled_twice_is_refused_not_double_counted() {
    // Settlement decrements the node's open assignments: a replayed settlement of the same
    // slot finds none left and fails instead of paying again.
    let mut node = ledger(10_000_000);
    settle_slot(
        &mut node,
        Some(A),
        JobEndReason::Accepted,
        Some(A),
        REWARD,
        &rates(),
        false,
    )
    .unwrap();
    let again = settle_slot(
        &mut node,
        Some(A),
        JobEndReason::Accepted,
        Some(A),
        REWARD,
        &rates(),
        false,
    );
    assert!(again.is_err());
}
