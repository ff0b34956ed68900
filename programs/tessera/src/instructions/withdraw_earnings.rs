use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::events::EarningsWithdrawn;
use crate::instructions::operator_withdrawal::OperatorWithdrawal;
use crate::token_transfer::pay_out;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawEarningsArgs {
    pub amount: u64,
}

/// Pays out rewards settlement credited to the node. Earnings are not stake: no cooldown.
pub(crate) fn handler(ctx: Context<OperatorWithdrawal>, args: WithdrawEarningsArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut *ctx.accounts;
    let node = &mut accounts.node;
    node.earnings = node
        .earnings
        .checked_sub(args.amount)
        .ok_or(TesseraError::InsufficientEarnings)?;
    node.invariant()?;

    pay_out(
        &accounts.token_program,
        &accounts.stake_vault.to_account_info(),
        &accounts.destination.to_account_info(),
        &accounts.config,
        args.amount,
    )?;

    emit!(EarningsWithdrawn {
        node: accounts.node.key(),
        amount: args.amount,
        earnings: accounts.node.earnings,
        destination: accounts.destination.key(),
    });
    Ok(())
}
