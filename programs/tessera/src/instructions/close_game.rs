use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GameClosed;
use crate::state::Game;

#[derive(Accounts)]
pub struct CloseGame<'info> {
    #[account(
        mut,
        seeds = [GAME_SEED, game.job.as_ref(), &game.slots],
        bump = game.bump,
        constraint = game.is_over() @ TesseraError::GameNotOver,
        constraint = game.payee() == Some(payee.key()) @ TesseraError::Unauthorized,
        close = payee,
    )]
    pub game: Box<Account<'info, Game>>,

    /// The winner's operator, or the job's submitter if both sides lost.
    /// CHECK: checked against the game's outcome above.
    #[account(mut)]
    pub payee: UncheckedAccount<'info>,
}

/// Permissionless: closes an ended game; its rent and both bonds go to the winner's operator
/// (the loser's bond pays for the winner's moves), or to the submitter if both sides lost.
/// The job keeps the outcome (its dispute's `lost`).
pub(crate) fn handler(ctx: Context<CloseGame>) -> Result<()> {
    emit!(GameClosed {
        game: ctx.accounts.game.key(),
        to: ctx.accounts.payee.key(),
        lamports: ctx.accounts.game.to_account_info().lamports(),
    });
    Ok(())
}
