use anchor_lang::prelude::*;
use anchor_lang::system_program;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GameMoved;
use crate::state::{Game, Move, Node};

#[derive(Accounts)]
pub struct GameMove<'info> {
    /// The operator of the side's node; pays its bond with its first move.
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(
        mut,
        seeds = [GAME_SEED, game.job.as_ref(), &game.slots],
        bump = game.bump,
        constraint = !game.is_over() @ TesseraError::GameOver,
    )]
    pub game: Box<Account<'info, Game>>,

    pub system_program: Program<'info, System>,
}

/// A side posts its move of the current round (a top, a descent, a cell, a bisection),
/// checked against what it committed; once both sides have posted, the round resolves and
/// the disagreement narrows. A side's first move deposits its bond.
pub(crate) fn handler(ctx: Context<GameMove>, mv: Move) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let node_key = ctx.accounts.node.key();
    let game_key = ctx.accounts.game.key();
    let game = &mut ctx.accounts.game;
    let side = game.side_of(&node_key).ok_or(TesseraError::NotAPlayer)?;
    let due = game.bond.saturating_sub(game.bonds[side]);
    game.post(side, mv, now)?;
    game.resolve(now)?;
    game.bonds[side] = game.bond;
    let event = GameMoved {
        game: game_key,
        side: side as u8,
        phase: game.phase,
        moves: game.moves[side],
        clock_left: game.clocks[side],
    };
    if due > 0 {
        system_program::transfer(
            CpiContext::new(
                ctx.accounts.system_program.key(),
                system_program::Transfer {
                    from: ctx.accounts.operator.to_account_info(),
                    to: ctx.accounts.game.to_account_info(),
                },
            ),
            due,
        )?;
    }
    emit!(event);
    Ok(())
}
