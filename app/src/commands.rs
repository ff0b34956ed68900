//! Commands for people, against any cluster (`--url`, `--keypair`, like the Solana CLI): nodes
//! for operators, network statistics, the CLI's configuration, and the helpers every command
//! group shares (jobs are in [`crate::job`], governance in [`crate::gov`]). Every command goes
//! through the SDK's `Chain` over RPC.
use std::path::PathBuf;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::KernelId;
use tessera_sdk::chain::{fetch, list, Chain};
use tessera_sdk::tessera::instructions::{RegisterNodeArgs, UpdateNodeArgs};
use tessera_sdk::tessera::state::{
    Config as NetworkConfig, HardwareKind, HardwareProfile, Job, JobStatus, Node,
};
use tessera_sdk::{instructions as ix, pda, token, RpcChain};

use crate::cluster::{self, Resolved};
use crate::spec::units::Amounts;

/// Where to connect and who signs.
#[derive(Args, Clone, Debug, Default)]
pub struct Connection {
    /// JSON-RPC URL of the cluster; default from `tessera config set url URL`, else the Solana
    /// CLI's config, else the local validator (http://127.0.0.1:8899).
    #[arg(long, short = 'u', env = "TESSERA_URL", global = true)]
    pub url: Option<String>,
    /// Keypair file (Solana CLI format); default from `tessera config set keypair FILE`, else the
    /// Solana CLI's config, else ~/.config/solana/id.json.
    #[arg(long, short = 'k', env = "TESSERA_KEYPAIR", global = true)]
    pub keypair: Option<PathBuf>,
    /// Print token amounts in base units instead of tokens.
    #[arg(long, global = true)]
    pub base_units: bool,
}

impl Connection {
    /// The cluster and keypair to use, and where each came from.
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        cluster::resolve(self.url.as_deref(), self.keypair.as_deref())
    }

    /// The cluster's URL; a config file that does not parse is an error, never skipped.
    pub fn url(&self) -> anyhow::Result<String> {
        Ok(self.resolve()?.url.value)
    }

    pub fn chain(&self) -> anyhow::Result<RpcChain> {
        Ok(RpcChain::new(self.url()?))
    }

    pub fn keypair_path(&self) -> anyhow::Result<PathBuf> {
        Ok(self.resolve()?.keypair.value)
    }

    pub fn signer(&self) -> anyhow::Result<Keypair> {
        let path = self.keypair_path()?;
        solana_keypair::read_keypair_file(&path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the keypair {}: {e} (pass --keypair, `tessera config set keypair FILE`, or create one with `tessera keygen --out FILE`)",
                path.display()
            )
        })
    }
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
        /// In token base units.
        amount: u64,
        /// Pays the stake; default your wallet's associated token account.
        #[arg(long)]
        token_account: Option<String>,
    },
    /// Move stake into cooldown.
    Unstake {
        #[arg(long, default_value_t = 0)]
        index: u16,
        /// In token base units.
        amount: u64,
    },
    /// Withdraw cooled-down stake (or, with --earnings, settled earnings).
    Withdraw {
        #[arg(long, default_value_t = 0)]
        index: u16,
        /// In token base units.
        amount: u64,
        /// Receives it; default your wallet's associated token account.
        #[arg(long)]
        token_account: Option<String>,
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

pub(crate) fn from_hex(s: &str) -> anyhow::Result<Vec<u8>> {
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

/// Decimals of `mint`.
pub(crate) async fn mint_decimals<C: Chain>(chain: &C, mint: &Pubkey) -> anyhow::Result<u8> {
    let account = chain
        .account(mint)
        .await?
        .with_context(|| format!("the network's mint {mint} does not exist on this cluster"))?;
    Ok(token::decode_mint(&account.data)?.decimals)
}

/// How to print amounts on this network: its mint's decimals, or base units when asked.
pub async fn amounts<C: Chain>(chain: &C, base_units: bool) -> anyhow::Result<Amounts> {
    let network = network(chain).await?;
    Ok(Amounts {
        decimals: mint_decimals(chain, &network.mint).await?,
        base_units,
    })
}

/// The token account given, else the signer's associated token account of the network's
/// mint, created (and said so) if it does not exist yet.
pub(crate) async fn token_account_or_default<C: Chain>(
    chain: &C,
    signer: &Keypair,
    given: Option<&str>,
) -> anyhow::Result<Pubkey> {
    if let Some(given) = given {
        return pubkey("token account", given);
    }
    associated_token_account(chain, signer, &network(chain).await?.mint).await
}

/// The signer's associated token account of `mint`, created (and said so) if missing.
pub(crate) async fn associated_token_account<C: Chain>(
    chain: &C,
    signer: &Keypair,
    mint: &Pubkey,
) -> anyhow::Result<Pubkey> {
    let mint = *mint;
    let address = token::associated_token_address(&signer.pubkey(), &mint);
    if chain.account(&address).await?.is_none() {
        println!(
            "creating your associated token account {address} of the network's mint {mint} (its rent is paid by {})",
            signer.pubkey()
        );
        send(
            chain,
            signer,
            token::create_associated_token_account(&signer.pubkey(), &signer.pubkey(), &mint),
            "create associated token account",
        )
        .await?;
    }
    Ok(address)
}

/// Signs and sends the instruction `build` makes from the signer's address and its token
/// account: the one `given`, else its associated token account (see
/// [`token_account_or_default`]).
pub(crate) async fn send_with_token<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    given: Option<String>,
    what: &str,
    build: impl FnOnce(&Pubkey, &Pubkey) -> anchor_lang::solana_program::instruction::Instruction,
) -> anyhow::Result<()> {
    let signer = signer()?;
    let token = token_account_or_default(chain, &signer, given.as_deref()).await?;
    send(chain, &signer, build(&signer.pubkey(), &token), what).await
}

/// Who signs: read lazily, so commands that only read never need a keypair.
pub type SignerFn<'a> = &'a (dyn Fn() -> anyhow::Result<Keypair> + Sync);

/// Runs a `tessera node` command; `base_units` prints amounts in base units, not tokens.
pub async fn node<C: Chain>(
    chain: &C,
    signer: SignerFn<'_>,
    command: NodeCommand,
    base_units: bool,
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
            send_with_token(chain, signer, token_account, "stake", |me, token| {
                ix::stake(me, index, token, amount)
            })
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
            let what = if earnings {
                "withdraw_earnings"
            } else {
                "withdraw_stake"
            };
            send_with_token(chain, signer, token_account, what, |me, token| {
                if earnings {
                    ix::withdraw_earnings(me, index, token, amount)
                } else {
                    ix::withdraw_stake(me, index, token, amount)
                }
            })
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
            println!(
                "{}",
                describe_node(&address, &n, &amounts(chain, base_units).await?)
            );
            Ok(())
        }
        NodeCommand::List => {
            let amounts = amounts(chain, base_units).await?;
            for (address, n) in list::<Node, _>(chain, &[]).await? {
                println!("{}", describe_node(&address, &n, &amounts));
            }
            Ok(())
        }
    }
}

pub fn describe_node(address: &Pubkey, n: &Node, a: &Amounts) -> String {
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
        a.show(n.min_price_per_unit),
        if n.accepting_jobs { "accepting jobs" } else { "paused" },
        a.show(n.stake),
        a.show(n.unstaking),
        a.show(n.earnings),
        n.open_assignments,
        f64::from(n.reputation.score_bps) / 100.0,
        n.reputation.agreed,
        n.reputation.disagreed,
        n.reputation.no_shows,
        a.show(n.reputation.earned_total),
        a.show(n.reputation.slashed_total),
    )
}

/// `network stats`: open jobs, active nodes, stake, recent settlements, median price per unit.
pub async fn stats<C: Chain>(chain: &C, base_units: bool) -> anyhow::Result<()> {
    let network = network(chain).await?;
    let a = amounts(chain, base_units).await?;
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
    let stake: u64 = nodes
        .iter()
        .map(|(_, n)| n.stake)
        .fold(0, u64::saturating_add);
    let mut prices: Vec<u64> = jobs
        .iter()
        .map(|(_, j)| j.reward_per_replica / j.work_units.max(1))
        .collect();
    prices.sort_unstable();
    let median = prices.get(prices.len() / 2).copied().unwrap_or(0);
    println!("network {} (mint {})", pda::config().0, network.mint);
    println!("  open jobs            {open}");
    println!("  nodes                {} ({active} active)", nodes.len());
    println!("  stake                {}", a.show(stake));
    println!("  median price / unit  {}", a.show(median));
    println!("  recent settlements (job accounts not yet closed):");
    for job in ended.iter().take(10) {
        println!("    nonce {:<14} {}", job.nonce, crate::job::status(job));
    }
    Ok(())
}

/// `config show`: the network's parameters and addresses.
pub async fn config_show<C: Chain>(chain: &C, conn: &Connection) -> anyhow::Result<()> {
    let resolved = conn.resolve()?;
    println!(
        "cluster      {}  (from {})",
        resolved.url.value, resolved.url.from
    );
    println!(
        "keypair      {}  (from {})",
        resolved.keypair.value.display(),
        resolved.keypair.from
    );
    let network = network(chain).await?;
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

/// `config set KEY VALUE` / `config unset KEY`: the CLI's own defaults (`url`, `keypair`).
pub fn config_set(key: &str, value: Option<&str>) -> anyhow::Result<()> {
    let path = cluster::cli_config_path();
    let mut config = cluster::CliConfig::read(&path)?;
    match key {
        "url" => config.url = value.map(str::to_string),
        "keypair" => {
            config.keypair = match value {
                Some(v) => {
                    let path = std::path::absolute(v)
                        .with_context(|| format!("cannot resolve the path {v}"))?;
                    if !path.is_file() {
                        bail!("keypair {} does not exist", path.display());
                    }
                    Some(path)
                }
                None => None,
            }
        }
        other => bail!("unknown setting `{other}`: url, keypair"),
    }
    config.write(&path)?;
    match value {
        Some(_) => println!("{key} saved in {}", path.display()),
        None => println!("{key} removed from {}", path.display()),
    }
    Ok(())
}
