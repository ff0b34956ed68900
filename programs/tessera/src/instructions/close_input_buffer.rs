use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::InputBufferClosed;
use crate::state::{InputBuffer, Job};

#[derive(Accounts)]
pub struct CloseInputBuffer<'info> {
    #[account(
        mut,
        seeds = [INPUT_SEED, buffer.job.as_ref()],
        bump = buffer.bump,
        has_one = payer @ TesseraError::Unauthorized,
        close = payer,
    )]
    pub buffer: Box<Account<'info, InputBuffer>>,

    /// CHECK: the buffer's payer (checked above); receives the rent.
    #[account(mut)]
    pub payer: UncheckedAccount<'info>,

    /// CHECK: the buffer's job: its address is checked against the buffer, and it must be
    /// over — ended, or already closed by its submitter.
    #[account(address = buffer.job @ TesseraError::Unauthorized)]
    pub job: UncheckedAccount<'info>,
}

/// Permissionless: once the job is over, its input buffer closes and the rent goes back to
/// whoever paid it.
pub(crate) fn handler(ctx: Context<CloseInputBuffer>) -> Result<()> {
    let job = &ctx.accounts.job;
    if job.owner == &crate::ID && !job.data_is_empty() {
        let data = job.try_borrow_data()?;
        let job = Job::try_deserialize(&mut &data[..])?;
        require!(!job.is_open(), TesseraError::JobNotEnded);
    }
    emit!(InputBufferClosed {
        buffer: ctx.accounts.buffer.key(),
        job: job.key(),
        to: ctx.accounts.payer.key(),
        lamports: ctx.accounts.buffer.to_account_info().lamports(),
    });
    Ok(())
}
