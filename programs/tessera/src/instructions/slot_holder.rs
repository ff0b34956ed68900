use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{Job, Node};

/// Accounts of `commit` and `reveal`: a slot holder acting on its slot of an open job.
#[derive(Accounts)]
pub struct SlotHolder<'info> {
    pub operator: Signer<'info>,

    #[account(
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
}
