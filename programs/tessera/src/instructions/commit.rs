use anchor_lang::prelude::*;

use crate::constants::AUDIT_DELAY_SLOTS;
use crate::error::TesseraError;
use crate::events::ResultCommitted;
use crate::instructions::slot_holder::SlotHolder;
use crate::state::{AuditState, SlotState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CommitArgs {
    /// `sha256(result_root ‖ node ‖ salt)`; for "input unavailable" the result root is
    /// `INPUT_UNAVAILABLE_ROOT`.
    pub commitment: [u8; 32],
}

/// Publishes the node's commitment to its result, once, before the commit deadline. The
/// commit that completes a spot-check job's first round fixes the slot its audit is drawn from.
pub(crate) fn handler(ctx: Context<SlotHolder>, args: CommitArgs) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let node_key = ctx.accounts.node.key();
    let job = &mut ctx.accounts.job;
    let index = job
        .round_slot_of(&node_key)
        .ok_or(TesseraError::NotAssigned)?;
    require!(now < job.commit_deadline, TesseraError::CommitWindowClosed);
    let slot = job.slots.get_mut(index).ok_or(TesseraError::NotAssigned)?;
    require!(
        slot.state == SlotState::Claimed,
        TesseraError::AlreadyCommitted
    );
    slot.commitment = args.commitment;
    slot.state = SlotState::Committed;
    // A spot-check job's worker has committed: its audit is drawn from a later slot's hash.
    if job.audit == AuditState::Pending && job.round_all(SlotState::Committed) {
        job.audit_slot = clock
            .slot
            .checked_add(AUDIT_DELAY_SLOTS)
            .ok_or(TesseraError::MathOverflow)?;
    }
    job.invariant()?;

    emit!(ResultCommitted {
        job: job.key(),
        node: node_key,
        slot: index as u8,
        commitment: args.commitment,
    });
    Ok(())
}
