//! `tessera sim`: the adversarial simulation. It drives the real program in the in-process bank
//! with simulated time; every operator is a real `tessera-worker` agent computing with the real
//! kernels on small inputs, and the adversaries produce their wrong roots their own way
//! (`tessera_worker::behaviour`). For each adversarial stake share it measures how many wrong
//! results the network accepted next to the theoretical rate, whether any honest node was
//! slashed, what each strategy earned over time, the compute overhead (kernel executions per
//! job), throughput and transactions per job, checks token conservation, and writes a
//! Markdown report with PNG plots.
//!
//! Modes: full redundancy (R replicas, escalation on disagreement) and spot checks (one
//! replica, audited with probability `audit_bps` by `audit_replicas` auditors, escalation on
//! disagreement). Each scenario runs in each mode asked for.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::{MatmulParams, MlpParams};
use tessera_kernels::random::SplitMix64;
use tessera_kernels::{Backend, Job as KernelJob};
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

use crate::bank::{start_agent, write_png, AgentSpec, Bank, KernelPost};

/// What to simulate (also the `tessera sim` arguments).
#[derive(Clone, Debug, clap::Args)]
pub struct SimConfig {
    /// Operators (one node each) per scenario.
    #[arg(long, default_value_t = 24)]
    pub nodes: usize,
    /// Colluding-group stake shares, one scenario each (comma-separated, each < 0.5; with
    /// `--refereed`, each < 1).
    #[arg(long, value_delimiter = ',', default_values_t = [0.10, 0.20, 0.33])]
    pub shares: Vec<f64>,
    /// Adversarial stake share of the mixed-strategy scenario (0 skips it).
    #[arg(long, default_value_t = 0.2)]
    pub mixed_share: f64,
    /// Strategies of the mixed scenario, sharing its adversarial stake equally.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "lazy,liar,copycat,flaky,colluder"
    )]
    pub mix: Vec<Behaviour>,
    /// Jobs per scenario.
    #[arg(long, default_value_t = 400)]
    pub jobs: usize,
    /// Jobs posted per wave (the earnings plots have a point per wave).
    #[arg(long, default_value_t = 20)]
    pub wave: usize,
    /// Verification modes to run every scenario in: `full` (R replicas) and `spot` (one
    /// replica, spot-checked).
    #[arg(long, value_delimiter = ',', default_value = "full,spot")]
    pub modes: Vec<SimMode>,
    /// Replicas per job in full-redundancy mode.
    #[arg(long, default_value_t = 3)]
    pub replicas: u8,
    /// Spot-check mode: audit probability in basis points (the network parameter).
    #[arg(long, default_value_t = 1_000)]
    pub audit_bps: u16,
    /// Spot-check mode: auditors drawn when a job is audited (the network parameter).
    #[arg(long, default_value_t = 2)]
    pub audit_replicas: u8,
    /// Escalation replicas drawn when a job's replicas disagree (the network parameter).
    #[arg(long, default_value_t = 2)]
    pub escalation_replicas: u8,
    /// Adversaries top their stake back up after every wave (a persistent attacker with deep
    /// pockets); `--no-restake` lets slashing drain them out of the network.
    #[arg(long = "no-restake", action = clap::ArgAction::SetFalse)]
    pub restake: bool,
    /// Seed of the population, the inputs, the keys and the order of passes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where report.md, report.json and the plots go.
    #[arg(long, default_value = "sim-output")]
    pub out: PathBuf,
    /// Refereed disputes (docs/disputes.md): every job is a matmul job whose different roots
    /// are decided by dispute games the workers play, not by escalation and votes.
    #[arg(long)]
    pub refereed: bool,
    /// With `--refereed`: the network gets a 600 s challenge window, and every honest
    /// operator watches this share (basis points) of the results in their window, recomputing
    /// them and challenging wrong ones (0: no window, no watchers).
    #[arg(long, default_value_t = 0)]
    pub watch_bps: u16,
}

/// The challenge window of a simulation with watchers.
pub const SIM_CHALLENGE_WINDOW_SECS: u32 = 600;

/// A verification mode of the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum SimMode {
    /// Every job computed by R replicas.
    Full,
    /// Every job computed by one replica and audited with probability p.
    Spot,
}

impl SimMode {
    pub fn name(self) -> &'static str {
        match self {
            SimMode::Full => "full",
            SimMode::Spot => "spot",
        }
    }

    /// Whose weight share the mode's bound takes: colluders against full redundancy
    /// (independent wrong roots never agree), every adversary against a spot check (any wrong
    /// root wins when unaudited).
    fn bound_counts(self, behaviour: Behaviour) -> bool {
        match self {
            SimMode::Full => behaviour == Behaviour::Colluder,
            SimMode::Spot => behaviour != Behaviour::Honest,
        }
    }
}

impl SimConfig {
    /// The mode's wrong-acceptance bound at weight share `f`, with this run's parameters.
    pub fn bound(&self, mode: SimMode, f: f64) -> f64 {
        if self.refereed {
            return refereed_bound(mode, f, self);
        }
        self.voting_bound(mode, f)
    }

    /// The refereed bound with `honest` watchers: a wrong root also needs every honest
    /// operator to have left it unwatched, `(1 − w)^honest` (an estimate: a busy watcher
    /// skips, and one in the job's slots does not watch it).
    pub fn watched_bound(&self, mode: SimMode, f: f64, honest: usize) -> f64 {
        let unwatched = (1.0 - f64::from(self.watch_bps) / 10_000.0)
            .powi(i32::try_from(honest).unwrap_or(i32::MAX));
        self.bound(mode, f) * if self.refereed { unwatched } else { 1.0 }
    }

    fn voting_bound(&self, mode: SimMode, f: f64) -> f64 {
        match mode {
            SimMode::Full => wrong_acceptance_bound(f, self.replicas, self.escalation_replicas),
            SimMode::Spot => spot_check_bound(
                f,
                f64::from(self.audit_bps) / 10_000.0,
                self.audit_replicas,
                self.escalation_replicas,
            ),
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.modes.is_empty() {
            bail!("--modes is empty: give full, spot or both");
        }
        if self.modes.contains(&SimMode::Spot) {
            let slots =
                1 + usize::from(self.audit_replicas) + usize::from(self.escalation_replicas);
            if self.audit_bps == 0 || self.audit_bps > 10_000 || self.audit_replicas == 0 {
                bail!("spot mode needs --audit-bps in 1..=10000 and --audit-replicas ≥ 1");
            }
            if slots > 8 || slots > self.nodes {
                bail!("1 + audit replicas + escalation replicas must be at most 8 and at most --nodes");
            }
        }
        if self.nodes < 4 {
            bail!("--nodes must be at least 4 (got {})", self.nodes);
        }
        if self.jobs == 0 || self.wave == 0 {
            bail!("--jobs and --wave must be positive");
        }
        let most = if self.refereed { 1.0 } else { 0.5 };
        for &f in self.shares.iter().chain([&self.mixed_share]) {
            if !(0.0..most).contains(&f) {
                bail!("adversarial shares must be in [0, {most}): got {f}");
            }
        }
        if self.watch_bps > 10_000 || (self.watch_bps > 0 && !self.refereed) {
            bail!("--watch-bps is a share in basis points (≤ 10000) and needs --refereed");
        }
        if self.mix.contains(&Behaviour::Honest) {
            bail!("--mix lists adversarial strategies; `honest` is not one");
        }
        if self.mixed_share > 0.0 && self.mix.is_empty() {
            bail!("--mix is empty but --mixed-share is {}", self.mixed_share);
        }
        let slots = usize::from(self.replicas) + usize::from(self.escalation_replicas);
        if self.replicas == 0 || slots > 8 || usize::from(self.replicas) > 5 {
            bail!("--replicas must be 1..=5 and replicas + escalation at most 8");
        }
        if slots > self.nodes {
            bail!(
                "a job needs {slots} distinct operators; --nodes is {}",
                self.nodes
            );
        }
        Ok(())
    }
}

/// The simulation's deterministic randomness (the kernels' SplitMix64), so a seed reproduces a
/// run: population, keys, inputs and the order of passes.
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    pub fn keypair(&mut self) -> Keypair {
        let mut secret = [0u8; 32];
        for chunk in secret.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        Keypair::new_from_array(secret)
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn choose(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

fn binomial_pmf(n: u32, k: u32, p: f64) -> f64 {
    choose(n, k) * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
}

/// Probability that a colluding group holding weight share `f` gets its shared wrong root
/// accepted, with every slot drawn independently with probability `f` (draws without
/// replacement, one slot per operator, only lower it) and every slot revealing:
/// - a unanimous first round of colluders (`f^R`), plus
/// - when escalation replicas exist, a first round with `k < R` colluders followed by an
///   escalation whose `j` colluders give them a strict majority of all `R + E` reveals,
///   `k + j > (R + E) / 2` (counted as if every such round escalated: an upper bound);
/// - without escalation, a strict majority of the first round's reveals.
pub fn wrong_acceptance_bound(f: f64, replicas: u8, escalation: u8) -> f64 {
    let (r, e) = (u32::from(replicas), u32::from(escalation));
    if e == 0 {
        return (r / 2 + 1..=r).map(|k| binomial_pmf(r, k, f)).sum();
    }
    let mut p = f.powi(r as i32);
    for k in 0..r {
        let need = ((r + e) / 2 + 1).saturating_sub(k);
        let escalation_win: f64 = (need..=e).map(|j| binomial_pmf(e, j, f)).sum();
        p += binomial_pmf(r, k, f) * escalation_win;
    }
    p.min(1.0)
}

/// With refereed disputes a wrong root is accepted only if no replica (and, spot-checked, no
/// auditor) that computed the truth took part: an honest slot always wins its game. Full
/// redundancy: every one of the `R` replicas is adversarial, `f^R`; spot checks: the worker is
/// adversarial and unaudited, or audited only by adversaries, `f·((1 − p) + p·f^A)`. The
/// sortition draws without replacement from a finite network, so for a group holding share
/// `f` these are estimates, and slashing shrinks the group as the run goes on.
pub fn refereed_bound(mode: SimMode, f: f64, cfg: &SimConfig) -> f64 {
    match mode {
        SimMode::Full => f.powi(i32::from(cfg.replicas)),
        SimMode::Spot => {
            let p = f64::from(cfg.audit_bps) / 10_000.0;
            (f * ((1.0 - p) + p * f.powi(i32::from(cfg.audit_replicas)))).min(1.0)
        }
    }
}

/// Upper bound on the probability that a spot-check job accepts a wrong root when a share `f`
/// of the sortition weight is adversarial: the worker is adversarial with probability `f`; it
/// goes unaudited with probability `1 − p`; audited, it still wins if every auditor sides with
/// it (`f^A`), or, after the escalation, if the adversaries hold a strict majority of all
/// `1 + A + E` reveals (counting every adversarial slot as revealing the worker's root, and
/// every round as escalated: an upper bound); without escalation, a strict majority of the
/// first round's reveals.
pub fn spot_check_bound(f: f64, p: f64, audit: u8, escalation: u8) -> f64 {
    let (a, e) = (u32::from(audit), u32::from(escalation));
    let mut audited_wins = 0.0;
    for k in 0..=a {
        let pk = binomial_pmf(a, k, f);
        if k == a {
            audited_wins += pk;
        } else if e == 0 {
            if 2 * (1 + k) > 1 + a {
                audited_wins += pk;
            }
        } else {
            let need = ((1 + a + e) / 2 + 1).saturating_sub(1 + k);
            let escalation_win: f64 = (need..=e).map(|j| binomial_pmf(e, j, f)).sum();
            audited_wins += pk * escalation_win;
        }
    }
    (f * ((1.0 - p) + p * audited_wins)).min(1.0)
}

/// Wilson score interval (95 %) of `successes` in `n` trials.
pub fn wilson(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (z, n, p) = (1.96f64, n as f64, successes as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n) + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

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

/// What one scenario measured.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub mode: SimMode,
    /// Spot mode: jobs whose audit was drawn.
    pub audited: usize,
    pub adversarial_share: f64,
    /// The colluding group's share of the stake at the start.
    pub colluder_share: f64,
    pub strategies: Vec<String>,
    pub nodes: usize,
    pub jobs: usize,
    pub accepted_true: usize,
    pub accepted_wrong: usize,
    pub no_quorum: usize,
    pub no_result: usize,
    /// Refereed: jobs whose every result lost a dispute game (refunded).
    pub refuted: usize,
    /// Jobs whose accepted root a watcher challenged.
    pub challenged: usize,
    pub input_unavailable: usize,
    pub escalated: usize,
    pub wrong_rate: f64,
    pub wrong_ci95: (f64, f64),
    /// The mode's bound at the initial share: `wrong_acceptance_bound` at the colluders'
    /// share (full), `spot_check_bound` at the adversaries' share (spot).
    pub theory_initial: f64,
    /// Mean over jobs of the same formula at the colluders' sortition-weight share when each
    /// job's wave was posted (slashing and reputation shrink the colluders' weight as the run
    /// goes on, and outvoted honest nodes lose stake within a wave): an estimate, not a bound.
    pub theory_at_post: f64,
    /// Honest nodes slashed in no job whose wrong root won: must be 0.
    pub honest_slashed_nodes: usize,
    /// Honest nodes outvoted and slashed by a winning collusion.
    pub honest_slashed_by_collusion: usize,
    pub kernel_runs: u64,
    pub overhead: f64,
    pub transactions: u64,
    pub transactions_per_job: f64,
    /// Wall time of the agents' passes per job, less the time in kernels: the worker's own
    /// work (reading chain state, deciding, signing) and the in-process bank executing its
    /// transactions.
    pub worker_ms_per_job_outside_kernels: f64,
    /// Kernel time per job, over every replica.
    pub kernel_ms_per_job: f64,
    pub wall_seconds: f64,
    pub simulated_seconds: i64,
    pub jobs_per_minute: f64,
    /// Per strategy: net tokens (earned − slashed) per initially staked token after each wave.
    pub earnings: BTreeMap<String, Vec<f64>>,
    /// Jobs settled after each wave (the x of `earnings`).
    pub settled_after: Vec<usize>,
    /// Whether adversaries re-staked after every wave.
    pub restake: bool,
    /// The sortition-capture attack against every posted job (fresh nodes ground after the
    /// seed, registered, staked and claiming in one transaction): attempts and landings.
    /// Its transactions are not counted in `transactions`.
    pub fresh_captures: crate::capture::CaptureTally,
    pub problems: Vec<String>,
}

impl ScenarioReport {
    /// Whether the measured wrong-acceptance rate exceeds the bound at the colluders' initial
    /// share beyond sampling error (the lower end of its 95 % interval is above the bound).
    pub fn wrong_rate_exceeds_bound(&self) -> bool {
        self.wrong_ci95.0 > self.theory_initial + 1e-12
    }
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    pub seed: u64,
    pub modes: Vec<SimMode>,
    pub replicas: u8,
    pub escalation_replicas: u8,
    pub audit_bps: u16,
    pub audit_replicas: u8,
    pub program: &'static str,
    /// Whether disagreements were refereed by dispute games (`--refereed`).
    pub refereed: bool,
    /// Share of challengeable results every honest operator watched (`--watch-bps`).
    pub watch_bps: u16,
    pub scenarios: Vec<ScenarioReport>,
    pub passed: bool,
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
        (tessera_sdk::tessera::constants::REFEREE_KERNELS, 600, 600)
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
fn population(
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

fn kernel_job(rng: &mut Rng, refereed: bool) -> KernelJob {
    // A refereed run posts matmul jobs only: the referee opens matmul steps on chain.
    if refereed || rng.below(2) == 0 {
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
async fn scenario(
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
            let job = kernel_job(&mut rng, cfg.refereed);
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
        problems,
    };
    for (job, expected, bound) in &outcomes {
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

/// Runs every scenario, prints the tables, writes `report.md`, `report.json` and the plots to
/// `cfg.out`; `Ok(false)` when a check failed.
pub async fn run(cfg: &SimConfig) -> anyhow::Result<SimReport> {
    cfg.validate()?;
    std::fs::create_dir_all(&cfg.out)
        .with_context(|| format!("cannot create {}", cfg.out.display()))?;
    let mut scenarios = Vec::new();
    // One population per scenario, the same in every mode (same seed).
    let mut seed_rng = Rng::new(cfg.seed);
    let mut plan: Vec<(String, f64, Vec<Behaviour>, u64)> = Vec::new();
    for &share in &cfg.shares {
        let name = format!("collusion-{:02}", (share * 100.0).round() as u32);
        plan.push((name, share, vec![Behaviour::Colluder], seed_rng.next_u64()));
    }
    if cfg.mixed_share > 0.0 {
        let name = format!("mixed-{:02}", (cfg.mixed_share * 100.0).round() as u32);
        plan.push((name, cfg.mixed_share, cfg.mix.clone(), seed_rng.next_u64()));
    }
    for &mode in &cfg.modes {
        for (name, share, strategies, seed) in &plan {
            let name = format!("{}-{name}", mode.name());
            println!(
                "sim: {name}: {} jobs, adversaries ({}) hold {:.0}% of the stake",
                cfg.jobs,
                strategies
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                share * 100.0
            );
            let report = scenario(cfg, mode, &name, *share, strategies, *seed).await?;
            print_scenario(&report);
            scenarios.push(report);
        }
    }
    let passed = scenarios.iter().all(|s| s.problems.is_empty());
    let report = SimReport {
        seed: cfg.seed,
        modes: cfg.modes.clone(),
        replicas: cfg.replicas,
        audit_bps: cfg.audit_bps,
        audit_replicas: cfg.audit_replicas,
        escalation_replicas: cfg.escalation_replicas,
        refereed: cfg.refereed,
        watch_bps: cfg.watch_bps,
        program: if std::env::var("TESSERA_PROGRAM_MODE").as_deref() == Ok("sbf") {
            "sbf"
        } else {
            "native"
        },
        scenarios,
        passed,
    };
    write_outputs(cfg, &report)?;
    Ok(report)
}

fn print_scenario(s: &ScenarioReport) {
    println!(
        "  jobs {}  accepted true {}  accepted WRONG {}  no quorum {}  no result {}  refuted {}  challenged {}  audited {}  escalated {}",
        s.jobs, s.accepted_true, s.accepted_wrong, s.no_quorum, s.no_result, s.refuted, s.challenged, s.audited, s.escalated
    );
    println!(
        "  wrong per job {:.4} (95% CI {:.4}–{:.4})  theory {:.4} at the initial share, {:.4} at the share when posted",
        s.wrong_rate, s.wrong_ci95.0, s.wrong_ci95.1, s.theory_initial, s.theory_at_post
    );
    println!(
        "  honest nodes slashed {} (outvoted by a winning collusion: {})  kernel runs per job {:.2}  transactions per job {:.1}  {:.0} jobs/min  {:.1} s wall, {} s simulated\n  per job: {:.2} ms in kernels, {:.1} ms of worker passes outside kernels (bank included)",
        s.honest_slashed_nodes,
        s.honest_slashed_by_collusion,
        s.overhead,
        s.transactions_per_job,
        s.jobs_per_minute,
        s.wall_seconds,
        s.simulated_seconds,
        s.kernel_ms_per_job,
        s.worker_ms_per_job_outside_kernels
    );
    let finals: Vec<String> = s
        .earnings
        .iter()
        .map(|(k, v)| format!("{k} {:+.4}", v.last().copied().unwrap_or(0.0)))
        .collect();
    println!("  net earnings per staked token: {}", finals.join("  "));
    println!(
        "  fresh-node captures (keys ground after the seed): {} attempted, {} landed, {} jobs without a winning key in {} tries",
        s.fresh_captures.attempts,
        s.fresh_captures.landed,
        s.fresh_captures.not_ground,
        crate::capture::GRIND_LIMIT
    );
    for p in &s.problems {
        println!("  CHECK FAILED: {p}");
    }
}

fn write_outputs(cfg: &SimConfig, report: &SimReport) -> anyhow::Result<()> {
    std::fs::write(
        cfg.out.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    let font = plot::load_font();
    let mut plots = Vec::new();
    for mode in &report.modes {
        let collusion: Vec<&ScenarioReport> = report
            .scenarios
            .iter()
            .filter(|s| s.mode == *mode && s.strategies == ["colluder"])
            .collect();
        if collusion.is_empty() {
            continue;
        }
        let path = cfg
            .out
            .join(format!("wrong-acceptance-{}.png", mode.name()));
        let caption = match mode {
            SimMode::Full => format!(
                "Full redundancy: wrong results accepted per job (R = {}, E = {})",
                cfg.replicas, cfg.escalation_replicas
            ),
            SimMode::Spot => format!(
                "Spot checks: wrong results accepted per job (p = {}, A = {}, E = {})",
                f64::from(cfg.audit_bps) / 10_000.0,
                cfg.audit_replicas,
                cfg.escalation_replicas
            ),
        };
        let theory = |f| cfg.bound(*mode, f);
        plot::wrong_acceptance(&path, &collusion, &caption, &theory, font)?;
        plots.push((
            "Wrong results accepted per job against the colluders' stake share",
            path,
        ));
    }
    for s in &report.scenarios {
        let path = cfg.out.join(format!("earnings-{}.png", s.name));
        plot::earnings(&path, s, font)?;
        plots.push(("Net earnings per staked token by strategy", path));
    }

    let mut md = String::new();
    let _ = writeln!(md, "# Tessera adversarial simulation\n");
    let _ = writeln!(
        md,
        "Modes: {}. Full redundancy: R = {} replicas; spot checks: one replica, audited with \
         p = {:.2} by A = {} auditors; E = {} escalation replicas on any disagreement; program {}; \
         seed {}; adversaries {}. Every operator is a real worker agent on the real program in an \
         in-process bank (simulated time); kernels run for real on small matmul_f32 and \
         mlp_infer inputs.\n",
        report
            .modes
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", "),
        report.replicas,
        f64::from(report.audit_bps) / 10_000.0,
        report.audit_replicas,
        report.escalation_replicas,
        report.program,
        report.seed,
        if cfg.restake {
            "re-stake after every wave"
        } else {
            "do not re-stake"
        }
    );
    if report.refereed {
        let _ = writeln!(
            md,
            "Refereed disputes: every job is a matmul job, and different roots are decided by \
             dispute games the workers play (descent, bisection, the referee's step; chess \
             clocks), not by escalation. The theory column is `refereed_bound`: a wrong root \
             wins only when every replica (and every auditor) is an adversary.\n"
        );
    }
    if report.watch_bps > 0 {
        let _ = writeln!(
            md,
            "Watchers: the network has a {SIM_CHALLENGE_WINDOW_SECS} s challenge window, and \
             every honest operator recomputes {:.0} % of the results in their window and \
             challenges wrong ones; the theory columns multiply the refereed bound by \
             `(1 − w)^honest`, the chance that no honest operator watched.\n",
            f64::from(report.watch_bps) / 100.0
        );
    }
    let _ = writeln!(
        md,
        "| scenario | adversarial stake | colluders' stake | jobs | wrong accepted | rate (95% CI) | bound at the initial share | theory at the share when posted | audited | escalated | no quorum | honest slashed (bug) | honest outvoted by collusion | kernel runs / job | tx / job | jobs / min |"
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for s in &report.scenarios {
        let _ = writeln!(
            md,
            "| {} | {:.0}% ({}) | {:.1}% | {} | {} | {:.4} ({:.4}–{:.4}) | {:.4} | {:.4} | {} | {} | {} | {} | {} | {:.2} | {:.1} | {:.0} |",
            s.name,
            s.adversarial_share * 100.0,
            s.strategies.join(", "),
            s.colluder_share * 100.0,
            s.jobs,
            s.accepted_wrong,
            s.wrong_rate,
            s.wrong_ci95.0,
            s.wrong_ci95.1,
            s.theory_initial,
            s.theory_at_post,
            s.audited,
            s.escalated,
            s.no_quorum,
            s.honest_slashed_nodes,
            s.honest_slashed_by_collusion,
            s.overhead,
            s.transactions_per_job,
            s.jobs_per_minute
        );
    }
    let _ = writeln!(
        md,
        "\n## Sortition capture with fresh nodes\n\nAgainst every posted job, an outside \
         attacker grinds operator keys after the job's seed is public until one's node wins a \
         priority ticket with `min_stake`, then sends `register_node + stake + claim` in one \
         transaction (up to {} keys per job). The warm-up rule must refuse every attempt.\n",
        crate::capture::GRIND_LIMIT
    );
    let _ = writeln!(
        md,
        "| scenario | attempts | landed | jobs without a winning key |"
    );
    let _ = writeln!(md, "|---|---|---|---|");
    for s in &report.scenarios {
        let c = &s.fresh_captures;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            s.name, c.attempts, c.landed, c.not_ground
        );
    }
    let _ = writeln!(md, "\n## Net earnings per staked token at the end\n");
    let _ = writeln!(md, "| scenario | strategy | net tokens per staked token |");
    let _ = writeln!(md, "|---|---|---|");
    for s in &report.scenarios {
        for (strategy, series) in &s.earnings {
            let _ = writeln!(
                md,
                "| {} | {} | {:+.4} |",
                s.name,
                strategy,
                series.last().copied().unwrap_or(0.0)
            );
        }
    }
    let _ = writeln!(md, "\n## Plots\n");
    for (title, path) in &plots {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        let _ = writeln!(md, "![{title}]({file})\n");
    }
    if font.is_none() {
        let _ = writeln!(
            md,
            "(No TrueType font was found, so the plots have no text; see report.json for the numbers.)\n"
        );
    }
    let _ = writeln!(md, "## Checks\n");
    for s in &report.scenarios {
        if s.problems.is_empty() {
            let _ = writeln!(
                md,
                "- {}: tokens conserved, vaults match the accounts, no honest node slashed outside a job a collusion won, wrong-acceptance rate within its bound, no fresh-node capture landed.",
                s.name
            );
        }
        for p in &s.problems {
            let _ = writeln!(md, "- {}: FAILED: {p}", s.name);
        }
    }
    std::fs::write(cfg.out.join("report.md"), md)?;
    println!(
        "sim: wrote report.md, report.json and {} plots to {}",
        plots.len(),
        cfg.out.display()
    );
    Ok(())
}

/// PNG plots with plotters, drawn into an RGB buffer and encoded with `png`.
mod plot {
    use super::*;
    use plotters::coord::types::RangedCoordf64;
    use plotters::prelude::*;

    const W: u32 = 900;
    const H: u32 = 540;

    /// Registers a sans-serif TrueType font for the plots' text, from the usual system
    /// locations; `None` (plots without text) when there is none.
    pub fn load_font() -> Option<&'static str> {
        static FONT: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
        *FONT.get_or_init(|| {
            let candidates = [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            ];
            let bytes = candidates.iter().find_map(|p| std::fs::read(p).ok())?;
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .ok()
                .map(|()| "sans-serif")
        })
    }

    fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
        anyhow::anyhow!("plotting failed: {e:?}")
    }

    type Chart<'a, 'b> =
        ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

    /// What frames a plot: its title, ranges and axis names.
    struct Frame<'t> {
        caption: String,
        x: std::ops::Range<f64>,
        y: std::ops::Range<f64>,
        x_desc: &'t str,
        y_desc: &'t str,
    }

    /// Draws `draw`'s series on a framed chart and writes the PNG: the caption, axis names and
    /// legend only when a font is registered.
    fn render(
        path: &Path,
        frame: Frame,
        font: Option<&'static str>,
        draw: impl FnOnce(&mut Chart) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut rgb = vec![255u8; (W * H * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let mut builder = ChartBuilder::on(&root);
            builder.margin(20);
            if let Some(font) = font {
                builder
                    .caption(&frame.caption, (font, 22))
                    .x_label_area_size(45)
                    .y_label_area_size(70);
            }
            let mut chart = builder.build_cartesian_2d(frame.x, frame.y).map_err(err)?;
            let mut mesh = chart.configure_mesh();
            match font {
                Some(font) => mesh
                    .x_desc(frame.x_desc)
                    .y_desc(frame.y_desc)
                    .label_style((font, 14)),
                None => mesh.disable_x_mesh().disable_y_mesh(),
            };
            mesh.draw().map_err(err)?;
            draw(&mut chart)?;
            if let Some(font) = font {
                chart
                    .configure_series_labels()
                    .label_font((font, 14))
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .position(SeriesLabelPosition::UpperLeft)
                    .draw()
                    .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        write_png(path, &rgb, (W, H), png::ColorType::Rgb)
    }

    pub fn wrong_acceptance(
        path: &Path,
        scenarios: &[&ScenarioReport],
        caption: &str,
        theory: &dyn Fn(f64) -> f64,
        font: Option<&'static str>,
    ) -> anyhow::Result<()> {
        let x_max = scenarios
            .iter()
            .map(|s| s.colluder_share + 0.05)
            .fold(0.5f64, f64::max)
            .min(1.0);
        let y_max = scenarios
            .iter()
            .map(|s| s.wrong_ci95.1.max(s.theory_initial))
            .fold(theory(x_max), f64::max)
            .max(0.01)
            * 1.1;
        let frame = Frame {
            caption: caption.to_string(),
            x: 0.0..x_max,
            y: 0.0..y_max,
            x_desc: "colluding group's share of the stake",
            y_desc: "wrong results accepted per job",
        };
        render(path, frame, font, |chart| {
            let curve = (0..=100).map(|i| {
                let f = x_max * f64::from(i) / 100.0;
                (f, theory(f))
            });
            chart
                .draw_series(LineSeries::new(curve, BLUE.stroke_width(2)))
                .map_err(err)?
                .label("theory (upper bound)")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
            for s in scenarios {
                let x = s.colluder_share;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, s.wrong_ci95.0), (x, s.wrong_ci95.1)],
                        RED.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
            chart
                .draw_series(
                    scenarios
                        .iter()
                        .map(|s| Circle::new((s.colluder_share, s.wrong_rate), 5, RED.filled())),
                )
                .map_err(err)?
                .label("measured (95% CI)")
                .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
            Ok(())
        })
    }

    pub fn earnings(
        path: &Path,
        s: &ScenarioReport,
        font: Option<&'static str>,
    ) -> anyhow::Result<()> {
        let jobs = s.settled_after.last().copied().unwrap_or(1).max(1);
        let (lo, hi) = s
            .earnings
            .values()
            .flatten()
            .fold((0f64, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.1).max(1e-3);
        let frame = Frame {
            caption: format!("{}: net earnings per staked token", s.name),
            x: 0.0..jobs as f64,
            y: (lo - pad)..(hi + pad),
            x_desc: "jobs settled",
            y_desc: "(earned - slashed) / initial stake",
        };
        render(path, frame, font, |chart| {
            for (strategy, series) in &s.earnings {
                let color = match strategy.as_str() {
                    "honest" => BLUE,
                    "colluder" => RED,
                    "liar" => MAGENTA,
                    "lazy" => BLACK,
                    "copycat" => GREEN,
                    _ => RGBColor(230, 140, 0),
                };
                let points = s.settled_after.iter().zip(series);
                chart
                    .draw_series(LineSeries::new(
                        points.map(|(&x, &y)| (x as f64, y)),
                        color.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(strategy.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_f_to_the_r_without_escalation_majority_terms() {
        // R = 3, E = 2: a unanimous colluding round, or k colluders of 3 plus enough of 2
        // escalation replicas for a strict majority of 5 reveals (k + j >= 3).
        let f: f64 = 0.2;
        let expected = f.powi(3)
            + 3.0 * f * f * (1.0 - f) * (1.0 - (1.0 - f).powi(2))
            + 3.0 * f * (1.0 - f).powi(2) * f * f;
        assert!((wrong_acceptance_bound(f, 3, 2) - expected).abs() < 1e-12);
        assert_eq!(wrong_acceptance_bound(0.0, 3, 2), 0.0);
        assert!((wrong_acceptance_bound(1.0, 3, 2) - 1.0).abs() < 1e-12);
        // Without escalation: a strict majority of the round (2 or 3 of 3).
        let majority = 3.0 * f * f * (1.0 - f) + f.powi(3);
        assert!((wrong_acceptance_bound(f, 3, 0) - majority).abs() < 1e-12);
        // More replicas never make collusion easier below half the stake.
        assert!(wrong_acceptance_bound(0.2, 5, 2) < wrong_acceptance_bound(0.2, 3, 2));
    }

    #[test]
    fn wilson_intervals_contain_the_rate() {
        let (lo, hi) = wilson(0, 100);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.03 && hi < 0.04, "{hi}");
        let (lo, hi) = wilson(50, 100);
        assert!(lo < 0.5 && hi > 0.5 && lo > 0.39 && hi < 0.61);
    }

    #[test]
    fn populations_hold_the_asked_share() {
        let mut rng = Rng::new(7);
        for share in [0.1, 0.2, 0.33] {
            let people = population(
                &mut rng,
                24,
                share,
                &[Behaviour::Colluder, Behaviour::Liar],
                40,
            );
            let total: u64 = people.iter().map(|(_, s)| s).sum();
            let bad: u64 = people
                .iter()
                .filter(|(b, _)| *b != Behaviour::Honest)
                .map(|(_, s)| s)
                .sum();
            assert!((bad as f64 / total as f64 - share).abs() < 0.01, "{share}");
            assert!(people.iter().any(|(b, _)| *b == Behaviour::Liar));
        }
        assert!(population(&mut rng, 8, 0.0, &[Behaviour::Lazy], 40)
            .iter()
            .all(|(b, _)| *b == Behaviour::Honest));
    }

    #[test]
    fn the_generator_is_reproducible() {
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        assert_eq!(a.keypair().pubkey(), b.keypair().pubkey());
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(Rng::new(2).next_u64(), Rng::new(1).next_u64());
    }
}
