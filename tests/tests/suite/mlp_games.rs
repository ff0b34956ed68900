//! MLP games on chain (docs/disputes.md): an `mlp_infer` output is the last of a chain of
//! tensors (every layer's activations), so its game first bisects the sides' chains of tensor
//! roots to the first layer they compute differently, every earlier one agreed, then descends
//! that layer's tree to a neuron, bisects the neuron's trace and lets the referee run one step
//! — with `x` opened against the previous layer's root when the layer is not the first.
use tessera::instructions::GameStepArgs;
use tessera::referee::OpenedOperand;
use tessera::state::{Game, GamePhase};
use tessera_kernels::dispute::MlpSide;
use tessera_kernels::kernels::MlpParams;
use tessera_kernels::merkle::{self, Proof};
use tessera_sdk::game::GameSide;
use tessera_tests::*;

use crate::games::{Dispute, NET, STAKE};

/// batch 40 through 24 → 30 → 40: the output is 6,400 bytes (two chunks), the hidden layer
/// 1,200.
fn params() -> MlpParams {
    MlpParams {
        batch: 40,
        widths: vec![24, 30, 40],
        shifts: vec![5, 0],
    }
}

/// A side of an MLP game: its chain of tensors.
struct Chain<'a>(MlpSide<'a>);

fn why(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn opened(cells: &[(Vec<u8>, Proof)]) -> Vec<OpenedOperand> {
    cells
        .iter()
        .map(|(cell, proof)| OpenedOperand {
            cell: cell.clone(),
            siblings: proof.siblings.clone(),
        })
        .collect()
}

impl GameSide for Chain<'_> {
    fn top(&self) -> Result<[u8; 32], String> {
        self.0
            .reveal(self.0.tensors.len() - 1)
            .map(|r| r.1)
            .map_err(why)
    }
    fn descent(&self, tensor: usize, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String> {
        self.0.tree(tensor).descent(level, index).map_err(why)
    }
    fn cell(&self, tensor: usize, index: u64) -> Result<Vec<u8>, String> {
        self.0.tree(tensor).cell(index).map_err(why)
    }
    fn bisection(
        &self,
        tensor: usize,
        element: u64,
        lo: u64,
        hi: u64,
    ) -> Result<Vec<[u8; 32]>, String> {
        self.0.bisection(tensor, element, lo, hi).map_err(why)
    }
    fn step(&self, tensor: usize, element: u64, position: u64) -> Result<GameStepArgs, String> {
        let w = self.0.witness(tensor, element, position).map_err(why)?;
        Ok(GameStepArgs {
            state: w.state,
            operands: opened(&w.openings),
            chain: w.previous.map(|(c, r)| vec![c, r]).unwrap_or_default(),
        })
    }
    fn link(&self, j: usize) -> Result<[u8; 32], String> {
        self.0.link(j).map_err(why)
    }
    fn links(&self, lo: u64, hi: u64) -> Result<Vec<[u8; 32]>, String> {
        self.0.links(lo, hi).map_err(why)
    }
    fn reveal(&self, tensor: usize) -> Result<([u8; 32], [u8; 32]), String> {
        self.0.reveal(tensor).map_err(why)
    }
}

/// A consistent liar: it flipped a bit of neuron `element` of tensor `t` (after its trace's
/// last step) and computed every later layer from that. The first element at or after
/// `element` whose bend reaches the output (a ReLU may swallow one).
fn liar<'a>(honest: &MlpSide<'a>, t: usize, element: u64) -> (MlpSide<'a>, u64) {
    let size = honest.element_size(t);
    let count = (honest.tensors[t].len() / size) as u64;
    (element..count)
        .map(|e| {
            let mut tensors = honest.tensors[..=t].to_vec();
            tensors[t][e as usize * size] ^= 0x10;
            for later in t + 1..honest.tensors.len() {
                let next = MlpSide::layer(honest.params, honest.input, tensors.last(), later);
                tensors.push(next);
            }
            let side = MlpSide {
                params: honest.params,
                input: honest.input,
                tensors,
            };
            (side, e)
        })
        .find(|(side, _)| side.tensors.last() != honest.tensors.last())
        .expect("a bend that reaches the output")
}

/// Plays one MLP game between a liar bent in tensor `t` (slot 0) and the honest node (slot
/// 1), then settles: returns the finished game.
fn liar_in_tensor_loses(t: usize, element: u64) -> Game {
    let params = params();
    let kernel = tessera_kernels::Job::MlpInfer(params.clone());
    let d = Dispute::with_kernel(TestEnv::boot(), 2, 2, kernel);
    let honest = MlpSide::honest(&params, &d.input);
    assert_eq!(
        honest.tensors.last(),
        Some(&d.output),
        "the chain ends in the kernel's output"
    );
    let (bent, bent_element) = liar(&honest, t, element);
    let liar_root = merkle::root(bent.tensors.last().unwrap());
    let (honest_side, liar_side) = (
        Chain(MlpSide::with_output(&params, &d.input, &d.output)),
        Chain(bent),
    );
    d.round(&[liar_root, merkle::root(&d.output)]);
    d.settle().unwrap();
    let open_cu = d.open(1, [0, 1]).unwrap().compute_units;
    let played = d.play([0, 1], [&liar_side, &honest_side]);
    assert_eq!(
        played.lost(),
        [true, false],
        "tensor {t}: the liar loses, the honest node wins"
    );
    let game = played.game.clone().unwrap();
    assert_eq!(
        usize::from(game.tensor),
        t,
        "the chain's bisection found the bent layer"
    );
    assert_eq!(game.tensors, 2);
    assert!(
        played.largest_tx <= 1_232,
        "every move fits a packet: {} bytes",
        played.largest_tx
    );
    let settle_cu = d.settle().unwrap().compute_units;
    println!(
        "mlp game, liar bent in tensor {t} at neuron {bent_element}: {} moves per side, {} transactions, largest {} bytes, open_game {open_cu} CU, move ≤ {} CU, step {} CU, settle {settle_cu} CU",
        played.moves[0], played.transactions, played.largest_tx, played.move_cu, played.step_cu
    );
    // Compute units are the `.so`'s under `TESSERA_PROGRAM_MODE=sbf` (scripts/test.sh's
    // second pass): every game instruction within 50k.
    for (what, cu) in [
        ("open_game", open_cu),
        ("a move", played.move_cu),
        ("the step", played.step_cu),
        ("settle", settle_cu),
    ] {
        assert!(cu <= 50_000, "{what}: {cu} CU");
    }
    assert_eq!(d.read().result_root, Some(merkle::root(&d.output)));
    assert_eq!(d.env.node(&d.workers[0].key(), 0).stake, STAKE / 2);
    assert_eq!(d.env.node(&d.workers[1].key(), 0).earnings, NET);
    game
}

#[test]
fn an_mlp_liar_bent_deep_in_its_output_loses_on_the_referees_step() {
    // Output element 1,300 of 1,600 lies in the output's second chunk.
    let game = liar_in_tensor_loses(1, 1_300);
    assert_eq!(game.output_len, 40 * 40 * 4);
    assert_eq!(game.element_size, 4);
}

#[test]
fn an_mlp_liar_bent_in_a_hidden_layer_loses_after_the_chain_bisection() {
    // A hidden neuron deep in the first layer's tensor; every later layer follows from it, so
    // the liar's output differs but its output layer is computed consistently.
    let game = liar_in_tensor_loses(0, 900);
    assert_eq!(game.output_len, 40 * 30);
    assert_eq!(game.element_size, 1);
}

#[test]
fn an_mlp_game_refuses_a_move_of_another_phase_and_a_reveal_that_does_not_link() {
    use tessera::error::TesseraError;
    use tessera::state::Move;
    use tessera_sdk::game::{next_action, Action};
    use tessera_sdk::instructions as ix;
    let params = params();
    let kernel = tessera_kernels::Job::MlpInfer(params.clone());
    let d = Dispute::with_kernel(TestEnv::boot(), 2, 2, kernel);
    let honest = MlpSide::honest(&params, &d.input);
    let (bent, _) = liar(&honest, 1, 10);
    let liar_root = merkle::root(bent.tensors.last().unwrap());
    let (h, l) = (
        Chain(MlpSide::with_output(&params, &d.input, &d.output)),
        Chain(bent),
    );
    d.round(&[liar_root, merkle::root(&d.output)]);
    d.settle().unwrap();
    d.open(1, [0, 1]).unwrap();
    let key = d.game([0, 1]);
    let mover = |side: usize, mv: Move| {
        let w = &d.workers[side];
        d.env
            .send_one(ix::game_move(&w.key(), 0, &key, mv), &w.wallet)
    };
    // A top move in the chain's first round is refused.
    assert_tessera_error(mover(1, Move::Top([0; 32])), TesseraError::WrongMove);
    for (side, player) in [(0usize, &l as &dyn GameSide), (1, &h)] {
        let game: Game = d.env.read(&key);
        let Action::Move(mv) = next_action(&game, side, player).unwrap() else {
            unreachable!()
        };
        mover(side, mv).unwrap();
    }
    let game: Game = d.env.read(&key);
    assert_eq!(
        game.phase,
        GamePhase::Reveal { tensor: 1 },
        "the hidden layers agree"
    );
    // The honest side revealing the hidden layer's root (it does not link to its claim), or
    // its output's root with another tree's top, is refused.
    let (hidden_root, hidden_top) = h.reveal(0).unwrap();
    assert_tessera_error(
        mover(
            1,
            Move::Reveal {
                root: hidden_root,
                top: hidden_top,
            },
        ),
        TesseraError::BadMove,
    );
    let (root, _) = h.reveal(1).unwrap();
    assert_tessera_error(
        mover(
            1,
            Move::Reveal {
                root,
                top: hidden_top,
            },
        ),
        TesseraError::BadMove,
    );
    // Play on to the step; a fold of the output layer reads x from the hidden tensor, whose
    // root must link to the agreed chain.
    let played = d.play([0, 1], [&l, &h]);
    assert_eq!(played.lost(), [true, false]);
}
