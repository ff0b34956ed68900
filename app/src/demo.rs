//! `tessera demo`: the whole network in one process. An in-process bank runs the program (the
//! native build, or the `.so` with `TESSERA_PROGRAM_MODE=sbf`); six real worker agents (four
//! honest with different declared hardware, one liar, one lazy) claim, compute with the real
//! kernels, commit, reveal and settle a tiled render, a matmul and an MLP job posted by a
//! submitter. The demo then checks the network's invariants from chain state, writes the
//! assembled image and a JSON report, and prints what everyone was paid or lost and why.
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::{MatmulParams, MlpParams, RenderParams};
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::chain::{decode, list};
use tessera_sdk::in_process::InProcessChain;
use tessera_sdk::tessera::state::{
    HardwareKind, HardwareProfile, Job, JobStatus, Node, Params, SlotState,
};
use tessera_worker::behaviour::Behaviour;
use tessera_worker::store::{hex, ResultStore};
use tessera_worker::Agent;

use crate::bank::{start_agent, write_png, AgentSpec, Bank, KernelPost};

const TOKENS: u64 = 1_000_000_000;
const STAKE: u64 = 50_000_000;
const IMAGE: u16 = 256;
const TILE: u16 = 64;

/// The network's default parameters, with every staked node holding priority tickets (six
/// operators are the whole network here).
fn params() -> Params {
    Params {
        sortition_weight: 1,
        ..crate::localnet::default_params()
    }
}

fn gpu(model: &str, vram_gib: u32, cc: u16) -> HardwareProfile {
    HardwareProfile {
        kind: HardwareKind::Gpu,
        gpu_model: model.into(),
        vram_mib: vram_gib * 1024,
        compute_capability: cc,
        cpu_cores: 16,
    }
}

struct Operator {
    name: &'static str,
    behaviour: Behaviour,
    hardware: HardwareProfile,
    node: Pubkey,
    agent: Agent<InProcessChain>,
    results: Arc<ResultStore>,
}

/// A job the demo posted, and what it expects the network to accept.
struct Posted {
    name: String,
    address: Pubkey,
    kernel: &'static str,
    expected_root: [u8; 32],
    tile: Option<(u16, u16)>,
}

fn scene() -> Vec<u8> {
    let mut out = 4u32.to_le_bytes().to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    let values: &[f32] = &[
        // camera: origin, look-at, tan(half the vertical field of view)
        0.0, 1.2, 4.0, 0.0, 0.6, 0.0, 0.45,
        // spheres: centre, radius, albedo, material (1 = mirror)
        0.0, 0.9, 0.0, 0.9, 0.9, 0.9, 0.9, 1.0, -1.9, 0.6, 0.5, 0.6, 0.85, 0.25, 0.2, 0.0, 1.9, 0.6,
        0.4, 0.6, 0.2, 0.45, 0.85, 0.0, 0.9, 0.3, 1.8, 0.3, 0.95, 0.8, 0.2, 0.0,
        // ground plane: normal, offset, albedo, material
        0.0, 1.0, 0.0, 0.0, 0.6, 0.6, 0.55, 0.0,
    ];
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

pub async fn run(out: &Path) -> anyhow::Result<bool> {
    let started = Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let storage = out.join("state");
    if storage.exists() {
        std::fs::remove_dir_all(&storage)
            .with_context(|| format!("cannot clear {}", storage.display()))?;
    }
    let mut bank = Bank::boot(params())?;
    println!(
        "tessera demo: program loaded {} into an in-process bank; mint {}",
        if bank.chain.program_is_bpf() {
            "as the SBF .so"
        } else {
            "natively"
        },
        bank.mint
    );

    // Six operators: four honest on different hardware, a liar and a lazy worker.
    let roster: [(&'static str, Behaviour, HardwareProfile); 6] = [
        ("liar", Behaviour::Liar, gpu("NVIDIA RTX 4090", 24, 89)),
        ("lazy", Behaviour::Lazy, gpu("NVIDIA A10G", 24, 86)),
        ("h200", Behaviour::Honest, gpu("NVIDIA H200", 141, 90)),
        ("a100", Behaviour::Honest, gpu("NVIDIA A100 80GB", 80, 80)),
        ("l4", Behaviour::Honest, gpu("NVIDIA L4", 24, 89)),
        (
            "epyc",
            Behaviour::Honest,
            HardwareProfile {
                kind: HardwareKind::CpuOnly,
                gpu_model: String::new(),
                vram_mib: 0,
                compute_capability: 0,
                cpu_cores: 64,
            },
        ),
    ];
    let mut operators = Vec::new();
    for (name, behaviour, hardware) in roster {
        let (wallet, token_account) = bank.actor(TOKENS)?;
        let dir = storage.join(name);
        let spec = AgentSpec {
            name,
            behaviour,
            hardware: hardware.clone(),
            stake: STAKE,
            concurrency: 4,
            watch_bps: 0,
            dir: &dir,
        };
        let (agent, results, _metrics) = start_agent(&bank, wallet, token_account, spec).await?;
        let node = agent.node();
        operators.push(Operator {
            name,
            behaviour,
            hardware,
            node,
            agent,
            results,
        });
    }
    println!(
        "operators: {}",
        operators
            .iter()
            .map(|o| o.name)
            .collect::<Vec<_>>()
            .join(", ")
    );

    // The submitter posts a tiled render, a matmul and an MLP job, each with 3 replicas.
    let (submitter, submitter_token) = bank.actor(TOKENS)?;
    let inputs = out.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let cpu = Backend::Cpu(Cpu::new(0)?);
    let mut posted = Vec::new();
    let mut nonce = 0u64;
    let mut post = |name: String,
                    job: KernelJob,
                    input: Vec<u8>,
                    reward: u64,
                    tile: Option<(u16, u16)>|
     -> anyhow::Result<Posted> {
        nonce += 1;
        let path = inputs.join(format!("{name}.bin"));
        let now = bank.chain.get_clock().unix_timestamp;
        let post = KernelPost {
            nonce,
            job: &job,
            input: &input,
            path: &path,
            replicas: 3,
            reward,
            deadline: now + 86_400,
            spot_check: false,
        };
        let (address, expected_root) =
            bank.post_kernel_job(&submitter, &submitter_token, post, &cpu)?;
        Ok(Posted {
            name,
            address,
            kernel: job.kernel().name(),
            expected_root,
            tile,
        })
    };
    let scene = scene();
    for ty in (0..IMAGE).step_by(TILE.into()) {
        for tx in (0..IMAGE).step_by(TILE.into()) {
            let job = KernelJob::Render(RenderParams {
                image_w: IMAGE,
                image_h: IMAGE,
                tile_x: tx,
                tile_y: ty,
                tile_w: TILE,
                tile_h: TILE,
                spp: 24,
                max_depth: 5,
                seed: 2026,
            });
            posted.push(post(
                format!("render-{tx}-{ty}"),
                job,
                scene.clone(),
                200_000,
                Some((tx, ty)),
            )?);
        }
    }
    let matmul = KernelJob::MatmulF32(MatmulParams {
        m: 128,
        n: 128,
        k: 128,
    });
    let input = matmul.random_input(7);
    posted.push(post("matmul".into(), matmul, input, 500_000, None)?);
    let mlp = KernelJob::MlpInfer(MlpParams {
        batch: 64,
        widths: vec![64, 128, 64, 10],
        shifts: vec![8, 8, 0],
    });
    let input = mlp.random_input(8);
    posted.push(post("mlp".into(), mlp, input, 300_000, None)?);
    println!(
        "submitted {} jobs (16 render tiles, 1 matmul_f32, 1 mlp_infer), 3 replicas each",
        posted.len()
    );

    // Run the network: every operator takes a pass per round, in rotating order.
    let bar = ProgressBar::new(posted.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} settled  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut last = String::new();
    for round in 0..200usize {
        for i in 0..operators.len() {
            let op = &operators[(round + i) % operators.len()];
            if let Err(e) = op.agent.tick().await {
                bar.println(format!("{}: {e:#}", op.name));
            }
        }
        let (claimed, committed, revealed, ended) = census(&bank, &posted);
        let state = format!("claimed {claimed}  committed {committed}  revealed {revealed}");
        bar.set_position(ended as u64);
        bar.set_message(state.clone());
        if ended == posted.len() {
            break;
        }
        if state == last {
            // Nothing moved: let simulated time pass (deadlines of no-shows, new rounds).
            bank.chain.advance_time(120);
        }
        last = state;
    }
    bar.finish();
    for op in &operators {
        op.agent.tick().await.ok(); // record the outcomes
    }

    report(&bank, &operators, &posted, out, started).await
}

/// Slots claimed, committed, revealed over all jobs, and jobs ended.
fn census(bank: &Bank, posted: &[Posted]) -> (usize, usize, usize, usize) {
    let (mut claimed, mut committed, mut revealed, mut ended) = (0, 0, 0, 0);
    for p in posted {
        let Some(account) = bank.chain.get_account(&p.address) else {
            continue;
        };
        let Ok(job) = decode::<Job>(&p.address, &account.data) else {
            continue;
        };
        claimed += job.slots.len();
        committed += job
            .slots
            .iter()
            .filter(|s| s.state >= SlotState::Committed)
            .count();
        revealed += job
            .slots
            .iter()
            .filter(|s| s.state == SlotState::Revealed)
            .count();
        ended += usize::from(job.status != JobStatus::Open);
    }
    (claimed, committed, revealed, ended)
}

async fn report(
    bank: &Bank,
    operators: &[Operator],
    posted: &[Posted],
    out: &Path,
    started: Instant,
) -> anyhow::Result<bool> {
    let mut ok = true;
    let mut fail = |why: String| {
        println!("INVARIANT FAILED: {why}");
        ok = false;
    };
    let jobs: Vec<(&Posted, Job)> = posted
        .iter()
        .map(|p| {
            let account = bank.chain.get_account(&p.address).context("job account")?;
            Ok((p, decode::<Job>(&p.address, &account.data)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let name_of = |node: &Pubkey| {
        operators
            .iter()
            .find(|o| o.node == *node)
            .map_or("?", |o| o.name)
    };

    println!("\njobs");
    println!(
        "{:<16} {:<11} {:<5} {:<10} {:<18} slots (operator: revealed root ok?, game lost)",
        "job", "kernel", "games", "outcome", "accepted root",
    );
    let mut report_jobs = Vec::new();
    for (p, job) in &jobs {
        let reason = match job.status {
            JobStatus::Ended { reason, .. } => format!("{reason:?}"),
            JobStatus::Open => {
                fail(format!("{} did not settle", p.name));
                "open".into()
            }
        };
        if let Some(root) = job.result_root {
            if root != p.expected_root {
                fail(format!(
                    "{}: accepted root {} is not the true result",
                    p.name,
                    hex(&root)
                ));
            }
        }
        let slots: Vec<String> = job
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let verdict = match s.state {
                    SlotState::Revealed if s.root == p.expected_root => "true",
                    SlotState::Revealed => "WRONG",
                    _ => "no reveal",
                };
                let lost = if job.dispute.lost & (1 << i) != 0 {
                    ",lost"
                } else {
                    ""
                };
                format!("{}:{verdict}{lost}", name_of(&s.node))
            })
            .collect();
        let games = job.dispute.games_opened.count_ones();
        let root = job
            .result_root
            .map_or("-".to_string(), |r| format!("{}…", &hex(&r)[..16]));
        println!(
            "{:<16} {:<11} {:<5} {:<10} {:<18} {}",
            p.name,
            p.kernel,
            games,
            reason,
            root,
            slots.join(" ")
        );
        report_jobs.push(serde_json::json!({
            "job": p.name, "address": p.address.to_string(), "kernel": p.kernel,
            "escalated": job.escalated, "games": games, "outcome": reason,
            "accepted_root": job.result_root.map(|r| hex(&r)), "expected_root": hex(&p.expected_root),
            "slots": slots,
        }));
    }

    println!("\noperators (from their node accounts, written only by settlement receipts)");
    println!(
        "{:<6} {:<9} {:<18} {:>10} {:>10} {:>10} {:>7} {:>9} {:>8} {:>7}",
        "name",
        "behaviour",
        "hardware",
        "stake",
        "paid",
        "slashed",
        "agreed",
        "disagreed",
        "no-shows",
        "score"
    );
    let mut report_ops = Vec::new();
    let mut nodes_total = 0u128;
    for op in operators {
        let account = bank.chain.get_account(&op.node).context("node account")?;
        let node: Node = decode(&op.node, &account.data)?;
        let r = node.reputation;
        nodes_total +=
            u128::from(node.stake) + u128::from(node.unstaking) + u128::from(node.earnings);
        let hardware = if op.hardware.kind == HardwareKind::Gpu {
            op.hardware.gpu_model.clone()
        } else {
            format!("CPU, {} cores", op.hardware.cpu_cores)
        };
        println!(
            "{:<6} {:<9} {:<18} {:>10} {:>10} {:>10} {:>7} {:>9} {:>8} {:>6.1}%",
            op.name,
            format!("{:?}", op.behaviour).to_lowercase(),
            hardware,
            node.stake,
            r.earned_total,
            r.slashed_total,
            r.agreed,
            r.disagreed,
            r.no_shows,
            f64::from(r.score_bps) / 100.0
        );
        if op.behaviour == Behaviour::Honest && (r.slashed_total > 0 || node.stake != STAKE) {
            fail(format!("honest operator {} lost stake", op.name));
        }
        report_ops.push(serde_json::json!({
            "name": op.name, "behaviour": format!("{:?}", op.behaviour).to_lowercase(), "hardware": hardware,
            "node": op.node.to_string(), "stake": node.stake, "paid": r.earned_total, "slashed": r.slashed_total,
            "agreed": r.agreed, "disagreed": r.disagreed, "no_shows": r.no_shows, "score_bps": r.score_bps,
        }));
    }

    // Conservation: every token of the supply is in an account the demo knows, and each vault
    // holds exactly what the accounts say.
    let escrowed: u128 = jobs.iter().map(|(_, j)| u128::from(j.escrow)).sum();
    for problem in bank.conservation_problems(nodes_total, escrowed) {
        fail(problem);
    }
    // Every open job account is one of ours.
    let all: Vec<(Pubkey, Job)> = list::<Job, _>(&*bank.chain, &[]).await?;
    if all.len() != posted.len() {
        fail(format!(
            "{} job accounts on chain, {} posted",
            all.len(),
            posted.len()
        ));
    }

    // The image, assembled from the accepted tiles, each checked against its root.
    let mut image = vec![0u8; usize::from(IMAGE) * usize::from(IMAGE) * 4];
    let mut tiles = 0;
    for (p, job) in &jobs {
        let (Some((tx, ty)), Some(root)) = (p.tile, job.result_root) else {
            continue;
        };
        let Some(bytes) = operators
            .iter()
            .find_map(|o| o.results.get(&root).ok().flatten())
        else {
            fail(format!("{}: no worker stores the accepted output", p.name));
            continue;
        };
        if merkle::root(&bytes) != root {
            fail(format!(
                "{}: the stored output does not match its root",
                p.name
            ));
            continue;
        }
        for row in 0..usize::from(TILE) {
            let from = row * usize::from(TILE) * 4;
            let to = ((usize::from(ty) + row) * usize::from(IMAGE) + usize::from(tx)) * 4;
            image[to..to + usize::from(TILE) * 4]
                .copy_from_slice(&bytes[from..from + usize::from(TILE) * 4]);
        }
        tiles += 1;
    }
    let png_path = out.join("render.png");
    write_png(
        &png_path,
        &image,
        (IMAGE.into(), IMAGE.into()),
        png::ColorType::Rgba,
    )?;
    let wall = started.elapsed();
    let report = serde_json::json!({
        "wall_seconds": wall.as_secs_f64(),
        "program": if bank.chain.program_is_bpf() { "sbf" } else { "native" },
        "jobs": report_jobs,
        "operators": report_ops,
        "image": { "path": png_path.display().to_string(), "tiles": tiles },
        "invariants_hold": ok,
    });
    let report_path = out.join("report.json");
    std::fs::write(&report_path, serde_json::to_string_pretty(&report)?)?;
    println!(
        "\nimage: {} ({tiles} of 16 tiles)\nreport: {}\nwall time: {:.1} s",
        png_path.display(),
        report_path.display(),
        wall.as_secs_f64()
    );
    if ok {
        println!("invariants: tokens conserved, vaults match the accounts, no honest operator slashed, no wrong root accepted");
    }
    Ok(ok)
}
