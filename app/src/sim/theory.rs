//! The theory the simulation measures against: wrong-acceptance bounds per mode, the
//! Wilson interval, and the run's deterministic randomness.

use solana_keypair::Keypair;
use tessera_kernels::random::SplitMix64;

use super::config::{SimConfig, SimMode};

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
