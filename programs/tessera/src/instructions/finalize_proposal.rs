use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ProposalFinalized;
use crate::instructions::proposer_close::release_deposit;
use crate::state::{Config, Governance, Proposal, ProposalStatus};

#[derive(Accounts)]
pub struct FinalizeProposal<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        mut,
        seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(mut, address = governance.vault @ TesseraError::WrongVault)]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    /// Receives the deposit of a proposal that did not reach quorum.
    #[account(mut, address = config.treasury @ TesseraError::WrongVault)]
    pub treasury: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

/// Counts the votes once the voting period is over (anyone may call): quorum of the total
/// power at creation, then the pass threshold over yes + no. A passed proposal waits for its
/// timelock; one without quorum forfeits its deposit to the treasury.
pub(crate) fn handler(ctx: Context<FinalizeProposal>) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let proposal = &mut accounts.proposal;
    require!(
        proposal.status == ProposalStatus::Voting,
        TesseraError::ProposalNotInState
    );
    require!(now >= proposal.voting_ends_at, TesseraError::VotingNotEnded);
    let quorum = proposal.quorum_reached(proposal.quorum_bps)?;
    proposal.status = if !quorum {
        ProposalStatus::QuorumNotReached
    } else if proposal.passes(proposal.pass_threshold_bps)? {
        ProposalStatus::Passed
    } else {
        ProposalStatus::Rejected
    };
    // Without quorum, the deposit is forfeited to the treasury.
    let forfeited = if quorum {
        0
    } else {
        release_deposit(
            &mut accounts.proposal,
            &mut accounts.governance,
            &accounts.token_program,
            &accounts.gov_vault.to_account_info(),
            &accounts.treasury.to_account_info(),
            &accounts.config,
        )?
    };
    let proposal = &accounts.proposal;
    emit!(ProposalFinalized {
        proposal: proposal.key(),
        status: proposal.status,
        yes: proposal.yes,
        no: proposal.no,
        abstain: proposal.abstain,
        total_power: proposal.total_power,
        forfeited,
    });
    Ok(())
}
