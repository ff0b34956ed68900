use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::InputBufferOpened;
use crate::referee::Refereed;
use crate::state::{InputBuffer, Job};

#[derive(Accounts)]
pub struct OpenInputBuffer<'info> {
    /// Anyone (a player, to post its step); pays the rent and gets it back when the buffer
    /// closes.
    #[account(mut)]
    pub payer: Signer<'info>,

    #[account(
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        init,
        payer = payer,
        space = InputBuffer::space(usize::try_from(job.input.size_bytes).unwrap_or(usize::MAX)),
        seeds = [INPUT_SEED, job.key().as_ref()],
        bump,
    )]
    pub buffer: Box<Account<'info, InputBuffer>>,

    pub system_program: Program<'info, System>,
}

/// Opens the buffer a disputed render job's referee reads its scene from: sized to the job's
/// input, empty until its pieces are loaded (`load_input_piece`).
pub(crate) fn handler(ctx: Context<OpenInputBuffer>) -> Result<()> {
    let job = &ctx.accounts.job;
    require!(
        job.refereed
            && job.dispute.is_started()
            && matches!(
                Refereed::of(job.kernel_id, &job.kernel_params),
                Ok(Refereed::Render(_))
            ),
        TesseraError::InputNotNeeded
    );
    let len = usize::try_from(job.input.size_bytes).map_err(|_| TesseraError::InputNotNeeded)?;
    require!(len <= MAX_INPUT_BUFFER_BYTES, TesseraError::InputNotNeeded);
    let job_key = job.key();
    let buffer = &mut ctx.accounts.buffer;
    buffer.version = ACCOUNT_VERSION;
    buffer.bump = ctx.bumps.buffer;
    buffer.job = job_key;
    buffer.payer = ctx.accounts.payer.key();
    buffer.loaded = 0;
    buffer.bytes = vec![0; len];
    emit!(InputBufferOpened {
        buffer: buffer.key(),
        job: job_key,
        payer: buffer.payer,
        len: len as u32,
    });
    Ok(())
}
