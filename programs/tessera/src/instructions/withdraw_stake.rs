use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::StakeWithdrawn;
use crate::state::{Config, Node};
use crate::token_transfer::pay_out;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawStakeArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct WithdrawStake<'info> {
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

    /// Receives the withdrawn stake; must belong to the operator.
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

pub(crate) fn handler(ctx: Context<WithdrawStake>, args: WithdrawStakeArgs) -> Result<()> {
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
    node.unstaking = node
        .unstaking
        .checked_sub(args.amount)
        .ok_or(TesseraError::InsufficientUnstaking)?;
    if node.unstaking == 0 {
        node.unstake_available_at = 0;
    }
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
