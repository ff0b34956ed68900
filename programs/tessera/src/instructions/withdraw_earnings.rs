use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::EarningsWithdrawn;
use crate::state::{Config, Node};
use crate::token_transfer::pay_out;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawEarningsArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct WithdrawEarnings<'info> {
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

    /// Receives the earnings; must belong to the operator.
    #[account(
        mut,
        constraint = destination.mint == config.mint @ TesseraError::WrongMint,
        constraint = destination.owner == operator.key() @ TesseraError::WrongTokenOwner,
    )]
    pub destination: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

/// Pays out rewards settlement credited to the node. Earnings are not stake: no cooldown.
pub(crate) fn handler(ctx: Context<WithdrawEarnings>, args: WithdrawEarningsArgs) -> Result<()> {
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
