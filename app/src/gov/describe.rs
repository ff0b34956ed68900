//! How `tessera gov` shows proposals: their change, phase and time left, tallies against
//! quorum and threshold.
use tessera_sdk::tessera::state::{Proposal, ProposalAction, ProposalStatus};

use crate::spec::units::Amounts;

pub(super) fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3_600),
        s if s >= 3_600 => format!("{}h {}m", s / 3_600, s % 3_600 / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// Status and what happens next, as of `now`.
pub fn phase(p: &Proposal, now: i64) -> String {
    match p.status {
        ProposalStatus::Voting if now < p.voting_ends_at => {
            format!("voting, {} left", duration(p.voting_ends_at - now))
        }
        ProposalStatus::Voting => "voting ended: finalize it".into(),
        ProposalStatus::Passed if now < p.executable_at => {
            format!("passed, executable in {}", duration(p.executable_at - now))
        }
        ProposalStatus::Passed if now < p.expires_at => {
            format!(
                "passed, executable now ({} left)",
                duration(p.expires_at - now)
            )
        }
        ProposalStatus::Passed => "expired (never executed)".into(),
        ProposalStatus::Rejected => "rejected".into(),
        ProposalStatus::QuorumNotReached => "failed: quorum not reached".into(),
        ProposalStatus::Executed => "executed".into(),
    }
}

pub fn describe_action(action: &ProposalAction, a: &Amounts) -> String {
    match action {
        ProposalAction::UpdateParams(c) => {
            let set = [
                ("min_stake", c.min_stake.map(|v| v.to_string())),
                (
                    "unstake_cooldown_secs",
                    c.unstake_cooldown_secs.map(|v| v.to_string()),
                ),
                (
                    "protocol_fee_bps",
                    c.protocol_fee_bps.map(|v| v.to_string()),
                ),
                ("slash_bps", c.slash_bps.map(|v| v.to_string())),
                ("no_show_bps", c.no_show_bps.map(|v| v.to_string())),
                ("max_replicas", c.max_replicas.map(|v| v.to_string())),
                (
                    "commit_window_secs",
                    c.commit_window_secs.map(|v| v.to_string()),
                ),
                (
                    "reveal_window_secs",
                    c.reveal_window_secs.map(|v| v.to_string()),
                ),
                (
                    "max_job_duration_secs",
                    c.max_job_duration_secs.map(|v| v.to_string()),
                ),
                (
                    "allowed_kernels",
                    c.allowed_kernels.map(|v| format!("{v:#b}")),
                ),
                (
                    "escalation_replicas",
                    c.escalation_replicas.map(|v| v.to_string()),
                ),
                (
                    "priority_window_secs",
                    c.priority_window_secs.map(|v| v.to_string()),
                ),
                (
                    "sortition_weight",
                    c.sortition_weight.map(|v| v.to_string()),
                ),
                (
                    "unavailable_comp_bps",
                    c.unavailable_comp_bps.map(|v| v.to_string()),
                ),
                (
                    "expiry_grace_secs",
                    c.expiry_grace_secs.map(|v| v.to_string()),
                ),
                (
                    "expiry_bounty_bps",
                    c.expiry_bounty_bps.map(|v| v.to_string()),
                ),
                ("audit_bps", c.audit_bps.map(|v| v.to_string())),
                ("audit_replicas", c.audit_replicas.map(|v| v.to_string())),
                (
                    "max_audited_reward",
                    c.max_audited_reward.map(|v| v.to_string()),
                ),
                ("min_reward", c.min_reward.map(|v| v.to_string())),
                (
                    "refereed_kernels",
                    c.refereed_kernels.map(|v| format!("{v:#x}")),
                ),
                ("game_clock_secs", c.game_clock_secs.map(|v| v.to_string())),
                (
                    "game_open_window_secs",
                    c.game_open_window_secs.map(|v| v.to_string()),
                ),
                (
                    "game_bond_lamports",
                    c.game_bond_lamports.map(|v| v.to_string()),
                ),
                (
                    "challenge_window_secs",
                    c.challenge_window_secs.map(|v| v.to_string()),
                ),
                (
                    "challenge_reward_bps",
                    c.challenge_reward_bps.map(|v| v.to_string()),
                ),
            ];
            format!("set {}", assignments(&set))
        }
        ProposalAction::SetKernel { kernel_id, allowed } => format!(
            "{} kernel {kernel_id}",
            if *allowed { "allow" } else { "disallow" }
        ),
        ProposalAction::SetPaused(true) => "pause new jobs".into(),
        ProposalAction::SetPaused(false) => "resume new jobs".into(),
        ProposalAction::TreasuryGrant { recipient, amount } => {
            format!("treasury grant of {} to {recipient}", a.show(*amount))
        }
        ProposalAction::UpdateGovernance(c) => {
            let set = [
                (
                    "voting_period_secs",
                    c.voting_period_secs.map(|v| v.to_string()),
                ),
                ("timelock_secs", c.timelock_secs.map(|v| v.to_string())),
                (
                    "execution_window_secs",
                    c.execution_window_secs.map(|v| v.to_string()),
                ),
                ("quorum_bps", c.quorum_bps.map(|v| v.to_string())),
                (
                    "pass_threshold_bps",
                    c.pass_threshold_bps.map(|v| v.to_string()),
                ),
                (
                    "proposal_deposit",
                    c.proposal_deposit.map(|v| v.to_string()),
                ),
            ];
            format!("set governance {}", assignments(&set))
        }
    }
}

fn assignments(set: &[(&str, Option<String>)]) -> String {
    set.iter()
        .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name}={v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn describe_proposal(p: &Proposal, now: i64, a: &Amounts) -> String {
    let votes = p.yes.saturating_add(p.no).saturating_add(p.abstain);
    let quorum = tessera_sdk::tessera::math::mul_bps(p.total_power, u64::from(p.quorum_bps)).max(1);
    let decided = p.yes.saturating_add(p.no);
    let pct = |x: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            x as f64 * 100.0 / of as f64
        }
    };
    format!(
        "proposal {} `{}`\n  proposer {}\n  change   {}\n  status   {}\n  yes {}  no {}  abstain {}  ({} voters)\n  turnout  {} of {} total power ({:.1}%; quorum {:.1}% = {}: {})\n  yes share {:.1}% of yes + no (passes above {:.1}%)\n  deposit held {}\n",
        p.id,
        p.title,
        p.proposer,
        describe_action(&p.action, a),
        phase(p, now),
        a.show(p.yes),
        a.show(p.no),
        a.show(p.abstain),
        p.voters,
        a.show(votes),
        a.show(p.total_power),
        pct(votes, p.total_power),
        f64::from(p.quorum_bps) / 100.0,
        a.show(quorum),
        if votes >= quorum { "reached" } else { "not reached" },
        pct(p.yes, decided),
        f64::from(p.pass_threshold_bps) / 100.0,
        a.show(p.deposit),
    )
}
