//! The challenge window of refereed results (issue 2/6, item 5; docs/disputes.md): a result
//! nobody disputed — every replica backing it — is accepted only after a governed window in
//! which any staked node may challenge it with the root it computed and play the same games
//! against its backers. A watcher thus catches a unanimous wrong result, and is paid out of
//! the colluders' slashed stake; a wrong challenger loses its games, its bonds and its stake.
use tessera::constants::INPUT_UNAVAILABLE_ROOT;
use tessera::error::TesseraError;
use tessera::events::{ChallengeWindowOpened, ResultChallenged};
use tessera::state::{Game, JobEndReason, JobStatus, Verdict};
use tessera_kernels::merkle;
use tessera_sdk::chain::ChainError;
use tessera_sdk::events::decode;
use tessera_sdk::game::disputed_pairs;
use tessera_sdk::in_process::{ProgramMode, TxOutcome};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

use super::games::{matmul_job, settled, Dispute, Honest, Liar, NET, REWARD, STAKE};

/// The window used here: an hour.
const WINDOW: u32 = 3_600;

/// A refereed matmul job of `replicas` on a network with a challenge window, and `workers`
/// staked operators.
fn windowed(env: TestEnv, replicas: u8, workers: usize) -> Dispute {
    Dispute::with_params(env, replicas, workers, matmul_job(), |p| {
        p.challenge_window_secs = WINDOW;
    })
}

fn challenge(d: &Dispute, worker: usize, root: [u8; 32]) -> Result<TxOutcome, ChainError> {
    let w = &d.workers[worker];
    d.env
        .send_one(ix::challenge(&w.key(), 0, &d.job, root), &w.wallet)
}

fn ended(d: &Dispute) -> Option<JobEndReason> {
    match d.read().status {
        JobStatus::Ended { reason, .. } => Some(reason),
        JobStatus::Open => None,
    }
}

#[test]
fn a_watcher_catches_a_unanimous_wrong_result_and_takes_a_share_of_the_slash() {
    let d = windowed(
        TestEnv::boot_with(ProgramMode::Sbf(crate::compute_units::so_path())),
        3,
        4,
    );
    let liar = Liar::new(d.truth(), 1_111, 200);
    let honest = Honest(d.truth());
    let (good, bad) = (merkle::root(&d.output), liar.root());
    // Every replica colludes: nothing disagrees, no game is played.
    d.round(&[bad, bad, bad]);

    // Accepted, not final: the window opens, and settlement waits for it.
    let outcome = d.settle().unwrap();
    assert!(settled(&outcome).is_none());
    let opened = decode::<ChallengeWindowOpened>(&outcome.logs);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].root, bad);
    let job = d.read();
    assert!(job.is_open() && job.result_root.is_none());
    assert_eq!(job.dispute.proposed_root, bad);
    assert_tessera_error(d.settle(), TesseraError::ChallengeWindowOpen);

    // The watcher recomputed the job and challenges with the true root.
    let outcome = challenge(&d, 3, good).unwrap();
    let challenge_cu = outcome.compute_units;
    let event = decode::<ResultChallenged>(&outcome.logs)
        .pop()
        .expect("event");
    assert_eq!(
        (event.slot, event.root, event.accepted_root),
        (3, good, bad)
    );
    let job = d.read();
    assert_eq!(job.challenger_start_index(), 3);
    let pairs = disputed_pairs(&job);
    assert_eq!(pairs, vec![[0, 3], [1, 3], [2, 3]]);
    assert_tessera_error(d.settle(), TesseraError::GamesInProgress);
    for pair in &pairs {
        d.open(3, *pair).unwrap();
        assert_eq!(
            d.play(*pair, [&liar, &honest]).lost(),
            [true, false],
            "game {pair:?}"
        );
    }

    // The challenger's root won: it is accepted in turn, and gets a window of its own.
    let outcome = d.settle().unwrap();
    assert!(settled(&outcome).is_none());
    assert_eq!(decode::<ChallengeWindowOpened>(&outcome.logs)[0].root, good);
    let job = d.read();
    assert_eq!(job.dispute.eliminated, 0b0111, "the colluders are out");
    assert!(disputed_pairs(&job).is_empty());
    assert_tessera_error(d.settle(), TesseraError::ChallengeWindowOpen);
    d.env.chain.advance_time(i64::from(WINDOW));

    let supply = d.env.mint_supply();
    let outcome = d.settle().unwrap();
    let settle_cu = outcome.compute_units;
    let holders = d.workers.iter().map(|w| w.token).chain([d.submitter_token]);
    d.env.assert_conserved(&d.env.balances(holders), supply);
    let job = d.read();
    assert_eq!(job.result_root, Some(good));
    assert_eq!(ended(&d), Some(JobEndReason::Accepted));
    let event = settled(&outcome).expect("JobSettled");
    let slashed = 3 * (STAKE / 2);
    assert_eq!(
        event.challenge_rewards,
        slashed / 2,
        "challenge_reward_bps 5000"
    );
    let receipts = event.slots;
    for r in &receipts[..3] {
        assert_eq!(
            (r.verdict, r.paid, r.penalty, r.lost_game, r.challenger),
            (Verdict::Disagreed, 0, STAKE / 2, true, false)
        );
    }
    assert_eq!(
        (
            receipts[3].verdict,
            receipts[3].paid,
            receipts[3].challenger
        ),
        (Verdict::Agreed, slashed / 2, true)
    );
    let watcher = d.env.node(&d.workers[3].key(), 0);
    assert_eq!((watcher.stake, watcher.earnings), (STAKE, slashed / 2));
    assert_eq!(watcher.open_assignments, 0);
    // Nobody was paid out of the escrow: the submitter gets all of it back.
    assert_eq!(job.escrow, escrow_of(3, REWARD));
    println!("challenge {challenge_cu} CU; settle after a won challenge {settle_cu} CU");
    assert!(challenge_cu <= 30_000 && settle_cu <= 50_000);
}

#[test]
fn a_wrong_challenger_loses_its_games_its_bonds_and_its_stake() {
    let d = windowed(TestEnv::boot(), 2, 3);
    let liar = Liar::new(d.truth(), 1_500, 299);
    let honest = Honest(d.truth());
    let good = merkle::root(&d.output);
    d.round(&[good, good]);
    d.settle().unwrap();
    challenge(&d, 2, liar.root()).unwrap();
    // The backers defend: each opens and plays its game against the challenger.
    for (backer, pair) in [(0usize, [0u8, 2u8]), (1, [1, 2])] {
        d.open(backer, pair).unwrap();
        assert_eq!(d.play(pair, [&honest, &liar]).lost(), [false, true]);
    }
    // The accepted root stood; its window still runs its course.
    assert_tessera_error(d.settle(), TesseraError::ChallengeWindowOpen);
    d.env.chain.advance_time(i64::from(WINDOW));
    let outcome = d.settle().unwrap();
    assert_eq!(ended(&d), Some(JobEndReason::Accepted));
    assert_eq!(d.read().result_root, Some(good));
    let event = settled(&outcome);
    // Natively no event is logged; the ledgers say the same.
    if let Some(event) = &event {
        assert_eq!(event.challenge_rewards, 0);
        assert!(event.slots[2].challenger);
    }
    let node = |i: usize| d.env.node(&d.workers[i].key(), 0);
    for i in 0..2 {
        assert_eq!((node(i).stake, node(i).earnings), (STAKE, NET));
    }
    assert_eq!(
        (node(2).stake, node(2).earnings, node(2).open_assignments),
        (STAKE / 2, 0, 0)
    );
    assert_eq!(d.read().escrow, escrow_of(2, REWARD) - 2 * REWARD);
    // Its bonds pay for the backers' moves: each closed game hands the winning backer both.
    for (backer, pair) in [(0usize, [0u8, 2u8]), (1, [1, 2])] {
        let key = d.game(pair);
        let game: Game = d.env.read(&key);
        let operator = d.workers[backer].key();
        let (before, held) = (d.env.lamports(&operator), d.env.lamports(&key));
        let payer = d.env.actor();
        d.env
            .send_one(ix::close_game(&key, &operator), &payer.wallet)
            .unwrap();
        assert_eq!(d.env.lamports(&operator), before + held);
        assert!(held > 2 * game.bond);
    }
}

#[test]
fn an_unchallenged_result_is_final_when_its_window_closes() {
    let d = windowed(TestEnv::boot(), 2, 2);
    let good = merkle::root(&d.output);
    d.round(&[good, good]);
    d.settle().unwrap();
    assert_eq!(ended(&d), None);
    d.env.chain.advance_time(i64::from(WINDOW) - 1);
    assert_tessera_error(d.settle(), TesseraError::ChallengeWindowOpen);
    d.env.chain.advance_time(1);
    d.settle().unwrap();
    assert_eq!(ended(&d), Some(JobEndReason::Accepted));
    assert_eq!(d.read().result_root, Some(good));
    for w in &d.workers {
        assert_eq!(d.env.node(&w.key(), 0).earnings, NET);
    }
}

#[test]
fn challenge_refuses_its_attacks() {
    // Three replicas, six outsiders: five fill the job's eight slots, the sixth finds none.
    let d = windowed(TestEnv::boot(), 3, 9);
    let good = merkle::root(&d.output);
    let other = |i: u8| {
        let mut root = good;
        root[0] ^= i;
        root
    };
    d.round(&[good, good, good]);
    // Before acceptance there is nothing to challenge.
    assert_tessera_error(
        challenge(&d, 3, other(1)),
        TesseraError::ChallengeWindowClosed,
    );
    d.settle().unwrap();
    // The accepted root itself, or "input unavailable", is no challenge.
    assert_tessera_error(challenge(&d, 3, good), TesseraError::ChallengeSameRoot);
    assert_tessera_error(
        challenge(&d, 3, INPUT_UNAVAILABLE_ROOT),
        TesseraError::ChallengeSameRoot,
    );
    // A backer cannot challenge its own job.
    assert_tessera_error(
        challenge(&d, 0, other(1)),
        TesseraError::NodeAlreadyAssigned,
    );
    // Wrong signer: an outsider cannot challenge with another operator's node.
    let (thief, victim) = (&d.workers[3], &d.workers[4]);
    let mut substituted = ix::challenge(&thief.key(), 0, &d.job, other(1));
    substituted.accounts[2].pubkey = pda::node(&victim.key(), 0).0;
    assert_tessera_error(
        d.env.send_one(substituted, &thief.wallet),
        TesseraError::Unauthorized,
    );
    // A node without stake risks nothing, so it may not challenge.
    let unstaked = d.env.staked_operator(0);
    assert_tessera_error(
        d.env.send_one(
            ix::challenge(&unstaked.key(), 0, &d.job, other(1)),
            &unstaked.wallet,
        ),
        TesseraError::StakeBelowMinimum,
    );
    // Five challengers fill the job; a replayed challenge and a sixth are refused.
    for worker in 3..8 {
        challenge(&d, worker, other(worker as u8)).unwrap();
    }
    assert_tessera_error(
        challenge(&d, 3, other(3)),
        TesseraError::NodeAlreadyAssigned,
    );
    assert_tessera_error(challenge(&d, 8, other(8)), TesseraError::NoRoomToChallenge);
    let job = d.read();
    assert_eq!((job.slots.len(), job.dispute.challengers), (8, 5));
    // Each challenger plays every backer, and the challengers with different roots play
    // each other: 3 × 5 + 10 pairs.
    assert_eq!(disputed_pairs(&job).len(), 25);
    // After the window, no challenge.
    d.env.chain.advance_time(i64::from(WINDOW));
    assert_tessera_error(
        challenge(&d, 8, other(8)),
        TesseraError::ChallengeWindowClosed,
    );
}
