//! `tessera sim`'s arguments: what to simulate, and the verification modes.
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;
use tessera_worker::behaviour::Behaviour;

use super::theory::{refereed_bound, spot_check_bound, wrong_acceptance_bound};

/// What to simulate (also the `tessera sim` arguments).
#[derive(Clone, Debug, clap::Args)]
pub struct SimConfig {
    /// Operators (one node each) per scenario.
    #[arg(long, default_value_t = 24)]
    pub nodes: usize,
    /// Colluding-group stake shares, one scenario each (comma-separated, each < 1; with
    /// `--voting`, each < 0.5).
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
    /// Refereed disputes (docs/disputes.md, the default): jobs' different roots are decided
    /// by dispute games the workers play. `--voting` decides them by escalation and a vote of
    /// the reveals instead, as before the referee (for comparison).
    #[arg(long = "voting", action = clap::ArgAction::SetFalse)]
    pub refereed: bool,
    /// Refereed runs: the network gets a 600 s challenge window, and every honest
    /// operator watches this share (basis points) of the results in their window, recomputing
    /// them and challenging wrong ones (0: no window, no watchers). Watchers draw from the OS,
    /// not from `--seed` (a colluder must not predict them), so such runs vary.
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
    pub(super) fn bound_counts(self, behaviour: Behaviour) -> bool {
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
            bail!(
                "--watch-bps is a share in basis points (≤ 10000) and watchers need the referee \
                 (not --voting)"
            );
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
