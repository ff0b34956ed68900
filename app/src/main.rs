//! `tessera`: the command line of the Tessera network.
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tessera_app::commands::{self, Connection, NodeCommand};
use tessera_app::job::{self, JobCommand};
use tessera_app::{demo, gov, localnet, sim};

fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    use solana_signer::Signer;
    if out.exists() {
        anyhow::bail!("{} exists; refusing to overwrite a keypair", out.display());
    }
    let keypair = solana_keypair::Keypair::new();
    solana_keypair::write_keypair_file(&keypair, out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!("{}", keypair.pubkey());
    Ok(())
}

async fn migrate(conn: &Connection, mint: &str) -> anyhow::Result<()> {
    let authority = conn.signer()?;
    let mint: anchor_lang::prelude::Pubkey = mint
        .parse()
        .map_err(|_| anyhow::anyhow!("mint `{mint}` is not a base58 address"))?;
    let config = localnet::migrate(
        &conn.chain()?,
        &authority,
        &mint,
        localnet::default_params(),
    )
    .await?;
    localnet::print_addresses(&config);
    Ok(())
}

#[derive(Parser)]
#[command(version, about = "Tessera: verifiable GPU compute on Solana")]
struct Cli {
    #[command(flatten)]
    connection: Connection,
    /// Log more: -v for the agents' info lines, -vv for debug (the in-process bank and the
    /// program's log included). Without it only warnings are logged; RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole network in one process: a bank with the program, six workers (one liar, one
    /// lazy), a tiled render, a matmul and an MLP job, verified and settled.
    Demo {
        /// Where the image and the JSON report go.
        #[arg(long, default_value = "demo-output")]
        out: PathBuf,
    },
    /// The adversarial simulation: honest operators and a colluding group (and a mix of
    /// cheating strategies) on the real program with real kernels; wrong results accepted
    /// against theory, slashing, earnings per strategy, overhead; a Markdown report and plots.
    Sim(sim::SimConfig),
    /// Submit, follow and collect jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Register and run a node: stake, unstake, withdraw, inspect.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Governance: deposits, proposals, votes, execution.
    #[command(subcommand)]
    Gov(gov::GovCommand),
    /// The network's state.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// This CLI's connection and the network's parameters.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Initialize the network on a cluster where the program is deployed (idempotent); the
    /// signer becomes its authority.
    Migrate {
        /// The token mint for stake, escrow and fees.
        #[arg(long)]
        mint: String,
    },
    /// Write a new keypair file (Solana CLI format).
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// A local solana-test-validator with the program, a mint, an initialized network and a
    /// token faucet; Ctrl-C stops it. With --attach, sets up a validator already running at
    /// --url with the program (as `anchor test` starts one).
    Localnet {
        /// Use the validator at --url instead of starting one.
        #[arg(long)]
        attach: bool,
        /// The program to load.
        #[arg(long, default_value = "target/deploy/tessera.so")]
        program: PathBuf,
        #[arg(long, default_value = ".localnet/ledger")]
        ledger: PathBuf,
        /// Where the addresses go (the CLI and workers read them).
        #[arg(long, default_value = ".localnet/addresses.json")]
        addresses: PathBuf,
        #[arg(long, default_value_t = 8899)]
        rpc_port: u16,
        #[arg(long, default_value_t = 8651)]
        faucet_port: u16,
        /// Decide disagreements by escalation and a vote of the reveals instead of dispute
        /// games (docs/disputes.md), as before the referee: for comparison only, a colluding
        /// majority of a job's replicas wins its vote.
        #[arg(long)]
        voting: bool,
    },
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// Open jobs, active nodes, stake, recent settlements, median price per work unit.
    Stats,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// The cluster and keypair in use (and where each setting came from), the network's
    /// addresses and parameters.
    Show,
    /// Save a default for this CLI: `url URL` (the cluster's JSON-RPC URL) or `keypair FILE`.
    Set { key: String, value: String },
    /// Remove a saved default: `url` or `keypair`.
    Unset { key: String },
}

/// Rust ignores SIGPIPE, so `println!` panics with "failed printing to stdout: Broken pipe"
/// when the reader of a pipe stops early (`tessera node show | head -1`, `| grep -q`). A
/// command that only prints a report gets the default disposition back and ends quietly, as
/// Unix tools do. The long-running commands (`localnet`, `demo`, `sim`) keep ignoring it: they own
/// child processes and sockets, whose write errors they handle themselves.
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Installs the log subscriber before anything else can: the in-process bank (solana's
/// program-test) would otherwise install its own logger at debug level, and a first run of
/// the demo would print thousands of runtime and program-log lines before its tables.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // `init` also routes the `log` crate's records (the Solana crates') through the filter.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    #[cfg(unix)]
    if !matches!(
        cli.command,
        Command::Localnet { .. } | Command::Demo { .. } | Command::Sim(_)
    ) {
        default_sigpipe();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let conn = cli.connection;
    let url = match conn.url() {
        Ok(url) => url,
        Err(e) => {
            eprintln!("tessera: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let rpc_url = url.clone();
    let result = runtime.block_on(async move {
        let chain = tessera_sdk::RpcChain::new(rpc_url.clone());
        let signer = || conn.signer();
        match cli.command {
            Command::Demo { out } => demo::run(&out).await,
            Command::Sim(config) => sim::run(&config).await.map(|report| report.passed),
            Command::Job(c) => job::job(&chain, &signer, c, conn.base_units)
                .await
                .map(|()| true),
            Command::Node(c) => commands::node(&chain, &signer, c, conn.base_units)
                .await
                .map(|()| true),
            Command::Gov(c) => gov::run(&chain, &signer, c, conn.base_units)
                .await
                .map(|()| true),
            Command::Network(NetworkCommand::Stats) => commands::stats(&chain, conn.base_units)
                .await
                .map(|()| true),
            Command::Config(ConfigCommand::Show) => {
                commands::config_show(&chain, &conn).await.map(|()| true)
            }
            Command::Config(ConfigCommand::Set { key, value }) => {
                commands::config_set(&key, Some(&value)).map(|()| true)
            }
            Command::Config(ConfigCommand::Unset { key }) => {
                commands::config_set(&key, None).map(|()| true)
            }
            Command::Migrate { mint } => migrate(&conn, &mint).await.map(|()| true),
            Command::Keygen { out } => keygen(&out).map(|()| true),
            Command::Localnet {
                attach,
                program,
                ledger,
                addresses,
                rpc_port,
                faucet_port,
                voting,
            } => {
                let validator = if attach {
                    localnet::Validator::Attach { url: rpc_url }
                } else {
                    localnet::Validator::Start {
                        so: &program,
                        ledger: &ledger,
                        rpc_port,
                    }
                };
                match conn.signer() {
                    Ok(authority) => {
                        localnet::localnet(authority, validator, &addresses, faucet_port, !voting)
                            .await
                            .map(|()| true)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    });
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tessera: a check failed (see above)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("tessera: {e:#}");
            if format!("{e:#}").contains("error sending request") {
                eprintln!("hint: nothing answers at {url}; start a local validator (`tessera localnet`) or pass --url");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
