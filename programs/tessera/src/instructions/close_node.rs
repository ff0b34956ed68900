use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::NodeClosed;
use crate::state::Node;

#[derive(Accounts)]
pub struct CloseNode<'info> {
    /// Receives the node account's rent.
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(
        mut,
        close = operator,
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
        constraint = node.stake == 0 && node.unstaking == 0 @ TesseraError::NodeHasStake,
        constraint = node.earnings == 0 @ TesseraError::NodeHasEarnings,
        constraint = node.open_assignments == 0 @ TesseraError::NodeHasOpenAssignments,
    )]
    pub node: Box<Account<'info, Node>>,
}

pub(crate) fn handler(ctx: Context<CloseNode>) -> Result<()> {
    emit!(NodeClosed {
        node: ctx.accounts.node.key(),
        operator: ctx.accounts.operator.key(),
    });
    Ok(())
}
