//! `tessera-worker`: run the agent, or print the node's status.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tessera_kernels::backend;
use tessera_sdk::RpcChain;
use tessera_worker::behaviour::Behaviour;
use tessera_worker::config::Config;
use tessera_worker::db::Db;
use tessera_worker::metrics::Metrics;
use tessera_worker::retry::Backoff;
use tessera_worker::server::{router, ServerState};
use tessera_worker::store::ResultStore;
use tessera_worker::{hardware, status, Agent, AgentSettings};

#[derive(Parser)]
#[command(
    version,
    about = "Tessera worker: earns tokens by computing verified results"
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// JSON-RPC endpoint (setting `rpc_url`).
    #[arg(long)]
    rpc_url: Option<String>,
    /// Operator keypair file (setting `keypair`).
    #[arg(long)]
    keypair: Option<String>,
    /// auto, cpu or cuda (setting `backend`).
    #[arg(long)]
    backend: Option<String>,
    /// Jobs in flight at once (setting `concurrency`).
    #[arg(long)]
    concurrency: Option<String>,
    /// Results and metrics server address (setting `listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Storage folder (setting `storage`).
    #[arg(long)]
    storage: Option<String>,
    /// Override any setting, e.g. `--set region=4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Register the node if needed, then work until SIGINT or SIGTERM (the default).
    Run,
    /// Print the node's stake, reputation and earnings statement.
    Status,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut overrides = cli
        .set
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .with_context(|| format!("--set {kv}: expected KEY=VALUE"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let flags = [
        ("rpc_url", &cli.rpc_url),
        ("keypair", &cli.keypair),
        ("backend", &cli.backend),
        ("concurrency", &cli.concurrency),
        ("listen", &cli.listen),
        ("storage", &cli.storage),
    ];
    for (key, value) in flags {
        if let Some(value) = value {
            overrides.push((key.to_string(), value.clone()));
        }
    }
    let config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok(), &overrides)?;
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => runtime.block_on(run(config)),
        Command::Status => runtime.block_on(print_status(config)),
    }
}

fn keypair(config: &Config) -> anyhow::Result<solana_keypair::Keypair> {
    solana_keypair::read_keypair_file(&config.keypair)
        .map_err(|e| anyhow::anyhow!("cannot read the keypair {}: {e}", config.keypair.display()))
}

async fn print_status(config: Config) -> anyhow::Result<()> {
    use solana_signer::Signer;
    let operator = keypair(&config)?;
    let node = tessera_sdk::pda::node(&operator.pubkey(), config.node_index).0;
    let chain = RpcChain::new(config.rpc_url.clone());
    let db = Db::open(&config.storage.join("worker.redb"))?;
    print!("{}", status::statement(&chain, &node, &db).await?);
    Ok(())
}

async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!("effective configuration:\n{}", config.describe());
    let behaviour = config.behaviour;
    if behaviour != Behaviour::Honest {
        tracing::warn!(
            ?behaviour,
            "SIMULATION BEHAVIOUR ENABLED: this worker misbehaves on purpose and will be slashed"
        );
    }
    let operator = keypair(&config)?;
    let (backend, fallback) = backend::select(config.backend, config.cpu_threads)?;
    if let Some(why) = fallback {
        tracing::warn!("{why}");
    }
    tracing::info!(backend = %backend.describe(), "kernels backend");
    let hardware = hardware::profile(&backend);
    let chain = Arc::new(RpcChain::new(config.rpc_url.clone()));
    let db = Arc::new(Db::open(&config.storage.join("worker.redb"))?);
    let results = Arc::new(ResultStore::open(&config.storage.join("results"))?);
    let metrics = Arc::new(Metrics::default());
    let agent = Agent::new(
        chain.clone(),
        operator,
        AgentSettings {
            node_index: config.node_index,
            token_account: config.token_account,
            concurrency: config.concurrency,
            region: config.region,
            min_price_per_unit: config.min_price_per_unit,
            cost_per_unit: config.cost_per_unit,
            stake: config.stake,
            endpoint: config.public_url.clone(),
            max_input_bytes: config.max_input_bytes,
            behaviour,
            backoff: Backoff::default(),
            initial_secs_per_unit: 0.01,
            safety_secs: 30,
            watch_bps: config.watch_bps,
        },
        Arc::new(backend),
        hardware,
        db.clone(),
        results.clone(),
        metrics.clone(),
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(listen = %config.listen, "serving results and /metrics");
    let app = router(ServerState {
        chain,
        db,
        results,
        metrics,
    });
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await
    });
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down after the current pass");
        let _ = stop_tx.send(true);
    });
    let poll = config.poll_interval;
    let mut registered = false;
    while !*stop_rx.borrow() {
        if !registered {
            match agent.ensure_registered().await {
                Ok(()) => registered = true,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "registration failed; retrying")
                }
            }
        }
        if registered {
            match agent.tick().await {
                Ok(pass) if pass != Default::default() => tracing::info!(?pass, "pass"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %format!("{e:#}"), "pass failed; retrying"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop_rx.changed() => {}
        }
    }
    server.await??;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
