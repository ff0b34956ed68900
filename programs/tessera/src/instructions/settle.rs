use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::{EscalationStarted, JobSettled, Receipt, ReceiptKind, ReputationUpdated};
use crate::settlement::{bps_of, decide, settle_slot, Decision};
use crate::state::sortition::{escalation_seed, latest_slot_hash};
use crate::state::{Config, Job, JobEndReason, JobStatus, Node, SlotState};
use crate::token_transfer::pay_out;

/// Accounts of a settlement. The remaining accounts are the node of every slot of the job,
/// writable, in slot order.
#[derive(Accounts)]
pub struct Settle<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(mut, address = config.escrow_vault @ TesseraError::WrongVault)]
    pub escrow_vault: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.treasury @ TesseraError::WrongVault)]
    pub treasury: Box<Account<'info, TokenAccount>>,

    /// SlotHashes sysvar: seeds the escalation round's sortition.
    /// CHECK: the address is checked and the data read by `sortition::latest_slot_hash`.
    pub slot_hashes: UncheckedAccount<'info>,

    pub token_program: Program<'info, Token>,
}

/// Permissionless crank: settles the job's current round once every slot of it has revealed
/// or its reveal deadline has passed.
pub(crate) fn handler<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let job = &ctx.accounts.job;
    require!(
        job.round_all(SlotState::Revealed) || now >= job.reveal_deadline,
        TesseraError::RoundNotComplete
    );
    settle_job(ctx.accounts, ctx.remaining_accounts, now, None)
}

/// Reads the slot nodes from the remaining accounts, checking each is the slot's node.
fn load_nodes(job: &Job, remaining: &[AccountInfo]) -> Result<Vec<Node>> {
    require!(
        remaining.len() == job.slots.len(),
        TesseraError::WrongSlotNodes
    );
    job.slots
        .iter()
        .zip(remaining)
        .map(|(slot, info)| {
            require!(
                info.key() == slot.node && info.owner == &crate::ID && info.is_writable,
                TesseraError::WrongSlotNodes
            );
            let data = info.try_borrow_data()?;
            Node::try_deserialize(&mut &data[..])
        })
        .collect()
}

fn store_nodes(nodes: &[Node], remaining: &[AccountInfo]) -> Result<()> {
    for (node, info) in nodes.iter().zip(remaining) {
        let mut data = info.try_borrow_mut_data()?;
        node.try_serialize(&mut &mut data[..])?;
    }
    Ok(())
}

/// Shared by `settle` and `expire_job`: escalates, or ends the job and moves every token it
/// owes. With `bounty_to`, a share of the penalties goes to that account.
pub(crate) fn settle_job<'info>(
    accounts: &mut Settle<'info>,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    bounty_to: Option<&Account<'info, TokenAccount>>,
) -> Result<()> {
    let params = accounts.config.params;
    let job_key = accounts.job.key();
    let (reason, winner) = match decide(&accounts.job) {
        Decision::Escalate => return escalate(accounts, now),
        Decision::Final { reason, winner } => (reason, winner),
    };

    let mut nodes = load_nodes(&accounts.job, remaining)?;
    let job = &mut accounts.job;
    let replicas = usize::from(job.replicas);
    let (mut gross_total, mut fee_total, mut penalties, mut escalation_paid) =
        (0u64, 0u64, 0u64, 0u64);
    let mut receipts = Vec::with_capacity(nodes.len());
    for (index, (slot, node)) in job.slots.iter().zip(nodes.iter_mut()).enumerate() {
        let revealed = (slot.state == SlotState::Revealed).then_some(slot.root);
        let (out, _) = settle_slot(
            node,
            revealed,
            reason,
            winner,
            job.reward_per_replica,
            &params,
        )?;
        let overflow = || error!(TesseraError::MathOverflow);
        gross_total = gross_total.checked_add(out.gross).ok_or_else(overflow)?;
        fee_total = fee_total.checked_add(out.fee).ok_or_else(overflow)?;
        penalties = penalties.checked_add(out.penalty).ok_or_else(overflow)?;
        if index >= replicas {
            escalation_paid = escalation_paid
                .checked_add(out.gross)
                .ok_or_else(overflow)?;
        }
        if out.gross > 0 {
            let kind = if reason == JobEndReason::InputUnavailable {
                ReceiptKind::Compensation
            } else {
                ReceiptKind::Reward
            };
            receipts.push((slot.node, out.gross - out.fee, kind));
        }
        if out.penalty > 0 {
            let kind = if out.no_show {
                ReceiptKind::NoShowPenalty
            } else {
                ReceiptKind::Slash
            };
            receipts.push((slot.node, out.penalty, kind));
        }
    }
    store_nodes(&nodes, remaining)?;

    // Penalties pay the expiry bounty first, then give the submitter back what escalation
    // cost it ("loser pays"); the rest goes to the treasury.
    let bounty = match bounty_to {
        Some(_) => bps_of(penalties, params.expiry_bounty_bps),
        None => 0,
    };
    let after_bounty = penalties - bounty;
    let reimbursed = after_bounty.min(escalation_paid);
    let penalty_to_treasury = after_bounty - reimbursed;
    let refund = job
        .escrow
        .checked_sub(gross_total)
        .and_then(|left| left.checked_add(reimbursed))
        .ok_or(TesseraError::InvariantViolated)?;
    let net_total = gross_total - fee_total;

    job.escrow = refund;
    job.result_root = winner.filter(|_| reason == JobEndReason::Accepted);
    job.status = JobStatus::Ended { at: now, reason };
    // The refund may exceed the original escrow only by penalties reimbursed, which never
    // exceed what escalation paid out of it.
    job.invariant()?;

    let config = &accounts.config;
    let token = &accounts.token_program;
    let moves = [
        (&accounts.escrow_vault, &accounts.stake_vault, net_total),
        (&accounts.escrow_vault, &accounts.treasury, fee_total),
        (&accounts.stake_vault, &accounts.escrow_vault, reimbursed),
        (
            &accounts.stake_vault,
            &accounts.treasury,
            penalty_to_treasury,
        ),
    ];
    for (from, to, amount) in moves {
        if amount > 0 {
            pay_out(token, from, to, config, amount)?;
        }
    }
    if let (Some(to), true) = (bounty_to, bounty > 0) {
        pay_out(token, &accounts.stake_vault, to, config, bounty)?;
    }

    for (node, amount, kind) in receipts {
        emit!(Receipt {
            job: job_key,
            party: node,
            amount,
            kind,
        });
    }
    let treasury = accounts.treasury.key();
    let submitter = accounts.job.submitter;
    let totals = [
        (treasury, fee_total, ReceiptKind::ProtocolFee),
        (submitter, reimbursed, ReceiptKind::EscalationReimbursement),
        (
            treasury,
            penalty_to_treasury,
            ReceiptKind::PenaltyToTreasury,
        ),
        (
            bounty_to.map(|b| b.owner).unwrap_or_default(),
            bounty,
            ReceiptKind::ExpiryBounty,
        ),
        (submitter, refund, ReceiptKind::Refund),
    ];
    for (party, amount, kind) in totals {
        if amount > 0 {
            emit!(Receipt {
                job: job_key,
                party,
                amount,
                kind,
            });
        }
    }
    for (slot, node) in accounts.job.slots.iter().zip(&nodes) {
        emit!(ReputationUpdated {
            node: slot.node,
            job: job_key,
            reputation: node.reputation,
        });
    }
    emit!(JobSettled {
        job: job_key,
        reason,
        result_root: accounts.job.result_root,
        refund,
        expired: bounty_to.is_some(),
    });
    Ok(())
}

/// Opens the escalation round: fresh seed, fresh deadlines, `escalation_replicas` new slots.
fn escalate(accounts: &mut Settle, now: i64) -> Result<()> {
    let params = accounts.config.params;
    let slot_hash = latest_slot_hash(&accounts.slot_hashes)?;
    let job = &mut accounts.job;
    job.seed = escalation_seed(&job.seed, &slot_hash);
    job.escalated = true;
    job.round_started_at = now;
    job.commit_deadline = now
        .checked_add(i64::from(params.commit_window_secs))
        .ok_or(TesseraError::MathOverflow)?;
    job.reveal_deadline = job
        .commit_deadline
        .checked_add(i64::from(params.reveal_window_secs))
        .ok_or(TesseraError::MathOverflow)?;
    job.invariant()?;
    emit!(EscalationStarted {
        job: job.key(),
        replicas: job.escalation_replicas,
        seed: job.seed,
        commit_deadline: job.commit_deadline,
        reveal_deadline: job.reveal_deadline,
    });
    Ok(())
}
