//! Workers against an in-process network (LiteSVM through the SDK, the program native or the
//! `.so` as `TESSERA_PROGRAM_MODE` says): real agents, real kernels, real files.
use std::path::PathBuf;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::in_process::InProcessChain;
use tessera_sdk::tessera::constants::INPUT_UNAVAILABLE_ROOT;
use tessera_sdk::tessera::state::{JobEndReason, JobStatus, Params};
use tessera_sdk::{pda, RpcChain};
use tessera_tests::{Actor, TestEnv};
use tessera_worker::behaviour::Behaviour;
use tessera_worker::db::{Db, Phase};
use tessera_worker::metrics::Metrics;
use tessera_worker::retry::Backoff;
use tessera_worker::server::{router, ServerState};
use tessera_worker::store::{hex, ResultStore};
use tessera_worker::{fetch, hardware, status, Agent, AgentSettings};

const STAKE: u64 = 10_000_000;
const REWARD: u64 = 1_000_000;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tessera-worker-{name}-{}-{}",
        std::process::id(),
        Pubkey::new_unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn settings(actor: &Actor, behaviour: Behaviour, watch_bps: u16) -> AgentSettings {
    AgentSettings {
        node_index: 0,
        token_account: Some(actor.token),
        concurrency: 2,
        region: 3,
        min_price_per_unit: 1,
        cost_per_unit: 0,
        stake: STAKE,
        endpoint: "http://127.0.0.1:8650".into(),
        max_input_bytes: 1 << 20,
        behaviour,
        backoff: Backoff {
            attempts: 3,
            first: std::time::Duration::from_millis(5),
            max: std::time::Duration::from_millis(20),
        },
        initial_secs_per_unit: 0.01,
        safety_secs: 30,
        watch_bps,
    }
}

/// A worker: its operator, its storage, and an agent that can be dropped and rebuilt (a crash).
struct Worker {
    actor: Actor,
    dir: PathBuf,
    behaviour: Behaviour,
    watch_bps: u16,
    agent: Option<Agent<InProcessChain>>,
    metrics: Arc<Metrics>,
    db: Option<Arc<Db>>,
    results: Arc<ResultStore>,
}

impl Worker {
    async fn start(env: &TestEnv, behaviour: Behaviour) -> Self {
        Self::start_watching(env, behaviour, 0).await
    }

    /// A worker that watches `watch_bps` of the results in a challenge window.
    async fn start_watching(env: &TestEnv, behaviour: Behaviour, watch_bps: u16) -> Self {
        let actor = env.actor();
        let dir = temp_dir("node");
        let results = Arc::new(ResultStore::open(&dir.join("results")).unwrap());
        let mut w = Worker {
            actor,
            dir,
            behaviour,
            watch_bps,
            agent: None,
            metrics: Arc::new(Metrics::default()),
            db: None,
            results,
        };
        w.boot(env);
        w.agent()
            .ensure_registered()
            .await
            .expect("register and stake");
        w
    }

    /// (Re)starts the agent from the worker's database, as a restarted process does.
    fn boot(&mut self, env: &TestEnv) {
        let backend = Backend::Cpu(Cpu::new(1).unwrap());
        let hardware = hardware::profile(&backend);
        let db = Arc::new(Db::open(&self.dir.join("worker.redb")).unwrap());
        let keypair = Keypair::from_base58_string(&self.actor.wallet.to_base58_string());
        self.db = Some(db.clone());
        self.agent = Some(Agent::new(
            env.chain.clone(),
            keypair,
            settings(&self.actor, self.behaviour, self.watch_bps),
            Arc::new(backend),
            hardware,
            db,
            self.results.clone(),
            self.metrics.clone(),
        ));
    }

    /// `kill -9`: the agent and its database handle vanish mid-job.
    fn kill(&mut self) {
        self.agent = None;
        self.db = None;
    }

    fn agent(&self) -> &Agent<InProcessChain> {
        self.agent.as_ref().expect("running")
    }

    fn node(&self) -> Pubkey {
        pda::node(&self.actor.key(), 0).0
    }
}

/// Posts a matmul_f32 job whose input is a real file; `corrupt` makes the named hash wrong.
fn post_matmul(
    env: &TestEnv,
    submitter: &Actor,
    nonce: u64,
    replicas: u8,
    corrupt: bool,
) -> (Pubkey, [u8; 32]) {
    let job = KernelJob::MatmulF32(MatmulParams { m: 8, n: 12, k: 10 });
    post_kernel(env, submitter, nonce, replicas, job, corrupt)
}

/// Posts a job of `job`'s kernel whose input is a real file; `corrupt` makes the named hash
/// wrong. Returns the job and the root of its true result.
fn post_kernel(
    env: &TestEnv,
    submitter: &Actor,
    nonce: u64,
    replicas: u8,
    job: KernelJob,
    corrupt: bool,
) -> (Pubkey, [u8; 32]) {
    let input = job.random_input(nonce);
    let path = temp_dir("input").join("a.bin");
    std::fs::write(&path, &input).unwrap();
    let mut hash = fetch::input_root(&input);
    if corrupt {
        hash[0] ^= 1;
    }
    let mut args = env.job_args(nonce, replicas, REWARD);
    args.kernel_id = job.kernel() as u8;
    args.kernel_params = job.encode_params();
    args.work_units = job.work_units().max(1);
    args.input.uri = format!("file://{}", path.display());
    args.input.size_bytes = input.len() as u64;
    args.input.hash = hash;
    args.requirements.gpu_required = false;
    args.requirements.min_vram_mib = 0;
    env.post_job(submitter, args).unwrap();
    let expected = merkle::root(
        &job.run(&input, &Backend::Cpu(Cpu::new(1).unwrap()))
            .unwrap(),
    );
    (pda::job(&submitter.key(), nonce).0, expected)
}

/// Runs passes of every running worker until `done` or a pass limit.
async fn run_until(env: &TestEnv, workers: &[&Worker], mut done: impl FnMut(&TestEnv) -> bool) {
    for _ in 0..12 {
        if done(env) {
            return;
        }
        for w in workers {
            if let Some(agent) = &w.agent {
                agent.tick().await.expect("pass");
            }
        }
    }
    assert!(done(env), "the network did not get there in 12 passes");
}

fn ended(env: &TestEnv, job: &Pubkey) -> Option<JobEndReason> {
    match env.read::<tessera_sdk::tessera::state::Job>(job).status {
        JobStatus::Ended { reason, .. } => Some(reason),
        JobStatus::Open => None,
    }
}

fn network() -> TestEnv {
    let env = TestEnv::new();
    // Three replicas and one escalation replica: four workers can fill a disputed job.
    let params = Params {
        escalation_replicas: 1,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    env
}

#[tokio::test]
async fn three_honest_workers_and_a_liar_the_liar_is_slashed() {
    let env = network();
    // The liar starts first, so it takes a first-round slot.
    let liar = Worker::start(&env, Behaviour::Liar).await;
    let honest = [
        Worker::start(&env, Behaviour::Honest).await,
        Worker::start(&env, Behaviour::Honest).await,
        Worker::start(&env, Behaviour::Honest).await,
    ];
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 1, 3, false);
    let all: Vec<&Worker> = std::iter::once(&liar).chain(honest.iter()).collect();
    run_until(&env, &all, |env| ended(env, &job).is_some()).await;
    // One more pass so that every worker records the outcome.
    for w in &all {
        w.agent().tick().await.unwrap();
    }

    let state: tessera_sdk::tessera::state::Job = env.read(&job);
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    assert!(state.escalated, "the liar's disagreement escalated the job");
    assert_eq!(state.result_root, Some(truth));
    let liar_node = env.node(&liar.actor.key(), 0);
    assert_eq!(liar_node.stake, STAKE / 2, "slashed half of its stake");
    assert_eq!(liar_node.reputation.disagreed, 1);
    for w in &honest {
        let node = env.node(&w.actor.key(), 0);
        assert_eq!((node.stake, node.earnings), (STAKE, REWARD - REWARD / 40));
        assert_eq!(node.reputation.agreed, 1);
        assert_eq!(
            w.metrics
                .jobs_agreed
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
    assert_eq!(
        liar.metrics
            .jobs_slashed
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let metrics = honest[0].metrics.render();
    assert!(
        metrics.contains("tessera_worker_jobs_agreed_total 1"),
        "{metrics}"
    );
    assert!(metrics
        .contains("tessera_worker_kernel_seconds_total{kernel=\"matmul_f32\",backend=\"cpu\"}"));
    println!("--- /metrics of an honest worker ---\n{metrics}");
    let statement = status::statement(
        &*env.chain,
        &honest[0].node(),
        honest[0].db.as_ref().unwrap(),
    )
    .await
    .unwrap();
    assert!(statement.contains("agreed: earned 975000"), "{statement}");
    println!("--- status of an honest worker ---\n{statement}");
    let statement = status::statement(&*env.chain, &liar.node(), liar.db.as_ref().unwrap())
        .await
        .unwrap();
    assert!(statement.contains("slashed"), "{statement}");
    println!("--- status of the liar ---\n{statement}");
}

#[tokio::test]
async fn a_worker_killed_between_commit_and_reveal_reveals_after_restart_and_is_paid() {
    let env = network();
    let mut a = Worker::start(&env, Behaviour::Honest).await;
    let b = Worker::start(&env, Behaviour::Honest).await;
    // Registration is idempotent: a second start changes nothing.
    let before = env.node(&a.actor.key(), 0);
    a.agent().ensure_registered().await.unwrap();
    let after = env.node(&a.actor.key(), 0);
    assert_eq!(
        (after.stake, &after.hardware, after.registered_at),
        (before.stake, &before.hardware, before.registered_at)
    );
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 2, 2, false);
    // Claim, then compute and commit: two passes each.
    for _ in 0..2 {
        a.agent().tick().await.unwrap();
        b.agent().tick().await.unwrap();
    }
    let record = a.db.as_ref().unwrap().get(&job).unwrap().unwrap();
    assert_eq!(record.phase, Phase::Committed);
    a.kill();
    // The other worker reveals; the dead one cannot.
    b.agent().tick().await.unwrap();
    assert_eq!(ended(&env, &job), None);
    a.boot(&env);
    run_until(&env, &[&a, &b], |env| ended(env, &job).is_some()).await;
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    assert_eq!(
        env.read::<tessera_sdk::tessera::state::Job>(&job)
            .result_root,
        Some(truth)
    );
    let node = env.node(&a.actor.key(), 0);
    assert_eq!((node.stake, node.earnings), (STAKE, REWARD - REWARD / 40));
}

#[tokio::test]
async fn an_input_with_the_wrong_root_is_refused_without_a_slash() {
    let env = network();
    let workers = [
        Worker::start(&env, Behaviour::Honest).await,
        Worker::start(&env, Behaviour::Honest).await,
    ];
    let submitter = env.actor();
    let (job, _) = post_matmul(&env, &submitter, 3, 2, true);
    let refs: Vec<&Worker> = workers.iter().collect();
    run_until(&env, &refs, |env| ended(env, &job).is_some()).await;
    assert_eq!(ended(&env, &job), Some(JobEndReason::InputUnavailable));
    let state: tessera_sdk::tessera::state::Job = env.read(&job);
    assert!(state.slots.iter().all(|s| s.root == INPUT_UNAVAILABLE_ROOT));
    for w in &workers {
        let node = env.node(&w.actor.key(), 0);
        assert_eq!(node.stake, STAKE, "nobody is slashed for a bad input");
        assert!(
            node.earnings > 0,
            "agreeing the input was bad is compensated"
        );
        let record = w.db.as_ref().unwrap().get(&job).unwrap().unwrap();
        let why = record.unavailable.unwrap();
        assert!(why.contains("does not match the job's input root"), "{why}");
        assert_eq!(
            w.metrics
                .inputs_unavailable
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }
}

#[tokio::test]
async fn a_dead_rpc_endpoint_is_retried_and_reported_not_a_crash() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let chain = Arc::new(RpcChain::new(format!("http://127.0.0.1:{port}")));
    let dir = temp_dir("dead-rpc");
    let backend = Backend::Cpu(Cpu::new(1).unwrap());
    let metrics = Arc::new(Metrics::default());
    let actor_key = Keypair::new();
    let token = Pubkey::new_unique();
    let mut s = settings(
        &Actor {
            wallet: Keypair::from_base58_string(&actor_key.to_base58_string()),
            token,
        },
        Behaviour::Honest,
        0,
    );
    s.stake = 0;
    let agent = Agent::new(
        chain,
        actor_key,
        s,
        Arc::new(backend),
        hardware::profile(&Backend::Cpu(Cpu::new(1).unwrap())),
        Arc::new(Db::open(&dir.join("worker.redb")).unwrap()),
        Arc::new(ResultStore::open(&dir.join("results")).unwrap()),
        metrics.clone(),
    );
    let err = agent.tick().await.unwrap_err();
    assert!(format!("{err:#}").contains("rpc"), "{err:#}");
    let err = agent.ensure_registered().await.unwrap_err();
    assert!(format!("{err:#}").contains("rpc"), "{err:#}");
    // Three attempts each, every one counted.
    assert_eq!(
        metrics
            .rpc_errors
            .load(std::sync::atomic::Ordering::Relaxed),
        6
    );
    assert!(metrics
        .render()
        .contains("tessera_worker_rpc_errors_total 6"));
}

#[tokio::test]
async fn results_are_not_served_before_the_job_settles() {
    let env = network();
    let workers = [
        Worker::start(&env, Behaviour::Honest).await,
        Worker::start(&env, Behaviour::Honest).await,
    ];
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 4, 2, false);
    let w = &workers[0];
    let app = router(ServerState {
        chain: env.chain.clone(),
        db: w.db.clone().unwrap(),
        results: w.results.clone(),
        metrics: w.metrics.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/v1/results/{}", hex(&truth));

    // Claimed and computed, not revealed: refused.
    for w in &workers {
        w.agent().tick().await.unwrap();
        w.agent().tick().await.unwrap();
    }
    let early = client.get(&url).send().await.unwrap();
    assert_eq!(
        early.status().as_u16(),
        425,
        "{}",
        early.text().await.unwrap()
    );
    // Revealed, not settled: still refused.
    for w in &workers {
        w.agent().tick().await.unwrap();
    }
    assert_eq!(
        env.read::<tessera_sdk::tessera::state::Job>(&job).slots[0].state,
        tessera_sdk::tessera::state::SlotState::Revealed
    );
    assert_eq!(
        client.get(&url).send().await.unwrap().status().as_u16(),
        425
    );
    let refs: Vec<&Worker> = workers.iter().collect();
    run_until(&env, &refs, |env| ended(env, &job).is_some()).await;
    // Settled: served, and the bytes have the root the chain accepted.
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.bytes().await.unwrap();
    assert_eq!(merkle::root(&bytes), truth);
    let chunk = client.get(format!("{url}/chunks/0")).send().await.unwrap();
    let chunk: serde_json::Value = serde_json::from_str(&chunk.text().await.unwrap()).unwrap();
    assert_eq!(chunk["len"].as_u64(), Some(bytes.len() as u64));
    let unknown = client
        .get(format!("http://{addr}/v1/results/{}", hex(&[7; 32])))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tessera_worker_jobs_revealed_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_copycat_and_a_flaky_worker_gain_nothing() {
    let env = network();
    // They start first, so they take first-round slots.
    let copycat = Worker::start(&env, Behaviour::Copycat).await;
    let flaky = Worker::start(&env, Behaviour::Flaky).await;
    let honest = [
        Worker::start(&env, Behaviour::Honest).await,
        Worker::start(&env, Behaviour::Honest).await,
    ];
    let submitter = env.actor();
    let (job, truth) = post_matmul(&env, &submitter, 5, 3, false);
    let all = [&copycat, &flaky, &honest[0], &honest[1]];
    for _ in 0..3 {
        for w in all {
            w.agent().tick().await.unwrap();
        }
    }
    // The flaky worker never commits, so the reveal phase waits for the commit deadline.
    let state: tessera_sdk::tessera::state::Job = env.read(&job);
    let holders: Vec<Pubkey> = state.slots.iter().map(|s| s.node).collect();
    assert_eq!(
        holders,
        vec![copycat.node(), flaky.node(), honest[0].node()]
    );
    env.chain
        .advance_time(state.commit_deadline - env.chain.get_clock().unix_timestamp);
    for w in all {
        w.agent().tick().await.unwrap(); // the honest worker reveals
    }
    for w in all {
        w.agent().tick().await.unwrap(); // the copycat tries to reveal the honest root
    }
    let record = copycat.db.as_ref().unwrap().get(&job).unwrap().unwrap();
    let outcome = record.outcome.unwrap();
    assert!(outcome.starts_with("copycat reveal refused"), "{outcome}");
    // One reveal of three is no quorum: escalation, which the other honest worker fills.
    env.chain
        .advance_time(i64::from(env.params.reveal_window_secs));
    run_until(&env, &all, |env| ended(env, &job).is_some()).await;
    let state: tessera_sdk::tessera::state::Job = env.read(&job);
    assert_eq!(ended(&env, &job), Some(JobEndReason::Accepted));
    assert!(state.escalated);
    assert_eq!(state.result_root, Some(truth));
    for w in [&copycat, &flaky] {
        let node = env.node(&w.actor.key(), 0);
        assert_eq!(node.stake, STAKE - STAKE / 10, "no-show penalty");
        assert_eq!((node.earnings, node.reputation.no_shows), (0, 1));
    }
    for w in &honest {
        assert_eq!(env.node(&w.actor.key(), 0).earnings, REWARD - REWARD / 40);
    }
}

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
