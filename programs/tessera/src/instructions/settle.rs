use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::{
    ChallengeWindowOpened, DisputeStarted, EscalationStarted, JobSettled, SlotReceipt,
};
use crate::settlement::{bps_of, decide, forfeit_unopened, settle_slot, slot_terms, Decision};
use crate::state::sortition::{escalation_seed, latest_slot_hash};
use crate::state::{AuditState, Config, Job, JobEndReason, JobStatus, NodeLedger, Slot, SlotState};
use crate::token_transfer::pay_out;

/// Accounts of a settlement. The remaining accounts are the node of every slot of the job,
/// writable, in slot order. The vaults are checked by address only: the config records them
/// and the token program checks them again on every transfer, so decoding them here would
/// only cost compute.
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

    /// CHECK: the escrow vault recorded in the config.
    #[account(mut, address = config.escrow_vault @ TesseraError::WrongVault)]
    pub escrow_vault: UncheckedAccount<'info>,

    /// CHECK: the stake vault recorded in the config.
    #[account(mut, address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,

    /// CHECK: the treasury recorded in the config.
    #[account(mut, address = config.treasury @ TesseraError::WrongVault)]
    pub treasury: UncheckedAccount<'info>,

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

/// Reads the ledger of a slot's node from its remaining account, checking it is the slot's
/// node and writable.
fn load_ledger(slot: &Slot, info: &AccountInfo) -> Result<NodeLedger> {
    require!(
        info.key() == slot.node && info.is_writable,
        TesseraError::WrongSlotNodes
    );
    NodeLedger::load(info)
}

/// The balance of an SPL token account, read from its data (amount at bytes 64..72) without
/// decoding the rest.
fn token_amount(account: &AccountInfo) -> Result<u64> {
    let data = account.try_borrow_data()?;
    data.get(64..72)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| error!(TesseraError::WrongVault))
}

/// The owner of an SPL token account (bytes 32..64), read without decoding the rest; an
/// account the token program does not own has no owner to read.
fn token_owner(account: &AccountInfo) -> Result<Pubkey> {
    require_keys_eq!(
        *account.owner,
        anchor_spl::token::ID,
        TesseraError::WrongTokenOwner
    );
    let data = account.try_borrow_data()?;
    data.get(32..64)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Pubkey::new_from_array)
        .ok_or_else(|| error!(TesseraError::WrongTokenOwner))
}

/// Token movements of one settlement, netted into at most three transfers.
struct Flows {
    /// Escrow to stake vault: rewards after fees, plus the fees on their way to the treasury,
    /// less the penalties reimbursed to the submitter (negative: the other way).
    escrow_to_stake: i128,
    /// Stake vault to treasury: fees, the penalties left for the treasury and the audit fee,
    /// less the audit subsidy (negative: the other way).
    stake_to_treasury: i128,
    /// Stake vault to the expiry caller.
    bounty: u64,
}

fn move_tokens<'info>(
    accounts: &Settle<'info>,
    flows: &Flows,
    bounty_to: Option<&AccountInfo<'info>>,
) -> Result<()> {
    let (config, token) = (&accounts.config, &accounts.token_program);
    let escrow = accounts.escrow_vault.to_account_info();
    let stake = accounts.stake_vault.to_account_info();
    let amount = |flow: i128| {
        u64::try_from(flow.unsigned_abs()).map_err(|_| error!(TesseraError::MathOverflow))
    };
    if flows.escrow_to_stake > 0 {
        pay_out(
            token,
            &escrow,
            &stake,
            config,
            amount(flows.escrow_to_stake)?,
        )?;
    } else if flows.escrow_to_stake < 0 {
        pay_out(
            token,
            &stake,
            &escrow,
            config,
            amount(flows.escrow_to_stake)?,
        )?;
    }
    let treasury = accounts.treasury.to_account_info();
    if flows.stake_to_treasury > 0 {
        pay_out(
            token,
            &stake,
            &treasury,
            config,
            amount(flows.stake_to_treasury)?,
        )?;
    } else if flows.stake_to_treasury < 0 {
        pay_out(
            token,
            &treasury,
            &stake,
            config,
            amount(flows.stake_to_treasury)?,
        )?;
    }
    if let (Some(to), true) = (bounty_to, flows.bounty > 0) {
        pay_out(token, &stake, to, config, flows.bounty)?;
    }
    Ok(())
}

/// Shared by `settle` and `expire_job`: escalates, or ends the job and moves every token it
/// owes. With `bounty_to`, a share of the penalties goes to that account.
pub(crate) fn settle_job<'info>(
    accounts: &mut Settle<'info>,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    bounty_to: Option<&AccountInfo<'info>>,
) -> Result<()> {
    let job_key = accounts.job.key();
    if accounts.job.refereed {
        let job = &mut accounts.job;
        if !job.dispute.is_started() && job.needs_games() {
            // Different computed roots: the referee decides, through one game per pair.
            job.dispute.started_at = now;
            job.dispute.open_until = now
                .checked_add(i64::from(accounts.config.params.game_open_window_secs))
                .ok_or(TesseraError::MathOverflow)?;
            job.invariant()?;
            emit!(DisputeStarted {
                job: job_key,
                open_until: job.dispute.open_until,
            });
            return Ok(());
        }
        if job.dispute.is_started() {
            require!(job.dispute_settleable(now), TesseraError::GamesInProgress);
            forfeit_unopened(job);
        }
    }
    let (reason, winner) = match decide(&accounts.job) {
        Decision::Escalate => return escalate(accounts, now),
        Decision::Final { reason, winner } => (reason, winner),
    };
    if let (true, JobEndReason::Accepted, Some(root)) = (accounts.job.refereed, reason, winner) {
        if open_challenge_window(accounts, root, now)? {
            return Ok(());
        }
    }

    require!(
        remaining.len() == accounts.job.slots.len(),
        TesseraError::WrongSlotNodes
    );
    let bounty_owner = bounty_to.map(token_owner).transpose()?;
    let job = &mut accounts.job;
    let rates = job.rates;
    let replicas = usize::from(job.replicas);
    let escalation_start = job.escalation_start_index();
    let overflow = || error!(TesseraError::MathOverflow);
    let (mut gross_total, mut fee_total, mut penalties) = (0u64, 0u64, 0u64);
    let (mut audit_paid, mut escalation_paid) = (0u64, 0u64);
    let mut slot_receipts = Vec::with_capacity(remaining.len());
    for (index, (slot, info)) in job.slots.iter().zip(remaining).enumerate() {
        let mut ledger = load_ledger(slot, info)?;
        let revealed = (slot.state == SlotState::Revealed).then_some(slot.root);
        let terms = slot_terms(job, index, slot.state);
        let lost = job.dispute.has_lost(index);
        // A challenger holds no claimed slot, so the escrow owes it no reward; if its root
        // won, it is paid out of the penalties below.
        let challenger = job.is_challenger(index);
        let reward = if challenger {
            0
        } else {
            job.reward_per_replica
        };
        let (out, verdict) =
            settle_slot(&mut ledger, revealed, reason, winner, reward, &terms, lost)?;
        ledger.store(info)?;
        // Nobody expires a job for a bounty out of their own penalty.
        require!(
            out.penalty == 0 || bounty_owner != Some(slot.operator),
            TesseraError::BountyToPenalised
        );
        gross_total = gross_total.checked_add(out.gross).ok_or_else(overflow)?;
        fee_total = fee_total.checked_add(out.fee).ok_or_else(overflow)?;
        penalties = penalties.checked_add(out.penalty).ok_or_else(overflow)?;
        if index >= escalation_start {
            escalation_paid = escalation_paid
                .checked_add(out.gross)
                .ok_or_else(overflow)?;
        } else if index >= replicas {
            audit_paid = audit_paid.checked_add(out.gross).ok_or_else(overflow)?;
        }
        slot_receipts.push(SlotReceipt {
            node: slot.node,
            verdict,
            paid: out.gross - out.fee,
            fee: out.fee,
            penalty: out.penalty,
            score_bps: ledger.reputation.score_bps,
            lost_game: lost,
            challenger,
        });
    }

    // Penalties pay the expiry bounty first, then the challengers whose root won.
    let bounty = match bounty_to {
        Some(_) => bps_of(penalties, rates.expiry_bounty_bps),
        None => 0,
    };
    let accepted = winner.filter(|_| reason == JobEndReason::Accepted);
    let challenge_rewards = reward_challengers(
        &accounts.job,
        accepted,
        remaining,
        &mut slot_receipts,
        bps_of(penalties - bounty, rates.challenge_reward_bps),
    )?;
    let job = &mut accounts.job;

    // Then they give the submitter back what the audit and escalation cost it ("loser
    // pays"); the rest goes to the treasury.
    let after_bounty = penalties - bounty - challenge_rewards;
    let extra_paid = audit_paid
        .checked_add(escalation_paid)
        .ok_or_else(overflow)?;
    let reimbursed = after_bounty.min(extra_paid);
    let penalty_to_treasury = after_bounty - reimbursed;
    // A spot-check job whose audit was drawn (or forced) pays its audit fee to the treasury,
    // and the treasury pays what the penalties left uncovered of its auditors' rewards (the
    // fees of every spot-check job fund the audits; as far as the treasury holds tokens).
    // A forced audit is not subsidized: it happens only because nobody drew in time, and a
    // subsidy there would let a submitter, its worker and its auditors force audits on their
    // own jobs and drain the treasury.
    let audit_fee = match job.audit {
        AuditState::Skipped | AuditState::Drawn => job.audit_fee,
        AuditState::None | AuditState::Pending => 0,
    };
    let uncovered = if job.audit_forced {
        0
    } else {
        audit_paid - reimbursed.min(audit_paid)
    };
    let treasury_in = fee_total
        .checked_add(penalty_to_treasury)
        .and_then(|t| t.checked_add(audit_fee))
        .ok_or_else(overflow)?;
    let audit_subsidy = if uncovered > treasury_in {
        let treasury_balance = token_amount(&accounts.treasury)?;
        uncovered.min(treasury_in.saturating_add(treasury_balance))
    } else {
        uncovered
    };
    // The refund exceeds what is left of the escrow only by the penalties reimbursed and the
    // subsidy, which together never exceed what the audit and escalation paid out of it, so
    // it stays within the original escrow.
    let refund = job
        .escrow
        .checked_sub(gross_total)
        .and_then(|left| left.checked_add(reimbursed))
        .and_then(|left| left.checked_add(audit_subsidy))
        .and_then(|left| left.checked_sub(audit_fee))
        .ok_or(TesseraError::InvariantViolated)?;
    job.escrow = refund;
    job.result_root = winner.filter(|_| reason == JobEndReason::Accepted);
    job.status = JobStatus::Ended { at: now, reason };
    job.invariant()?;

    let flows = Flows {
        escrow_to_stake: i128::from(gross_total) - i128::from(reimbursed) + i128::from(audit_fee)
            - i128::from(audit_subsidy),
        stake_to_treasury: i128::from(treasury_in) - i128::from(audit_subsidy),
        bounty,
    };
    move_tokens(accounts, &flows, bounty_to)?;

    emit!(JobSettled {
        job: job_key,
        reason,
        result_root: accounts.job.result_root,
        submitter: accounts.job.submitter,
        refund,
        reimbursed,
        protocol_fees: fee_total,
        penalties_to_treasury: penalty_to_treasury,
        audit_fee,
        audit_subsidy,
        bounty,
        bounty_to: bounty_to.map(|b| *b.key),
        challenge_rewards,
        slots: slot_receipts,
    });
    Ok(())
}

/// Whether a refereed job's accepted `root` must first stand a challenge window: opens one
/// (and returns `true`) if the window is on and `root` has not had one; fails while its
/// window is open; `false` once it has closed.
fn open_challenge_window(accounts: &mut Settle, root: [u8; 32], now: i64) -> Result<bool> {
    let window = accounts.config.params.challenge_window_secs;
    let job = &mut accounts.job;
    let had_window = job.dispute.challenge_until != 0 && job.dispute.proposed_root == root;
    if !had_window && window > 0 {
        job.dispute.proposed_root = root;
        job.dispute.challenge_until = now
            .checked_add(i64::from(window))
            .ok_or(TesseraError::MathOverflow)?;
        // Who lost so far stays lost, and plays no further game.
        job.dispute.eliminated = job.dispute.lost;
        job.invariant()?;
        emit!(ChallengeWindowOpened {
            job: job.key(),
            root,
            challenge_until: job.dispute.challenge_until,
        });
        return Ok(true);
    }
    require!(
        !job.dispute.challenge_open(now),
        TesseraError::ChallengeWindowOpen
    );
    Ok(false)
}

/// Splits `pot` equally among the challengers whose root was accepted, crediting their
/// earnings (held in the stake vault, where the penalties are) and their receipts; returns
/// what was paid (the remainder of the split stays with the penalties).
fn reward_challengers<'info>(
    job: &Job,
    accepted: Option<[u8; 32]>,
    remaining: &'info [AccountInfo<'info>],
    receipts: &mut [SlotReceipt],
    pot: u64,
) -> Result<u64> {
    let winners: Vec<usize> = (job.challenger_start_index()..job.slots.len())
        .filter(|i| accepted.is_some() && job.computed_root(*i) == accepted)
        .filter(|i| !job.dispute.has_lost(*i))
        .collect();
    let Ok(count) = u64::try_from(winners.len()) else {
        return err!(TesseraError::MathOverflow);
    };
    if count == 0 || pot == 0 {
        return Ok(0);
    }
    let share = pot / count;
    for index in winners {
        let (Some(slot), Some(info), Some(receipt)) = (
            job.slots.get(index),
            remaining.get(index),
            receipts.get_mut(index),
        ) else {
            return err!(TesseraError::InvariantViolated);
        };
        let mut ledger = load_ledger(slot, info)?;
        ledger.earnings = ledger
            .earnings
            .checked_add(share)
            .ok_or(TesseraError::MathOverflow)?;
        ledger.reputation.earned_total = ledger
            .reputation
            .earned_total
            .checked_add(share)
            .ok_or(TesseraError::MathOverflow)?;
        ledger.invariant()?;
        ledger.store(info)?;
        receipt.paid = receipt
            .paid
            .checked_add(share)
            .ok_or(TesseraError::MathOverflow)?;
    }
    share
        .checked_mul(count)
        .ok_or_else(|| error!(TesseraError::MathOverflow))
}

/// Opens the escalation round: fresh seed, fresh deadlines, `escalation_replicas` new slots.
fn escalate(accounts: &mut Settle, now: i64) -> Result<()> {
    let params = accounts.config.params;
    let slot_hash = latest_slot_hash(&accounts.slot_hashes)?;
    let job = &mut accounts.job;
    job.seed = escalation_seed(&job.seed, &slot_hash);
    // The escalation round's slots start where the first round's claims ended, whether or
    // not the first round was full; nodes and stake must predate this seed.
    job.round_start = u8::try_from(job.slots.len()).map_err(|_| TesseraError::MathOverflow)?;
    job.round_slot = Clock::get()?.slot;
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
