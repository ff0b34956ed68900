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
            other => {
                return Err(format!(
                    "unknown behaviour `{other}`: honest, lazy, liar, copycat or flaky"
                ))
            }
        })
    }
}
