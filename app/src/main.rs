//! `tessera`: the command line of the Tessera network.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use tessera_app::demo;

#[derive(Parser)]
#[command(version, about = "Tessera: verifiable GPU compute on Solana")]
struct Cli {
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
    let result = match cli.command {
        Command::Demo { out } => runtime.block_on(demo::run(&out)),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tessera demo: an invariant failed (see above)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("tessera: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
