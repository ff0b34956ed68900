//! `tessera`: the command line of the Tessera network.
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tessera_app::commands::{self, Connection, JobCommand, NodeCommand};
use tessera_app::demo;

#[derive(Parser)]
#[command(version, about = "Tessera: verifiable GPU compute on Solana")]
struct Cli {
    #[command(flatten)]
    connection: Connection,
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
    /// Submit, follow and collect jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Register and run a node: stake, unstake, withdraw, inspect.
    #[command(subcommand)]
    Node(NodeCommand),
    /// The network's state.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// This CLI's connection and the network's parameters.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// Open jobs, active nodes, stake, recent settlements, median price per work unit.
    Stats,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// The cluster, keypair and the network's addresses and parameters.
    Show,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let conn = cli.connection;
    let url = conn.url.clone();
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Demo { out } => demo::run(&out).await,
            Command::Job(c) => commands::job(&conn, c).await.map(|()| true),
            Command::Node(c) => commands::node(&conn, c).await.map(|()| true),
            Command::Network(NetworkCommand::Stats) => commands::stats(&conn).await.map(|()| true),
            Command::Config(ConfigCommand::Show) => {
                commands::config_show(&conn).await.map(|()| true)
            }
        }
    });
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tessera demo: an invariant failed (see above)");
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
