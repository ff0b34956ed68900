//! Refereed jobs: dispute games between worker agents, a crash in the middle of one, a
//! watcher's challenge, a render game.
use crate::fixture::*;

/// A network whose matmul jobs are refereed (docs/disputes.md): different roots play games.
fn refereed_network() -> TestEnv {
    let env = TestEnv::new();
    let params = Params {
        refereed_kernels: tessera_sdk::tessera::constants::REFEREE_KERNELS,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    env
}

#[tokio::test]
async fn a_worker_killed_mid_game_continues_after_restart_and_beats_the_liar() {
    use tessera_sdk::tessera::state::{Game, Job};
    let env = refereed_network();
    let liar = Worker::start(&env, Behaviour::Liar).await;
    let mut honest = Worker::start(&env, Behaviour::Honest).await;
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 1, 2, false);
    let read = |env: &TestEnv| env.read::<Job>(&job);
    // Claim, commit, reveal, settle: the roots differ, so the dispute starts and the game
    // opens; play until both sides have moved at least twice.
    let mut passes = 0;
    let game = pda::game(&job, [0, 1]).0;
    loop {
        passes += 1;
        assert!(passes < 40, "the game did not get going");
        for w in [&liar, &honest] {
            w.agent().tick().await.expect("pass");
        }
        if env.exists(&game) && env.read::<Game>(&game).moves.iter().all(|m| *m >= 2) {
            break;
        }
    }
    assert!(read(&env).dispute.is_started() && !read(&env).escalated);
    let before: Game = env.read(&game);
    assert!(!before.is_over());
    // kill -9 in the middle of the game; the liar plays on alone meanwhile.
    println!(
        "killed at {:?} after {:?} moves",
        before.phase, before.moves
    );
    let moves_before = honest
        .metrics
        .game_moves
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        honest
            .results
            .get(&read(&env).input.hash)
            .unwrap()
            .is_some(),
        "the input is kept for the game"
    );
    honest.kill();
    for _ in 0..3 {
        liar.agent().tick().await.expect("pass");
    }
    honest.boot(&env);
    for _ in 0..40 {
        if ended(&env, &job).is_some() {
            break;
        }
        for w in [&liar, &honest] {
            w.agent().tick().await.expect("pass");
        }
    }
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    let state = read(&env);
    assert_eq!(state.result_root, Some(truth));
    let honest_slot = state
        .slots
        .iter()
        .position(|s| s.node == honest.node())
        .unwrap();
    assert_eq!(state.dispute.lost, 1 << (1 - honest_slot), "the liar lost");
    // The honest worker posted the referee's step or the liar did; either way the referee
    // decided, and the winner closed the game and took both bonds.
    assert!(!env.exists(&game), "the winner closed the game");
    let honest_node = env.node(&honest.actor.key(), 0);
    assert_eq!(
        (honest_node.stake, honest_node.earnings),
        (STAKE, REWARD - REWARD / 40)
    );
    assert_eq!(env.node(&liar.actor.key(), 0).stake, STAKE / 2);
    let moves = honest
        .metrics
        .game_moves
        .load(std::sync::atomic::Ordering::Relaxed);
    // Each side's statement says how its game went (recorded on the pass after the end), and
    // the input kept for the games is gone.
    liar.agent().tick().await.unwrap();
    honest.agent().tick().await.unwrap();
    let input_root = state.input.hash;
    for w in [&liar, &honest] {
        assert_eq!(w.results.get(&input_root).unwrap(), None);
    }
    let statement = status::statement(&*env.chain, &liar.node(), liar.db.as_ref().unwrap())
        .await
        .unwrap();
    assert!(statement.contains("lost a dispute game"), "{statement}");
    assert!(
        moves >= moves_before + 2,
        "the restarted worker kept playing: {} moves after the restart",
        moves - moves_before
    );
}

#[tokio::test]
async fn a_watcher_catches_a_unanimous_wrong_result() {
    use tessera_sdk::tessera::state::Job;
    let env = TestEnv::new();
    let window = 600;
    let params = Params {
        refereed_kernels: tessera_sdk::tessera::constants::REFEREE_KERNELS,
        challenge_window_secs: window,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    // Both replicas corrupt the output the same way: a unanimous wrong result.
    let liars = [
        Worker::start(&env, Behaviour::Liar).await,
        Worker::start(&env, Behaviour::Liar).await,
    ];
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 1, 2, false);
    let read = |env: &TestEnv| env.read::<Job>(&job);
    for _ in 0..20 {
        if read(&env).dispute.challenge_until != 0 {
            break;
        }
        for w in &liars {
            w.agent().tick().await.expect("pass");
        }
    }
    let accepted = read(&env).dispute.proposed_root;
    assert!(
        accepted != [0; 32] && accepted != truth,
        "the wrong root was accepted"
    );
    assert_eq!(ended(&env, &job), None, "not final during its window");

    // A watcher that checks every result it may: it recomputes, challenges, and plays.
    let watcher = Worker::start_watching(&env, Behaviour::Honest, 10_000).await;
    let mut challenged = false;
    for _ in 0..60 {
        let pass = watcher.agent().tick().await.expect("pass");
        challenged |= pass.challenged.contains(&job);
        for w in &liars {
            w.agent().tick().await.expect("pass");
        }
        if read(&env).dispute.proposed_root == truth {
            break;
        }
    }
    assert!(challenged, "the watcher challenged");
    let state = read(&env);
    assert_eq!(
        state.dispute.proposed_root, truth,
        "the watcher's root won its games"
    );
    assert_eq!(state.dispute.lost, 0b011, "both liars lost");
    // The corrected result stands its own window, then settles.
    env.chain.advance_time(i64::from(window));
    for _ in 0..5 {
        if ended(&env, &job).is_some() {
            break;
        }
        watcher.agent().tick().await.expect("pass");
    }
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    assert_eq!(read(&env).result_root, Some(truth));
    for w in &liars {
        assert_eq!(env.node(&w.actor.key(), 0).stake, STAKE / 2);
    }
    let paid = env.node(&watcher.actor.key(), 0);
    assert_eq!(paid.stake, STAKE);
    assert!(paid.earnings > 0, "the watcher takes a share of the slash");
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        (
            load(&watcher.metrics.results_watched),
            load(&watcher.metrics.challenges_sent)
        ),
        (1, 1)
    );
    watcher.agent().tick().await.unwrap();
    let statement = status::statement(&*env.chain, &watcher.node(), watcher.db.as_ref().unwrap())
        .await
        .unwrap();
    assert!(statement.contains("won its challenge"), "{statement}");
    // The watcher serves the accepted result: it computed it.
    assert!(watcher.results.get(&truth).unwrap().is_some());
}

#[tokio::test]
async fn workers_play_a_render_game_and_the_liar_loses() {
    use tessera_kernels::kernels::RenderParams;
    let env = refereed_network();
    let liar = Worker::start(&env, Behaviour::Liar).await;
    let honest = Worker::start(&env, Behaviour::Honest).await;
    let submitter = env.actor();
    let tile = RenderParams {
        image_w: 32,
        image_h: 24,
        tile_x: 4,
        tile_y: 4,
        tile_w: 16,
        tile_h: 12,
        spp: 2,
        max_depth: 3,
        seed: 11,
    };
    let (job, truth) = post_kernel(&env, &submitter, 3, 2, KernelJob::Render(tile), false);
    for _ in 0..40 {
        if ended(&env, &job).is_some() {
            break;
        }
        for w in [&liar, &honest] {
            w.agent().tick().await.expect("pass");
        }
    }
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    let state = env.read::<tessera_sdk::tessera::state::Job>(&job);
    assert!(
        state.dispute.is_started(),
        "the roots differed: a game decided"
    );
    assert_eq!(state.result_root, Some(truth));
    assert_eq!(env.node(&liar.actor.key(), 0).stake, STAKE / 2);
    assert_eq!(
        env.node(&honest.actor.key(), 0).earnings,
        REWARD - REWARD / 40
    );
    assert!(
        !env.exists(&pda::game(&job, [0, 1]).0),
        "the winner closed the game"
    );
}
