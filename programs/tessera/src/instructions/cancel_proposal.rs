use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::instructions::proposer_close::ProposerClose;
use crate::state::ProposalStatus;

/// Withdraws a proposal nobody has voted on yet: the deposit and the rent go back.
pub(crate) fn handler(ctx: Context<ProposerClose>) -> Result<()> {
    let proposal = &ctx.accounts.proposal;
    require!(
        proposal.status == ProposalStatus::Voting,
        TesseraError::ProposalNotInState
    );
    require!(proposal.voters == 0, TesseraError::ProposalHasVotes);
    ctx.accounts.refund(true)
}
