use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::events::StakeWithdrawn;
use crate::instructions::operator_withdrawal::OperatorWithdrawal;
use crate::token_transfer::pay_out;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawStakeArgs {
    pub amount: u64,
}

pub(crate) fn handler(ctx: Context<OperatorWithdrawal>, args: WithdrawStakeArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut *ctx.accounts;
    let node = &mut accounts.node;
    let now = Clock::get()?.unix_timestamp;
    require!(
        args.amount <= node.unstaking,
        TesseraError::InsufficientUnstaking
    );
    require!(
        now >= node.unstake_available_at,
        TesseraError::CooldownNotElapsed
    );
    require!(now >= node.vote_lock_until, TesseraError::VotesLocked);
    // Stake in cooldown stays slashable for every slot the node holds: a job can live longer
    // than the cooldown, so the stake backing an open assignment never leaves before it ends.
    require!(
        node.open_assignments == 0,
        TesseraError::NodeHasOpenAssignments
    );
    node.unstaking = node
        .unstaking
        .checked_sub(args.amount)
        .ok_or(TesseraError::InsufficientUnstaking)?;
    if node.unstaking == 0 {
        node.unstake_available_at = 0;
    }
    let locked = node.total_locked()?;
    node.gov_power.clamp(locked)?;
    node.invariant()?;

    pay_out(
        &accounts.token_program,
        &accounts.stake_vault.to_account_info(),
        &accounts.destination.to_account_info(),
        &accounts.config,
        args.amount,
    )?;

    emit!(StakeWithdrawn {
        node: accounts.node.key(),
        amount: args.amount,
        unstaking: accounts.node.unstaking,
        destination: accounts.destination.key(),
    });
    Ok(())
}
