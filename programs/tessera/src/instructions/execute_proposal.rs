use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::{
    GovParamsUpdated, ParamsUpdated, PauseChanged, ProposalExecuted, TreasuryGranted,
};
use crate::state::{set_kernel, Config, Governance, Proposal, ProposalAction, ProposalStatus};
use crate::token_transfer::pay_out;

#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        constraint = config.authority == governance.key() @ TesseraError::GovernanceNotInControl,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        mut,
        seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(mut, address = config.treasury @ TesseraError::WrongVault)]
    pub treasury: Box<Account<'info, TokenAccount>>,

    /// The token account a treasury grant pays; only for `TreasuryGrant`.
    #[account(mut)]
    pub grant_recipient: Option<Box<Account<'info, TokenAccount>>>,

    pub token_program: Program<'info, Token>,
}

/// Carries out a passed proposal (anyone may call) between its timelock and its expiry.
/// Parameters are checked against their bounds again, on the network as it is now.
pub(crate) fn handler(ctx: Context<ExecuteProposal>) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let proposal = &mut accounts.proposal;
    require!(
        proposal.status == ProposalStatus::Passed,
        TesseraError::ProposalNotInState
    );
    require!(
        now >= proposal.executable_at,
        TesseraError::TimelockNotElapsed
    );
    require!(now < proposal.expires_at, TesseraError::ProposalExpired);
    proposal.status = ProposalStatus::Executed;
    let action = proposal.action;

    let config = &mut accounts.config;
    match action {
        ProposalAction::UpdateParams(changes) => {
            let new = changes.apply(&config.params);
            replace_params(config, new)?;
        }
        ProposalAction::SetKernel { kernel_id, allowed } => {
            require!(kernel_id < KERNEL_ID_COUNT, TesseraError::InvalidKernelId);
            let new = set_kernel(&config.params, kernel_id, allowed);
            replace_params(config, new)?;
        }
        ProposalAction::SetPaused(paused) => {
            let old = config.paused;
            config.paused = paused;
            emit!(PauseChanged { old, new: paused });
        }
        ProposalAction::TreasuryGrant { recipient, amount } => {
            let to = accounts
                .grant_recipient
                .as_ref()
                .filter(|to| to.key() == recipient)
                .ok_or_else(|| error!(TesseraError::WrongGrantRecipient))?;
            let treasury_before = accounts.treasury.amount;
            pay_out(
                &accounts.token_program,
                &accounts.treasury.to_account_info(),
                &to.to_account_info(),
                &accounts.config,
                amount,
            )?;
            emit!(TreasuryGranted {
                recipient,
                amount,
                treasury_before,
                treasury_after: treasury_before
                    .checked_sub(amount)
                    .ok_or(TesseraError::MathOverflow)?,
            });
        }
        ProposalAction::UpdateGovernance(changes) => {
            let governance = &mut accounts.governance;
            let old = governance.params;
            let new = changes.apply(&old);
            new.validate()?;
            governance.params = new;
            emit!(GovParamsUpdated { old, new });
        }
    }

    emit!(ProposalExecuted {
        proposal: accounts.proposal.key(),
        id: accounts.proposal.id,
        action,
    });
    Ok(())
}

fn replace_params(config: &mut Config, new: crate::state::Params) -> Result<()> {
    new.validate()?;
    let old = config.params;
    config.params = new;
    config.invariant()?;
    emit!(ParamsUpdated {
        authority: config.authority,
        old,
        new,
    });
    Ok(())
}
