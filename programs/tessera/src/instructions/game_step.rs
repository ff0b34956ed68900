use anchor_lang::prelude::*;
use tessera_step::game::state_hash;

use crate::constants::*;
use crate::error::TesseraError;
use crate::referee::{check_matmul_step, OpenedOperand, SyscallSha256};
use crate::state::{Game, GameEnd, GamePhase, Job};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GameStepArgs {
    /// The state both sides agree on before the step (its hash is the game's `agreed`).
    pub state: [u8; 4],
    /// The step's operands, opened against the job's input root.
    pub operands: Vec<OpenedOperand>,
}

#[derive(Accounts)]
pub struct GameStep<'info> {
    /// Anyone: the honest side has every reason to post the step.
    pub caller: Signer<'info>,

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

/// The game's last move: the referee executes the one step both sides disagree on, from the
/// state they agree on, with its operands opened against the job's input root. A side whose
/// state after the step is not the referee's loses; if neither's is, both lose.
pub(crate) fn handler(ctx: Context<GameStep>, args: GameStepArgs) -> Result<()> {
    let game_key = ctx.accounts.game.key();
    let game = &mut ctx.accounts.game;
    let job = &mut ctx.accounts.job;
    let GamePhase::Step { element, position } = game.phase else {
        return err!(TesseraError::WrongMove);
    };
    require!(
        state_hash::<SyscallSha256>(&args.state) == game.agreed,
        TesseraError::BadMove
    );
    let next = check_matmul_step(
        job.kernel_id,
        &job.kernel_params,
        &job.input,
        element,
        position,
        args.state,
        &args.operands,
    )?;
    let truth = state_hash::<SyscallSha256>(&next);
    let lost = [game.claims[0] != truth, game.claims[1] != truth];
    game.end(game_key, job, lost, GameEnd::Refereed)
}
