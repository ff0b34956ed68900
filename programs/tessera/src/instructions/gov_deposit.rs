use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GovDeposited;
use crate::state::{Config, Governance, LockedPower, Voter};
use crate::token_transfer::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GovDepositArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct GovDeposit<'info> {
    /// The holder; pays for its voter account on the first deposit.
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        init_if_needed,
        payer = owner,
        space = 8 + Voter::INIT_SPACE,
        seeds = [VOTER_SEED, owner.key().as_ref()],
        bump,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        mut,
        constraint = owner_token.mint == config.mint @ TesseraError::WrongMint,
    )]
    pub owner_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = governance.vault @ TesseraError::WrongVault)]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

/// Locks `amount` as a governance deposit. It counts for proposals created from now on.
pub(crate) fn handler(ctx: Context<GovDeposit>, args: GovDepositArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut *ctx.accounts;
    let voter = &mut accounts.voter;
    if voter.version == 0 {
        voter.version = ACCOUNT_VERSION;
        voter.bump = ctx.bumps.voter;
        voter.owner = accounts.owner.key();
        voter.power = LockedPower::default();
        voter.vote_lock_until = 0;
    }
    voter
        .power
        .add(args.amount, accounts.config.proposal_count)?;
    let governance = &mut accounts.governance;
    governance.voter_deposits = governance
        .voter_deposits
        .checked_add(args.amount)
        .ok_or(TesseraError::MathOverflow)?;

    pay_in(
        &accounts.token_program,
        &accounts.owner_token,
        &accounts.gov_vault,
        &accounts.owner,
        args.amount,
    )?;

    emit!(GovDeposited {
        voter: accounts.voter.key(),
        owner: accounts.owner.key(),
        amount: args.amount,
        deposit: accounts.voter.power.total()?,
    });
    Ok(())
}
