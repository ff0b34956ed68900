use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::JobClosed;
use crate::state::{Config, Job};
use crate::token_transfer::pay_out;

#[derive(Accounts)]
pub struct CloseJob<'info> {
    /// Receives the job account's rent.
    #[account(mut)]
    pub submitter: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        close = submitter,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        has_one = submitter @ TesseraError::Unauthorized,
        constraint = !job.is_open() @ TesseraError::JobNotEnded,
    )]
    pub job: Box<Account<'info, Job>>,

    /// Receives what settlement left for the submitter; must belong to the submitter.
    #[account(
        mut,
        constraint = refund_to.mint == config.mint @ TesseraError::WrongMint,
        constraint = refund_to.owner == submitter.key() @ TesseraError::WrongTokenOwner,
    )]
    pub refund_to: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.escrow_vault @ TesseraError::WrongVault)]
    pub escrow_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

/// Closes a settled job: pays the submitter the refund settlement left on it and returns
/// the account's rent. Settlement never pays the submitter directly, so a submitter cannot
/// block a settlement by closing or freezing its own token account.
pub(crate) fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let refund = accounts.job.escrow;
    accounts.job.escrow = 0;
    if refund > 0 {
        pay_out(
            &accounts.token_program,
            &accounts.escrow_vault.to_account_info(),
            &accounts.refund_to.to_account_info(),
            &accounts.config,
            refund,
        )?;
    }
    emit!(JobClosed {
        job: accounts.job.key(),
        submitter: accounts.submitter.key(),
        refunded: refund,
    });
    Ok(())
}
