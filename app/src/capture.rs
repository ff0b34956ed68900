//! The sortition-capture attack, as the simulation plays it against every job it posts: a
//! grinder that sees the job's seed grinds fresh operator keys off chain until one's node
//! wins a priority ticket with `min_stake`, then sends `register_node + stake + claim` in one
//! transaction (its lamports and tokens lent by the coalition's wallet in the same
//! transaction, so a refused attempt costs nothing). The program's warm-up rule (nodes and
//! stake must predate the round's seed) must refuse every attempt.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_sdk::in_process::InProcessChain;
use tessera_sdk::tessera::instructions::RegisterNodeArgs;
use tessera_sdk::tessera::state::sortition::{ticket, weight, wins_priority};
use tessera_sdk::tessera::state::{HardwareKind, HardwareProfile, Job, Params};
use tessera_sdk::{instructions as ix, pda, token};

/// Keys a grinder tries per job before giving up (a win takes about
/// `sortition_weight / (3 × slots × min_stake)` tries).
pub const GRIND_LIMIT: usize = 20_000;

/// What the grinders achieved in a scenario.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct CaptureTally {
    /// Jobs for which a winning key was ground and the capture transaction sent.
    pub attempts: usize,
    /// Of those, the captures that landed (the node took a slot): must be 0.
    pub landed: usize,
    /// Jobs for which no winning key was found within [`GRIND_LIMIT`] tries.
    pub not_ground: usize,
}

/// The coalition's wallet and token account that lend each fresh node its rent and stake.
pub struct Grinder {
    pub wallet: Keypair,
    pub token_account: Pubkey,
}

impl Grinder {
    /// Grinds a key whose node wins `job`'s priority with `params.min_stake` and sends the
    /// capture; returns whether it landed, or `None` when no key won within the limit.
    pub fn attack(
        &self,
        chain: &InProcessChain,
        job_address: &Pubkey,
        job: &Job,
        params: &Params,
        mut fresh_key: impl FnMut() -> Keypair,
    ) -> Option<bool> {
        let stake = params.min_stake;
        let node_weight = weight(stake, 10_000);
        let key = (0..GRIND_LIMIT).map(|_| fresh_key()).find(|k| {
            let node = pda::node(&k.pubkey(), 0).0;
            wins_priority(
                ticket(&job.seed, &node),
                node_weight,
                job.round_capacity(),
                params.sortition_weight,
            )
        })?;
        let operator = key.pubkey();
        let register = RegisterNodeArgs {
            index: 0,
            hardware: HardwareProfile {
                kind: HardwareKind::Gpu,
                gpu_model: "NVIDIA H200".into(),
                vram_mib: 141 * 1024,
                compute_capability: 90,
                cpu_cores: 16,
            },
            region: 0,
            min_price_per_unit: 0,
            endpoint: "http://127.0.0.1:9".into(),
        };
        let lend =
            token::approve(&self.token_account, &operator, &self.wallet.pubkey(), stake).ok()?;
        let capture = [
            system_instruction::transfer(&self.wallet.pubkey(), &operator, 50_000_000),
            lend,
            ix::register_node(&operator, register),
            ix::stake(&operator, 0, &self.token_account, stake),
            ix::claim(&operator, 0, job_address),
        ];
        Some(chain.process(&capture, &self.wallet, &[&key]).is_ok())
    }
}
