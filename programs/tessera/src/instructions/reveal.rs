use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::events::ResultRevealed;
use crate::instructions::slot_holder::SlotHolder;
use crate::state::sortition::commitment;
use crate::state::{AuditState, SlotState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RevealArgs {
    pub result_root: [u8; 32],
    pub salt: [u8; 32],
}

/// Opens the node's commitment. The reveal phase starts when every slot of the round has
/// committed or the commit deadline has passed, so no result is public while anyone of the
/// round can still commit. A spot-check job's worker reveals only after its audit is drawn
/// (and, if audited, with its auditors).
pub(crate) fn handler(ctx: Context<SlotHolder>, args: RevealArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let node_key = ctx.accounts.node.key();
    let job = &mut ctx.accounts.job;
    let index = job
        .round_slot_of(&node_key)
        .ok_or(TesseraError::NotAssigned)?;
    require!(
        job.audit != AuditState::Pending,
        TesseraError::AuditNotDrawn
    );
    require!(job.reveal_open(now), TesseraError::RevealNotOpen);
    require!(now < job.reveal_deadline, TesseraError::RevealWindowClosed);
    let slot = job.slots.get_mut(index).ok_or(TesseraError::NotAssigned)?;
    match slot.state {
        SlotState::Claimed => return err!(TesseraError::NotCommitted),
        SlotState::Revealed => return err!(TesseraError::AlreadyRevealed),
        SlotState::Committed => {}
    }
    require!(
        commitment(&args.result_root, &node_key, &args.salt) == slot.commitment,
        TesseraError::CommitmentMismatch
    );
    slot.root = args.result_root;
    slot.state = SlotState::Revealed;
    job.invariant()?;

    emit!(ResultRevealed {
        job: job.key(),
        node: node_key,
        slot: index as u8,
        root: args.result_root,
    });
    Ok(())
}
