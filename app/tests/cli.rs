//! The people-facing commands, run against the in-process bank through the SDK's `Chain` (the
//! binary runs the same functions over RPC), with a real worker serving the result.
use std::sync::Arc;

use solana_keypair::Keypair;
use tessera_app::commands::{self, JobCommand, NodeArgs, NodeCommand, SubmitArgs};
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::pda;
use tessera_sdk::tessera::state::{Job, JobStatus};
use tessera_tests::TestEnv;
use tessera_worker::behaviour::Behaviour;
use tessera_worker::db::Db;
use tessera_worker::metrics::Metrics;
use tessera_worker::retry::Backoff;
use tessera_worker::server::{router, ServerState};
use tessera_worker::store::{hex, ResultStore};
use tessera_worker::{hardware, Agent, AgentSettings};

fn copy(k: &Keypair) -> Keypair {
    Keypair::from_base58_string(&k.to_base58_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_follow_and_collect_a_job_with_the_cli() {
    let env = TestEnv::new();
    let chain = &*env.chain;
    let dir = std::env::temp_dir().join(format!("tessera-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // An operator registers and stakes a node with the CLI, then runs a worker serving results.
    let operator = env.actor();
    let op_key = copy(&operator.wallet);
    let op_signer = move || Ok(copy(&op_key));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    commands::node(
        chain,
        &op_signer,
        NodeCommand::Register(NodeArgs {
            index: 0,
            gpu_model: None,
            vram_mib: 0,
            compute_capability: 0,
            cpu_cores: 2,
            region: 3,
            min_price_per_unit: 1,
            endpoint: endpoint.clone(),
        }),
    )
    .await
    .unwrap();
    commands::node(
        chain,
        &op_signer,
        NodeCommand::Stake {
            index: 0,
            amount: 5_000_000,
            token_account: operator.token.to_string(),
        },
    )
    .await
    .unwrap();
    assert_eq!(env.node(&operator.key(), 0).stake, 5_000_000);
    commands::node(
        chain,
        &op_signer,
        NodeCommand::Show {
            node: None,
            index: 0,
        },
    )
    .await
    .unwrap();
    commands::node(chain, &op_signer, NodeCommand::List)
        .await
        .unwrap();

    let backend = Backend::Cpu(Cpu::new(1).unwrap());
    let db = Arc::new(Db::open(&dir.join("worker.redb")).unwrap());
    let results = Arc::new(ResultStore::open(&dir.join("results")).unwrap());
    let metrics = Arc::new(Metrics::default());
    let agent = Agent::new(
        env.chain.clone(),
        copy(&operator.wallet),
        AgentSettings {
            node_index: 0,
            token_account: Some(operator.token),
            concurrency: 1,
            region: 3,
            min_price_per_unit: 1,
            cost_per_unit: 0,
            stake: 0,
            endpoint: endpoint.clone(),
            max_input_bytes: 1 << 20,
            behaviour: Behaviour::Honest,
            backoff: Backoff::default(),
            initial_secs_per_unit: 0.01,
            safety_secs: 30,
            watch_bps: 0,
        },
        Arc::new(Backend::Cpu(Cpu::new(1).unwrap())),
        hardware::profile(&backend),
        db.clone(),
        results.clone(),
        metrics.clone(),
    );
    let app = router(ServerState {
        chain: env.chain.clone(),
        db,
        results,
        metrics,
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A submitter posts a matmul job from a local file with the CLI.
    let submitter = env.actor();
    let sub_key = copy(&submitter.wallet);
    let sub_signer = move || Ok(copy(&sub_key));
    let kernel_job = KernelJob::MatmulF32(MatmulParams { m: 6, n: 7, k: 5 });
    let input = kernel_job.random_input(11);
    let input_path = dir.join("input.bin");
    std::fs::write(&input_path, &input).unwrap();
    let submit = |nonce: u64| SubmitArgs {
        kernel: "matmul_f32".into(),
        params_hex: hex(&kernel_job.encode_params()),
        input: input_path.display().to_string(),
        input_root: None,
        input_size: None,
        replicas: 1,
        spot_check: false,
        reward: 100_000,
        deadline_secs: 3_600,
        nonce: Some(nonce),
        gpu_min_vram: None,
        regions: Some("3,4".into()),
        token_account: submitter.token.to_string(),
    };
    commands::job(chain, &sub_signer, JobCommand::Submit(submit(1)))
        .await
        .unwrap();
    let address = pda::job(&submitter.key(), 1).0;
    let job: Job = env.read(&address);
    assert_eq!(job.input.size_bytes, input.len() as u64);
    assert_eq!(job.input.hash, tessera_worker::fetch::input_root(&input));
    assert_eq!(job.requirements.region_mask, (1 << 3) | (1 << 4));
    // Bad input is refused with a reason a person can act on.
    let mut bad = submit(2);
    bad.kernel = "matmul_f64".into();
    let err = commands::job(chain, &sub_signer, JobCommand::Submit(bad))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("unknown kernel `matmul_f64`"),
        "{err:#}"
    );
    let mut bad = submit(2);
    bad.input = "https://example.invalid/x.bin".into();
    let err = commands::job(chain, &sub_signer, JobCommand::Submit(bad))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("--input-root"), "{err:#}");

    // A second job, cancelled.
    commands::job(chain, &sub_signer, JobCommand::Submit(submit(3)))
        .await
        .unwrap();
    commands::job(
        chain,
        &sub_signer,
        JobCommand::Cancel {
            nonce: 3,
            token_account: submitter.token.to_string(),
        },
    )
    .await
    .unwrap();
    assert!(!env.exists(&pda::job(&submitter.key(), 3).0));

    // The worker does the job; the CLI follows it and collects the verified result.
    for _ in 0..4 {
        agent.tick().await.unwrap();
    }
    commands::job(
        chain,
        &sub_signer,
        JobCommand::Watch {
            job: address.to_string(),
            every: 1,
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        env.read::<Job>(&address).status,
        JobStatus::Ended { .. }
    ));
    commands::job(
        chain,
        &sub_signer,
        JobCommand::Status {
            job: address.to_string(),
        },
    )
    .await
    .unwrap();
    commands::job(chain, &sub_signer, JobCommand::List { mine: true })
        .await
        .unwrap();
    let out = dir.join("result.bin");
    commands::job(
        chain,
        &sub_signer,
        JobCommand::Result {
            job: address.to_string(),
            out: out.clone(),
        },
    )
    .await
    .unwrap();
    let downloaded = std::fs::read(&out).unwrap();
    let expected = kernel_job.run(&input, &backend).unwrap();
    assert_eq!(downloaded, expected);
    assert_eq!(
        env.read::<Job>(&address).result_root,
        Some(merkle::root(&expected))
    );
    commands::stats(chain).await.unwrap();
    commands::job(
        chain,
        &sub_signer,
        JobCommand::Close {
            nonce: 1,
            token_account: submitter.token.to_string(),
        },
    )
    .await
    .unwrap();
    assert!(!env.exists(&address));
    std::fs::remove_dir_all(&dir).ok();
}

/// `tessera job root FILE` prints the input root a job names (what workers check) and the size.
#[test]
fn job_root_prints_the_input_root_and_size() {
    let file = std::env::temp_dir().join(format!("tessera-root-{}.bin", std::process::id()));
    let bytes: Vec<u8> = (0..5_000u32).map(|i| (i * 7) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["job", "root"])
        .arg(&file)
        .output()
        .expect("run the tessera binary");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let root: String = tessera_worker::fetch::input_root(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stdout, format!("root {root}\nsize 5000\n"));
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["job", "root", "/nonexistent/input.bin"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/input.bin"));
    std::fs::remove_file(&file).ok();
}

/// `tessera job status` on a refereed job in dispute shows each game: not opened, or its
/// phase, moves and clocks.
#[tokio::test]
async fn job_status_shows_a_disputes_games() {
    let env = TestEnv::new();
    let params = tessera_sdk::tessera::state::Params {
        refereed_kernels: tessera_sdk::tessera::constants::REFEREE_KERNELS,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let workers: Vec<_> = (0..3).map(|_| env.staked_operator(10_000_000)).collect();
    let kernel = KernelJob::MatmulF32(MatmulParams { m: 4, n: 4, k: 8 });
    let input = kernel.random_input(3);
    let submitter = env.actor();
    let mut args = env.job_args(9, 3, 1_000_000);
    args.kernel_params = kernel.encode_params();
    args.input.hash = merkle::root(&input);
    args.input.size_bytes = input.len() as u64;
    env.post_job(&submitter, args).unwrap();
    let job = pda::job(&submitter.key(), 9).0;
    let roots = [[1u8; 32], [2; 32], [1; 32]];
    for w in &workers {
        env.claim(w, 0, &job).unwrap();
    }
    for (w, root) in workers.iter().zip(roots) {
        env.commit(w, 0, &job, root, [5; 32]).unwrap();
    }
    for (w, root) in workers.iter().zip(roots) {
        env.reveal(w, 0, &job, root, [5; 32]).unwrap();
    }
    env.settle(&job).unwrap();
    env.send_one(
        tessera_sdk::instructions::open_game(&workers[0].key(), 0, &job, [0, 1]),
        &workers[0].wallet,
    )
    .unwrap();
    let state: Job = env.read(&job);
    let text = commands::describe_dispute(&*env.chain, &job, &state)
        .await
        .unwrap();
    println!("{text}");
    assert!(text.contains("1 in play"), "{text}");
    assert!(
        text.contains("game slots 0–1") && text.contains("Top  moves 0/0  clocks 600 s/600 s left"),
        "{text}"
    );
    assert!(
        text.contains("game slots 1–2") && text.contains("not opened"),
        "{text}"
    );
    assert!(
        !text.contains("game slots 0–2"),
        "equal roots do not play: {text}"
    );
}

#[tokio::test]
async fn job_status_shows_a_challenge_window_and_its_challengers() {
    let env = TestEnv::new();
    let params = tessera_sdk::tessera::state::Params {
        refereed_kernels: tessera_sdk::tessera::constants::REFEREE_KERNELS,
        challenge_window_secs: 100,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let workers: Vec<_> = (0..3).map(|_| env.staked_operator(10_000_000)).collect();
    let kernel = KernelJob::MatmulF32(MatmulParams { m: 4, n: 4, k: 8 });
    let input = kernel.random_input(4);
    let submitter = env.actor();
    let mut args = env.job_args(10, 2, 1_000_000);
    args.kernel_params = kernel.encode_params();
    args.input.hash = merkle::root(&input);
    args.input.size_bytes = input.len() as u64;
    env.post_job(&submitter, args).unwrap();
    let job = pda::job(&submitter.key(), 10).0;
    for w in &workers[..2] {
        env.claim(w, 0, &job).unwrap();
    }
    for w in &workers[..2] {
        env.commit(w, 0, &job, [1; 32], [5; 32]).unwrap();
    }
    for w in &workers[..2] {
        env.reveal(w, 0, &job, [1; 32], [5; 32]).unwrap();
    }
    env.settle(&job).unwrap();
    let state: Job = env.read(&job);
    let summary = commands::describe_job(&job, &state);
    assert!(
        summary.contains("result accepted, challengeable until"),
        "{summary}"
    );
    env.send_one(
        tessera_sdk::instructions::challenge(&workers[2].key(), 0, &job, [2; 32]),
        &workers[2].wallet,
    )
    .unwrap();
    let state: Job = env.read(&job);
    let text = commands::describe_dispute(&*env.chain, &job, &state)
        .await
        .unwrap();
    println!("{text}");
    assert!(
        text.contains(&format!(
            "accepted root {} open to challenges until",
            "01".repeat(32)
        )),
        "{text}"
    );
    assert!(text.contains("challengers' slots [2]"), "{text}");
    assert!(
        text.contains("game slots 0–2") && text.contains("game slots 1–2"),
        "{text}"
    );
    assert!(text.contains("not opened"), "{text}");
}
