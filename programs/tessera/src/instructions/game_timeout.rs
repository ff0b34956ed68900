use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{Game, GameEnd, Job};

#[derive(Accounts)]
pub struct GameTimeout<'info> {
    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        mut,
        seeds = [GAME_SEED, job.key().as_ref(), &game.slots],
        bump = game.bump,
        constraint = !game.is_over() @ TesseraError::GameOver,
    )]
    pub game: Box<Account<'info, Game>>,
}

/// Permissionless: ends a game in which a side's clock ran out before it posted; that side
/// loses (in the step phase, where either may post, both lose once both clocks ran out).
/// Stalling never wins.
pub(crate) fn handler(ctx: Context<GameTimeout>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let game_key = ctx.accounts.game.key();
    let game = &mut ctx.accounts.game;
    let lost = game.timed_out(now);
    require!(lost[0] || lost[1], TesseraError::ClockNotExpired);
    game.end(game_key, &mut ctx.accounts.job, lost, GameEnd::Timeout)
}
