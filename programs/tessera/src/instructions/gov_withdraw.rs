use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GovWithdrawn;
use crate::state::{Config, Governance, Voter};
use crate::token_transfer::pay_out;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GovWithdrawArgs {
    pub amount: u64,
}

#[derive(Accounts)]
pub struct GovWithdraw<'info> {
    pub owner: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        mut,
        seeds = [VOTER_SEED, owner.key().as_ref()],
        bump = voter.bump,
        has_one = owner @ TesseraError::Unauthorized,
    )]
    pub voter: Box<Account<'info, Voter>>,

    /// Receives the tokens; must belong to the owner.
    #[account(
        mut,
        constraint = destination.mint == config.mint @ TesseraError::WrongMint,
        constraint = destination.owner == owner.key() @ TesseraError::WrongTokenOwner,
    )]
    pub destination: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = governance.vault @ TesseraError::WrongVault)]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

/// Withdraws `amount` of the deposit, once no vote it backs is still open.
pub(crate) fn handler(ctx: Context<GovWithdraw>, args: GovWithdrawArgs) -> Result<()> {
    require!(args.amount > 0, TesseraError::ZeroAmount);
    let accounts = &mut *ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let voter = &mut accounts.voter;
    require!(now >= voter.vote_lock_until, TesseraError::VotesLocked);
    require!(
        args.amount <= voter.power.total()?,
        TesseraError::InsufficientDeposit
    );
    let governance = &mut accounts.governance;
    // While a proposal is voting, the deposits counted in its quorum base stay: only what
    // was deposited after the latest proposal was created may leave.
    if now < governance.votes_open_until {
        let latest = accounts.config.proposal_count.saturating_sub(1);
        let counted = voter.power.power_for(latest);
        let free = voter.power.total()?.saturating_sub(counted);
        require!(args.amount <= free, TesseraError::DepositInQuorumBase);
    }
    voter.power.remove(args.amount)?;
    governance.voter_deposits = governance
        .voter_deposits
        .checked_sub(args.amount)
        .ok_or(TesseraError::InvariantViolated)?;

    pay_out(
        &accounts.token_program,
        &accounts.gov_vault.to_account_info(),
        &accounts.destination.to_account_info(),
        &accounts.config,
        args.amount,
    )?;

    emit!(GovWithdrawn {
        voter: accounts.voter.key(),
        owner: accounts.owner.key(),
        amount: args.amount,
        deposit: accounts.voter.power.total()?,
        destination: accounts.destination.key(),
    });
    Ok(())
}
