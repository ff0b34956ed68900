//! Prometheus metrics, rendered as text on `/metrics`.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters of one worker.
#[derive(Default)]
pub struct Metrics {
    pub jobs_seen: AtomicU64,
    pub jobs_claimed: AtomicU64,
    pub jobs_committed: AtomicU64,
    pub jobs_revealed: AtomicU64,
    pub jobs_agreed: AtomicU64,
    pub jobs_disputed: AtomicU64,
    pub jobs_slashed: AtomicU64,
    pub inputs_unavailable: AtomicU64,
    pub settlements_cranked: AtomicU64,
    /// `draw_audit` calls that landed (spot-check jobs this node worked).
    pub audits_drawn: AtomicU64,
    /// Dispute games this node opened, and moves it posted in any game (steps, timeouts
    /// included).
    pub games_opened: AtomicU64,
    pub game_moves: AtomicU64,
    /// Accepted results this node started recomputing as a watcher, and those it challenged.
    pub results_watched: AtomicU64,
    pub challenges_sent: AtomicU64,
    pub earned_tokens: AtomicU64,
    pub rpc_errors: AtomicU64,
    /// Kernel executions that produced an output.
    pub kernel_runs: AtomicU64,
    /// Kernel seconds by (kernel, backend), in microseconds.
    kernel_micros: Mutex<BTreeMap<(String, String), u64>>,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn kernel_time(&self, kernel: &str, backend: &str, seconds: f64) {
        let mut map = self.kernel_micros.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((kernel.into(), backend.into())).or_default() += (seconds * 1e6) as u64;
    }

    /// Seconds spent running kernels, over every kernel and backend.
    pub fn kernel_seconds(&self) -> f64 {
        let map = self.kernel_micros.lock().unwrap_or_else(|e| e.into_inner());
        map.values().sum::<u64>() as f64 / 1e6
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "tessera_worker_jobs_seen_total",
                "Open jobs seen",
                &self.jobs_seen,
            ),
            (
                "tessera_worker_jobs_claimed_total",
                "Replica slots claimed",
                &self.jobs_claimed,
            ),
            (
                "tessera_worker_games_opened_total",
                "Dispute games opened",
                &self.games_opened,
            ),
            (
                "tessera_worker_game_moves_total",
                "Dispute game transactions sent (moves, steps, timeouts)",
                &self.game_moves,
            ),
            (
                "tessera_worker_results_watched_total",
                "Accepted results recomputed as a watcher",
                &self.results_watched,
            ),
            (
                "tessera_worker_challenges_sent_total",
                "Accepted results challenged as wrong",
                &self.challenges_sent,
            ),
            (
                "tessera_worker_jobs_committed_total",
                "Results committed",
                &self.jobs_committed,
            ),
            (
                "tessera_worker_jobs_revealed_total",
                "Results revealed",
                &self.jobs_revealed,
            ),
            (
                "tessera_worker_jobs_agreed_total",
                "Settled slots that agreed with the result",
                &self.jobs_agreed,
            ),
            (
                "tessera_worker_jobs_disputed_total",
                "Settled slots that disagreed or ended without quorum",
                &self.jobs_disputed,
            ),
            (
                "tessera_worker_jobs_slashed_total",
                "Settled slots that cost stake",
                &self.jobs_slashed,
            ),
            (
                "tessera_worker_inputs_unavailable_total",
                "Inputs unavailable or failing their hash",
                &self.inputs_unavailable,
            ),
            (
                "tessera_worker_settlements_cranked_total",
                "settle and expire_job sent",
                &self.settlements_cranked,
            ),
            (
                "tessera_worker_audits_drawn_total",
                "draw_audit sent for spot-check jobs",
                &self.audits_drawn,
            ),
            (
                "tessera_worker_earned_tokens_total",
                "Tokens credited to the node, after fees",
                &self.earned_tokens,
            ),
            (
                "tessera_worker_rpc_errors_total",
                "RPC calls that failed (each retry counts)",
                &self.rpc_errors,
            ),
            (
                "tessera_worker_kernel_runs_total",
                "Kernel executions that produced an output",
                &self.kernel_runs,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
        let name = "tessera_worker_kernel_seconds_total";
        let _ = writeln!(
            out,
            "# HELP {name} Seconds spent running kernels.\n# TYPE {name} counter"
        );
        let map = self.kernel_micros.lock().unwrap_or_else(|e| e.into_inner());
        for ((kernel, backend), micros) in map.iter() {
            let _ = writeln!(
                out,
                "{name}{{kernel=\"{kernel}\",backend=\"{backend}\"}} {:.6}",
                *micros as f64 / 1e6
            );
        }
        out
    }
}
