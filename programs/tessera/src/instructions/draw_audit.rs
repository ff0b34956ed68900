use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::{AuditDrawn, AuditForced};
use crate::state::sortition::{audit_drawn, audit_seed, slot_hash_at_or_after};
use crate::state::{AuditState, Config, Job, SlotState};

#[derive(Accounts)]
pub struct DrawAudit<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,

    /// SlotHashes sysvar: the hash of the audit slot decides.
    /// CHECK: the address is checked and the data read by `sortition::slot_hash_at_or_after`.
    pub slot_hashes: UncheckedAccount<'info>,
}

/// Permissionless crank: once a spot-check job's worker has committed and its audit slot is
/// final, decides from that slot's hash whether the job is audited. If so, the first round
/// reopens for `audit_replicas` auditors with a seed nobody knew at claim or commit time; the
/// worker reveals with them once they have committed. If not, the worker may reveal now.
pub(crate) fn handler(ctx: Context<DrawAudit>) -> Result<()> {
    let clock = Clock::get()?;
    let params = ctx.accounts.config.params;
    let job = &mut ctx.accounts.job;
    require!(
        job.audit == AuditState::Pending && job.round_all(SlotState::Committed),
        TesseraError::AuditNotPending
    );
    require!(
        clock.unix_timestamp < job.reveal_deadline,
        TesseraError::RevealWindowClosed
    );
    let drawn = slot_hash_at_or_after(&ctx.accounts.slot_hashes, job.audit_slot, clock.slot)?;
    let Some((drawn_from_slot, hash)) = drawn else {
        // Aged out of SlotHashes: nobody may escape an audit by waiting, so the audit is
        // forced. Its auditors' seed must still be entropy nobody knew in advance (a fixed
        // seed would let auditors grind their tickets from the moment the job was posted):
        // the draw re-arms on a slot a few slots from now, and the next call takes that
        // slot's hash.
        job.audit_forced = true;
        job.audit_slot = clock
            .slot
            .checked_add(AUDIT_DELAY_SLOTS)
            .ok_or(TesseraError::MathOverflow)?;
        job.invariant()?;
        emit!(AuditForced {
            job: job.key(),
            audit_slot: job.audit_slot,
        });
        return Ok(());
    };
    let forced = job.audit_forced;
    let audited = forced || audit_drawn(&job.seed, &hash, job.audit_bps);
    if audited {
        job.seed = audit_seed(&job.seed, &hash);
        // The auditors' seed is public from now: only nodes and stake older count.
        job.round_slot = clock.slot;
    }
    // From now on the job records the slot whose hash decided (for a forced audit, the
    // re-armed slot whose hash seeded the auditors), so anyone can check it against SlotHashes.
    job.audit_slot = drawn_from_slot;
    if audited {
        job.audit = AuditState::Drawn;
        job.round_started_at = clock.unix_timestamp;
        job.commit_deadline = clock
            .unix_timestamp
            .checked_add(i64::from(params.commit_window_secs))
            .ok_or(TesseraError::MathOverflow)?;
        job.reveal_deadline = job
            .commit_deadline
            .checked_add(i64::from(params.reveal_window_secs))
            .ok_or(TesseraError::MathOverflow)?;
    } else {
        job.audit = AuditState::Skipped;
    }
    job.invariant()?;
    emit!(AuditDrawn {
        job: job.key(),
        audited,
        forced,
        drawn_from_slot,
        auditors: if audited { job.audit_replicas } else { 0 },
        seed: job.seed,
        commit_deadline: job.commit_deadline,
        reveal_deadline: job.reveal_deadline,
    });
    Ok(())
}
