use anchor_lang::prelude::*;
use tessera_step::game::state_hash;
use tessera_step::render::PIXEL_STATE_BYTES;

use crate::constants::*;
use crate::error::TesseraError;
use crate::referee::{
    check_matmul_step, check_mlp_step, check_render_step, OpenedOperand, Refereed, SyscallSha256,
};
use crate::state::{Game, GameEnd, GamePhase, InputBuffer, Job};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GameStepArgs {
    /// The state both sides agree on before the step (its hash is the game's `agreed`): 4
    /// bytes for a matmul or an MLP, a pixel state (65 bytes) for a render.
    pub state: Vec<u8>,
    /// The step's operands, opened against the job's input root (a matmul's two; an MLP
    /// bias's one or two cells, or its fold's `x` and `w`, `x` against the previous tensor
    /// after the first layer; none for a render, whose scene is read from the job's input
    /// buffer).
    pub operands: Vec<OpenedOperand>,
    /// An MLP fold after the first layer: `C_{t−1}` and the previous tensor's root, whose
    /// chain link is the game's agreed `C_t` (what `x` opens against). Empty otherwise.
    pub chain: Vec<[u8; 32]>,
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

    /// The job's input, loaded and proven piece by piece: a render step that reads the scene
    /// needs it complete; other steps pass none.
    #[account(seeds = [INPUT_SEED, job.key().as_ref()], bump = input.bump)]
    pub input: Option<Box<Account<'info, InputBuffer>>>,
}

/// The game's last move: the referee executes the one step both sides disagree on, from the
/// state they agree on, with its operands opened against the job's input root. A side whose
/// state after the step is not the referee's loses; if neither's is, both lose.
pub(crate) fn handler(ctx: Context<GameStep>, args: GameStepArgs) -> Result<()> {
    let game_key = ctx.accounts.game.key();
    let scene = ctx
        .accounts
        .input
        .as_ref()
        .filter(|buffer| buffer.is_complete())
        .map(|buffer| buffer.bytes.as_slice());
    let game = &mut ctx.accounts.game;
    let job = &mut ctx.accounts.job;
    let GamePhase::Step { element, position } = game.phase else {
        return err!(TesseraError::WrongMove);
    };
    require!(
        args.state.len() <= PIXEL_STATE_BYTES
            && state_hash::<SyscallSha256>(&args.state) == game.agreed,
        TesseraError::BadMove
    );
    let next = match Refereed::of(job.kernel_id, &job.kernel_params)? {
        Refereed::Matmul(..) => {
            let state = <[u8; 4]>::try_from(args.state.as_slice())
                .map_err(|_| error!(TesseraError::BadStep))?;
            check_matmul_step(
                job.kernel_id,
                &job.kernel_params,
                &job.input,
                element,
                position,
                state,
                &args.operands,
            )?
            .to_vec()
        }
        Refereed::Render(tile) => check_render_step(&tile, scene, element, position, &args.state)?,
        Refereed::Mlp(layers) => {
            let state = <[u8; 4]>::try_from(args.state.as_slice())
                .map_err(|_| error!(TesseraError::BadStep))?;
            check_mlp_step(
                &layers,
                &job.input,
                &game.chain_agreed,
                usize::from(game.tensor),
                element,
                position,
                state,
                &args.operands,
                &args.chain,
            )?
        }
    };
    let truth = state_hash::<SyscallSha256>(&next);
    let lost = [game.claims[0] != truth, game.claims[1] != truth];
    game.end(game_key, job, lost, GameEnd::Refereed)
}
