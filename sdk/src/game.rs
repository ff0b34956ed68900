//! Playing a dispute game (docs/disputes.md): what a side posts next, given the game's account
//! and the side's own view of its result. The side's view (its tree, its trace, the step's
//! witness) comes from the kernels; this module only maps the game's phase to the transaction
//! that answers it, so the worker, the CLI and the tests play by one definition.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use tessera::instructions::GameStepArgs;
use tessera::referee::OpenedOperand;
use tessera::state::{Game, GamePhase, Move};

use crate::instructions as ix;

/// A side's view of its own result, computed off chain (`tessera_kernels::dispute::Side`
/// provides every piece). An `Err` says why the side cannot compute a move (a position
/// outside its tree or trace: a game that is not over its output).
pub trait GameSide {
    /// The top of its result tree (sealed with the output's length: its root).
    fn top(&self) -> Result<[u8; 32], String>;
    /// The descendants of node (`level`, `index`) four levels down.
    fn descent(&self, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String>;
    /// Cell `index` of its output.
    fn cell(&self, index: u64) -> Result<Vec<u8>, String>;
    /// Its state hashes at the interior points of segment (`lo`, `hi`) of `element`'s trace.
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Result<Vec<[u8; 32]>, String>;
    /// The state before step `position` of `element`'s trace and the step's operands opened
    /// against the job's input root.
    fn step(&self, element: u64, position: u64) -> Result<([u8; 4], Vec<OpenedOperand>), String>;
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
    Ok(match game.phase {
        GamePhase::Ended { .. } => Action::Over,
        GamePhase::Step { element, position } => {
            let (state, operands) = me.step(element, position)?;
            Action::Step(GameStepArgs { state, operands })
        }
        _ if posted => Action::Wait,
        GamePhase::Top => Action::Move(Move::Top(me.top()?)),
        GamePhase::Descent { level: 0, index } => Action::Move(Move::Cell(me.cell(index)?)),
        GamePhase::Descent { level, index } => {
            Action::Move(Move::Descent(me.descent(level, index)?))
        }
        GamePhase::Bisect { element, lo, hi } => {
            Action::Move(Move::Bisect(me.bisection(element, lo, hi)?))
        }
    })
}

/// The instruction that performs `action` for the operator of node `index` in game
/// `game_key` over `job`; `None` for `Wait` and `Over`.
pub fn instruction(
    action: Action,
    operator: &Pubkey,
    index: u16,
    job: &Pubkey,
    game_key: &Pubkey,
) -> Option<Instruction> {
    match action {
        Action::Move(mv) => Some(ix::game_move(operator, index, game_key, mv)),
        Action::Step(args) => Some(ix::game_step(operator, job, game_key, args)),
        Action::Wait | Action::Over => None,
    }
}

/// The pairs of slots of `job` that must play a game: both revealed computed roots and the
/// roots differ (lower index first).
pub fn disputed_pairs(job: &tessera::state::Job) -> Vec<[u8; 2]> {
    // At most `MAX_SLOTS` (8) slots: an index fits a byte.
    job.disputed_pairs()
        .map(|(a, b)| [a as u8, b as u8])
        .collect()
}
