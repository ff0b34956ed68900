use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::Staked;
use crate::state::{Config, Node};
use crate::token_transfer::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct StakeArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct Stake<'info> {
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

    /// The operator's token account the stake comes from.
    #[account(
        mut,
        constraint = operator_token.mint == config.mint @ TesseraError::WrongMint,
    )]
    pub operator_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub(crate) fn handler(ctx: Context<Stake>, args: StakeArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut *ctx.accounts;
    let node = &mut accounts.node;
    // Governance: the new stake counts only for proposals created after this (see
    // state::governance); slashing may have shrunk the stake since the last lock.
    let locked = node.total_locked()?;
    node.gov_power.clamp(locked)?;
    node.gov_power
        .add(args.amount, accounts.config.proposal_count)?;
    node.stake = node
        .stake
        .checked_add(args.amount)
        .ok_or(TesseraError::MathOverflow)?;
    // Warm-up: the new stake counts only for rounds whose seed becomes public after this
    // slot.
    node.record_stake(args.amount, Clock::get()?.slot);
    node.invariant()?;

    pay_in(
        &accounts.token_program,
        &accounts.operator_token,
        &accounts.stake_vault,
        &accounts.operator,
        args.amount,
    )?;

    emit!(Staked {
        node: accounts.node.key(),
        amount: args.amount,
        stake: accounts.node.stake,
    });
    Ok(())
}
