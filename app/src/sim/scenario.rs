//! One scenario: a population of operators (honest and adversarial agents), the jobs posted
//! wave by wave, the network driven until they settle, and what it measured.
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use solana_signer::Signer;
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::{MatmulParams, MlpParams};
use tessera_kernels::{Backend, Job as KernelJob, KernelId};
use tessera_sdk::chain::{decode, list};
use tessera_sdk::in_process::InProcessChain;
use tessera_sdk::instructions as ix;
use tessera_sdk::tessera::constants::SPOT_CHECK_MARGIN_BPS;
use tessera_sdk::tessera::state::{
    AuditState, HardwareKind, HardwareProfile, Job, JobEndReason, JobStatus, Node, Params,
};
use tessera_worker::behaviour::Behaviour;
use tessera_worker::metrics::Metrics;
use tessera_worker::Agent;

use crate::bank::{start_agent, AgentSpec, Bank, KernelPost};

use super::config::{SimConfig, SimMode, SIM_CHALLENGE_WINDOW_SECS};
use super::report::ScenarioReport;
use super::theory::{wilson, Rng};

/// One operator of a scenario.
struct SimOperator {
    name: String,
    behaviour: Behaviour,
    node: Pubkey,
    initial_stake: u64,
    agent: Agent<InProcessChain>,
    metrics: Arc<Metrics>,
}

/// A job the simulation posted.
struct SimJob {
    nonce: u64,
    address: Pubkey,
    expected_root: [u8; 32],
    /// Theoretical wrong-acceptance probability at the colluders' weight share when posted.
    bound_at_post: f64,
}

fn sim_params(cfg: &SimConfig, sortition_weight: u64) -> Params {
    let base = crate::localnet::default_params();
    // The largest reward the deterrence rule allows at this audit probability.
    let (p, slash, stake) = (
        u128::from(cfg.audit_bps),
        u128::from(base.slash_bps),
        u128::from(base.min_stake),
    );
    let max_audited_reward = if cfg.audit_bps >= 10_000 {
        base.max_audited_reward
    } else {
        u64::try_from(p * slash * stake / (u128::from(SPOT_CHECK_MARGIN_BPS) * (10_000 - p)))
            .unwrap_or(u64::MAX)
    };
    let (refereed_kernels, game_clock_secs, game_open_window_secs) = if cfg.refereed {
        use tessera_sdk::tessera::constants::REFEREE_KERNELS;
        (REFEREE_KERNELS, 600, 600)
    } else {
        (0, base.game_clock_secs, base.game_open_window_secs)
    };
    let challenge_window_secs = if cfg.watch_bps > 0 {
        SIM_CHALLENGE_WINDOW_SECS
    } else {
        0
    };
    Params {
        refereed_kernels,
        game_clock_secs,
        game_open_window_secs,
        challenge_window_secs,
        escalation_replicas: cfg.escalation_replicas,
        sortition_weight: sortition_weight.max(1),
        audit_bps: cfg.audit_bps,
        audit_replicas: cfg.audit_replicas,
        max_audited_reward: max_audited_reward.max(1),
        ..base
    }
}

fn hardware(i: usize) -> HardwareProfile {
    let models = [
        ("NVIDIA H200", 141, 90),
        ("NVIDIA A100 80GB", 80, 80),
        ("NVIDIA L4", 24, 89),
        ("NVIDIA RTX 4090", 24, 89),
    ];
    let (model, vram, cc) = models[i % models.len()];
    HardwareProfile {
        kind: HardwareKind::Gpu,
        gpu_model: model.into(),
        vram_mib: vram * 1024,
        compute_capability: cc,
        cpu_cores: 16,
    }
}

/// Stakes and behaviours of a scenario: honest stakes vary between 1× and 2× of a base, the
/// adversaries (`round(nodes × share)`, at least one when the share is positive) split their
/// strategies round-robin and are scaled so that each strategy holds an equal part of exactly
/// `share` of the total stake.
pub(super) fn population(
    rng: &mut Rng,
    nodes: usize,
    share: f64,
    strategies: &[Behaviour],
    base: u64,
) -> Vec<(Behaviour, u64)> {
    let adversaries = if share > 0.0 && !strategies.is_empty() {
        ((nodes as f64 * share).round() as usize).clamp(strategies.len().min(nodes - 1), nodes - 1)
    } else {
        0
    };
    let honest: Vec<u64> = (0..nodes - adversaries)
        .map(|_| base + (base as f64 * rng.unit()) as u64)
        .collect();
    let honest_total: f64 = honest.iter().map(|&s| s as f64).sum();
    let adversarial_total = honest_total * share / (1.0 - share);
    let mut out: Vec<(Behaviour, u64)> =
        honest.into_iter().map(|s| (Behaviour::Honest, s)).collect();
    let mut members: BTreeMap<usize, usize> = BTreeMap::new();
    for i in 0..adversaries {
        *members.entry(i % strategies.len()).or_default() += 1;
    }
    let per_strategy = adversarial_total / members.len().max(1) as f64;
    for (i, count) in members {
        for _ in 0..count {
            out.push((strategies[i], (per_strategy / count as f64) as u64));
        }
    }
    out
}

fn kernel_job(rng: &mut Rng) -> KernelJob {
    if rng.below(2) == 0 {
        KernelJob::MatmulF32(MatmulParams {
            m: 8 + rng.below(9) as u32,
            n: 8 + rng.below(9) as u32,
            k: 8 + rng.below(9) as u32,
        })
    } else {
        KernelJob::MlpInfer(MlpParams {
            batch: 4 + rng.below(5) as u32,
            widths: vec![16, 24, 8],
            shifts: vec![6, 0],
        })
    }
}

/// The share of the sortition weight of nodes able to claim held by nodes that `counts`.
fn weight_share(
    bank: &Bank,
    operators: &[SimOperator],
    min_stake: u64,
    counts: impl Fn(Behaviour) -> bool,
) -> f64 {
    let (mut colluders, mut total) = (0u128, 0u128);
    for op in operators {
        let Some(node) = bank
            .chain
            .get_account(&op.node)
            .and_then(|a| decode::<Node>(&op.node, &a.data).ok())
        else {
            continue;
        };
        if node.stake < min_stake || !node.accepting_jobs {
            continue;
        }
        total += u128::from(node.weight());
        if counts(op.behaviour) {
            colluders += u128::from(node.weight());
        }
    }
    if total == 0 {
        0.0
    } else {
        colluders as f64 / total as f64
    }
}

fn read_job(bank: &Bank, address: &Pubkey) -> Option<Job> {
    let account = bank.chain.get_account(address)?;
    decode::<Job>(address, &account.data).ok()
}

fn read_node(bank: &Bank, address: &Pubkey) -> anyhow::Result<Node> {
    let account = bank.chain.get_account(address).context("node account")?;
    Ok(decode(address, &account.data)?)
}

/// Runs one scenario in a fresh bank.
pub(super) async fn scenario(
    cfg: &SimConfig,
    mode: SimMode,
    name: &str,
    share: f64,
    strategies: &[Behaviour],
    seed: u64,
) -> anyhow::Result<ScenarioReport> {
    let mut rng = Rng::new(seed);
    let base_stake = 4 * crate::localnet::default_params().min_stake;
    let people = population(&mut rng, cfg.nodes, share, strategies, base_stake);
    let total_stake: u64 = people.iter().map(|(_, s)| s).sum();
    let params = sim_params(cfg, total_stake);
    if let Some((behaviour, stake)) = people.iter().find(|(_, s)| *s < params.min_stake) {
        bail!(
            "{name}: a {} node would stake {stake}, below the minimum {}: raise the share or \
             --nodes, or list fewer strategies",
            behaviour.name(),
            params.min_stake
        );
    }
    let dir = cfg.out.join("state").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs)?;
    let mut bank = Bank::boot_with(params, rng.keypair(), rng.keypair())?;

    let mut operators = Vec::new();
    for (i, (behaviour, stake)) in people.iter().copied().enumerate() {
        let name = format!("{}-{i}", behaviour.name());
        // Adversaries that re-stake carry the tokens for it.
        let tokens = if behaviour != Behaviour::Honest && cfg.restake {
            stake * 32
        } else {
            stake + 1_000_000
        };
        let (wallet, token_account) = bank.actor_with(rng.keypair(), rng.keypair(), tokens)?;
        let spec = AgentSpec {
            name: &name,
            behaviour,
            hardware: hardware(i),
            stake,
            concurrency: 4,
            watch_bps: if behaviour == Behaviour::Honest {
                cfg.watch_bps
            } else {
                0
            },
            dir: &dir.join(&name),
        };
        let (agent, _results, metrics) = start_agent(&bank, wallet, token_account, spec).await?;
        operators.push(SimOperator {
            name,
            behaviour,
            node: agent.node(),
            initial_stake: stake,
            agent,
            metrics,
        });
    }
    let colluder_share = weight_share(&bank, &operators, params.min_stake, |b| {
        b == Behaviour::Colluder
    });
    let honest = operators
        .iter()
        .filter(|o| o.behaviour == Behaviour::Honest)
        .count();
    let theory = |bank: &Bank, operators: &[SimOperator]| {
        let f = weight_share(bank, operators, params.min_stake, |b| mode.bound_counts(b));
        cfg.watched_bound(mode, f, honest)
    };
    let theory_initial = theory(&bank, &operators);
    let (replicas, reward) = match mode {
        SimMode::Full => (cfg.replicas, 1_000_000u64),
        SimMode::Spot => (1, params.max_audited_reward.min(1_000_000)),
    };
    let (submitter, submitter_token) = bank.actor_with(
        rng.keypair(),
        rng.keypair(),
        (cfg.jobs as u64 + 1) * reward * 8,
    )?;
    let cpu = Backend::Cpu(Cpu::new(1)?);
    // An outside attacker grinding fresh nodes against every job; its own generator, so the
    // scenario's draws are the same with or without it.
    let (grinder_wallet, grinder_token) =
        bank.actor_with(rng.keypair(), rng.keypair(), params.min_stake)?;
    let grinder = crate::capture::Grinder {
        wallet: grinder_wallet,
        token_account: grinder_token,
    };
    let mut grind_rng = Rng::new(seed ^ 0x6772_696e_6465_7221);
    let mut captures = crate::capture::CaptureTally::default();
    let mut capture_transactions = 0u64;
    let mut strategy_stake: BTreeMap<String, u64> = BTreeMap::new();
    for op in &operators {
        *strategy_stake
            .entry(op.behaviour.name().into())
            .or_default() += op.initial_stake;
    }
    let mut earnings: BTreeMap<String, Vec<f64>> = strategy_stake
        .keys()
        .map(|k| (k.clone(), vec![0.0]))
        .collect();

    let transactions_before = bank.chain.transactions();
    let simulated_start = bank.chain.get_clock().unix_timestamp;
    let started = Instant::now();
    let mut posted: Vec<SimJob> = Vec::new();
    let mut outcomes: Vec<(Job, [u8; 32], f64)> = Vec::new();
    let mut order: Vec<usize> = (0..operators.len()).collect();
    let mut problems = Vec::new();
    let mut nonce = 0u64;
    let mut settled_after = vec![0usize];
    let mut agent_seconds = 0f64;
    while outcomes.len() < cfg.jobs {
        // Post a wave.
        let bound_now = theory(&bank, &operators);
        let wave = cfg.wave.min(cfg.jobs - outcomes.len());
        for _ in 0..wave {
            nonce += 1;
            let job = kernel_job(&mut rng);
            let input = job.random_input(rng.next_u64());
            let path = inputs.join(format!("{nonce}.bin"));
            let now = bank.chain.get_clock().unix_timestamp;
            let post = KernelPost {
                nonce,
                job: &job,
                input: &input,
                path: &path,
                replicas,
                reward,
                deadline: now + params.min_job_duration_secs(),
                spot_check: mode == SimMode::Spot,
            };
            let (address, expected_root) =
                bank.post_kernel_job(&submitter, &submitter_token, post, &cpu)?;
            if let Some(state) = read_job(&bank, &address) {
                let before = bank.chain.transactions();
                match grinder.attack(&bank.chain, &address, &state, &params, || {
                    grind_rng.keypair()
                }) {
                    Some(landed) => {
                        captures.attempts += 1;
                        captures.landed += usize::from(landed);
                    }
                    None => captures.not_ground += 1,
                }
                capture_transactions += bank.chain.transactions() - before;
            }
            posted.push(SimJob {
                nonce,
                address,
                expected_root,
                bound_at_post: bound_now,
            });
        }

        // Run the network until the wave has settled: every operator takes a pass per round,
        // in an order drawn afresh each round; when nothing moved, simulated time passes.
        let mut last = None;
        for _round in 0..2_000 {
            rng.shuffle(&mut order);
            for &i in &order {
                // A failed pass (a race lost to another node) is retried next round.
                let pass = Instant::now();
                let _ = operators[i].agent.tick().await;
                agent_seconds += pass.elapsed().as_secs_f64();
            }
            let jobs: Vec<Option<Job>> =
                posted.iter().map(|p| read_job(&bank, &p.address)).collect();
            let open = jobs.iter().flatten().filter(|j| j.is_open()).count();
            let progress: usize = jobs
                .iter()
                .flatten()
                .map(|j| {
                    j.slots.iter().map(|s| s.state as usize + 1).sum::<usize>()
                        + usize::from(!j.is_open())
                        + usize::from(j.audit != AuditState::Pending)
                        + usize::from(j.dispute.is_started())
                })
                .sum::<usize>()
                // Moves of dispute games change no job until a game ends: count them, or
                // simulated time would pass (and clocks run) while the games are played.
                + operators
                    .iter()
                    .map(|o| o.metrics.game_moves.load(Ordering::Relaxed) as usize)
                    .sum::<usize>();
            if open == 0 {
                break;
            }
            // The submitter settles its own jobs whose round is over and that no slot holder
            // settled (a spot-check job whose only worker vanished, or withheld its reveal):
            // settlement is permissionless, and the refund is the submitter's.
            let now = bank.chain.get_clock().unix_timestamp;
            for (p, job) in posted.iter().zip(&jobs) {
                if let Some(job) = job.as_ref().filter(|j| j.is_open()) {
                    if now >= job.reveal_deadline {
                        let nodes = ix::slot_nodes(job);
                        let settle = ix::settle(&p.address, &nodes);
                        let _ = bank.chain.process(&[settle], &submitter, &[]);
                    }
                }
            }
            if last == Some(progress) {
                bank.chain.advance_time(120);
            }
            last = Some(progress);
        }
        // Record the wave's outcomes and close its jobs (refund and rent to the submitter).
        for op in &operators {
            let _ = op.agent.tick().await;
        }
        for p in posted.drain(..) {
            let Some(job) = read_job(&bank, &p.address) else {
                problems.push(format!("job {} vanished", p.address));
                continue;
            };
            if job.is_open() {
                problems.push(format!("job {} did not settle", p.address));
                continue;
            }
            bank.chain.process(
                &[ix::close_job(
                    &submitter.pubkey(),
                    p.nonce,
                    &submitter_token,
                )],
                &submitter,
                &[],
            )?;
            outcomes.push((job, p.expected_root, p.bound_at_post));
        }
        if !problems.is_empty() {
            break;
        }
        if cfg.restake {
            for op in operators
                .iter()
                .filter(|o| o.behaviour != Behaviour::Honest)
            {
                // Out of tokens is the end of a persistent attacker, not of the simulation.
                let _ = op.agent.ensure_registered().await;
            }
        }
        settled_after.push(outcomes.len());
        let mut net: BTreeMap<String, i128> = BTreeMap::new();
        for op in &operators {
            let r = read_node(&bank, &op.node)?.reputation;
            *net.entry(op.behaviour.name().into()).or_default() +=
                i128::from(r.earned_total) - i128::from(r.slashed_total);
        }
        for (strategy, series) in earnings.iter_mut() {
            let stake = strategy_stake.get(strategy).copied().unwrap_or(1).max(1);
            series.push(net.get(strategy).copied().unwrap_or(0) as f64 / stake as f64);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let transactions = bank.chain.transactions() - transactions_before - capture_transactions;
    if captures.landed > 0 {
        problems.push(format!(
            "{} of {} fresh-node captures took a slot (nodes made after the seed must not count)",
            captures.landed, captures.attempts
        ));
    }

    let mut report = ScenarioReport {
        name: name.into(),
        mode,
        audited: 0,
        adversarial_share: share,
        colluder_share,
        strategies: strategies.iter().map(|b| b.name().to_string()).collect(),
        nodes: operators.len(),
        jobs: outcomes.len(),
        accepted_true: 0,
        accepted_wrong: 0,
        no_quorum: 0,
        no_result: 0,
        refuted: 0,
        challenged: 0,
        input_unavailable: 0,
        escalated: 0,
        wrong_rate: 0.0,
        wrong_ci95: (0.0, 1.0),
        theory_initial,
        theory_at_post: 0.0,
        honest_slashed_nodes: 0,
        honest_slashed_by_collusion: 0,
        kernel_runs: operators
            .iter()
            .map(|o| o.metrics.kernel_runs.load(Ordering::Relaxed))
            .sum(),
        overhead: 0.0,
        transactions,
        transactions_per_job: 0.0,
        worker_ms_per_job_outside_kernels: 0.0,
        kernel_ms_per_job: 0.0,
        wall_seconds: wall,
        simulated_seconds: bank.chain.get_clock().unix_timestamp - simulated_start,
        jobs_per_minute: 0.0,
        earnings,
        settled_after,
        restake: cfg.restake,
        fresh_captures: captures,
        by_kernel: BTreeMap::new(),
        problems,
    };
    for (job, expected, bound) in &outcomes {
        let kernel = KernelId::from_u8(job.kernel_id)
            .map_or_else(|_| format!("kernel {}", job.kernel_id), |k| k.name().into());
        let tally = report.by_kernel.entry(kernel).or_default();
        tally.jobs += 1;
        tally.disputed += usize::from(job.dispute.is_started());
        tally.games += job.dispute.games_opened.count_ones() as usize;
        tally.challenged += usize::from(job.dispute.challengers > 0);
        report.escalated += usize::from(job.escalated);
        report.audited += usize::from(job.audit == AuditState::Drawn);
        report.theory_at_post += bound / outcomes.len() as f64;
        match job.status {
            JobStatus::Ended {
                reason: JobEndReason::Accepted,
                ..
            } => {
                if job.result_root == Some(*expected) {
                    report.accepted_true += 1;
                } else {
                    report.accepted_wrong += 1;
                    tally.accepted_wrong += 1;
                }
            }
            JobStatus::Ended {
                reason: JobEndReason::NoQuorum,
                ..
            } => report.no_quorum += 1,
            JobStatus::Ended {
                reason: JobEndReason::NoResult,
                ..
            } => report.no_result += 1,
            JobStatus::Ended {
                reason: JobEndReason::InputUnavailable,
                ..
            } => report.input_unavailable += 1,
            JobStatus::Ended {
                reason: JobEndReason::Refuted,
                ..
            } => report.refuted += 1,
            _ => report.problems.push("a job ended as cancelled".into()),
        }
    }
    report.challenged = outcomes
        .iter()
        .filter(|(job, _, _)| job.dispute.challengers > 0)
        .count();
    let n = report.jobs.max(1) as f64;
    report.wrong_rate = report.accepted_wrong as f64 / n;
    report.wrong_ci95 = wilson(report.accepted_wrong, report.jobs);
    report.overhead = report.kernel_runs as f64 / n;
    report.transactions_per_job = transactions as f64 / n;
    let kernel_seconds: f64 = operators.iter().map(|o| o.metrics.kernel_seconds()).sum();
    report.kernel_ms_per_job = kernel_seconds * 1e3 / n;
    report.worker_ms_per_job_outside_kernels = (agent_seconds - kernel_seconds).max(0.0) * 1e3 / n;
    report.jobs_per_minute = report.jobs as f64 / (wall / 60.0).max(1e-9);

    // An honest node may lose stake only in a job whose wrong root won (a colluding majority
    // slashes the truthful minority: majority rule's known limit); anywhere else it is a bug.
    let outvoted: std::collections::BTreeSet<Pubkey> = outcomes
        .iter()
        .filter(|(job, expected, _)| job.result_root.is_some_and(|r| r != *expected))
        .flat_map(|(job, _, _)| job.slots.iter().map(|s| s.node))
        .collect();
    let mut nodes_total = 0u128;
    for op in &operators {
        let node = read_node(&bank, &op.node)?;
        nodes_total +=
            u128::from(node.stake) + u128::from(node.unstaking) + u128::from(node.earnings);
        if op.behaviour == Behaviour::Honest && node.reputation.slashed_total > 0 {
            if outvoted.contains(&op.node) {
                report.honest_slashed_by_collusion += 1;
            } else {
                report.honest_slashed_nodes += 1;
                report.problems.push(format!(
                    "honest node {} was slashed outside any job a collusion won",
                    op.name
                ));
            }
        }
    }
    let open: Vec<(Pubkey, Job)> = list::<Job, _>(&*bank.chain, &[]).await?;
    let escrowed: u128 = open.iter().map(|(_, j)| u128::from(j.escrow)).sum();
    report
        .problems
        .extend(bank.conservation_problems(nodes_total, escrowed));
    if report.wrong_rate_exceeds_bound() {
        report.problems.push(format!(
            "wrong-acceptance rate {:.4} (95% CI {:.4}–{:.4}) exceeds its bound {:.4}",
            report.wrong_rate, report.wrong_ci95.0, report.wrong_ci95.1, report.theory_initial
        ));
    }
    Ok(report)
}
