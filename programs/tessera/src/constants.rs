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
/// Seed of the [`crate::state::Governance`] PDA; once the authority is handed over, this
/// address is the config's authority, and only executed proposals change the network.
pub const GOVERNANCE_SEED: &[u8] = b"governance";
/// Seed of the token account holding governance deposits and proposal deposits.
pub const GOV_VAULT_SEED: &[u8] = b"gov_vault";
/// Seed prefix of a [`crate::state::Voter`]: `[VOTER_SEED, owner]`.
pub const VOTER_SEED: &[u8] = b"voter";
/// Seed prefix of a [`crate::state::Proposal`]: `[PROPOSAL_SEED, id (u64 LE)]`.
pub const PROPOSAL_SEED: &[u8] = b"proposal";
/// Seed prefix of a [`crate::state::VoteRecord`]: `[VOTE_SEED, proposal, voter]`.
pub const VOTE_SEED: &[u8] = b"vote";
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
/// Kernel ids whose disputes the referee can play to the last step on chain (the kernels'
/// ids: `tessera_kernels::KernelId`).
pub const KERNEL_RENDER: u8 = 1;
pub const KERNEL_MATMUL_F32: u8 = 2;
pub const KERNEL_MATMUL_I8: u8 = 3;
pub const KERNEL_MLP_INFER: u8 = 4;
/// Kernels whose last step the referee opens against the job's input on chain.
pub const REFEREE_KERNELS: u32 = (1 << KERNEL_RENDER)
    | (1 << KERNEL_MATMUL_F32)
    | (1 << KERNEL_MATMUL_I8)
    | (1 << KERNEL_MLP_INFER);
/// Seed of a job's input buffer (`[INPUT_SEED, job]`): the input loaded on chain, proven
/// piece by piece, for a referee step that reads more of it than a transaction carries.
pub const INPUT_SEED: &[u8] = b"input";
/// Largest input a buffer holds: a render's largest scene.
pub const MAX_INPUT_BUFFER_BYTES: usize = tessera_step::render::MAX_SCENE_BYTES;
/// Seed of a dispute game's PDA (`[GAME_SEED, job, slot a, slot b]`).
pub const GAME_SEED: &[u8] = b"game";
/// Largest bond a game may ask of a player (1 SOL).
pub const MAX_GAME_BOND_LAMPORTS: u64 = 1_000_000_000;

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
/// Hard ceiling of replica slots per job (replicas plus escalation replicas), whatever
/// governance sets. Settling a job touches every slot's node in one instruction; with eight
/// slots the costliest settlement stays under 50,000 compute units (docs/compute-units.md).
pub const MAX_REPLICAS_CEILING: u8 = 8;
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
/// Longest expiry grace governance may set (30 days).
pub const MAX_EXPIRY_GRACE_SECS: u32 = 30 * 86_400;

/// Most replica slots one job can hold: its replicas plus its escalation replicas.
pub const MAX_SLOTS: usize = MAX_REPLICAS_CEILING as usize;
/// The reserved result root a worker commits and reveals when the job's input could not be
/// fetched, did not match its hash, or was not valid for the kernel.
pub const INPUT_UNAVAILABLE_ROOT: [u8; 32] = [0xff; 32];
/// During the priority window a node's chance to hold a claim ticket for a job is
/// `min(1, PRIORITY_OVERSUBSCRIPTION × slots × weight / sortition_weight)`: about three
/// eligible nodes per open slot when `sortition_weight` matches the network's total weight.
pub const PRIORITY_OVERSUBSCRIPTION: u64 = 3;
/// Domain separator of a job's sortition seed.
pub const JOB_SEED_DOMAIN: &[u8] = b"tessera:job-seed:v1";
/// Domain separator of the seed of a job's escalation round.
pub const ESCALATION_SEED_DOMAIN: &[u8] = b"tessera:escalation-seed:v1";
/// Domain separator of a spot-check job's audit draw.
pub const AUDIT_DRAW_DOMAIN: &[u8] = b"tessera:audit-draw:v1";
/// Domain separator of the seed of a spot-check job's audit round.
pub const AUDIT_SEED_DOMAIN: &[u8] = b"tessera:audit-seed:v1";
/// The audit of a spot-check job is drawn from the hash of the first slot at least this many
/// slots after the worker's commit: a hash nobody knew when the worker claimed or committed.
pub const AUDIT_DELAY_SLOTS: u64 = 2;
/// Entries the SlotHashes sysvar holds; an audit slot older than its oldest entry forces
/// the audit (waiting must not let a worker escape it).
pub const SLOT_HASHES_MAX_ENTRIES: u64 = 512;
/// Safety margin of the spot-check deterrence rule, in basis points (20,000 = 2×): the
/// expected slash of a cheat must be at least twice what an unaudited cheat earns,
/// `audit_bps × slash_bps × min_stake ≥ M × (10,000 − audit_bps) × max_audited_reward`.
pub const SPOT_CHECK_MARGIN_BPS: u64 = 20_000;
/// Domain separator of a node's claim ticket.
pub const TICKET_DOMAIN: &[u8] = b"tessera:ticket:v1";

/// Reputation evidence is kept in thousandths of an observation.
pub const EVIDENCE_UNIT: u32 = 1_000;
/// Each settlement keeps `EVIDENCE_DECAY_NUM / EVIDENCE_DECAY_DEN` of the old evidence.
pub const EVIDENCE_DECAY_NUM: u32 = 15;
/// See [`EVIDENCE_DECAY_NUM`].
pub const EVIDENCE_DECAY_DEN: u32 = 16;

/// Longest proposal title, in bytes.
pub const MAX_PROPOSAL_TITLE_LEN: usize = 80;
/// Most node accounts one vote may count (each adds its operator stake).
pub const MAX_VOTE_NODES: usize = 6;
/// Shortest voting period governance may set (tests and local networks use short ones).
pub const MIN_VOTING_PERIOD_SECS: u32 = 10;
/// Longest voting period, timelock or execution window governance may set (30 days).
pub const MAX_GOVERNANCE_WINDOW_SECS: u32 = 30 * 86_400;
/// Least share of the yes + no votes a proposal needs to pass (a strict majority at least).
pub const MIN_PASS_THRESHOLD_BPS: u16 = 5_000;
