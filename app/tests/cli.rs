//! The people-facing commands, run against the in-process bank through the SDK's `Chain` (the
//! binary runs the same functions over RPC), with a real worker serving the result.
use std::sync::Arc;

use solana_keypair::Keypair;
use tessera_app::commands::{self, NodeArgs, NodeCommand};
use tessera_app::job::{self, JobCommand, SubmitArgs};
use tessera_app::spec::units::Amounts;
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::in_process::InProcessChain;
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

/// An operator that registers and stakes a node with the CLI, and runs a worker agent (real
/// kernels, CPU) whose server serves its results on a loopback port.
async fn serving_worker(env: &TestEnv, dir: &std::path::Path) -> Agent<InProcessChain> {
    let chain = &*env.chain;
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
        false,
    )
    .await
    .unwrap();
    commands::node(
        chain,
        &op_signer,
        NodeCommand::Stake {
            index: 0,
            amount: 5_000_000,
            token_account: Some(operator.token.to_string()),
        },
        false,
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
        false,
    )
    .await
    .unwrap();
    commands::node(chain, &op_signer, NodeCommand::List, false)
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

    agent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_follow_and_collect_a_job_with_the_cli() {
    let env = TestEnv::new();
    let chain = &*env.chain;
    let dir = std::env::temp_dir().join(format!("tessera-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let agent = serving_worker(&env, &dir).await;
    let backend = Backend::Cpu(Cpu::new(1).unwrap());

    // A submitter posts a matmul job from a local file with the CLI.
    let submitter = env.actor();
    let sub_key = copy(&submitter.wallet);
    let sub_signer = move || Ok(copy(&sub_key));
    let kernel_job = KernelJob::MatmulF32(MatmulParams { m: 6, n: 7, k: 5 });
    let input = kernel_job.random_input(11);
    let input_path = dir.join("input.bin");
    std::fs::write(&input_path, &input).unwrap();
    let submit = |nonce: u64| SubmitArgs {
        kernel: Some("matmul_f32".into()),
        params_hex: Some(hex(&kernel_job.encode_params())),
        input: Some(input_path.display().to_string()),
        replicas: Some(1),
        reward: Some(100_000),
        nonce: Some(nonce),
        regions: Some("3,4".into()),
        token_account: Some(submitter.token.to_string()),
        yes: true,
        ..SubmitArgs::default()
    };
    job::job(chain, &sub_signer, JobCommand::Submit(submit(1)), false)
        .await
        .unwrap();
    let address = pda::job(&submitter.key(), 1).0;
    let job: Job = env.read(&address);
    assert_eq!(job.input.size_bytes, input.len() as u64);
    assert_eq!(job.input.hash, tessera_worker::fetch::input_root(&input));
    assert_eq!(job.requirements.region_mask, (1 << 3) | (1 << 4));
    // Bad input is refused with a reason a person can act on.
    let mut bad = submit(2);
    bad.kernel = Some("matmul_f64".into());
    let err = job::job(chain, &sub_signer, JobCommand::Submit(bad), false)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("unknown kernel `matmul_f64`"),
        "{err:#}"
    );
    let mut bad = submit(2);
    bad.input = Some("https://example.invalid/x.bin".into());
    let err = job::job(chain, &sub_signer, JobCommand::Submit(bad), false)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("--input-root"), "{err:#}");

    // A second job, cancelled.
    job::job(chain, &sub_signer, JobCommand::Submit(submit(3)), false)
        .await
        .unwrap();
    job::job(
        chain,
        &sub_signer,
        JobCommand::Cancel {
            nonce: 3,
            token_account: Some(submitter.token.to_string()),
        },
        false,
    )
    .await
    .unwrap();
    assert!(!env.exists(&pda::job(&submitter.key(), 3).0));

    // The worker does the job; the CLI follows it and collects the verified result.
    for _ in 0..4 {
        agent.tick().await.unwrap();
    }
    job::job(
        chain,
        &sub_signer,
        JobCommand::Watch {
            job: address.to_string(),
            every: 1,
        },
        false,
    )
    .await
    .unwrap();
    assert!(matches!(
        env.read::<Job>(&address).status,
        JobStatus::Ended { .. }
    ));
    job::job(
        chain,
        &sub_signer,
        JobCommand::Status {
            job: address.to_string(),
        },
        false,
    )
    .await
    .unwrap();
    job::job(chain, &sub_signer, JobCommand::List { mine: true }, true)
        .await
        .unwrap();
    let out = dir.join("result.bin");
    let result = |out: &std::path::Path, raw: bool| JobCommand::Result {
        jobs: vec![address.to_string()],
        out: out.to_path_buf(),
        raw,
    };
    job::job(chain, &sub_signer, result(&out, true), false)
        .await
        .unwrap();
    let downloaded = std::fs::read(&out).unwrap();
    let expected = kernel_job.run(&input, &backend).unwrap();
    assert_eq!(downloaded, expected);
    // Without --raw a matrix is a NumPy array, and the file must say so.
    let err = job::job(chain, &sub_signer, result(&out, false), false)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("result.npy"), "{err:#}");
    let npy = dir.join("c.npy");
    job::job(chain, &sub_signer, result(&npy, false), false)
        .await
        .unwrap();
    let npy = std::fs::read(&npy).unwrap();
    assert_eq!(&npy[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    let header = std::str::from_utf8(&npy[10..10 + header_len]).unwrap();
    assert!(
        header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 7), }"),
        "{header}"
    );
    assert_eq!((10 + header_len) % 64, 0);
    assert_eq!(&npy[10 + header_len..], &expected[..]);
    assert_eq!(
        env.read::<Job>(&address).result_root,
        Some(merkle::root(&expected))
    );
    commands::stats(chain, false).await.unwrap();
    job::job(
        chain,
        &sub_signer,
        JobCommand::Close {
            nonce: 1,
            token_account: Some(submitter.token.to_string()),
        },
        false,
    )
    .await
    .unwrap();
    assert!(!env.exists(&address));
    std::fs::remove_dir_all(&dir).ok();
}

/// A person's path: `tessera job template render` → edit → `tessera job submit render.toml`
/// (the escrow shown, the wallet's associated token account by default — created, found
/// empty, funded — one job per tile) → `tessera job result` of every tile → one PNG, checked
/// against the image the kernel renders here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_a_render_from_a_spec_file_and_read_the_png_back() {
    use tessera_kernels::kernels::{Render, RenderParams};
    use tessera_kernels::Kernel;
    let env = TestEnv::new();
    let chain = &*env.chain;
    let dir = std::env::temp_dir().join(format!("tessera-cli-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let agent = serving_worker(&env, &dir).await;

    // The template, cut down to a small image of 2×2 tiles with one replica.
    let text = tessera_app::spec::templates::template(tessera_kernels::KernelId::Render)
        .replace("width = 256 ", "width = 24 ")
        .replace("height = 192", "height = 16")
        .replace("tile = [64, 64]", "tile = [12, 8]")
        .replace("samples = 8 ", "samples = 2 ")
        .replace("max_depth = 4 ", "max_depth = 2 ")
        .replace("replicas = 3", "replicas = 1");
    let spec_path = dir.join("render.toml");
    std::fs::write(&spec_path, &text).unwrap();

    let submitter = env.actor();
    let sub_key = copy(&submitter.wallet);
    let sub_signer = move || Ok(copy(&sub_key));
    let submit = || SubmitArgs {
        spec: Some(spec_path.clone()),
        nonce: Some(100),
        yes: true,
        ..SubmitArgs::default()
    };
    // The default token account is the wallet's associated one: created, but empty.
    let err = job::job(chain, &sub_signer, JobCommand::Submit(submit()), false)
        .await
        .unwrap_err();
    let ata = tessera_sdk::token::associated_token_address(&submitter.key(), &env.mint);
    assert!(env.exists(&ata), "the associated token account was created");
    assert!(
        format!("{err:#}").contains(&format!("the token account {ata} holds 0")),
        "{err:#}"
    );
    assert!(!env.exists(&pda::job(&submitter.key(), 100).0));
    env.mint_to(&ata, 10_000_000);
    job::job(chain, &sub_signer, JobCommand::Submit(submit()), false)
        .await
        .unwrap();
    let jobs: Vec<_> = (100..104)
        .map(|n| pda::job(&submitter.key(), n).0)
        .collect();
    // The escrow of the four tile jobs left the associated token account, and nothing else.
    assert_eq!(
        env.balance(&ata),
        10_000_000 - 4 * tessera_tests::escrow_of(1, 500_000)
    );
    let scene = std::fs::read(dir.join("render.scene")).unwrap();
    for (i, address) in jobs.iter().enumerate() {
        let job: Job = env.read(address);
        assert_eq!(job.reward_per_replica, 500_000, "0.5 tokens of 6 decimals");
        assert_eq!(job.replicas, 1);
        assert_eq!(job.input.hash, merkle::root(&scene));
        let KernelJob::Render(p) = KernelJob::decode(job.kernel_id, &job.kernel_params).unwrap()
        else {
            panic!("a render job")
        };
        assert_eq!(
            (p.tile_x, p.tile_y, p.tile_w, p.tile_h),
            ((i as u16 % 2) * 12, (i as u16 / 2) * 8, 12, 8)
        );
    }
    // Posting the same spec again with a different scene would orphan the jobs reading this
    // one: refused, the file kept.
    std::fs::write(&spec_path, text.replace("radius = 0.9", "radius = 0.8")).unwrap();
    let err = job::job(
        chain,
        &sub_signer,
        JobCommand::Submit(SubmitArgs {
            nonce: Some(200),
            ..submit()
        }),
        false,
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("holds another scene"),
        "{err:#}"
    );
    assert_eq!(std::fs::read(dir.join("render.scene")).unwrap(), scene);

    for _ in 0..40 {
        agent.tick().await.unwrap();
        if jobs
            .iter()
            .all(|a| matches!(env.read::<Job>(a).status, JobStatus::Ended { .. }))
        {
            break;
        }
    }
    for address in &jobs {
        assert!(matches!(
            env.read::<Job>(address).status,
            JobStatus::Ended { .. }
        ));
    }
    let png_path = dir.join("image.png");
    job::job(
        chain,
        &sub_signer,
        JobCommand::Result {
            jobs: jobs.iter().map(ToString::to_string).collect(),
            out: png_path.clone(),
            raw: false,
        },
        false,
    )
    .await
    .unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (24, 16));
    let whole = RenderParams {
        image_w: 24,
        image_h: 16,
        tile_x: 0,
        tile_y: 0,
        tile_w: 24,
        tile_h: 16,
        spp: 2,
        max_depth: 2,
        seed: 7,
    };
    let expected = Render::run_cpu(&whole, &scene, &Cpu::new(1).unwrap());
    assert_eq!(&pixels[..info.buffer_size()], &expected[..]);
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
    let text = job::describe_dispute(&*env.chain, &job, &state)
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
    let summary = job::describe_job(
        &job,
        &state,
        &Amounts {
            decimals: 6,
            base_units: false,
        },
    );
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
    let text = job::describe_dispute(&*env.chain, &job, &state)
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
