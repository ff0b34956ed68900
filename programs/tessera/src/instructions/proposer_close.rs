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

impl ProposerClose<'_> {
    /// Pays the proposal's remaining deposit back and emits [`ProposalClosed`]; the account
    /// itself is closed by the `close` constraint.
    pub(crate) fn refund(&mut self, cancelled: bool) -> Result<()> {
        let refund = self.proposal.deposit;
        self.proposal.deposit = 0;
        if refund > 0 {
            self.governance.proposal_deposits = self
                .governance
                .proposal_deposits
                .checked_sub(refund)
                .ok_or(TesseraError::InvariantViolated)?;
            pay_out(
                &self.token_program,
                &self.gov_vault.to_account_info(),
                &self.refund_to.to_account_info(),
                &self.config,
                refund,
            )?;
        }
        emit!(ProposalClosed {
            proposal: self.proposal.key(),
            proposer: self.proposer.key(),
            cancelled,
            refunded: refund,
        });
        Ok(())
    }
}
