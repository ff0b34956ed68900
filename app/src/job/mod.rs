//! `tessera job`: submit (from a spec file, `docs/job-spec.md`, or from flags for scripts),
//! follow, collect and close jobs. Printing is done here; the spec's checks are in
//! [`crate::spec`], the result's natural forms in [`result`].
pub mod result;
pub mod submit;

use std::path::PathBuf;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use clap::Subcommand;
use solana_signer::Signer;
use tessera_kernels::KernelId;
use tessera_sdk::chain::{fetch, list, Chain};
use tessera_sdk::tessera::state::{Game, Job, JobStatus, SlotState};
use tessera_sdk::{instructions as ix, pda};
use tessera_worker::fetch::input_root;
use tessera_worker::store::hex;

use crate::commands::{amounts, pubkey, send_with_token, SignerFn};
use crate::spec::units::Amounts;
pub use submit::SubmitArgs;

#[derive(Subcommand)]
pub enum JobCommand {
    /// Post a job described by a spec file (`tessera job template KERNEL` prints one), or by
    /// flags: shows the escrow it takes and asks before sending (--yes to skip).
    Submit(SubmitArgs),
    /// Print a commented job spec for a kernel: render, matmul_f32, matmul_i8, mlp_infer,
    /// train_step.
    Template { kernel: String },
    /// A job's state, slots and outcome.
    Status { job: String },
    /// Follow a job until it ends, with a progress bar.
    Watch {
        job: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 2)]
        every: u64,
    },
    /// Download the accepted result from a worker, verify its root, and write it in its natural
    /// form: a render as PNG (the tiles of several render jobs assembled), a matrix or logits
    /// as .npy, a trained model as a folder of .npy parameters and model.json.
    Result {
        /// The job, or every tile job of one render.
        #[arg(required = true)]
        jobs: Vec<String>,
        #[arg(long)]
        out: PathBuf,
        /// Write the result's bytes as they are (one job).
        #[arg(long)]
        raw: bool,
    },
    /// Cancel one of your jobs before anything is claimed (full refund).
    Cancel {
        nonce: u64,
        /// Your token account of the network's mint (receives the refund); default your
        /// wallet's associated token account.
        #[arg(long)]
        token_account: Option<String>,
    },
    /// Close one of your ended jobs: collect its refund and rent.
    Close {
        nonce: u64,
        #[arg(long)]
        token_account: Option<String>,
    },
    /// Jobs on the network (yours with --mine).
    List {
        #[arg(long)]
        mine: bool,
    },
    /// Print a file's input root and size: what a spec's `[input] root` and `size_bytes` (or
    /// `submit --input-root --input-size`) take for an input you host yourself.
    Root { file: PathBuf },
}

pub(crate) async fn job_at<C: Chain>(chain: &C, job: &str) -> anyhow::Result<(Pubkey, Job)> {
    let address = pubkey("job", job)?;
    let state = fetch::<Job, _>(chain, &address)
        .await?
        .with_context(|| format!("no job at {address} (closed, or on another cluster?)"))?;
    Ok((address, state))
}

/// Runs a `tessera job` command; `base_units` prints amounts in base units, not tokens.
pub async fn job<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: JobCommand,
    base_units: bool,
) -> anyhow::Result<()> {
    match command {
        JobCommand::Submit(args) => submit::submit(chain, signer, args, base_units).await,
        JobCommand::Template { kernel } => {
            let id = crate::commands::kernel_id(&kernel)?;
            print!(
                "{}",
                crate::spec::templates::template(KernelId::from_u8(id)?)
            );
            Ok(())
        }
        JobCommand::Status { job } => {
            let (address, state) = job_at(chain, &job).await?;
            let amounts = amounts(chain, base_units).await?;
            print!("{}", describe_job(&address, &state, &amounts));
            print!("{}", describe_dispute(chain, &address, &state).await?);
            Ok(())
        }
        JobCommand::Watch { job, every } => {
            let amounts = amounts(chain, base_units).await?;
            watch(chain, &job, every, &amounts).await
        }
        JobCommand::Root { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            println!("root {}\nsize {}", hex(&input_root(&bytes)), bytes.len());
            Ok(())
        }
        JobCommand::Result { jobs, out, raw } => result::result(chain, &jobs, &out, raw).await,
        JobCommand::Cancel {
            nonce,
            token_account,
        } => {
            send_with_token(chain, signer, token_account, "cancel_job", |me, token| {
                ix::cancel_job(me, nonce, token)
            })
            .await
        }
        JobCommand::Close {
            nonce,
            token_account,
        } => {
            send_with_token(chain, signer, token_account, "close_job", |me, token| {
                ix::close_job(me, nonce, token)
            })
            .await
        }
        JobCommand::List { mine } => {
            let me = if mine { Some(signer()?.pubkey()) } else { None };
            let jobs = list::<Job, _>(chain, &[]).await?;
            let amounts = amounts(chain, base_units).await?;
            println!(
                "{:<44} {:<11} {:>3} {:>12} {:<24}",
                "job", "kernel", "R", "reward", "status"
            );
            for (address, job) in jobs
                .iter()
                .filter(|(_, j)| me.is_none_or(|m| j.submitter == m))
            {
                println!(
                    "{:<44} {:<11} {:>3} {:>12} {:<24}",
                    address.to_string(),
                    KernelId::from_u8(job.kernel_id)
                        .map_or("?".to_string(), |k| k.name().to_string()),
                    job.replicas,
                    amounts.show(job.reward_per_replica),
                    status(job)
                );
            }
            Ok(())
        }
    }
}

/// A refereed job's dispute: each game's phase, moves and clocks (docs/disputes.md).
pub async fn describe_dispute<C: Chain>(
    chain: &C,
    address: &Pubkey,
    job: &Job,
) -> anyhow::Result<String> {
    let mut out = String::new();
    if job.dispute.challenge_until != 0 {
        let challengers: Vec<usize> = (job.challenger_start_index()..job.slots.len()).collect();
        let window = if job.is_open() {
            "open to challenges until"
        } else {
            "its challenge window closed at"
        };
        out.push_str(&format!(
            "  accepted root {} {window} {}; challengers' slots {challengers:?}\n",
            hex(&job.dispute.proposed_root),
            job.dispute.challenge_until
        ));
    }
    if !job.dispute.is_started() {
        return Ok(out);
    }
    let lost: Vec<usize> = (0..job.slots.len())
        .filter(|i| job.dispute.has_lost(*i))
        .collect();
    out.push_str(&format!(
        "  dispute since {}: games open until {}, {} in play, slots that lost a game {lost:?}\n",
        job.dispute.started_at, job.dispute.open_until, job.dispute.games_open
    ));
    // Every game still to play, and every game played (a slot that lost one is eliminated
    // from later pairings, but its games stay on record).
    for pair in tessera_sdk::game::game_pairs(job) {
        let key = pda::game(address, pair).0;
        let opened = job
            .dispute
            .opened(usize::from(pair[0]), usize::from(pair[1]));
        let line = match fetch::<Game, _>(chain, &key).await? {
            Some(g) => format!(
                "{:?}  moves {}/{}  clocks {} s/{} s left",
                g.phase, g.moves[0], g.moves[1], g.clocks[0], g.clocks[1]
            ),
            None if opened => "over (closed)".into(),
            None => "not opened".into(),
        };
        out.push_str(&format!(
            "  game slots {}–{} ({key}): {line}\n",
            pair[0], pair[1]
        ));
    }
    Ok(out)
}

pub(crate) fn status(job: &Job) -> String {
    match job.status {
        JobStatus::Open if job.dispute.challenge_until != 0 && job.dispute.games_open == 0 => {
            format!(
                "open (result accepted, challengeable until {})",
                job.dispute.challenge_until
            )
        }
        JobStatus::Open if job.dispute.is_started() => {
            format!("open (disputed: {} games in play)", job.dispute.games_open)
        }
        JobStatus::Open if job.escalated => "open (escalated)".into(),
        JobStatus::Open => "open".into(),
        JobStatus::Ended { reason, .. } => format!("{reason:?}"),
    }
}

pub fn describe_job(address: &Pubkey, job: &Job, amounts: &Amounts) -> String {
    let mut out = format!(
        "job {address}\n  submitter {}  nonce {}\n  kernel {} ({} work units)  replicas {} (+{} escalation)  reward {}\n  input {} ({} bytes, root {})\n  status {}  commit by {}  reveal by {}\n",
        job.submitter,
        job.nonce,
        KernelId::from_u8(job.kernel_id).map_or("?".to_string(), |k| k.name().to_string()),
        job.work_units,
        job.replicas,
        job.escalation_replicas,
        amounts.show(job.reward_per_replica),
        job.input.uri,
        job.input.size_bytes,
        hex(&job.input.hash),
        status(job),
        job.commit_deadline,
        job.reveal_deadline,
    );
    if let Some(root) = job.result_root {
        out.push_str(&format!("  accepted root {}\n", hex(&root)));
    }
    out.push_str(&format!(
        "  escalated {}\n  escrow left {}\n",
        job.escalated,
        amounts.show(job.escrow)
    ));
    if job.is_spot_check() {
        out.push_str(&format!(
            "  spot check: audit {:?} (p {:.2}%, {} auditors, fee {}, drawn from slot {})\n",
            job.audit,
            f64::from(job.audit_bps) / 100.0,
            job.audit_replicas,
            amounts.show(job.audit_fee),
            job.audit_slot
        ));
    }
    for (i, slot) in job.slots.iter().enumerate() {
        let revealed = match slot.state {
            SlotState::Revealed => hex(&slot.root),
            other => format!("{other:?}"),
        };
        out.push_str(&format!("  slot {i}: node {}  {revealed}\n", slot.node));
    }
    out
}

async fn watch<C: Chain>(
    chain: &C,
    job: &str,
    every: u64,
    amounts: &Amounts,
) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(4);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:20}] {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    loop {
        let (address, state) = job_at(chain, job).await?;
        let committed = state
            .slots
            .iter()
            .filter(|s| s.state >= SlotState::Committed)
            .count();
        let revealed = state
            .slots
            .iter()
            .filter(|s| s.state == SlotState::Revealed)
            .count();
        let stage = match state.status {
            JobStatus::Ended { .. } => 4,
            _ if revealed > 0 => 3,
            _ if committed > 0 => 2,
            _ if !state.slots.is_empty() => 1,
            _ => 0,
        };
        bar.set_position(stage);
        bar.set_message(format!(
            "{}  slots {} claimed, {committed} committed, {revealed} revealed",
            status(&state),
            state.slots.len()
        ));
        if stage == 4 {
            bar.finish();
            print!("{}", describe_job(&address, &state, amounts));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(every.max(1))).await;
    }
}
