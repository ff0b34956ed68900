use anchor_lang::prelude::*;

use crate::error::TesseraError;
use crate::instructions::settle::*;

#[derive(Accounts)]
pub struct ExpireJob<'info> {
    pub settle: Settle<'info>,

    /// Receives the bounty: any token account of the network's mint. Not decoded here (this
    /// is the costliest instruction): the token program refuses a transfer into an account
    /// that is not a token account of the stake vault's mint.
    /// CHECK: checked by the token program when the bounty is paid.
    #[account(mut)]
    pub bounty_to: UncheckedAccount<'info>,
}

/// Permissionless: settles a stalled job once its current round's reveal deadline plus the
/// expiry grace has passed, paying the caller `expiry_bounty_bps` of the penalties taken.
/// A job with a dispute still escalates (it is not judged by a stale first round), and the
/// escalation round has deadlines of its own, so no escrow stays locked forever.
pub(crate) fn handler<'info>(ctx: Context<'info, ExpireJob<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let params = ctx.accounts.settle.config.params;
    let expires_at = ctx
        .accounts
        .settle
        .job
        .reveal_deadline
        .checked_add(i64::from(params.expiry_grace_secs))
        .ok_or(TesseraError::MathOverflow)?;
    require!(now >= expires_at, TesseraError::NotExpired);
    let accounts = &mut *ctx.accounts;
    settle_job(
        &mut accounts.settle,
        ctx.remaining_accounts,
        now,
        Some(&accounts.bounty_to.to_account_info()),
    )
}
