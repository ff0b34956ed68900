//! Simulation behaviours: ways a dishonest or unreliable worker acts, for the demo and the
//! adversarial simulation only. They exist only in a build with the `sim` cargo feature (the
//! app's demo and simulation enable it); a build without it has `Honest` alone, so its
//! configuration cannot make it cheat. Any of them is logged loudly at start.
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Computes and reveals the true result.
    #[default]
    Honest,
    /// Skips the computation and commits a random root.
    #[cfg(feature = "sim")]
    Lazy,
    /// Computes, then corrupts the output before building its root.
    #[cfg(feature = "sim")]
    Liar,
    /// Commits a random root, then tries to reveal another node's revealed root.
    #[cfg(feature = "sim")]
    Copycat,
    /// Claims jobs, then disappears (never commits).
    #[cfg(feature = "sim")]
    Flaky,
    /// A member of a colluding group: skips the computation and commits the group's shared
    /// wrong root ([`collusion_root`]), so that colluders who hold a majority of a job's
    /// reveals agree with each other against the truth.
    #[cfg(feature = "sim")]
    Colluder,
}

/// The names of the behaviours only a `sim` build has.
const SIMULATED: [&str; 5] = ["lazy", "liar", "copycat", "flaky", "colluder"];

/// The wrong root every colluder commits for a job: a digest of the job's input and kernel,
/// the same for every member of the group and never the true result.
#[cfg(feature = "sim")]
pub fn collusion_root(input_hash: &[u8; 32], kernel_id: u8, kernel_params: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"tessera:sim:collude:v1");
    hasher.update(input_hash);
    hasher.update([kernel_id]);
    hasher.update(kernel_params);
    hasher.finalize().into()
}

impl FromStr for Behaviour {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(b) = Self::ALL.into_iter().find(|b| b.name() == s) {
            return Ok(b);
        }
        if SIMULATED.contains(&s) {
            Err(format!(
                "behaviour `{s}` is a simulation behaviour, and this worker was built without \
                 the `sim` feature: a production worker is honest"
            ))
        } else if cfg!(feature = "sim") {
            Err(format!(
                "unknown behaviour `{s}`: honest, lazy, liar, copycat, flaky or colluder"
            ))
        } else {
            Err(format!("unknown behaviour `{s}`: honest"))
        }
    }
}

impl std::fmt::Display for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Behaviour {
    /// Every behaviour of this build, honest first.
    #[cfg(feature = "sim")]
    pub const ALL: [Behaviour; 6] = [
        Self::Honest,
        Self::Lazy,
        Self::Liar,
        Self::Copycat,
        Self::Flaky,
        Self::Colluder,
    ];
    /// Every behaviour of this build: honest alone, without the `sim` feature.
    #[cfg(not(feature = "sim"))]
    pub const ALL: [Behaviour; 1] = [Self::Honest];

    /// The name `FromStr` reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            #[cfg(feature = "sim")]
            Self::Lazy => "lazy",
            #[cfg(feature = "sim")]
            Self::Liar => "liar",
            #[cfg(feature = "sim")]
            Self::Copycat => "copycat",
            #[cfg(feature = "sim")]
            Self::Flaky => "flaky",
            #[cfg(feature = "sim")]
            Self::Colluder => "colluder",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Behaviour::ALL {
            assert_eq!(b.name().parse::<Behaviour>(), Ok(b));
        }
        assert!("saboteur".parse::<Behaviour>().is_err());
    }

    /// A build without the `sim` feature (scripts/test.sh tests the worker alone once, so
    /// that the workspace's feature unification does not turn it on) refuses every
    /// misbehaviour, naming the feature.
    #[test]
    #[cfg(not(feature = "sim"))]
    fn a_production_build_cannot_be_configured_to_cheat() {
        for name in SIMULATED {
            let err = name.parse::<Behaviour>().unwrap_err();
            assert!(err.contains("without the `sim` feature"), "{err}");
        }
        assert_eq!(Behaviour::ALL, [Behaviour::Honest]);
    }

    #[test]
    #[cfg(feature = "sim")]
    fn colluders_share_a_root_per_job() {
        let a = collusion_root(&[1; 32], 2, &[8, 0, 0, 0]);
        assert_eq!(a, collusion_root(&[1; 32], 2, &[8, 0, 0, 0]));
        assert_ne!(a, collusion_root(&[2; 32], 2, &[8, 0, 0, 0]));
        assert_ne!(a, collusion_root(&[1; 32], 2, &[9, 0, 0, 0]));
    }
}
