//! Simulation behaviours: ways a dishonest or unreliable worker acts, for the demo and the
//! adversarial simulation only. Off by default; any of them is logged loudly at start.
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Computes and reveals the true result.
    #[default]
    Honest,
    /// Skips the computation and commits a random root.
    Lazy,
    /// Computes, then corrupts the output before building its root.
    Liar,
    /// Commits a random root, then tries to reveal another node's revealed root.
    Copycat,
    /// Claims jobs, then disappears (never commits).
    Flaky,
    /// A member of a colluding group: skips the computation and commits the group's shared
    /// wrong root ([`collusion_root`]), so that colluders who hold a majority of a job's
    /// reveals agree with each other against the truth.
    Colluder,
}

/// The wrong root every colluder commits for a job: a digest of the job's input and kernel,
/// the same for every member of the group and never the true result.
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
        Ok(match s {
            "honest" => Self::Honest,
            "lazy" => Self::Lazy,
            "liar" => Self::Liar,
            "copycat" => Self::Copycat,
            "flaky" => Self::Flaky,
            "colluder" => Self::Colluder,
            other => {
                return Err(format!(
                    "unknown behaviour `{other}`: honest, lazy, liar, copycat, flaky or colluder"
                ))
            }
        })
    }
}

impl Behaviour {
    /// Every behaviour, honest first.
    pub const ALL: [Behaviour; 6] = [
        Self::Honest,
        Self::Lazy,
        Self::Liar,
        Self::Copycat,
        Self::Flaky,
        Self::Colluder,
    ];

    /// The name `FromStr` reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            Self::Lazy => "lazy",
            Self::Liar => "liar",
            Self::Copycat => "copycat",
            Self::Flaky => "flaky",
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

    #[test]
    fn colluders_share_a_root_per_job() {
        let a = collusion_root(&[1; 32], 2, &[8, 0, 0, 0]);
        assert_eq!(a, collusion_root(&[1; 32], 2, &[8, 0, 0, 0]));
        assert_ne!(a, collusion_root(&[2; 32], 2, &[8, 0, 0, 0]));
        assert_ne!(a, collusion_root(&[1; 32], 2, &[9, 0, 0, 0]));
    }
}
