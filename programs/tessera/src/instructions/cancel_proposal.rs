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
    // The latest proposal withdrawn: deposits no longer wait for its voting period.
    let (id, prev) = (proposal.id, proposal.prev_votes_open_until);
    if id.checked_add(1) == Some(ctx.accounts.config.proposal_count) {
        let governance = &mut ctx.accounts.governance;
        governance.votes_open_until = governance.votes_open_until.min(prev.max(0));
    }
    ctx.accounts.refund(true)
}
