use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::JobEnded;
use crate::state::{Config, Job, JobEndReason, JobStatus};
use crate::token_transfer::pay_out;

#[derive(Accounts)]
pub struct CancelJob<'info> {
    /// Receives the refund's rent.
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
        constraint = job.status == JobStatus::Open @ TesseraError::JobNotOpen,
        constraint = job.slots.is_empty() @ TesseraError::JobAlreadyClaimed,
    )]
    pub job: Box<Account<'info, Job>>,

    /// Receives the refunded escrow; must belong to the submitter.
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

pub(crate) fn handler(ctx: Context<CancelJob>) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let refund = accounts.job.escrow;
    accounts.job.escrow = 0;
    accounts.job.status = JobStatus::Ended {
        at: Clock::get()?.unix_timestamp,
        reason: JobEndReason::CancelledBySubmitter,
    };
    accounts.job.invariant()?;

    pay_out(
        &accounts.token_program,
        &accounts.escrow_vault.to_account_info(),
        &accounts.refund_to.to_account_info(),
        &accounts.config,
        refund,
    )?;

    emit!(JobEnded {
        job: accounts.job.key(),
        reason: JobEndReason::CancelledBySubmitter,
        refunded: refund,
    });
    Ok(())
}
