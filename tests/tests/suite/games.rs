//! Refereed disputes on chain (issue 2/6, docs/disputes.md): a refereed job whose revealed
//! roots differ is decided by one game per pair of different roots — descent of the result
//! trees, bisection of one element's trace, the referee's step — not by a vote. The honest
//! side wins however many replicas lie; the losers are slashed; moves are paid by the loser's
//! bond; a side that stops playing loses on its clock.
use anchor_lang::prelude::Pubkey;
use tessera::constants::REFEREE_KERNELS;
use tessera::error::TesseraError;
use tessera::events::{JobSettled, SlotReceipt};
use tessera::instructions::GameStepArgs;
use tessera::referee::OpenedOperand;
use tessera::state::{
    Game, GameEnd, GamePhase, InputBuffer, Job, JobEndReason, JobStatus, Move, Verdict,
};
use tessera_kernels::backend::Cpu;
use tessera_kernels::dispute::Side;
use tessera_kernels::dispute::Tree;
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::merkle::{self, Sha2};
use tessera_kernels::Backend;
use tessera_sdk::chain::ChainError;
use tessera_sdk::events::decode;
use tessera_sdk::game::{
    disputed_pairs, input_instructions, instruction, next_action, step_reads_input, Action,
    GameSide, InputPiece,
};
use tessera_sdk::in_process::{ProgramMode, TxOutcome};
use tessera_sdk::{instructions as ix, pda};
use tessera_step::game::{self as rules, state_hash};
use tessera_step::tree::INPUT_PIECE_LEVEL;
use tessera_tests::*;

pub(super) const STAKE: u64 = 10_000_000;
pub(super) const REWARD: u64 = 1_000_000;
pub(super) const NET: u64 = REWARD - REWARD * 250 / 10_000;

/// A 40×40 output (6,400 bytes: two chunks, 200 cells) with 300-step traces.
pub(super) fn matmul_job() -> tessera_kernels::Job {
    tessera_kernels::Job::MatmulF32(MatmulParams {
        m: 40,
        n: 40,
        k: 300,
    })
}

/// The honest side: the kernels' own view of a correct result.
pub(super) struct Honest<'a>(pub(super) Side<'a>);

fn opened(side: &Side, element: u64, position: u64) -> GameStepArgs {
    let w = side
        .witness(element, position)
        .expect("a step in the trace");
    GameStepArgs {
        state: w.state,
        operands: w
            .operands
            .iter()
            .map(|o| OpenedOperand {
                cell: o.cell.clone(),
                siblings: o.proof.siblings.clone(),
            })
            .collect(),
        chain: vec![],
    }
}

impl GameSide for Honest<'_> {
    fn top(&self) -> Result<[u8; 32], String> {
        Ok(self.0.top())
    }
    fn descent(&self, _: usize, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String> {
        self.0.descent(level, index).map_err(|e| e.to_string())
    }
    fn cell(&self, _: usize, index: u64) -> Result<Vec<u8>, String> {
        self.0.cell(index).map_err(|e| e.to_string())
    }
    fn bisection(&self, _: usize, element: u64, lo: u64, hi: u64) -> Result<Vec<[u8; 32]>, String> {
        self.0.bisection(element, lo, hi).map_err(|e| e.to_string())
    }
    fn step(&self, _: usize, element: u64, position: u64) -> Result<GameStepArgs, String> {
        Ok(opened(&self.0, element, position))
    }
}

/// A consistent liar: it computed `element` honestly for `from` steps, then flipped a bit of
/// the state, and everything it posts follows from that (its output, its tree, its trace).
pub(super) struct Liar<'a> {
    truth: Side<'a>,
    output: Vec<u8>,
    element: u64,
    from: u64,
}

impl<'a> Liar<'a> {
    pub(super) fn new(truth: Side<'a>, element: u64, from: u64) -> Self {
        let mut output = truth.output.to_vec();
        output[element as usize * 4] ^= 0x10;
        Liar {
            truth,
            output,
            element,
            from,
        }
    }
    fn side(&self) -> Side<'_> {
        Side {
            job: self.truth.job,
            input: self.truth.input,
            output: &self.output,
        }
    }
    fn state(&self, element: u64, position: u64) -> Vec<u8> {
        let mut state = self.truth.state(element, position).expect("in the trace");
        if element == self.element && position >= self.from {
            state[0] ^= 0x10;
        }
        state
    }
    pub(super) fn root(&self) -> [u8; 32] {
        merkle::root(&self.output)
    }
}

impl GameSide for Liar<'_> {
    fn top(&self) -> Result<[u8; 32], String> {
        Ok(self.side().top())
    }
    fn descent(&self, _: usize, level: u32, index: u64) -> Result<Vec<[u8; 32]>, String> {
        self.side().descent(level, index).map_err(|e| e.to_string())
    }
    fn cell(&self, _: usize, index: u64) -> Result<Vec<u8>, String> {
        self.side().cell(index).map_err(|e| e.to_string())
    }
    fn bisection(&self, _: usize, element: u64, lo: u64, hi: u64) -> Result<Vec<[u8; 32]>, String> {
        let (points, count) = rules::points(lo, hi);
        Ok(points[..count]
            .iter()
            .map(|p| state_hash::<Sha2>(&self.state(element, *p)))
            .collect())
    }
    fn step(&self, _: usize, element: u64, position: u64) -> Result<GameStepArgs, String> {
        // The operands open only as they are; the agreed state is the honest one.
        Ok(opened(&self.truth, element, position))
    }
}

/// A refereed network, a matmul job of `replicas` with its real input, and `workers` staked
/// operators (one node each).
pub(super) struct Dispute {
    pub(super) env: TestEnv,
    pub(super) job: Pubkey,
    pub(super) submitter_token: Pubkey,
    pub(super) workers: Vec<Actor>,
    pub(super) input: Vec<u8>,
    pub(super) output: Vec<u8>,
    kernel: tessera_kernels::Job,
}

impl Dispute {
    pub(super) fn new(replicas: u8, workers: usize) -> Self {
        Self::with_env(TestEnv::boot(), replicas, workers)
    }

    /// On the SBF `.so`: compute units are the real ones, and events are logged (natively
    /// `sol_log_data` is a no-op).
    pub(super) fn on_the_so(replicas: u8, workers: usize) -> Self {
        Self::with_env(
            TestEnv::boot_with(ProgramMode::Sbf(crate::compute_units::so_path())),
            replicas,
            workers,
        )
    }

    fn with_env(env: TestEnv, replicas: u8, workers: usize) -> Self {
        Self::with_kernel(env, replicas, workers, matmul_job())
    }

    pub(super) fn with_kernel(
        env: TestEnv,
        replicas: u8,
        workers: usize,
        kernel: tessera_kernels::Job,
    ) -> Self {
        Self::with_params(env, replicas, workers, kernel, |_| {})
    }

    /// As [`Dispute::with_kernel`], with the network's parameters adjusted by `adjust`.
    pub(super) fn with_params(
        env: TestEnv,
        replicas: u8,
        workers: usize,
        kernel: tessera_kernels::Job,
        adjust: impl FnOnce(&mut tessera::state::Params),
    ) -> Self {
        let input = kernel.random_input(0x9a3e);
        Self::with_input(env, replicas, workers, kernel, input, adjust)
    }

    /// As [`Dispute::with_params`], over the given input.
    pub(super) fn with_input(
        env: TestEnv,
        replicas: u8,
        workers: usize,
        kernel: tessera_kernels::Job,
        input: Vec<u8>,
        adjust: impl FnOnce(&mut tessera::state::Params),
    ) -> Self {
        let mut params = tessera::state::Params {
            refereed_kernels: REFEREE_KERNELS,
            ..env.params
        };
        adjust(&mut params);
        env.initialize(&env.authority, params).unwrap();
        let workers = (0..workers).map(|_| env.staked_operator(STAKE)).collect();
        let output = kernel
            .run(&input, &Backend::Cpu(Cpu::new(1).unwrap()))
            .unwrap();
        let submitter = env.actor();
        let mut args = env.job_args(5, replicas, REWARD);
        args.kernel_id = kernel.kernel() as u8;
        args.kernel_params = kernel.encode_params();
        args.input.hash = merkle::root(&input);
        args.input.size_bytes = input.len() as u64;
        env.post_job(&submitter, args).unwrap();
        Dispute {
            job: pda::job(&submitter.key(), 5).0,
            submitter_token: submitter.token,
            env,
            workers,
            input,
            output,
            kernel,
        }
    }

    pub(super) fn truth(&self) -> Side<'_> {
        Side {
            job: &self.kernel,
            input: &self.input,
            output: &self.output,
        }
    }

    pub(super) fn read(&self) -> Job {
        self.env.read(&self.job)
    }

    /// Workers claim in order, commit `roots[i]`, then reveal.
    pub(super) fn round(&self, roots: &[[u8; 32]]) {
        for w in &self.workers[..roots.len()] {
            self.env.claim(w, 0, &self.job).unwrap();
        }
        for (w, root) in self.workers.iter().zip(roots) {
            self.env
                .commit(w, 0, &self.job, *root, w.key().to_bytes())
                .unwrap();
        }
        for (w, root) in self.workers.iter().zip(roots) {
            self.env
                .reveal(w, 0, &self.job, *root, w.key().to_bytes())
                .unwrap();
        }
    }

    pub(super) fn settle(&self) -> Result<TxOutcome, ChainError> {
        self.env.settle(&self.job)
    }

    pub(super) fn open(&self, worker: usize, slots: [u8; 2]) -> Result<TxOutcome, ChainError> {
        let w = &self.workers[worker];
        self.env
            .send_one(ix::open_game(&w.key(), 0, &self.job, slots), &w.wallet)
    }

    pub(super) fn game(&self, slots: [u8; 2]) -> Pubkey {
        pda::game(&self.job, slots).0
    }

    /// Plays game `slots` to its end, worker `players[s]` posting side `s`'s moves from
    /// `sides[s]`.
    pub(super) fn play(&self, slots: [u8; 2], sides: [&dyn GameSide; 2]) -> Played {
        let key = self.game(slots);
        let mut played = Played::default();
        loop {
            let game: Game = self.env.read(&key);
            if game.is_over() {
                played.game = Some(game);
                return played;
            }
            let (side, action) = (0..2)
                .map(|s| (s, next_action(&game, s, sides[s]).expect("a move")))
                .find(|(_, a)| matches!(a, Action::Move(_) | Action::Step(_)))
                .expect("someone has a move while the game is on");
            let worker = &self.workers[usize::from(slots[side])];
            let is_step = matches!(action, Action::Step(_));
            let job = self.read();
            if let (true, GamePhase::Step { position, .. }) = (is_step, game.phase) {
                if step_reads_input(&job, position) {
                    let (sent, cu) = self.load_input(worker);
                    played.input_transactions += sent;
                    played.input_cu = played.input_cu.max(cu);
                }
            }
            let ixs = instruction(action, &worker.key(), 0, &self.job, &job, &key, &game);
            let bytes = tx_size(&ixs, worker);
            let outcome = self
                .env
                .send(&ixs, &worker.wallet, &[])
                .unwrap_or_else(|e| panic!("side {side} moves in {:?}: {e}", game.phase));
            played.transactions += 1;
            played.largest_tx = played.largest_tx.max(bytes);
            if is_step {
                played.step_cu = outcome.compute_units;
            } else {
                played.moves[side] += 1;
                played.move_cu = played.move_cu.max(outcome.compute_units);
            }
        }
    }
}

impl Dispute {
    /// Loads the job's input into its buffer (opening it if needed), `worker` paying;
    /// returns the transactions sent and the most compute units one took.
    pub(super) fn load_input(&self, worker: &Actor) -> (u32, u64) {
        let buffer: Option<InputBuffer> = self
            .env
            .exists(&pda::input_buffer(&self.job).0)
            .then(|| self.env.read(&pda::input_buffer(&self.job).0));
        let pieces: Vec<InputPiece> = Tree(&self.input)
            .pieces(INPUT_PIECE_LEVEL)
            .expect("pieces")
            .into_iter()
            .map(|p| InputPiece {
                index: p.index as u32,
                bytes: p.bytes,
                siblings: p.siblings,
            })
            .collect();
        let (mut sent, mut cu) = (0, 0);
        for ix in input_instructions(&worker.key(), &self.job, buffer.as_ref(), &pieces) {
            assert!(tx_size(std::slice::from_ref(&ix), worker) <= 1_232);
            let outcome = self
                .env
                .send_one(ix, &worker.wallet)
                .expect("load the input");
            sent += 1;
            cu = cu.max(outcome.compute_units);
        }
        (sent, cu)
    }
}

#[derive(Default, Debug)]
pub(super) struct Played {
    pub(super) game: Option<Game>,
    pub(super) moves: [u32; 2],
    pub(super) transactions: u32,
    pub(super) largest_tx: usize,
    pub(super) move_cu: u64,
    pub(super) step_cu: u64,
    /// Transactions that loaded the job's input for the step (a render's scene), and the
    /// most compute units one took.
    pub(super) input_transactions: u32,
    pub(super) input_cu: u64,
}

impl Played {
    pub(super) fn lost(&self) -> [bool; 2] {
        match self.game.as_ref().map(|g| g.phase) {
            Some(GamePhase::Ended { lost, .. }) => lost,
            other => panic!("the game has not ended: {other:?}"),
        }
    }
}

/// The size of the signed transaction carrying `ix` (Solana's limit: 1,232 bytes).
fn tx_size(ixs: &[anchor_lang::solana_program::instruction::Instruction], payer: &Actor) -> usize {
    let tx =
        tessera_sdk::transaction::sign(ixs, &payer.wallet, &[], Default::default()).expect("sign");
    1 + 64 * tx.signatures.len() + tx.message.serialize().len()
}

pub(super) fn settled(outcome: &TxOutcome) -> Option<JobSettled> {
    decode::<JobSettled>(&outcome.logs).pop()
}

pub(super) fn receipts(outcome: &TxOutcome) -> Vec<SlotReceipt> {
    settled(outcome).expect("a JobSettled event").slots
}

#[test]
fn one_honest_node_beats_four_colluders_sharing_a_wrong_root() {
    let d = Dispute::on_the_so(5, 5);
    let truth = d.truth();
    // Element 1,234 lies in the output's second chunk; the colluders bend it mid-trace.
    let liar = Liar::new(d.truth(), 1_234, 150);
    let (good, bad) = (merkle::root(&d.output), liar.root());
    // The honest node holds slot 2 of five.
    d.round(&[bad, bad, good, bad, bad]);
    let stakes: Vec<u64> = d
        .workers
        .iter()
        .map(|w| d.env.node(&w.key(), 0).stake)
        .collect();

    // No vote: settlement opens the dispute, and the job waits for its games.
    let outcome = d.settle().unwrap();
    assert!(settled(&outcome).is_none());
    let job = d.read();
    assert!(job.dispute.is_started() && job.is_open() && !job.escalated);
    let pairs = disputed_pairs(&job);
    assert_eq!(pairs, vec![[0, 2], [1, 2], [2, 3], [2, 4]]);
    assert_tessera_error(d.settle(), TesseraError::GamesInProgress);

    let honest = Honest(truth);
    let mut worst = Played::default();
    let mut open_cu = 0;
    for pair in &pairs {
        open_cu = open_cu.max(d.open(2, *pair).unwrap().compute_units);
        let sides: [&dyn GameSide; 2] = if pair[0] == 2 {
            [&honest, &liar]
        } else {
            [&liar, &honest]
        };
        let played = d.play(*pair, sides);
        let honest_side = usize::from(pair[1] == 2);
        let mut expected = [true, true];
        expected[honest_side] = false;
        assert_eq!(played.lost(), expected, "game {pair:?}");
        assert!(matches!(
            played.game.as_ref().unwrap().phase,
            GamePhase::Ended {
                reason: GameEnd::Refereed,
                ..
            }
        ));
        println!(
            "game {pair:?}: {} moves per side, {} transactions (open and step included), \
             largest {} bytes, moves ≤ {} CU, step {} CU",
            played.moves[0],
            played.transactions + 1,
            played.largest_tx,
            played.move_cu,
            played.step_cu
        );
        // Top, two descents, the cell, three bisections of a 300-step trace.
        assert_eq!(played.moves, [7, 7]);
        assert!(played.largest_tx <= 1_232);
        assert!(played.move_cu <= 50_000 && played.step_cu <= 50_000);
        worst.move_cu = worst.move_cu.max(played.move_cu);
        worst.step_cu = worst.step_cu.max(played.step_cu);
    }

    // The referee decided: the honest root is accepted, the four colluders are slashed.
    let supply = d.env.mint_supply();
    let outcome = d.settle().unwrap();
    // Every token is still accounted for: rewards, fees, slashes and the refund moved
    // between the vaults and nowhere else.
    let holders = d.workers.iter().map(|w| w.token).chain([d.submitter_token]);
    d.env.assert_conserved(&d.env.balances(holders), supply);
    let settle_cu = outcome.compute_units;
    let job = d.read();
    assert_eq!(job.result_root, Some(good));
    assert!(matches!(
        job.status,
        JobStatus::Ended {
            reason: JobEndReason::Accepted,
            ..
        }
    ));
    let receipts = receipts(&outcome);
    for (i, r) in receipts.iter().enumerate() {
        let stake = d.env.node(&d.workers[i].key(), 0).stake;
        if i == 2 {
            assert_eq!(
                (r.verdict, r.paid, r.lost_game),
                (Verdict::Agreed, NET, false)
            );
            assert_eq!(stake, stakes[i], "the honest node is never slashed");
            assert_eq!(d.env.node(&d.workers[i].key(), 0).earnings, NET);
        } else {
            assert_eq!(
                (r.verdict, r.paid, r.lost_game),
                (Verdict::Disagreed, 0, true)
            );
            assert_eq!(stake, stakes[i] - stakes[i] / 2, "slashed slash_bps");
        }
    }
    // Rewards for one replica, the rest of the escrow back to the submitter.
    assert_eq!(job.escrow, escrow_of(5, REWARD) - REWARD);

    // The losers' bonds pay the winner's moves: each closed game gives the honest operator
    // its own bond, the loser's and the rent back.
    let operator = d.workers[2].key();
    for pair in &pairs {
        let game: Game = d.env.read(&d.game(*pair));
        assert_eq!(game.bonds, [game.bond; 2]);
        let before = d.env.lamports(&operator);
        let held = d.env.lamports(&d.game(*pair));
        let payer = d.env.actor();
        let close_cu = d
            .env
            .send_one(ix::close_game(&d.game(*pair), &operator), &payer.wallet)
            .unwrap()
            .compute_units;
        assert!(close_cu <= 50_000, "close_game {close_cu} CU");
        println!("close_game {close_cu} CU");
        assert_eq!(d.env.lamports(&operator), before + held);
        assert!(held > 2 * game.bond);
        assert!(!d.env.exists(&d.game(*pair)));
    }
    println!(
        "open_game {open_cu} CU; moves ≤ {} CU; step {} CU; settle after the games {settle_cu} CU",
        worst.move_cu, worst.step_cu
    );
    assert!(open_cu <= 50_000 && settle_cu <= 50_000);
}

#[test]
fn two_liars_with_different_wrong_roots_both_lose_to_the_honest_node() {
    let d = Dispute::new(3, 3);
    let a = Liar::new(d.truth(), 77, 0);
    let b = Liar::new(d.truth(), 1_599, 299);
    let honest = Honest(d.truth());
    d.round(&[a.root(), merkle::root(&d.output), b.root()]);
    d.settle().unwrap();
    let pairs = disputed_pairs(&d.read());
    assert_eq!(pairs, vec![[0, 1], [0, 2], [1, 2]]);
    d.open(1, [0, 1]).unwrap();
    assert_eq!(d.play([0, 1], [&a, &honest]).lost(), [true, false]);
    d.open(1, [1, 2]).unwrap();
    assert_eq!(d.play([1, 2], [&honest, &b]).lost(), [false, true]);
    // The liars' own game: each is wrong at its own element; the descent finds the first
    // differing element, where one of them computed correctly.
    d.open(0, [0, 2]).unwrap();
    let lost = d.play([0, 2], [&a, &b]).lost();
    assert!(lost[0] || lost[1]);
    d.settle().unwrap();
    let job = d.read();
    assert_eq!(job.result_root, Some(merkle::root(&d.output)));
    assert_eq!(job.dispute.lost & 0b010, 0, "the honest node lost no game");
    assert!(job.dispute.lost & 0b101 != 0, "a liar lost its game");
    let node = |i: usize| d.env.node(&d.workers[i].key(), 0);
    assert_eq!((node(1).stake, node(1).earnings), (STAKE, NET));
    assert!(node(0).stake < STAKE || node(2).stake < STAKE);
}

#[test]
fn a_liar_that_lets_its_clock_run_out_loses() {
    let d = Dispute::on_the_so(2, 2);
    let liar = Liar::new(d.truth(), 900, 10);
    let honest = Honest(d.truth());
    d.round(&[merkle::root(&d.output), liar.root()]);
    d.settle().unwrap();
    d.open(0, [0, 1]).unwrap();
    let key = d.game([0, 1]);
    // The honest side shows its top; the liar never answers.
    let game: Game = d.env.read(&key);
    let Action::Move(top) = next_action(&game, 0, &honest).unwrap() else {
        panic!("a move")
    };
    d.env
        .send_one(
            ix::game_move(&d.workers[0].key(), 0, &key, top),
            &d.workers[0].wallet,
        )
        .unwrap();
    let timeout = || {
        let payer = d.env.actor();
        d.env
            .send_one(ix::game_timeout(&d.job, &key), &payer.wallet)
    };
    assert_tessera_error(timeout(), TesseraError::ClockNotExpired);
    d.env.chain.advance_time(601);
    let cu = timeout().unwrap().compute_units;
    println!("game_timeout {cu} CU");
    assert!(cu <= 50_000);
    let game: Game = d.env.read(&key);
    assert_eq!(
        game.phase,
        GamePhase::Ended {
            lost: [false, true],
            reason: GameEnd::Timeout
        }
    );
    // The late move is refused; the honest root is accepted.
    let Action::Move(late) = next_action(
        &Game {
            phase: GamePhase::Top,
            ..game
        },
        1,
        &liar,
    )
    .unwrap() else {
        panic!("a move")
    };
    assert_tessera_error(
        d.env.send_one(
            ix::game_move(&d.workers[1].key(), 0, &key, late),
            &d.workers[1].wallet,
        ),
        TesseraError::GameOver,
    );
    d.settle().unwrap();
    assert_eq!(d.read().result_root, Some(merkle::root(&d.output)));
    // The winner takes the game's lamports; nobody else may.
    let payer = d.env.actor();
    assert_tessera_error(
        d.env
            .send_one(ix::close_game(&key, &d.workers[1].key()), &payer.wallet),
        TesseraError::Unauthorized,
    );
    // The liar never moved, so it never bonded: the game holds its rent and the honest
    // side's bond, all of which go back to the honest operator.
    let game: Game = d.env.read(&key);
    assert_eq!(game.bonds, [game.bond, 0]);
    let held = d.env.lamports(&key);
    let before = d.env.lamports(&d.workers[0].key());
    d.env
        .send_one(ix::close_game(&key, &d.workers[0].key()), &payer.wallet)
        .unwrap();
    assert_eq!(d.env.lamports(&d.workers[0].key()), before + held);
    assert!(!d.env.exists(&key));
}

#[test]
fn a_pair_nobody_opens_counts_as_lost_by_both_and_the_job_is_refunded() {
    let d = Dispute::new(2, 2);
    let liar = Liar::new(d.truth(), 3, 1);
    d.round(&[merkle::root(&d.output), liar.root()]);
    d.settle().unwrap();
    // Within the open window, settlement waits for the game.
    assert_tessera_error(d.settle(), TesseraError::GamesInProgress);
    d.env.chain.advance_time(601);
    assert_tessera_error(d.open(0, [0, 1]), TesseraError::GameOpenClosed);
    d.settle().unwrap();
    let job = d.read();
    assert!(matches!(
        job.status,
        JobStatus::Ended {
            reason: JobEndReason::Refuted,
            ..
        }
    ));
    assert_eq!(job.escrow, escrow_of(2, REWARD), "a full refund");
    assert_eq!(job.dispute.lost, 0b11);
    for w in &d.workers {
        assert_eq!(d.env.node(&w.key(), 0).stake, STAKE / 2, "both slashed");
    }
}

#[test]
fn a_refereed_job_whose_replicas_agree_settles_at_once() {
    let d = Dispute::new(3, 3);
    let root = merkle::root(&d.output);
    d.round(&[root, root, root]);
    d.settle().unwrap();
    assert_eq!(d.read().result_root, Some(root));
    assert!(!d.read().dispute.is_started());
}

#[test]
fn game_instructions_refuse_their_attacks() {
    let d = Dispute::new(3, 4);
    let liar = Liar::new(d.truth(), 500, 20);
    let honest = Honest(d.truth());
    let good = merkle::root(&d.output);
    d.round(&[good, liar.root(), good]);
    // Games open only once settlement started the dispute.
    assert_tessera_error(d.open(0, [0, 1]), TesseraError::GameOpenClosed);
    d.settle().unwrap();
    // Slots with the same root do not play; an outsider cannot open; a player cannot open a
    // game it is not in; a pair plays once.
    assert_tessera_error(d.open(0, [0, 2]), TesseraError::NotInDispute);
    assert_tessera_error(d.open(3, [0, 1]), TesseraError::NotAPlayer);
    assert_tessera_error(d.open(2, [0, 1]), TesseraError::NotAPlayer);
    d.open(0, [0, 1]).unwrap();
    assert!(d.open(1, [0, 1]).is_err(), "a pair plays once");
    let key = d.game([0, 1]);
    let mover = |worker: usize, mv: Move| {
        let w = &d.workers[worker];
        d.env
            .send_one(ix::game_move(&w.key(), 0, &key, mv), &w.wallet)
    };
    // Wrong signer: an outsider's node is not a player; another operator's node cannot be
    // used by a signer that does not own it.
    assert_tessera_error(
        mover(3, Move::Top(honest.top().unwrap())),
        TesseraError::NotAPlayer,
    );
    let w3 = &d.workers[3];
    let mut substituted = ix::game_move(&w3.key(), 0, &key, Move::Top(honest.top().unwrap()));
    substituted.accounts[1].pubkey = pda::node(&d.workers[0].key(), 0).0;
    assert_tessera_error(
        d.env.send_one(substituted, &w3.wallet),
        TesseraError::Unauthorized,
    );
    // A move of another phase; a top that is not the side's root; another side's top.
    assert_tessera_error(mover(0, Move::Bisect(vec![])), TesseraError::WrongMove);
    assert_tessera_error(mover(0, Move::Top([9; 32])), TesseraError::BadMove);
    assert_tessera_error(
        mover(0, Move::Top(liar.top().unwrap())),
        TesseraError::BadMove,
    );
    mover(0, Move::Top(honest.top().unwrap())).unwrap();
    // Replay: one move per side per round.
    assert_tessera_error(
        mover(0, Move::Top(honest.top().unwrap())),
        TesseraError::AlreadyMoved,
    );
    mover(1, Move::Top(liar.top().unwrap())).unwrap();
    // A descent that does not fold to the side's node, or of the wrong width.
    let game: Game = d.env.read(&key);
    let GamePhase::Descent { level, index } = game.phase else {
        panic!("a descent: {:?}", game.phase)
    };
    let mut bent = honest.descent(0, level, index).unwrap();
    bent[3][0] ^= 1;
    assert_tessera_error(mover(0, Move::Descent(bent)), TesseraError::BadMove);
    let mut short = honest.descent(0, level, index).unwrap();
    short.pop();
    assert_tessera_error(mover(0, Move::Descent(short)), TesseraError::BadMove);
    assert_tessera_error(mover(0, Move::Cell(vec![0; 32])), TesseraError::WrongMove);
    // The step before its phase is refused; play on to it.
    let GameStepArgs {
        state, operands, ..
    } = honest.step(0, 500, 20).unwrap();
    let step = |args: GameStepArgs| {
        let payer = d.env.actor();
        d.env.send_one(
            ix::game_step(&payer.key(), &d.job, &key, args, false),
            &payer.wallet,
        )
    };
    assert_tessera_error(
        step(GameStepArgs {
            state,
            operands: operands.clone(),
            chain: vec![],
        }),
        TesseraError::WrongMove,
    );
    loop {
        let game: Game = d.env.read(&key);
        if let GamePhase::Step { .. } = game.phase {
            break;
        }
        for (side, player) in [(0usize, &honest as &dyn GameSide), (1, &liar)] {
            if let Action::Move(mv) = next_action(&game, side, player).unwrap() {
                mover(side, mv).unwrap();
            }
        }
    }
    let game: Game = d.env.read(&key);
    let GamePhase::Step { element, position } = game.phase else {
        unreachable!()
    };
    assert_eq!((element, position), (500, 19), "the liar bent step 19 → 20");
    let GameStepArgs {
        state, operands, ..
    } = honest.step(0, element, position).unwrap();
    // A state that is not the agreed one; an operand that does not open.
    let mut other = state.clone();
    other[1] ^= 1;
    assert_tessera_error(
        step(GameStepArgs {
            state: other,
            operands: operands.clone(),
            chain: vec![],
        }),
        TesseraError::BadMove,
    );
    let mut bent = operands.clone();
    bent[1].cell[0] ^= 1;
    assert_tessera_error(
        step(GameStepArgs {
            state: state.clone(),
            operands: bent,
            chain: vec![],
        }),
        TesseraError::BadOpening,
    );
    step(GameStepArgs {
        state,
        operands,
        chain: vec![],
    })
    .unwrap();
    let game: Game = d.env.read(&key);
    assert!(matches!(
        game.phase,
        GamePhase::Ended {
            lost: [false, true],
            reason: GameEnd::Refereed
        }
    ));
    // Nothing moves an ended game.
    assert_tessera_error(
        d.env
            .send_one(ix::game_timeout(&d.job, &key), &d.workers[0].wallet),
        TesseraError::GameOver,
    );
}

#[test]
fn a_refereed_job_needs_params_its_kernel_decodes() {
    let env = TestEnv::boot();
    let params = tessera::state::Params {
        refereed_kernels: REFEREE_KERNELS,
        ..env.params
    };
    env.initialize(&env.authority, params).unwrap();
    let submitter = env.actor();
    // The fixture's job: 8 bytes of params a matmul cannot decode.
    assert_tessera_error(
        env.post_job(&submitter, env.job_args(1, 1, REWARD)),
        TesseraError::BadRefereedJob,
    );
    // The right shape, an input size that does not match it.
    let kernel = matmul_job();
    let mut args = env.job_args(2, 1, REWARD);
    args.kernel_params = kernel.encode_params();
    args.input.size_bytes = 1 << 20;
    assert_tessera_error(
        env.post_job(&submitter, args.clone()),
        TesseraError::BadRefereedJob,
    );
    args.input.size_bytes = kernel.random_input(1).len() as u64;
    env.post_job(&submitter, args).unwrap();
}

#[test]
fn an_int8_matmul_liar_bent_deep_in_its_output_loses_its_game() {
    let kernel = tessera_kernels::Job::MatmulI8(MatmulParams {
        m: 33,
        n: 47,
        k: 129,
    });
    let d = Dispute::with_kernel(TestEnv::boot(), 2, 2, kernel);
    // Element 1,500 of 1,551 lies in the output's second chunk; bent at the first step.
    let liar = Liar::new(d.truth(), 1_500, 0);
    let honest = Honest(d.truth());
    d.round(&[liar.root(), merkle::root(&d.output)]);
    d.settle().unwrap();
    d.open(1, [0, 1]).unwrap();
    let played = d.play([0, 1], [&liar, &honest]);
    assert_eq!(played.lost(), [true, false]);
    let game = played.game.as_ref().unwrap();
    assert_eq!(game.output_len, 33 * 47 * 4);
    d.settle().unwrap();
    assert_eq!(d.read().result_root, Some(merkle::root(&d.output)));
    assert_eq!(d.env.node(&d.workers[0].key(), 0).stake, STAKE / 2);
    assert_eq!(d.env.node(&d.workers[1].key(), 0).earnings, NET);
}
