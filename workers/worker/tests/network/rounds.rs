//! Rounds decided without a referee: liars, crashes, bad inputs, dead endpoints, result
//! serving, copycats and flaky workers.
use crate::fixture::*;

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
