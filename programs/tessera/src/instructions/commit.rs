use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::events::ResultCommitted;
use crate::instructions::slot_holder::SlotHolder;
use crate::state::SlotState;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CommitArgs {
    /// `sha256(result_root ‖ node ‖ salt)`; for "input unavailable" the result root is
    /// `INPUT_UNAVAILABLE_ROOT`.
    pub commitment: [u8; 32],
}

/// Publishes the node's commitment to its result, once, before the commit deadline.
pub(crate) fn handler(ctx: Context<SlotHolder>, args: CommitArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
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
    job.invariant()?;

    emit!(ResultCommitted {
        job: job.key(),
        node: node_key,
        slot: index as u8,
        commitment: args.commitment,
    });
    Ok(())
}
