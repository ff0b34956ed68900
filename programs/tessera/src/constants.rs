//! Seeds, size limits and parameter bounds, in one place.

/// Seed of the network's [`crate::state::Config`] PDA; it also signs every vault transfer.
pub const CONFIG_SEED: &[u8] = b"config";
/// Seed of the token account that holds all operator stake.
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// Seed of the token account that holds every open job's escrow.
pub const ESCROW_VAULT_SEED: &[u8] = b"job_escrow";
/// Seed of the token account that receives protocol fees and slashed stake.
pub const TREASURY_SEED: &[u8] = b"fee_treasury";
// The four singleton seeds above were chosen so that each PDA's canonical bump is 255:
// `init` runs find_program_address, which pays 1,500 CU per bump it tries, and `initialize`
// creates all four (see docs/compute-units.md).
/// Seed prefix of a [`crate::state::Node`]: `[NODE_SEED, operator, index (u16 LE)]`.
pub const NODE_SEED: &[u8] = b"node";
/// Seed prefix of a [`crate::state::Job`]: `[JOB_SEED, submitter, nonce (u64 LE)]`.
pub const JOB_SEED: &[u8] = b"job";

/// Layout version written into every account this program creates.
pub const ACCOUNT_VERSION: u8 = 1;

/// Longest GPU model label, in bytes (e.g. "NVIDIA H200 141GB HBM3e").
pub const MAX_GPU_MODEL_LEN: usize = 32;
/// Longest results endpoint URL, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 128;
/// Longest input URI, in bytes.
pub const MAX_INPUT_URI_LEN: usize = 200;
/// Largest encoded kernel parameter blob, in bytes.
pub const MAX_KERNEL_PARAMS_LEN: usize = 256;
/// Largest input a job may reference (4 GiB).
pub const MAX_INPUT_BYTES: u64 = 4 << 30;
/// Region codes are 0..32 so that a job's region mask fits one `u32`.
pub const REGION_COUNT: u8 = 32;
/// Kernel ids are 0..32 so that the allowed set fits one `u32` bit mask.
pub const KERNEL_ID_COUNT: u8 = 32;

/// Basis points in one whole.
pub const MAX_BPS: u16 = 10_000;
/// Hard ceiling of replicas per job, whatever governance sets.
pub const MAX_REPLICAS_CEILING: u8 = 16;
/// Hard ceiling of the protocol fee (20%).
pub const MAX_PROTOCOL_FEE_BPS: u16 = 2_000;
/// Longest unstake cooldown governance may set (90 days).
pub const MAX_UNSTAKE_COOLDOWN_SECS: i64 = 90 * 86_400;
/// Shortest commit or reveal window (transactions need a few slots to land).
pub const MIN_PHASE_WINDOW_SECS: u32 = 10;
/// Longest commit or reveal window (7 days).
pub const MAX_PHASE_WINDOW_SECS: u32 = 7 * 86_400;
/// Longest time between posting a job and its deadline (30 days).
pub const MAX_JOB_DURATION_CEILING_SECS: u32 = 30 * 86_400;
/// Lowest compute capability a GPU may declare (encoded major * 10 + minor).
pub const MIN_COMPUTE_CAPABILITY: u16 = 30;
/// Highest compute capability a GPU may declare.
pub const MAX_COMPUTE_CAPABILITY: u16 = 200;
/// Reputation every node starts with, in basis points of the neutral weight.
pub const INITIAL_REPUTATION_BPS: u16 = 10_000;
