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
mod config;
mod plot;
mod report;
mod scenario;
mod theory;

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use tessera_worker::behaviour::Behaviour;

use crate::bank::write_png;

pub use config::{SimConfig, SimMode, SIM_CHALLENGE_WINDOW_SECS};
pub use report::ScenarioReport;
use report::{print_scenario, write_outputs};
use scenario::scenario;
pub use theory::{refereed_bound, spot_check_bound, wilson, wrong_acceptance_bound, Rng};

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
    /// Whether disagreements were refereed by dispute games (the default; not with `--voting`).
    pub refereed: bool,
    /// Share of challengeable results every honest operator watched (`--watch-bps`).
    pub watch_bps: u16,
    pub scenarios: Vec<ScenarioReport>,
    pub passed: bool,
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

#[cfg(test)]
mod tests {
    use solana_signer::Signer;

    use super::scenario::population;
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
