//! A dispute game between two slots of a refereed job whose revealed roots differ
//! (docs/disputes.md). The rules that do not depend on the chain are `tessera_step::game`'s;
//! this account holds where the game stands, and `instructions::game_*` apply the rules to the
//! moves the players post.
use anchor_lang::prelude::*;
use tessera_step::game as rules;
use tessera_step::tree;

use crate::error::TesseraError;
use crate::referee::{SyscallSha256, TensorShape, MAX_TENSORS};

/// Most hashes one move posts (a descent opens 16 nodes; a bisection 15 states).
pub const MAX_MOVE_HASHES: usize = 16;

/// One game: side 0 is the slot with the lower index.
#[account]
#[derive(InitSpace, Debug)]
pub struct Game {
    /// Layout version ([`crate::constants::ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[GAME_SEED, job, slot a, slot b]`).
    pub bump: u8,
    pub job: Pubkey,
    /// The job's submitter: receives the bonds if both sides lose.
    pub submitter: Pubkey,
    /// The two slots (indices in the job), `slots[0] < slots[1]`.
    pub slots: [u8; 2],
    /// Their nodes and the nodes' operators (the keys that sign moves, and receive the
    /// winner's bonds).
    pub nodes: [Pubkey; 2],
    pub operators: [Pubkey; 2],
    /// The roots the two slots revealed.
    pub roots: [[u8; 32]; 2],
    /// Bytes of the tensor the descent plays on (the output, or for a chain kernel the first
    /// tensor the sides compute differently; from the job's params).
    pub output_len: u64,
    /// Steps in the trace of one of its elements.
    pub trace_len: u64,
    /// Bytes of one of its elements.
    pub element_size: u8,
    /// Tensors of the job's chain (1: the output is the only one, and the game starts at its
    /// tree; an MLP: one per layer, and the game first bisects the chain).
    pub tensors: u8,
    /// The tensor the descent plays on (its index in the chain; the last is the output).
    pub tensor: u8,
    /// Every tensor's shape (the first `tensors`).
    pub shapes: [TensorShape; MAX_TENSORS],
    /// The chain link both sides agree on: during the chain's bisection at the segment's
    /// start; after it, `C_t` before the disputed tensor `t` (what its operands from the
    /// previous tensor open against).
    pub chain_agreed: [u8; 32],
    pub phase: GamePhase,
    /// Descent: each side's hash of the disputed node. Bisection: each side's state hash at
    /// the end of the kept segment.
    pub claims: [[u8; 32]; 2],
    /// Bisection: the state hash both sides agree on at the start of the kept segment.
    pub agreed: [u8; 32],
    /// What each side posted this round (until both have: then the round resolves).
    pub posted: [Posted; 2],
    /// Unix time the current round started; both clocks run from it until their side posts.
    pub round_started_at: i64,
    /// Seconds each side has left on its clock.
    pub clocks: [i64; 2],
    /// Moves each side posted.
    pub moves: [u16; 2],
    /// The bond each side deposits with its first move (the network's when opened).
    pub bond: u64,
    /// Lamports of bond each side has deposited into this account.
    pub bonds: [u64; 2],
}

/// Where a game stands.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum GamePhase {
    /// A chain kernel's first round: each side shows its chain link before the output
    /// (`C_{L−1}`), which with its result root makes its `C_L`.
    Links,
    /// The sides' chains agree at link `lo` and differ at link `hi`; each posts its links at
    /// the segment's interior points.
    Chain { lo: u32, hi: u32 },
    /// Tensor `tensor` is the first the sides compute differently, every earlier one agreed:
    /// each reveals its root (which must link the agreed `C_t` to the side's `C_{t+1}`) and
    /// the top of its tree.
    Reveal { tensor: u8 },
    /// Each side shows the top of its tree (sealed with the output's length, its root).
    Top,
    /// Each side opens the disputed node (`level`, `index`): its descendants four levels
    /// down, or at level 0 its cell.
    Descent { level: u32, index: u64 },
    /// The sides' states differ at the end of the trace segment (`lo`, `hi`) of output
    /// element `element`; each posts its state hashes at the segment's interior points.
    Bisect { element: u64, lo: u64, hi: u64 },
    /// The segment is one step long: anyone posts the agreed state and the step's operands,
    /// and the referee executes it.
    Step { element: u64, position: u64 },
    /// Over: which sides lost (`true`) and why.
    Ended { lost: [bool; 2], reason: GameEnd },
}

/// Why a game ended.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum GameEnd {
    /// The referee executed the step: a side whose next state differs lost.
    Refereed,
    /// A side's clock ran out before it posted (both: both lost).
    Timeout,
}

/// What a side posted in the current round.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct Posted {
    /// Whether it has posted this round.
    pub done: bool,
    /// Seconds it waited (taken off its clock when the round resolves).
    pub waited: i64,
    /// The hashes of a top, descent or bisection move.
    #[max_len(MAX_MOVE_HASHES)]
    pub hashes: Vec<[u8; 32]>,
    /// A cell move's bytes.
    #[max_len(32)]
    pub cell: Vec<u8>,
}

/// A move of the current phase.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Phase `Links`: the side's chain link before the output.
    Link([u8; 32]),
    /// Phase `Reveal`: the disputed tensor's root and the top of its tree.
    Reveal { root: [u8; 32], top: [u8; 32] },
    /// Phase `Top`: the top of the side's tree.
    Top([u8; 32]),
    /// Phase `Descent` above level 0: the disputed node's descendants.
    Descent(Vec<[u8; 32]>),
    /// Phase `Descent` at level 0: the disputed cell.
    Cell(Vec<u8>),
    /// Phase `Bisect`: the state hashes at the segment's interior points.
    Bisect(Vec<[u8; 32]>),
}

impl Game {
    /// The side (0 or 1) of `node`, if it plays.
    pub fn side_of(&self, node: &Pubkey) -> Option<usize> {
        self.nodes.iter().position(|n| n == node)
    }

    /// Who takes the account's lamports (rent and bonds) once the game is over: the winner's
    /// operator, or the submitter if both sides lost.
    pub fn payee(&self) -> Option<Pubkey> {
        match self.phase {
            GamePhase::Ended {
                lost: [false, true],
                ..
            } => Some(self.operators[0]),
            GamePhase::Ended {
                lost: [true, false],
                ..
            } => Some(self.operators[1]),
            GamePhase::Ended { .. } => Some(self.submitter),
            _ => None,
        }
    }

    pub fn is_over(&self) -> bool {
        matches!(self.phase, GamePhase::Ended { .. })
    }

    /// Checks `side`'s move against the phase and what the side committed, and records it.
    pub fn post(&mut self, side: usize, mv: Move, now: i64) -> Result<()> {
        let own = self.claims[side];
        let (hashes, cell) = match (self.phase, mv) {
            (GamePhase::Links, Move::Link(link)) => (vec![link], vec![]),
            (GamePhase::Chain { lo, hi }, Move::Bisect(hashes)) => {
                let (_, count) = rules::points(u64::from(lo), u64::from(hi));
                require!(hashes.len() == count, TesseraError::BadMove);
                (hashes, vec![])
            }
            (GamePhase::Reveal { tensor }, Move::Reveal { root, top }) => {
                let len = self.shape(tensor)?.len;
                require!(
                    rules::chain_link::<SyscallSha256>(&self.chain_agreed, &root) == own
                        && tree::seal::<SyscallSha256>(len, &top) == root,
                    TesseraError::BadMove
                );
                (vec![root, top], vec![])
            }
            (GamePhase::Top, Move::Top(top)) => {
                require!(
                    tree::seal::<SyscallSha256>(self.output_len, &top) == self.roots[side],
                    TesseraError::BadMove
                );
                (vec![top], vec![])
            }
            (GamePhase::Descent { level, index }, Move::Descent(hashes)) if level > 0 => {
                require!(
                    rules::verify_descent::<SyscallSha256>(
                        self.output_len,
                        level,
                        index,
                        &own,
                        &hashes
                    ),
                    TesseraError::BadMove
                );
                (hashes, vec![])
            }
            (GamePhase::Descent { level: 0, index }, Move::Cell(cell)) => {
                let (start, end) =
                    tree::cell_range(self.output_len, index).ok_or(TesseraError::BadMove)?;
                require!(
                    cell.len() as u64 == end - start && tree::leaf::<SyscallSha256>(&cell) == own,
                    TesseraError::BadMove
                );
                (vec![], cell)
            }
            (GamePhase::Bisect { lo, hi, .. }, Move::Bisect(hashes)) => {
                let (_, count) = rules::points(lo, hi);
                require!(hashes.len() == count, TesseraError::BadMove);
                (hashes, vec![])
            }
            _ => return err!(TesseraError::WrongMove),
        };
        let posted = &mut self.posted[side];
        require!(!posted.done, TesseraError::AlreadyMoved);
        let waited = now
            .checked_sub(self.round_started_at)
            .ok_or(TesseraError::MathOverflow)?;
        require!(waited <= self.clocks[side], TesseraError::ClockExpired);
        *posted = Posted {
            done: true,
            waited,
            hashes,
            cell,
        };
        self.moves[side] = self.moves[side]
            .checked_add(1)
            .ok_or(TesseraError::MathOverflow)?;
        Ok(())
    }

    /// Once both sides have posted: narrows the disagreement and starts the next round.
    /// Returns whether the round resolved.
    pub fn resolve(&mut self, now: i64) -> Result<bool> {
        if !(self.posted[0].done && self.posted[1].done) {
            return Ok(false);
        }
        let [a, b] = [&self.posted[0], &self.posted[1]];
        let bad = || error!(TesseraError::InvariantViolated);
        let next = match self.phase {
            GamePhase::Links => {
                let last = self.tensors.checked_sub(1).ok_or_else(bad)?;
                if a.hashes[0] == b.hashes[0] {
                    // The chains agree up to the output: the output is the disputed tensor.
                    let agreed = a.hashes[0];
                    let link = |root: &[u8; 32]| rules::chain_link::<SyscallSha256>(&agreed, root);
                    self.claims = [link(&self.roots[0]), link(&self.roots[1])];
                    self.chain_agreed = agreed;
                    GamePhase::Reveal { tensor: last }
                } else {
                    self.chain_agreed = rules::CHAIN_START;
                    self.claims = [a.hashes[0], b.hashes[0]];
                    Self::chain_segment(0, u32::from(last))
                }
            }
            GamePhase::Chain { lo, hi } => {
                let (points, count) = rules::points(u64::from(lo), u64::from(hi));
                let positions = &points[..count];
                let (lo2, hi2) = rules::select(
                    u64::from(lo),
                    u64::from(hi),
                    positions,
                    &a.hashes,
                    &b.hashes,
                )
                .ok_or_else(bad)?;
                if let Some(j) = positions.iter().position(|p| *p == lo2) {
                    self.chain_agreed = a.hashes[j];
                }
                if let Some(j) = positions.iter().position(|p| *p == hi2) {
                    self.claims = [a.hashes[j], b.hashes[j]];
                }
                Self::chain_segment(lo2 as u32, hi2 as u32)
            }
            GamePhase::Reveal { tensor } => {
                let shape = self.shape(tensor)?;
                self.claims = [a.hashes[1], b.hashes[1]];
                self.tensor = tensor;
                self.output_len = shape.len;
                self.trace_len = shape.trace_len;
                self.element_size = shape.element_size;
                GamePhase::Descent {
                    level: rules::height(shape.len),
                    index: 0,
                }
            }
            GamePhase::Top => {
                self.claims = [a.hashes[0], b.hashes[0]];
                GamePhase::Descent {
                    level: rules::height(self.output_len),
                    index: 0,
                }
            }
            GamePhase::Descent { level, index } if level > 0 => {
                let (target, first, _) =
                    rules::descendants(self.output_len, level, index).ok_or_else(bad)?;
                // Both fold to different nodes, so some descendant differs.
                let i = rules::first_difference(&a.hashes, &b.hashes).ok_or_else(bad)?;
                self.claims = [a.hashes[i], b.hashes[i]];
                GamePhase::Descent {
                    level: target,
                    index: first + i as u64,
                }
            }
            GamePhase::Descent { index, .. } => {
                let size = usize::from(self.element_size);
                let element =
                    rules::differing_element_of(index, &a.cell, &b.cell, size).ok_or_else(bad)?;
                let at = ((element % (tree::CELL / size) as u64) as usize) * size;
                let end_state = |cell: &[u8]| {
                    cell.get(at..at + size)
                        .map(rules::state_hash::<SyscallSha256>)
                };
                self.claims = [
                    end_state(&a.cell).ok_or_else(bad)?,
                    end_state(&b.cell).ok_or_else(bad)?,
                ];
                // Every trace starts from the kernel's zero state (a matmul's empty sum, an MLP
                // neuron's state before its bias).
                self.agreed = rules::state_hash::<SyscallSha256>(&[0u8; rules::ELEMENT]);
                Self::segment(element, 0, self.trace_len)
            }
            GamePhase::Bisect { element, lo, hi } => {
                let (points, count) = rules::points(lo, hi);
                let positions = &points[..count];
                let (lo2, hi2) =
                    rules::select(lo, hi, positions, &a.hashes, &b.hashes).ok_or_else(bad)?;
                if let Some(j) = positions.iter().position(|p| *p == lo2) {
                    self.agreed = a.hashes[j];
                }
                if let Some(j) = positions.iter().position(|p| *p == hi2) {
                    self.claims = [a.hashes[j], b.hashes[j]];
                }
                Self::segment(element, lo2, hi2)
            }
            GamePhase::Step { .. } | GamePhase::Ended { .. } => return Err(bad()),
        };
        for side in 0..2 {
            self.clocks[side] = self.clocks[side]
                .checked_sub(self.posted[side].waited)
                .ok_or(TesseraError::MathOverflow)?;
        }
        self.posted = Default::default();
        self.phase = next;
        self.round_started_at = now;
        Ok(true)
    }

    /// The chain's segment (`lo`, `hi`): once it is one link long, tensor `lo` is the first
    /// the sides compute differently.
    fn chain_segment(lo: u32, hi: u32) -> GamePhase {
        if hi - lo <= 1 {
            GamePhase::Reveal { tensor: lo as u8 }
        } else {
            GamePhase::Chain { lo, hi }
        }
    }

    /// The shape of tensor `t` of the job's chain.
    fn shape(&self, t: u8) -> Result<TensorShape> {
        (t < self.tensors)
            .then(|| self.shapes.get(usize::from(t)).copied())
            .flatten()
            .ok_or_else(|| error!(TesseraError::InvariantViolated))
    }

    fn segment(element: u64, lo: u64, hi: u64) -> GamePhase {
        if hi - lo <= 1 {
            GamePhase::Step {
                element,
                position: lo,
            }
        } else {
            GamePhase::Bisect { element, lo, hi }
        }
    }

    /// The sides whose clock has run out without posting this round, at `now`. In the step
    /// phase either side may post the step, so both run out only when both clocks have.
    pub fn timed_out(&self, now: i64) -> [bool; 2] {
        let waited = now.saturating_sub(self.round_started_at);
        let out = |side: usize| !self.posted[side].done && waited > self.clocks[side];
        match self.phase {
            GamePhase::Ended { .. } => [false, false],
            GamePhase::Step { .. } => {
                let both = out(0) && out(1);
                [both, both]
            }
            _ => [out(0), out(1)],
        }
    }
}

impl Game {
    /// Ends the game: records the losers in the job's dispute and emits [`GameEnded`].
    pub fn end(
        &mut self,
        game: Pubkey,
        job: &mut crate::state::Job,
        lost: [bool; 2],
        reason: GameEnd,
    ) -> Result<()> {
        require!(!self.is_over(), TesseraError::GameOver);
        self.phase = GamePhase::Ended { lost, reason };
        job.dispute.games_open = job
            .dispute
            .games_open
            .checked_sub(1)
            .ok_or(TesseraError::InvariantViolated)?;
        for (side, slot) in self.slots.iter().enumerate() {
            if lost[side] {
                job.dispute.lost |= 1u8
                    .checked_shl(u32::from(*slot))
                    .ok_or(TesseraError::InvariantViolated)?;
            }
        }
        emit!(crate::events::GameEnded {
            game,
            job: self.job,
            slots: self.slots,
            lost,
            reason,
            moves: self.moves,
        });
        Ok(())
    }
}
