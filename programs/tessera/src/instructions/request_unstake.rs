use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::UnstakeRequested;
use crate::state::{Config, Node};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RequestUnstakeArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub operator: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,
}

/// Moves `amount` of active stake into cooldown. A further request adds to the amount in
/// cooldown and restarts the cooldown for all of it, so stake can never skip its cooldown.
pub(crate) fn handler(ctx: Context<RequestUnstake>, args: RequestUnstakeArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let params = ctx.accounts.config.params;
    let node = &mut ctx.accounts.node;
    let remaining = node
        .stake
        .checked_sub(args.amount)
        .ok_or(TesseraError::InsufficientStake)?;
    require!(
        node.open_assignments == 0 || remaining >= params.min_stake,
        TesseraError::StakeLockedByAssignments
    );
    let now = Clock::get()?.unix_timestamp;
    node.stake = remaining;
    node.unstaking = node
        .unstaking
        .checked_add(args.amount)
        .ok_or(TesseraError::MathOverflow)?;
    node.unstake_available_at = now
        .checked_add(params.unstake_cooldown_secs)
        .ok_or(TesseraError::MathOverflow)?;
    node.invariant()?;

    emit!(UnstakeRequested {
        node: node.key(),
        amount: args.amount,
        stake: node.stake,
        unstaking: node.unstaking,
        available_at: node.unstake_available_at,
    });
    Ok(())
}
