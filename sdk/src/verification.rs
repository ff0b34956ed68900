//! What a worker computes off chain to take part in verification: commitments, salts, and
//! whether its node holds a priority ticket for a job. The formulas are the program's own.
use anchor_lang::prelude::Pubkey;
pub use tessera::constants::INPUT_UNAVAILABLE_ROOT;
pub use tessera::state::sortition::{commitment, ticket, wins_priority};
use tessera::state::{Job, Node, Params};

/// Whether `node` (at address `node_address`) may claim `job` during its priority window:
/// its ticket wins with the weight of the node's stake that predates the round's seed.
pub fn holds_priority(job: &Job, node_address: &Pubkey, node: &Node, params: &Params) -> bool {
    wins_priority(
        ticket(&job.seed, node_address),
        node.round_weight(job.round_slot),
        job.round_capacity(),
        params.sortition_weight,
    )
}

/// A fresh random salt for a commitment, from the operating system's generator.
pub fn random_salt() -> Result<[u8; 32], getrandom::Error> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt)?;
    Ok(salt)
}
