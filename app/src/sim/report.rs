//! The scenario tables on the terminal, `report.md`, `report.json` and the plots.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::config::{SimConfig, SimMode, SIM_CHALLENGE_WINDOW_SECS};
use super::plot;
use super::SimReport;

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
    /// Per kernel (its name): jobs, the disputes and games they had, and wrong roots accepted.
    pub by_kernel: BTreeMap<String, KernelTally>,
    pub problems: Vec<String>,
}

/// One kernel's jobs in a scenario.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KernelTally {
    pub jobs: usize,
    /// Jobs whose revealed roots differed (refereed: their replicas played games).
    pub disputed: usize,
    /// Dispute games opened, challengers' included.
    pub games: usize,
    /// Jobs whose accepted root a watcher challenged.
    pub challenged: usize,
    pub accepted_wrong: usize,
}

impl ScenarioReport {
    /// Whether the measured wrong-acceptance rate exceeds the bound at the colluders' initial
    /// share beyond sampling error (the lower end of its 95 % interval is above the bound).
    pub fn wrong_rate_exceeds_bound(&self) -> bool {
        self.wrong_ci95.0 > self.theory_initial + 1e-12
    }
}

pub(super) fn print_scenario(s: &ScenarioReport) {
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
    let kernels: Vec<String> = s
        .by_kernel
        .iter()
        .map(|(k, t)| {
            format!(
                "{k} {} jobs, {} disputed, {} games, {} challenged, {} wrong",
                t.jobs, t.disputed, t.games, t.challenged, t.accepted_wrong
            )
        })
        .collect();
    println!("  by kernel: {}", kernels.join("; "));
    for p in &s.problems {
        println!("  CHECK FAILED: {p}");
    }
}

pub(super) fn write_outputs(cfg: &SimConfig, report: &SimReport) -> anyhow::Result<()> {
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
    let _ = writeln!(md, "\n## By kernel\n");
    let _ = writeln!(
        md,
        "| scenario | kernel | jobs | disputed | games | challenged | accepted wrong |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for s in &report.scenarios {
        for (kernel, t) in &s.by_kernel {
            let _ = writeln!(
                md,
                "| {} | {kernel} | {} | {} | {} | {} | {} |",
                s.name, t.jobs, t.disputed, t.games, t.challenged, t.accepted_wrong
            );
        }
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
