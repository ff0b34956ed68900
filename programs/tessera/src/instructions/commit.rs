use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ResultCommitted;
use crate::state::{Job, Node, SlotState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CommitArgs {
    /// `sha256(result_root ‖ node ‖ salt)`; for "input unavailable" the result root is
    /// `INPUT_UNAVAILABLE_ROOT`.
    pub commitment: [u8; 32],
}

#[derive(Accounts)]
pub struct Commit<'info> {
    pub operator: Signer<'info>,

    #[account(
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
}

/// Publishes the node's commitment to its result, once, before the commit deadline.
pub(crate) fn handler(ctx: Context<Commit>, args: CommitArgs) -> Result<()> {
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
