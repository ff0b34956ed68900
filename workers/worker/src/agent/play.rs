//! The worker's side of dispute games (docs/disputes.md): for a refereed job whose revealed
//! roots differ, it opens its games, posts its moves from its stored output and the job's
//! input (kept in the result store under its root), claims the win when the other side's
//! clock runs out, and closes the games it won.
//! Nothing of a game lives only in memory: the game's state is on chain and the worker's
//! output in its result store, so a worker killed mid-game continues after a restart.
use anchor_lang::prelude::Pubkey;
use tessera_kernels::dispute::Tree;
use tessera_kernels::dispute::{MlpSide, Side};
use tessera_kernels::Job as KernelJob;
use tessera_sdk::game::{
    game_pairs, input_instructions, instruction, next_action, step_reads_input, Action, GameSide,
    InputPiece,
};
use tessera_sdk::tessera::instructions::GameStepArgs;
use tessera_sdk::tessera::referee::OpenedOperand;
use tessera_sdk::tessera::state::{Game, GamePhase, InputBuffer, Job};
use tessera_sdk::{instructions as ix, pda};
use tessera_step::tree::INPUT_PIECE_LEVEL;

use super::Agent;
use crate::fetch;
use crate::metrics::Metrics;
use tessera_sdk::chain::Chain;

/// Transactions one pass sends in one game at most (a game takes about a dozen per side).
const MOVES_PER_PASS: usize = 64;

/// A side played from the kernels' view of this worker's own output: the output is the only
/// tensor (matmul, render), or the last of an MLP's chain of layers, the hidden ones
/// recomputed from the input.
enum Own<'a> {
    Output(Side<'a>),
    Chain(MlpSide<'a>),
}

fn why(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn opened(cells: &[(Vec<u8>, tessera_kernels::merkle::Proof)]) -> Vec<OpenedOperand> {
    cells
        .iter()
        .map(|(cell, proof)| OpenedOperand {
            cell: cell.clone(),
            siblings: proof.siblings.clone(),
        })
        .collect()
}

impl GameSide for Own<'_> {
    fn top(&self) -> Result<[u8; 32], String> {
        match self {
            Own::Output(side) => Ok(side.top()),
            Own::Chain(side) => side
                .reveal(side.tensors.len() - 1)
                .map(|r| r.1)
                .map_err(why),
        }
    }
    fn descent(&self, tensor: usize, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String> {
        match self {
            Own::Output(side) => side.descent(level, index),
            Own::Chain(side) => side.tree(tensor).descent(level, index),
        }
        .map_err(why)
    }
    fn cell(&self, tensor: usize, index: u64) -> Result<Vec<u8>, String> {
        match self {
            Own::Output(side) => side.cell(index),
            Own::Chain(side) => side.tree(tensor).cell(index),
        }
        .map_err(why)
    }
    fn bisection(
        &self,
        tensor: usize,
        element: u64,
        lo: u64,
        hi: u64,
    ) -> Result<Vec<[u8; 32]>, String> {
        match self {
            Own::Output(side) => side.bisection(element, lo, hi),
            Own::Chain(side) => side.bisection(tensor, element, lo, hi),
        }
        .map_err(why)
    }
    fn step(&self, tensor: usize, element: u64, position: u64) -> Result<GameStepArgs, String> {
        match self {
            Own::Output(side) => {
                let w = side.witness(element, position).map_err(why)?;
                let operands = w
                    .operands
                    .iter()
                    .map(|o| OpenedOperand {
                        cell: o.cell.clone(),
                        siblings: o.proof.siblings.clone(),
                    })
                    .collect();
                Ok(GameStepArgs {
                    state: w.state,
                    operands,
                    chain: vec![],
                })
            }
            Own::Chain(side) => {
                let w = side.witness(tensor, element, position).map_err(why)?;
                Ok(GameStepArgs {
                    state: w.state,
                    operands: opened(&w.openings),
                    chain: w.previous.map(|(c, r)| vec![c, r]).unwrap_or_default(),
                })
            }
        }
    }
    fn link(&self, j: usize) -> Result<[u8; 32], String> {
        match self {
            Own::Output(_) => Err("a single tensor has no chain".into()),
            Own::Chain(side) => side.link(j).map_err(why),
        }
    }
    fn links(&self, lo: u64, hi: u64) -> Result<Vec<[u8; 32]>, String> {
        match self {
            Own::Output(_) => Err("a single tensor has no chain".into()),
            Own::Chain(side) => side.links(lo, hi).map_err(why),
        }
    }
    fn reveal(&self, tensor: usize) -> Result<([u8; 32], [u8; 32]), String> {
        match self {
            Own::Output(_) => Err("a single tensor has no chain".into()),
            Own::Chain(side) => side.reveal(tensor).map_err(why),
        }
    }
}

impl<C: Chain + 'static> Agent<C> {
    /// Plays this node's games of disputed `job` as far as the chain allows now.
    pub(crate) async fn play_games(
        &self,
        address: &Pubkey,
        job: &Job,
        root: &[u8; 32],
        now: i64,
    ) -> anyhow::Result<()> {
        let Some(me) = job.slots.iter().position(|s| s.node == self.node()) else {
            return Ok(());
        };
        // Every game of this slot's, played or to play: a game it won stays to be closed after
        // the challenge window has recorded the loser as eliminated.
        let pairs: Vec<[u8; 2]> = game_pairs(job)
            .into_iter()
            .filter(|p| usize::from(p[0]) == me || usize::from(p[1]) == me)
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        let Some(output) = self.results.get(root)? else {
            let first = self
                .undefended
                .lock()
                .map_or(true, |mut warned| warned.insert(*address));
            if first {
                tracing::warn!(job = %address, "disputed, but this node's output is not in its store: it cannot defend its root");
            }
            return Ok(());
        };
        let kernel_job = KernelJob::decode(job.kernel_id, &job.kernel_params)?;
        // The input is kept beside the outputs under its root until the job ends (the server
        // serves only result roots), so each pass of a game does not download it again.
        let input = match self.results.get(&job.input.hash)? {
            Some(bytes) if fetch::input_root(&bytes) == job.input.hash => bytes,
            _ => {
                let bytes = fetch::fetch(
                    &job.input.uri,
                    job.input.size_bytes,
                    &job.input.hash,
                    self.settings.max_input_bytes,
                )
                .await?;
                self.results.put(&job.input.hash, &bytes)?;
                bytes
            }
        };
        let own = match &kernel_job {
            KernelJob::MlpInfer(params) => {
                Own::Chain(MlpSide::with_output(params, &input, &output))
            }
            job => Own::Output(Side {
                job,
                input: &input,
                output: &output,
            }),
        };
        for pair in pairs {
            let key = pda::game(address, pair).0;
            let side = usize::from(usize::from(pair[1]) == me);
            let mut game = self.read::<Game>(&key).await?;
            if game.is_none() {
                let opened = job
                    .dispute
                    .opened(usize::from(pair[0]), usize::from(pair[1]));
                if opened || now >= job.dispute.open_until {
                    continue; // played and closed, or forfeited
                }
                let operator = self.operator();
                match self
                    .send(ix::open_game(
                        &operator,
                        self.settings.node_index,
                        address,
                        pair,
                    ))
                    .await
                {
                    Ok(()) => {
                        Metrics::inc(&self.metrics.games_opened);
                        tracing::info!(job = %address, ?pair, "opened a dispute game");
                    }
                    // The other side opened it first: play it.
                    Err(e) => {
                        tracing::debug!(job = %address, ?pair, error = %e.to_string().lines().next().unwrap_or(""), "game not opened")
                    }
                }
                game = self.read::<Game>(&key).await?;
            }
            for _ in 0..MOVES_PER_PASS {
                let Some(g) = game.as_ref() else { break };
                let action = match next_action(g, side, &own) {
                    Ok(action) => action,
                    Err(e) => {
                        tracing::error!(job = %address, ?pair, error = %e, "cannot compute this side's move");
                        break;
                    }
                };
                let sent = match action {
                    Action::Over => {
                        if g.payee() == Some(self.operator()) {
                            match self.send(ix::close_game(&key, &self.operator())).await {
                                Ok(()) => {
                                    tracing::info!(job = %address, ?pair, "closed a won game: both bonds are ours")
                                }
                                Err(e) => {
                                    tracing::debug!(job = %address, ?pair, error = %e.to_string().lines().next().unwrap_or(""), "game not closed")
                                }
                            }
                        }
                        break;
                    }
                    Action::Wait if g.timed_out(now)[1 - side] => {
                        tracing::info!(job = %address, ?pair, "the other side's clock ran out");
                        self.send(ix::game_timeout(address, &key))
                            .await
                            .map(|_| false)
                    }
                    Action::Wait => break,
                    action => {
                        let step = matches!(action, Action::Step(_));
                        if let (true, GamePhase::Step { position, .. }) = (step, g.phase) {
                            if step_reads_input(job, position) {
                                self.load_input(address, &input).await?;
                            }
                        }
                        let operator = self.operator();
                        let instructions = instruction(
                            action,
                            &operator,
                            self.settings.node_index,
                            address,
                            job,
                            &key,
                            g,
                        );
                        if instructions.is_empty() {
                            break;
                        }
                        self.send_all(&instructions).await.map(|_| step)
                    }
                };
                match sent {
                    Ok(step) => {
                        Metrics::inc(&self.metrics.game_moves);
                        if step {
                            tracing::info!(job = %address, ?pair, "posted the referee's step");
                        }
                    }
                    // The other side posted the step first, or the round moved: read again
                    // in the next pass.
                    Err(e) => {
                        tracing::debug!(job = %address, ?pair, error = %e.to_string().lines().next().unwrap_or(""), "move not applied");
                        break;
                    }
                }
                game = self.read::<Game>(&key).await?;
            }
        }
        Ok(())
    }
}

impl<C: Chain + 'static> Agent<C> {
    /// Leaves `job`'s input buffer complete for a step that reads it (a render's scene):
    /// opens it if nobody has, and loads the pieces not loaded yet, each proven against the
    /// input root.
    async fn load_input(&self, address: &Pubkey, input: &[u8]) -> anyhow::Result<()> {
        let buffer_key = pda::input_buffer(address).0;
        let buffer = self.read::<InputBuffer>(&buffer_key).await?;
        if buffer.as_ref().is_some_and(InputBuffer::is_complete) {
            return Ok(());
        }
        let pieces: Vec<InputPiece> = Tree(input)
            .pieces(INPUT_PIECE_LEVEL)?
            .into_iter()
            .map(|p| InputPiece {
                index: p.index as u32,
                bytes: p.bytes,
                siblings: p.siblings,
            })
            .collect();
        for ix in input_instructions(&self.operator(), address, buffer.as_ref(), &pieces) {
            // Another player may load the same piece first: the next read sees it.
            if let Err(e) = self.send(ix).await {
                tracing::debug!(job = %address, error = %e.to_string().lines().next().unwrap_or(""), "input piece not loaded");
            }
        }
        tracing::info!(job = %address, "loaded the job's input for the referee");
        Ok(())
    }

    /// Closes `job`'s input buffer if this node's operator paid for it: the rent comes back
    /// once the job is over.
    pub(crate) async fn close_input_if_ours(&self, address: &Pubkey) -> anyhow::Result<()> {
        let buffer_key = pda::input_buffer(address).0;
        match self.read::<InputBuffer>(&buffer_key).await? {
            Some(buffer) if buffer.payer == self.operator() => {
                self.send(ix::close_input_buffer(address, &self.operator()))
                    .await?;
                tracing::info!(job = %address, "closed the job's input buffer: its rent is back");
            }
            _ => {}
        }
        Ok(())
    }
}
