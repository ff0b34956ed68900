//! The worker's configuration: a TOML file, overridden by `TESSERA_*` environment variables,
//! overridden by command-line flags. Secrets (the keypair) are referenced by path, never
//! logged.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use tessera_kernels::BackendChoice;

use crate::behaviour::Behaviour;

/// Everything the worker needs to run. Field docs double as the TOML file's documentation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// JSON-RPC endpoint of the cluster.
    pub rpc_url: String,
    /// Operator keypair, Solana CLI format (a JSON array of 64 bytes).
    pub keypair: PathBuf,
    /// The Tessera program; must be the one this build was compiled for.
    pub program_id: String,
    /// The operator's token account of the network's mint (stake comes from and earnings go to
    /// it).
    pub token_account: Option<String>,
    /// Index of this machine among the operator's nodes.
    pub node_index: u16,
    /// `auto`, `cpu` or `cuda`.
    pub backend: String,
    /// CPU threads for kernels (0: one per core).
    pub cpu_threads: usize,
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// Region code (0..32).
    pub region: u8,
    /// Lowest reward per work unit accepted (token base units).
    pub min_price_per_unit: u64,
    /// The worker's own cost per work unit, for the profit test (token base units).
    pub cost_per_unit: u64,
    /// Tokens to keep staked on the node (0: leave the stake alone).
    pub stake: u64,
    /// Where results, inputs and the worker's database live.
    pub storage: PathBuf,
    /// Address of the results and metrics server.
    pub listen: SocketAddr,
    /// The URL other parties use to reach `listen` (registered on chain as the node's endpoint).
    pub public_url: String,
    /// Seconds between passes of the agent loop.
    pub poll_secs: u64,
    /// Largest input the worker downloads, in bytes.
    pub max_input_bytes: u64,
    /// Share, in basis points, of others' refereed results in their challenge window that
    /// the worker recomputes, challenging any it finds wrong (0: never).
    pub watch_bps: u16,
    /// Simulation only: `honest` (default), `lazy`, `liar`, `copycat`, `flaky`, `colluder`.
    pub behaviour: String,
}

impl Default for Config {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        Self {
            rpc_url: "http://127.0.0.1:8899".into(),
            keypair: home.join(".config/solana/id.json"),
            program_id: tessera_sdk::tessera::ID.to_string(),
            token_account: None,
            node_index: 0,
            backend: "auto".into(),
            cpu_threads: 0,
            concurrency: 2,
            region: 0,
            min_price_per_unit: 1,
            cost_per_unit: 0,
            stake: 0,
            storage: home.join(".local/share/tessera-worker"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8650)),
            public_url: "http://127.0.0.1:8650".into(),
            poll_secs: 2,
            max_input_bytes: 1 << 30,
            watch_bps: 1_000,
            behaviour: "honest".into(),
        }
    }
}

/// Environment variables that override the file, one per field.
const ENV: &[(&str, &str)] = &[
    ("TESSERA_RPC_URL", "rpc_url"),
    ("TESSERA_KEYPAIR", "keypair"),
    ("TESSERA_PROGRAM_ID", "program_id"),
    ("TESSERA_TOKEN_ACCOUNT", "token_account"),
    ("TESSERA_NODE_INDEX", "node_index"),
    ("TESSERA_BACKEND", "backend"),
    ("TESSERA_CPU_THREADS", "cpu_threads"),
    ("TESSERA_CONCURRENCY", "concurrency"),
    ("TESSERA_REGION", "region"),
    ("TESSERA_MIN_PRICE_PER_UNIT", "min_price_per_unit"),
    ("TESSERA_COST_PER_UNIT", "cost_per_unit"),
    ("TESSERA_STAKE", "stake"),
    ("TESSERA_STORAGE", "storage"),
    ("TESSERA_LISTEN", "listen"),
    ("TESSERA_PUBLIC_URL", "public_url"),
    ("TESSERA_POLL_SECS", "poll_secs"),
    ("TESSERA_MAX_INPUT_BYTES", "max_input_bytes"),
    ("TESSERA_WATCH_BPS", "watch_bps"),
    ("TESSERA_BEHAVIOUR", "behaviour"),
];

impl Config {
    /// Reads `path` (if given), then applies the environment, then `overrides` (`key=value`
    /// pairs from flags), then checks the result.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("{} is not valid TOML", path.display()))?
            }
            None => toml::Table::new(),
        };
        let defaults = toml::Table::try_from(Config::default())?;
        for (var, key) in ENV {
            if let Some(value) = env(var) {
                table.insert((*key).into(), typed(&defaults, key, &value)?);
            }
        }
        for (key, value) in overrides {
            table.insert(key.clone(), typed(&defaults, key, value)?);
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let id = Pubkey::from_str(&self.program_id)
            .with_context(|| format!("program_id {} is not a public key", self.program_id))?;
        if id != tessera_sdk::tessera::ID {
            bail!(
                "program_id {id} is not the program this worker was built for ({})",
                tessera_sdk::tessera::ID
            );
        }
        if let Some(token) = &self.token_account {
            Pubkey::from_str(token)
                .with_context(|| format!("token_account {token} is not a public key"))?;
        }
        self.backend_choice()?;
        self.behaviour()?;
        if self.region >= 32 {
            bail!("region {} must be below 32", self.region);
        }
        if self.watch_bps > 10_000 {
            bail!("watch_bps is a share in basis points: at most 10000");
        }
        if self.concurrency == 0 {
            bail!("concurrency must be at least 1");
        }
        if self.poll_secs == 0 {
            bail!("poll_secs must be at least 1");
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            bail!(
                "public_url {} must be an http:// or https:// URL",
                self.public_url
            );
        }
        Ok(())
    }

    pub fn backend_choice(&self) -> anyhow::Result<BackendChoice> {
        self.backend.parse().map_err(anyhow::Error::msg)
    }

    pub fn behaviour(&self) -> anyhow::Result<Behaviour> {
        self.behaviour.parse().map_err(anyhow::Error::msg)
    }

    pub fn token_account(&self) -> Option<Pubkey> {
        self.token_account
            .as_deref()
            .and_then(|t| Pubkey::from_str(t).ok())
    }

    /// The configuration as logged at start: everything (the keypair is only a path).
    pub fn describe(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("<unprintable config: {e}>"))
    }
}

/// Parses an override into the TOML type of the field's default.
fn typed(defaults: &toml::Table, key: &str, value: &str) -> anyhow::Result<toml::Value> {
    match defaults.get(key) {
        Some(toml::Value::Integer(_)) => value
            .parse::<i64>()
            .map(toml::Value::Integer)
            .with_context(|| format!("{key} = {value}: not an integer")),
        Some(toml::Value::Boolean(_)) => value
            .parse::<bool>()
            .map(toml::Value::Boolean)
            .with_context(|| format!("{key} = {value}: not true or false")),
        // Strings, paths, and fields absent by default (Option<String>).
        Some(_) | None if ENV.iter().any(|(_, k)| *k == key) => {
            Ok(toml::Value::String(value.into()))
        }
        _ => bail!("unknown setting {key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_then_flags() {
        let dir = std::env::temp_dir().join(format!("tessera-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("worker.toml");
        std::fs::write(
            &file,
            "region = 4\nconcurrency = 3\nrpc_url = \"http://a:1\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "TESSERA_REGION").then(|| "7".to_string());
        let flags = vec![("concurrency".to_string(), "9".to_string())];
        let c = Config::load(Some(&file), env, &flags).unwrap();
        assert_eq!(
            (c.region, c.concurrency, c.rpc_url.as_str()),
            (7, 9, "http://a:1")
        );
        // Errors name what is wrong.
        let bad = |k: &str| (k == "TESSERA_REGION").then(|| "north".to_string());
        let err = Config::load(Some(&file), bad, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("region = north: not an integer"));
        std::fs::write(&file, "regoin = 4\n").unwrap();
        let err = Config::load(Some(&file), |_| None, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("regoin"), "{err:#}");
        let flags = vec![("program_id".to_string(), Pubkey::new_unique().to_string())];
        let err = Config::load(None, |_| None, &flags).unwrap_err();
        assert!(format!("{err:#}").contains("not the program"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
