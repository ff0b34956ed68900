use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::instructions::proposer_close::ProposerClose;

/// Closes a proposal that has ended (executed, rejected, without quorum, or passed and
/// expired): the deposit still held and the rent go back to the proposer.
pub(crate) fn handler(ctx: Context<ProposerClose>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    require!(
        ctx.accounts.proposal.ended(now),
        TesseraError::ProposalNotEnded
    );
    ctx.accounts.refund(false)
}
