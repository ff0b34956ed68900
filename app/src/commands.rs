//! Commands for people, against any cluster (`--url`, `--keypair`, like the Solana CLI): jobs
//! for submitters, nodes for operators, network statistics. Every command goes through the
//! SDK's `Chain` over RPC.
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::{merkle, KernelId};
use tessera_sdk::chain::{fetch, list, Chain};
use tessera_sdk::tessera::instructions::{PostJobArgs, RegisterNodeArgs, UpdateNodeArgs};
use tessera_sdk::tessera::state::{
    Config as NetworkConfig, Game, HardwareKind, HardwareProfile, InputRef, Job, JobStatus, Node,
    Requirements, SlotState,
};
use tessera_sdk::{instructions as ix, pda, RpcChain};
use tessera_worker::fetch::input_root;
use tessera_worker::store::{hex, parse_hex32};

/// Where to connect and who signs.
#[derive(Args, Clone, Debug)]
pub struct Connection {
    /// JSON-RPC URL of the cluster.
    #[arg(
        long,
        short = 'u',
        env = "TESSERA_URL",
        default_value = "http://127.0.0.1:8899",
        global = true
    )]
    pub url: String,
    /// Keypair file (Solana CLI format); default ~/.config/solana/id.json.
    #[arg(long, short = 'k', env = "TESSERA_KEYPAIR", global = true)]
    pub keypair: Option<PathBuf>,
}

impl Connection {
    pub fn chain(&self) -> RpcChain {
        RpcChain::new(self.url.clone())
    }

    pub fn keypair_path(&self) -> PathBuf {
        self.keypair.clone().unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".config/solana/id.json")
        })
    }

    pub fn signer(&self) -> anyhow::Result<Keypair> {
        let path = self.keypair_path();
        solana_keypair::read_keypair_file(&path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the keypair {}: {e} (pass --keypair or create one with `solana-keygen new`)",
                path.display()
            )
        })
    }
}

#[derive(Subcommand)]
pub enum JobCommand {
    /// Post a job: escrows (replicas + escalation replicas) × reward; with --spot-check, one
    /// replica plus the audit reserve and the audit fee.
    Submit(SubmitArgs),
    /// A job's state, slots and outcome.
    Status { job: String },
    /// Follow a job until it ends, with a progress bar.
    Watch {
        job: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 2)]
        every: u64,
    },
    /// Download the accepted result from a worker, verify its root, write it to a file.
    Result {
        job: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Cancel one of your jobs before anything is claimed (full refund).
    Cancel {
        nonce: u64,
        /// Your token account of the network's mint (receives the refund).
        #[arg(long)]
        token_account: String,
    },
    /// Close one of your ended jobs: collect its refund and rent.
    Close {
        nonce: u64,
        #[arg(long)]
        token_account: String,
    },
    /// Jobs on the network (yours with --mine).
    List {
        #[arg(long)]
        mine: bool,
    },
    /// Print a file's input root and size: what `submit --input-root --input-size` take for an
    /// input you host yourself.
    Root { file: PathBuf },
}

#[derive(Args)]
pub struct SubmitArgs {
    /// Kernel: render, matmul_f32, matmul_i8, mlp_infer, train_step (or its id).
    #[arg(long)]
    pub kernel: String,
    /// Kernel params, hex (their layout is documented in workers/kernels/src/kernels/).
    #[arg(long)]
    pub params_hex: String,
    /// The input: a local file (hashed and sized here, referenced as file://) or a URI.
    #[arg(long)]
    pub input: String,
    /// Root of a URI input (hex; `tessera job root FILE` prints it): the tree of
    /// `tessera_step::tree`, which lets a dispute open any one operand. Computed for a local
    /// file.
    #[arg(long)]
    pub input_root: Option<String>,
    /// Size of a URI input in bytes; computed for a local file.
    #[arg(long)]
    pub input_size: Option<u64>,
    #[arg(long, default_value_t = 3)]
    pub replicas: u8,
    /// Spot-check mode: one replica, audited with the network's probability (`audit_bps`);
    /// the submitter prepays the expected audit cost. Needs `--replicas 1`.
    #[arg(long)]
    pub spot_check: bool,
    /// Reward per replica, in token base units.
    #[arg(long)]
    pub reward: u64,
    /// Seconds from now to the deadline.
    #[arg(long, default_value_t = 3_600)]
    pub deadline_secs: i64,
    /// Nonce (default: the current unix time in milliseconds).
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Only GPU nodes with at least this much VRAM (MiB) may claim.
    #[arg(long)]
    pub gpu_min_vram: Option<u32>,
    /// Allowed region codes, comma-separated (default: anywhere).
    #[arg(long)]
    pub regions: Option<String>,
    /// Your token account of the network's mint (pays the escrow).
    #[arg(long)]
    pub token_account: String,
}

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Register a node.
    Register(NodeArgs),
    /// Change a node's profile, price, endpoint or whether it accepts jobs.
    Update {
        #[command(flatten)]
        node: NodeArgs,
        /// Stop taking new jobs.
        #[arg(long)]
        pause: bool,
    },
    /// Stake tokens on a node.
    Stake {
        #[arg(long, default_value_t = 0)]
        index: u16,
        amount: u64,
        #[arg(long)]
        token_account: String,
    },
    /// Move stake into cooldown.
    Unstake {
        #[arg(long, default_value_t = 0)]
        index: u16,
        amount: u64,
    },
    /// Withdraw cooled-down stake (or, with --earnings, settled earnings).
    Withdraw {
        #[arg(long, default_value_t = 0)]
        index: u16,
        amount: u64,
        #[arg(long)]
        token_account: String,
        #[arg(long)]
        earnings: bool,
    },
    /// One node (yours by default).
    Show {
        /// Node address (default: your node at --index).
        node: Option<String>,
        #[arg(long, default_value_t = 0)]
        index: u16,
    },
    /// Every node.
    List,
}

#[derive(Args)]
pub struct NodeArgs {
    #[arg(long, default_value_t = 0)]
    pub index: u16,
    /// GPU model (omit for a CPU-only node).
    #[arg(long)]
    pub gpu_model: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub vram_mib: u32,
    /// Compute capability × 10, e.g. 90.
    #[arg(long, default_value_t = 0)]
    pub compute_capability: u16,
    #[arg(long, default_value_t = 1)]
    pub cpu_cores: u16,
    #[arg(long, default_value_t = 0)]
    pub region: u8,
    #[arg(long, default_value_t = 1)]
    pub min_price_per_unit: u64,
    /// Where the node serves results.
    #[arg(long)]
    pub endpoint: String,
}

impl NodeArgs {
    fn hardware(&self) -> HardwareProfile {
        match &self.gpu_model {
            Some(model) => HardwareProfile {
                kind: HardwareKind::Gpu,
                gpu_model: model.clone(),
                vram_mib: self.vram_mib,
                compute_capability: self.compute_capability,
                cpu_cores: self.cpu_cores,
            },
            None => HardwareProfile {
                kind: HardwareKind::CpuOnly,
                gpu_model: String::new(),
                vram_mib: 0,
                compute_capability: 0,
                cpu_cores: self.cpu_cores,
            },
        }
    }
}

pub(crate) fn pubkey(what: &str, s: &str) -> anyhow::Result<Pubkey> {
    Pubkey::from_str(s).with_context(|| format!("{what} `{s}` is not a base58 address"))
}

pub(crate) fn kernel_id(s: &str) -> anyhow::Result<u8> {
    if let Ok(id) = s.parse::<u8>() {
        return Ok(KernelId::from_u8(id)? as u8);
    }
    KernelId::ALL
        .into_iter()
        .find(|k| k.name() == s)
        .map(|k| k as u8)
        .with_context(|| {
            format!("unknown kernel `{s}`: render, matmul_f32, matmul_i8, mlp_infer, train_step")
        })
}

fn from_hex(s: &str) -> anyhow::Result<Vec<u8>> {
    let s = s.trim_start_matches("0x");
    if !s.len().is_multiple_of(2) {
        bail!("hex `{s}` has an odd number of digits");
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).with_context(|| format!("`{s}` is not hex")))
        .collect()
}

/// The program's error `code` by name and message, from the IDL (`idl/tessera.json`).
pub fn program_error(code: u32) -> Option<(String, String)> {
    static IDL: &str = include_str!("../../idl/tessera.json");
    let idl: serde_json::Value = serde_json::from_str(IDL).ok()?;
    idl["errors"].as_array()?.iter().find_map(|e| {
        (e["code"].as_u64()? == u64::from(code)).then(|| {
            (
                e["name"].as_str().unwrap_or("?").to_string(),
                e["msg"].as_str().unwrap_or("").to_string(),
            )
        })
    })
}

pub(crate) async fn send<C: Chain>(
    chain: &C,
    signer: &Keypair,
    instruction: anchor_lang::solana_program::instruction::Instruction,
    what: &str,
) -> anyhow::Result<()> {
    let signature = match chain.send(&[instruction], signer, &[]).await {
        Ok(signature) => signature,
        Err(e) => {
            let named = e.custom_code().and_then(program_error);
            let err = anyhow::Error::new(e).context(format!("{what} failed"));
            return Err(match named {
                Some((name, msg)) => {
                    err.context(format!("{what} refused by the program: {name}: {msg}"))
                }
                None => err,
            });
        }
    };
    println!("{what}: {signature}");
    Ok(())
}

pub(crate) async fn network<C: Chain>(chain: &C) -> anyhow::Result<NetworkConfig> {
    fetch::<NetworkConfig, _>(chain, &pda::config().0)
        .await?
        .context("the Tessera network is not initialized on this cluster (run `tessera localnet` or the migration)")
}

async fn job_at<C: Chain>(chain: &C, job: &str) -> anyhow::Result<(Pubkey, Job)> {
    let address = pubkey("job", job)?;
    let state = fetch::<Job, _>(chain, &address)
        .await?
        .with_context(|| format!("no job at {address} (closed, or on another cluster?)"))?;
    Ok((address, state))
}

/// Who signs: read lazily, so commands that only read never need a keypair.
pub type SignerFn<'a> = &'a (dyn Fn() -> anyhow::Result<Keypair> + Sync);

pub async fn job<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: JobCommand,
) -> anyhow::Result<()> {
    match command {
        JobCommand::Submit(args) => submit(signer, chain, args).await,
        JobCommand::Status { job } => {
            let (address, state) = job_at(chain, &job).await?;
            print!("{}", describe_job(&address, &state));
            print!("{}", describe_dispute(chain, &address, &state).await?);
            Ok(())
        }
        JobCommand::Watch { job, every } => watch(chain, &job, every).await,
        JobCommand::Root { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            println!("root {}\nsize {}", hex(&input_root(&bytes)), bytes.len());
            Ok(())
        }
        JobCommand::Result { job, out } => result(chain, &job, &out).await,
        JobCommand::Cancel {
            nonce,
            token_account,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                &chain,
                &signer,
                ix::cancel_job(&signer.pubkey(), nonce, &token),
                "cancel_job",
            )
            .await
        }
        JobCommand::Close {
            nonce,
            token_account,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                &chain,
                &signer,
                ix::close_job(&signer.pubkey(), nonce, &token),
                "close_job",
            )
            .await
        }
        JobCommand::List { mine } => {
            let me = if mine { Some(signer()?.pubkey()) } else { None };
            let jobs = list::<Job, _>(chain, &[]).await?;
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
                    job.reward_per_replica,
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
    let pairs = (0..job.slots.len())
        .flat_map(|b| (0..b).map(move |a| (a, b)))
        .filter(|(a, b)| job.disputes(*a, *b) || job.dispute.opened(*a, *b))
        .map(|(a, b)| [a as u8, b as u8]);
    for pair in pairs {
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

fn status(job: &Job) -> String {
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

pub fn describe_job(address: &Pubkey, job: &Job) -> String {
    let mut out = format!(
        "job {address}\n  submitter {}  nonce {}\n  kernel {} ({} work units)  replicas {} (+{} escalation)  reward {}\n  input {} ({} bytes, root {})\n  status {}  commit by {}  reveal by {}\n",
        job.submitter,
        job.nonce,
        KernelId::from_u8(job.kernel_id).map_or("?".to_string(), |k| k.name().to_string()),
        job.work_units,
        job.replicas,
        job.escalation_replicas,
        job.reward_per_replica,
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
        job.escalated, job.escrow
    ));
    if job.is_spot_check() {
        out.push_str(&format!(
            "  spot check: audit {:?} (p {:.2}%, {} auditors, fee {}, drawn from slot {})\n",
            job.audit,
            f64::from(job.audit_bps) / 100.0,
            job.audit_replicas,
            job.audit_fee,
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

async fn submit<C: Chain>(signer: SignerFn<'_>, chain: &C, args: SubmitArgs) -> anyhow::Result<()> {
    let signer = signer()?;
    let network = network(chain).await?;
    let kernel_id = kernel_id(&args.kernel)?;
    let kernel_params = from_hex(&args.params_hex)?;
    tessera_kernels::Job::decode(kernel_id, &kernel_params)
        .with_context(|| format!("the params do not suit kernel {}", args.kernel))?;
    let job_spec = tessera_kernels::Job::decode(kernel_id, &kernel_params)?;
    let (uri, hash, size) = if Path::new(&args.input).exists() {
        let bytes =
            std::fs::read(&args.input).with_context(|| format!("cannot read {}", args.input))?;
        let absolute = std::fs::canonicalize(&args.input)?;
        (
            format!("file://{}", absolute.display()),
            input_root(&bytes),
            bytes.len() as u64,
        )
    } else {
        let hash = args
            .input_root
            .as_deref()
            .and_then(parse_hex32)
            .with_context(|| {
                format!(
                    "{} is not a local file: give --input-root (64 hex digits; `tessera job root FILE` prints it) and --input-size",
                    args.input
                )
            })?;
        let size = args.input_size.context("a URI input needs --input-size")?;
        (args.input.clone(), hash, size)
    };
    let region_mask = match &args.regions {
        None => u32::MAX,
        Some(list) => list.split(',').try_fold(0u32, |mask, r| {
            let r: u8 = r
                .trim()
                .parse()
                .with_context(|| format!("region `{r}` is not a number"))?;
            anyhow::ensure!(r < 32, "region {r} must be below 32");
            Ok::<_, anyhow::Error>(mask | 1 << r)
        })?,
    };
    let now = chain.clock().await?.unix_timestamp;
    let nonce = args.nonce.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    });
    let token = pubkey("token account", &args.token_account)?;
    // The program refuses a spot-check job the network does not allow (disabled, more than
    // one replica, a reward above `max_audited_reward`) with its own message.
    let p = &network.params;
    let (audit_replicas, audit_fee) = if args.spot_check {
        (p.audit_replicas, p.audit_fee(args.reward)?)
    } else {
        (0, 0)
    };
    let escrow = Job::full_escrow(
        args.replicas,
        audit_replicas,
        p.escalation_replicas,
        args.reward,
        audit_fee,
    )?;
    let post = PostJobArgs {
        nonce,
        kernel_id,
        input: InputRef {
            hash,
            uri,
            size_bytes: size,
        },
        kernel_params,
        work_units: job_spec.work_units().max(1),
        replicas: args.replicas,
        reward_per_replica: args.reward,
        deadline: now + args.deadline_secs,
        requirements: Requirements {
            gpu_required: args.gpu_min_vram.is_some(),
            min_vram_mib: args.gpu_min_vram.unwrap_or(0),
            region_mask,
        },
        spot_check: args.spot_check,
    };
    send(
        chain,
        &signer,
        ix::post_job(&signer.pubkey(), &token, post),
        "post_job",
    )
    .await?;
    println!(
        "job {} (nonce {nonce}); escrowed {escrow}",
        pda::job(&signer.pubkey(), nonce).0
    );
    Ok(())
}

async fn watch<C: Chain>(chain: &C, job: &str, every: u64) -> anyhow::Result<()> {
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
            print!("{}", describe_job(&address, &state));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(every.max(1))).await;
    }
}

async fn result<C: Chain>(chain: &C, job: &str, out: &Path) -> anyhow::Result<()> {
    let (address, state) = job_at(chain, job).await?;
    let root = state
        .result_root
        .with_context(|| format!("job {address} has no accepted result ({})", status(&state)))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut errors = Vec::new();
    for slot in state
        .slots
        .iter()
        .filter(|s| s.state == SlotState::Revealed && s.root == root)
    {
        let Some(node) = fetch::<Node, _>(chain, &slot.node).await? else {
            continue;
        };
        let url = format!(
            "{}/v1/results/{}",
            node.endpoint.trim_end_matches('/'),
            hex(&root)
        );
        match client.get(&url).send().await {
            Ok(response) if response.status().is_success() => {
                let bytes = response.bytes().await?;
                if merkle::root(&bytes) != root {
                    errors.push(format!("{url}: the bytes do not match the accepted root"));
                    continue;
                }
                std::fs::write(out, &bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                println!(
                    "wrote {} ({} bytes, root {} verified) from {url}",
                    out.display(),
                    bytes.len(),
                    hex(&root)
                );
                return Ok(());
            }
            Ok(response) => errors.push(format!("{url}: HTTP {}", response.status())),
            Err(e) => errors.push(format!("{url}: {e}")),
        }
    }
    bail!(
        "no winning worker served the result:\n  {}",
        errors.join("\n  ")
    )
}

pub async fn node<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: NodeCommand,
) -> anyhow::Result<()> {
    match command {
        NodeCommand::Register(args) => {
            let signer = signer()?;
            let register = RegisterNodeArgs {
                index: args.index,
                hardware: args.hardware(),
                region: args.region,
                min_price_per_unit: args.min_price_per_unit,
                endpoint: args.endpoint.clone(),
            };
            send(
                &chain,
                &signer,
                ix::register_node(&signer.pubkey(), register),
                "register_node",
            )
            .await?;
            println!("node {}", pda::node(&signer.pubkey(), args.index).0);
            Ok(())
        }
        NodeCommand::Update { node: args, pause } => {
            let signer = signer()?;
            let update = UpdateNodeArgs {
                hardware: args.hardware(),
                region: args.region,
                min_price_per_unit: args.min_price_per_unit,
                endpoint: args.endpoint.clone(),
                accepting_jobs: !pause,
            };
            send(
                &chain,
                &signer,
                ix::update_node(&signer.pubkey(), args.index, update),
                "update_node",
            )
            .await
        }
        NodeCommand::Stake {
            index,
            amount,
            token_account,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            send(
                &chain,
                &signer,
                ix::stake(&signer.pubkey(), index, &token, amount),
                "stake",
            )
            .await
        }
        NodeCommand::Unstake { index, amount } => {
            let signer = signer()?;
            send(
                &chain,
                &signer,
                ix::request_unstake(&signer.pubkey(), index, amount),
                "request_unstake",
            )
            .await
        }
        NodeCommand::Withdraw {
            index,
            amount,
            token_account,
            earnings,
        } => {
            let signer = signer()?;
            let token = pubkey("token account", &token_account)?;
            let instruction = if earnings {
                ix::withdraw_earnings(&signer.pubkey(), index, &token, amount)
            } else {
                ix::withdraw_stake(&signer.pubkey(), index, &token, amount)
            };
            send(
                &chain,
                &signer,
                instruction,
                if earnings {
                    "withdraw_earnings"
                } else {
                    "withdraw_stake"
                },
            )
            .await
        }
        NodeCommand::Show { node, index } => {
            let address = match node {
                Some(n) => pubkey("node", &n)?,
                None => pda::node(&signer()?.pubkey(), index).0,
            };
            let n = fetch::<Node, _>(chain, &address)
                .await?
                .with_context(|| format!("no node at {address}"))?;
            println!("{}", describe_node(&address, &n));
            Ok(())
        }
        NodeCommand::List => {
            for (address, n) in list::<Node, _>(chain, &[]).await? {
                println!("{}", describe_node(&address, &n));
            }
            Ok(())
        }
    }
}

fn describe_node(address: &Pubkey, n: &Node) -> String {
    let hardware = match n.hardware.kind {
        HardwareKind::Gpu => format!(
            "{} {} MiB cc {}",
            n.hardware.gpu_model, n.hardware.vram_mib, n.hardware.compute_capability
        ),
        HardwareKind::CpuOnly => format!("CPU {} cores", n.hardware.cpu_cores),
    };
    format!(
        "node {address} (operator {}, index {})\n  {hardware}, region {}, min price {}/unit, {}\n  stake {}  cooldown {}  earnings {}  open slots {}\n  reputation {:.1}%: {} agreed, {} disagreed, {} no-shows; earned {} slashed {}",
        n.operator,
        n.index,
        n.region,
        n.min_price_per_unit,
        if n.accepting_jobs { "accepting jobs" } else { "paused" },
        n.stake,
        n.unstaking,
        n.earnings,
        n.open_assignments,
        f64::from(n.reputation.score_bps) / 100.0,
        n.reputation.agreed,
        n.reputation.disagreed,
        n.reputation.no_shows,
        n.reputation.earned_total,
        n.reputation.slashed_total,
    )
}

/// `network stats`: open jobs, active nodes, stake, recent settlements, median price per unit.
pub async fn stats<C: Chain>(chain: &C) -> anyhow::Result<()> {
    let network = network(chain).await?;
    let jobs = list::<Job, _>(chain, &[]).await?;
    let nodes = list::<Node, _>(chain, &[]).await?;
    let open = jobs
        .iter()
        .filter(|(_, j)| j.status == JobStatus::Open)
        .count();
    let mut ended: Vec<&Job> = jobs
        .iter()
        .map(|(_, j)| j)
        .filter(|j| j.status != JobStatus::Open)
        .collect();
    ended.sort_by_key(|j| match j.status {
        JobStatus::Ended { at, .. } => std::cmp::Reverse(at),
        JobStatus::Open => std::cmp::Reverse(i64::MIN),
    });
    let active = nodes
        .iter()
        .filter(|(_, n)| n.accepting_jobs && n.stake >= network.params.min_stake)
        .count();
    let stake: u128 = nodes.iter().map(|(_, n)| u128::from(n.stake)).sum();
    let mut prices: Vec<u64> = jobs
        .iter()
        .map(|(_, j)| j.reward_per_replica / j.work_units.max(1))
        .collect();
    prices.sort_unstable();
    let median = prices.get(prices.len() / 2).copied().unwrap_or(0);
    println!("network {} (mint {})", pda::config().0, network.mint);
    println!("  open jobs            {open}");
    println!("  nodes                {} ({active} active)", nodes.len());
    println!("  stake                {stake}");
    println!("  median price / unit  {median}");
    println!("  recent settlements (job accounts not yet closed):");
    for job in ended.iter().take(10) {
        println!("    nonce {:<14} {}", job.nonce, status(job));
    }
    Ok(())
}

/// `config show`: the network's parameters and addresses.
pub async fn config_show<C: Chain>(chain: &C, conn: &Connection) -> anyhow::Result<()> {
    let network = network(chain).await?;
    println!("cluster      {}", conn.url);
    println!("keypair      {}", conn.keypair_path().display());
    println!("program      {}", tessera_sdk::tessera::ID);
    println!("config       {}", pda::config().0);
    let governed = network.authority == pda::governance().0;
    println!(
        "authority    {}{}",
        network.authority,
        if governed {
            " (governance: changes only through executed proposals)"
        } else {
            ""
        }
    );
    println!("mint         {}", network.mint);
    println!("stake vault  {}", network.stake_vault);
    println!("escrow vault {}", network.escrow_vault);
    println!("treasury     {}", network.treasury);
    println!(
        "new jobs     {}",
        if network.paused {
            "paused by governance"
        } else {
            "accepted"
        }
    );
    println!("proposals    {}", network.proposal_count);
    println!("params       {:#?}", network.params);
    Ok(())
}
