use anchor_lang::prelude::*;
use tessera_step::tree;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::InputPieceLoaded;
use crate::referee::SyscallSha256;
use crate::state::{InputBuffer, Job};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LoadInputPieceArgs {
    /// The piece's index at [`tree::INPUT_PIECE_LEVEL`].
    pub index: u32,
    /// Its bytes (512, the last piece fewer).
    pub bytes: Vec<u8>,
    /// The siblings that prove it against the job's input root.
    pub siblings: Vec<[u8; 32]>,
}

#[derive(Accounts)]
pub struct LoadInputPiece<'info> {
    /// Anyone: only bytes that prove against the job's input root are written.
    pub caller: Signer<'info>,

    #[account(
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        seeds = [INPUT_SEED, job.key().as_ref()],
        bump = buffer.bump,
    )]
    pub buffer: Box<Account<'info, InputBuffer>>,
}

/// Writes one piece of the job's input into its buffer, once it proves against the input
/// root; each piece loads once.
pub(crate) fn handler(ctx: Context<LoadInputPiece>, args: LoadInputPieceArgs) -> Result<()> {
    let job = &ctx.accounts.job;
    let buffer = &mut ctx.accounts.buffer;
    let index = u64::from(args.index);
    require!(index < buffer.pieces(), TesseraError::BadInputPiece);
    let bit = 1u64 << index;
    require!(buffer.loaded & bit == 0, TesseraError::PieceAlreadyLoaded);
    let len = buffer.bytes.len() as u64;
    require!(
        tree::verify_piece::<SyscallSha256>(
            &job.input.hash,
            len,
            tree::INPUT_PIECE_LEVEL,
            index,
            &args.bytes,
            &args.siblings,
        ),
        TesseraError::BadInputPiece
    );
    let (start, end) = tree::piece_range(len, tree::INPUT_PIECE_LEVEL, index)
        .ok_or(TesseraError::BadInputPiece)?;
    buffer
        .bytes
        .get_mut(start as usize..end as usize)
        .ok_or(TesseraError::BadInputPiece)?
        .copy_from_slice(&args.bytes);
    buffer.loaded |= bit;
    emit!(InputPieceLoaded {
        buffer: buffer.key(),
        job: job.key(),
        index: args.index,
        complete: buffer.is_complete(),
    });
    Ok(())
}
