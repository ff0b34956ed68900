use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ProposalClosed;
use crate::state::{Config, Governance, Proposal};
use crate::token_transfer::pay_out;

/// Accounts of `cancel_proposal` and `close_proposal`: the proposer closing its proposal,
/// taking back the deposit still held and the account's rent.
#[derive(Accounts)]
pub struct ProposerClose<'info> {
    #[account(mut)]
    pub proposer: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        mut,
        close = proposer,
        seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()],
        bump = proposal.bump,
        has_one = proposer @ TesseraError::Unauthorized,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// Receives the deposit; must belong to the proposer.
    #[account(
        mut,
        constraint = refund_to.mint == config.mint @ TesseraError::WrongMint,
        constraint = refund_to.owner == proposer.key() @ TesseraError::WrongTokenOwner,
    )]
    pub refund_to: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = governance.vault @ TesseraError::WrongVault)]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

/// Takes a proposal's remaining deposit off the governance books and pays it out of the
/// governance vault to `to` (the proposer, or the treasury when it is forfeited). Returns the
/// amount paid.
pub(crate) fn release_deposit<'info>(
    proposal: &mut Proposal,
    governance: &mut Governance,
    token_program: &Program<'info, Token>,
    gov_vault: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    config: &Account<'info, Config>,
) -> Result<u64> {
    let amount = proposal.deposit;
    if amount == 0 {
        return Ok(0);
    }
    proposal.deposit = 0;
    governance.proposal_deposits = governance
        .proposal_deposits
        .checked_sub(amount)
        .ok_or(TesseraError::InvariantViolated)?;
    pay_out(token_program, gov_vault, to, config, amount)?;
    Ok(amount)
}

impl ProposerClose<'_> {
    /// Pays the proposal's remaining deposit back and emits [`ProposalClosed`]; the account
    /// itself is closed by the `close` constraint.
    pub(crate) fn refund(&mut self, cancelled: bool) -> Result<()> {
        let refund = release_deposit(
            &mut self.proposal,
            &mut self.governance,
            &self.token_program,
            &self.gov_vault.to_account_info(),
            &self.refund_to.to_account_info(),
            &self.config,
        )?;
        emit!(ProposalClosed {
            proposal: self.proposal.key(),
            proposer: self.proposer.key(),
            cancelled,
            refunded: refund,
        });
        Ok(())
    }
}
