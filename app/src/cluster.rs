//! Which cluster and keypair the CLI uses, and why: `--url` / `--keypair` (or `TESSERA_URL` /
//! `TESSERA_KEYPAIR`), else `tessera config set`'s file (`~/.config/tessera/cli.toml`, or
//! `TESSERA_CLI_CONFIG`), else the Solana CLI's (`~/.config/solana/cli/config.yml`), else the
//! local validator and `~/.config/solana/id.json`.
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The local validator's RPC URL: the default when nothing else names a cluster.
pub const LOCAL_URL: &str = "http://127.0.0.1:8899";

/// `tessera config set`'s file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keypair: Option<PathBuf>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where `tessera config set` writes.
pub fn cli_config_path() -> PathBuf {
    match std::env::var_os("TESSERA_CLI_CONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => home().join(".config/tessera/cli.toml"),
    }
}

/// The Solana CLI's config file.
pub fn solana_config_path() -> PathBuf {
    home().join(".config/solana/cli/config.yml")
}

impl CliConfig {
    /// The file at `path`; a missing file is an empty config, a broken one an error.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(path, toml::to_string(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `json_rpc_url` and `keypair_path` from a Solana CLI config (YAML, one `key: value` a line).
pub fn read_solana_config(path: &Path) -> (Option<String>, Option<PathBuf>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None);
    };
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    (
        value("json_rpc_url"),
        value("keypair_path").map(PathBuf::from),
    )
}

/// A setting and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub from: String,
}

/// The cluster and keypair the CLI uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub url: Sourced<String>,
    pub keypair: Sourced<PathBuf>,
}

/// The first value that is set, and where it came from; else the default.
fn first_set<T>(choices: [(Option<T>, String); 3], default: (T, String)) -> Sourced<T> {
    let (value, from) = choices
        .into_iter()
        .find_map(|(value, from)| value.map(|v| (v, from)))
        .unwrap_or(default);
    Sourced { value, from }
}

/// Resolves the flags (or their environment variables) against the config files.
pub fn resolve(url: Option<&str>, keypair: Option<&Path>) -> anyhow::Result<Resolved> {
    let cli_path = cli_config_path();
    let cli = CliConfig::read(&cli_path)?;
    let solana_path = solana_config_path();
    let (solana_url, solana_keypair) = read_solana_config(&solana_path);
    let cli_from = cli_path.display().to_string();
    let solana_from = solana_path.display().to_string();
    let url = first_set(
        [
            (url.map(str::to_string), "--url or TESSERA_URL".into()),
            (cli.url, cli_from.clone()),
            (solana_url, solana_from.clone()),
        ],
        (LOCAL_URL.into(), "default (the local validator)".into()),
    );
    let keypair = first_set(
        [
            (
                keypair.map(Path::to_path_buf),
                "--keypair or TESSERA_KEYPAIR".into(),
            ),
            (cli.keypair, cli_from),
            (solana_keypair, solana_from),
        ],
        (home().join(".config/solana/id.json"), "default".into()),
    );
    Ok(Resolved { url, keypair })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solana_cli_config_lines_are_read() {
        let path = std::env::temp_dir().join(format!("tessera-solana-{}.yml", std::process::id()));
        std::fs::write(
            &path,
            "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: ''\nkeypair_path: /home/me/.config/solana/id.json\ncommitment: confirmed\n",
        )
        .unwrap();
        let (url, keypair) = read_solana_config(&path);
        assert_eq!(url.as_deref(), Some("https://api.devnet.solana.com"));
        assert_eq!(
            keypair.as_deref(),
            Some(Path::new("/home/me/.config/solana/id.json"))
        );
        std::fs::remove_file(&path).ok();
        assert_eq!(read_solana_config(&path), (None, None));
    }

    #[test]
    fn a_cli_config_round_trips_and_refuses_unknown_keys() {
        let path = std::env::temp_dir().join(format!("tessera-cli-{}.toml", std::process::id()));
        let config = CliConfig {
            url: Some("http://127.0.0.1:9999".into()),
            keypair: Some("/tmp/me.json".into()),
        };
        config.write(&path).unwrap();
        assert_eq!(CliConfig::read(&path).unwrap(), config);
        std::fs::write(&path, "rpc = \"x\"\n").unwrap();
        let err = CliConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `rpc`"), "{err}");
        std::fs::remove_file(&path).ok();
        assert_eq!(CliConfig::read(&path).unwrap(), CliConfig::default());
    }
}
