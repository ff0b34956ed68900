//! Playing a dispute game (docs/disputes.md): what a side posts next, given the game's account
//! and the side's own view of its result. The side's view (its tree, its trace, the step's
//! witness) comes from the kernels; this module only maps the game's phase to the transaction
//! that answers it, so the worker, the CLI and the tests play by one definition.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use tessera::instructions::GameStepArgs;
use tessera::referee::{render_step_reads_scene, Refereed};
use tessera::state::{Game, GamePhase, InputBuffer, Job, Move};

use crate::instructions as ix;

/// A side's view of its own result, computed off chain (`tessera_kernels::dispute::Side`
/// and `MlpSide` provide every piece). An `Err` says why the side cannot compute a move (a
/// position outside its tree or trace: a game that is not over its output).
///
/// `tensor` is the game's disputed tensor: always the output (0) for a kernel whose output is
/// its only tensor; for a chain kernel (an MLP's layers) the tensor the chain's bisection
/// found.
pub trait GameSide {
    /// The top of its result tree (sealed with the output's length: its root).
    fn top(&self) -> Result<[u8; 32], String>;
    /// The descendants of node (`level`, `index`) of tensor `tensor`'s tree four levels down.
    fn descent(&self, tensor: usize, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String>;
    /// Cell `index` of tensor `tensor`.
    fn cell(&self, tensor: usize, index: u64) -> Result<Vec<u8>, String>;
    /// Its state hashes at the interior points of segment (`lo`, `hi`) of the trace of
    /// `element` of tensor `tensor`.
    fn bisection(
        &self,
        tensor: usize,
        element: u64,
        lo: u64,
        hi: u64,
    ) -> Result<Vec<[u8; 32]>, String>;
    /// The last move: the state before step `position` of the trace of `element` of tensor
    /// `tensor` (its canonical bytes) and the step's operands opened against the job's input
    /// root (none for a render step, which reads the scene from the job's input buffer) or,
    /// for a chain kernel, against the previous tensor with its link in `chain`.
    fn step(&self, tensor: usize, element: u64, position: u64) -> Result<GameStepArgs, String>;
    /// A chain kernel: its link `C_j` (`C_0` is the chain's start).
    fn link(&self, _j: usize) -> Result<[u8; 32], String> {
        Err("this kernel's output is its only tensor: it has no chain".into())
    }
    /// A chain kernel: its links at the interior points of the chain's segment (`lo`, `hi`).
    fn links(&self, _lo: u64, _hi: u64) -> Result<Vec<[u8; 32]>, String> {
        Err("this kernel's output is its only tensor: it has no chain".into())
    }
    /// A chain kernel: tensor `tensor`'s root and the top of its tree.
    fn reveal(&self, _tensor: usize) -> Result<([u8; 32], [u8; 32]), String> {
        Err("this kernel's output is its only tensor: it has no chain".into())
    }
}

/// What a side does next in a game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Post this move of the current round.
    Move(Move),
    /// Post the last move: the referee's step.
    Step(GameStepArgs),
    /// Nothing: this side has posted this round and waits for the other (whose clock runs).
    Wait,
    /// The game is over.
    Over,
}

/// The next action of `side` (0 or 1) in `game`.
pub fn next_action(game: &Game, side: usize, me: &dyn GameSide) -> Result<Action, String> {
    if side > 1 {
        return Err(format!("side {side}: a game has sides 0 and 1"));
    }
    let posted = game.posted[side].done;
    let tensor = usize::from(game.tensor);
    Ok(match game.phase {
        GamePhase::Ended { .. } => Action::Over,
        GamePhase::Step { element, position } => Action::Step(me.step(tensor, element, position)?),
        _ if posted => Action::Wait,
        GamePhase::Links => {
            let last = usize::from(game.tensors).saturating_sub(1);
            Action::Move(Move::Link(me.link(last)?))
        }
        GamePhase::Chain { lo, hi } => {
            Action::Move(Move::Bisect(me.links(u64::from(lo), u64::from(hi))?))
        }
        GamePhase::Reveal { tensor } => {
            let (root, top) = me.reveal(usize::from(tensor))?;
            Action::Move(Move::Reveal { root, top })
        }
        GamePhase::Top => Action::Move(Move::Top(me.top()?)),
        GamePhase::Descent { level: 0, index } => Action::Move(Move::Cell(me.cell(tensor, index)?)),
        GamePhase::Descent { level, index } => {
            Action::Move(Move::Descent(me.descent(tensor, level, index)?))
        }
        GamePhase::Bisect { element, lo, hi } => {
            Action::Move(Move::Bisect(me.bisection(tensor, element, lo, hi)?))
        }
    })
}

/// Compute units a render step's transaction asks for: a bounce through 64 objects takes
/// about 188k, more than an instruction's default 200k leaves once the accounts are loaded.
pub const RENDER_STEP_COMPUTE_UNITS: u32 = 400_000;

/// Whether the referee's step from `position` of `job`'s traces reads the job's input from
/// its buffer (a render's camera ray or bounce: the scene), which must then be loaded first
/// ([`input_instructions`]).
pub fn step_reads_input(job: &Job, position: u64) -> bool {
    matches!(
        Refereed::of(job.kernel_id, &job.kernel_params),
        Ok(Refereed::Render(tile)) if render_step_reads_scene(&tile, position)
    )
}

/// The instructions of one transaction that performs `action` for the operator of node
/// `index` in game `game` (at `game_key`) over `job` (at `job_key`); empty for `Wait` and
/// `Over`. A render step asks for more compute units, and passes the job's input buffer
/// when it reads the scene.
pub fn instruction(
    action: Action,
    operator: &Pubkey,
    index: u16,
    job_key: &Pubkey,
    job: &Job,
    game_key: &Pubkey,
    game: &Game,
) -> Vec<Instruction> {
    match action {
        Action::Move(mv) => vec![ix::game_move(operator, index, game_key, mv)],
        Action::Step(args) => {
            let reads = match game.phase {
                GamePhase::Step { position, .. } => step_reads_input(job, position),
                _ => false,
            };
            let step = ix::game_step(operator, job_key, game_key, args, reads);
            match Refereed::of(job.kernel_id, &job.kernel_params) {
                Ok(Refereed::Render(_)) => vec![
                    ComputeBudgetInstruction::set_compute_unit_limit(RENDER_STEP_COMPUTE_UNITS),
                    step,
                ],
                _ => vec![step],
            }
        }
        Action::Wait | Action::Over => vec![],
    }
}

/// One piece of a job's input and the siblings that prove it against the input root (the
/// kernels' `dispute::Tree::pieces` computes them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPiece {
    pub index: u32,
    pub bytes: Vec<u8>,
    pub siblings: Vec<[u8; 32]>,
}

/// The instructions, one transaction each, that leave `job`'s input buffer complete: open it
/// if `buffer` is `None` (`payer` pays its rent), then load every piece it does not hold yet.
pub fn input_instructions(
    payer: &Pubkey,
    job_key: &Pubkey,
    buffer: Option<&InputBuffer>,
    pieces: &[InputPiece],
) -> Vec<Instruction> {
    let loaded = buffer.map_or(0, |b| b.loaded);
    let open = buffer
        .is_none()
        .then(|| ix::open_input_buffer(payer, job_key));
    open.into_iter()
        .chain(
            pieces
                .iter()
                .filter(|p| p.index >= 64 || loaded & (1u64 << p.index) == 0)
                .map(|p| {
                    ix::load_input_piece(
                        payer,
                        job_key,
                        p.index,
                        p.bytes.clone(),
                        p.siblings.clone(),
                    )
                }),
        )
        .collect()
}

/// The pairs of slots of `job` that must play a game: both revealed computed roots and the
/// roots differ (lower index first).
/// The pairs of slots whose game is to be played or was played: the disputed pairs, and the
/// pairs that opened a game even if a side has since been eliminated (a won game stays to be
/// closed, and shown, after the challenge window records its loser as eliminated).
pub fn game_pairs(job: &tessera::state::Job) -> Vec<[u8; 2]> {
    (0..job.slots.len())
        .flat_map(|b| (0..b).map(move |a| (a, b)))
        .filter(|(a, b)| job.disputes(*a, *b) || job.dispute.opened(*a, *b))
        .map(|(a, b)| [a as u8, b as u8])
        .collect()
}

pub fn disputed_pairs(job: &tessera::state::Job) -> Vec<[u8; 2]> {
    // At most `MAX_SLOTS` (8) slots: an index fits a byte.
    job.disputed_pairs()
        .map(|(a, b)| [a as u8, b as u8])
        .collect()
}
