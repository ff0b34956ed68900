//! The worker's configuration: a TOML file, overridden by `TESSERA_*` environment variables,
//! overridden by command-line flags. Secrets (the keypair) are referenced by path, never
//! logged.
//!
//! Settings are typed: keys are public keys, the poll interval a duration with its unit
//! (`"2s"`, `"500ms"`), the backend and the behaviour enums. Every setting `name` may be set
//! by the variable `TESSERA_NAME` (the names come from the struct itself, not a hand-kept
//! table), and a value that does not parse is an error naming its setting, never a default.
use std::fmt::Display;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

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
    #[serde(with = "text")]
    pub program_id: Pubkey,
    /// The operator's token account of the network's mint (stake comes from and earnings go to
    /// it).
    #[serde(with = "text_opt", skip_serializing_if = "Option::is_none")]
    pub token_account: Option<Pubkey>,
    /// Index of this machine among the operator's nodes.
    pub node_index: u16,
    /// `auto`, `cpu` or `cuda`.
    #[serde(with = "text")]
    pub backend: BackendChoice,
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
    /// Time between passes of the agent loop, with its unit (`"2s"`, `"500ms"`).
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Largest input the worker downloads, in bytes.
    pub max_input_bytes: u64,
    /// Share, in basis points, of others' refereed results in their challenge window that
    /// the worker recomputes, challenging any it finds wrong (0: never).
    pub watch_bps: u16,
    /// `honest` (default). A build with the `sim` feature also has the simulation's `lazy`,
    /// `liar`, `copycat`, `flaky` and `colluder`.
    #[serde(with = "text")]
    pub behaviour: Behaviour,
}

impl Default for Config {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        Self {
            rpc_url: "http://127.0.0.1:8899".into(),
            keypair: home.join(".config/solana/id.json"),
            program_id: tessera_sdk::tessera::ID,
            token_account: None,
            node_index: 0,
            backend: BackendChoice::Auto,
            cpu_threads: 0,
            concurrency: 2,
            region: 0,
            min_price_per_unit: 1,
            cost_per_unit: 0,
            stake: 0,
            storage: home.join(".local/share/tessera-worker"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8650)),
            public_url: "http://127.0.0.1:8650".into(),
            poll_interval: Duration::from_secs(2),
            max_input_bytes: 1 << 30,
            watch_bps: 1_000,
            behaviour: Behaviour::Honest,
        }
    }
}

impl Config {
    /// The settings' names, as serde sees the struct.
    pub fn keys() -> &'static [&'static str] {
        fields::of::<Config>()
    }

    /// The environment variable that sets `key`: `TESSERA_` and the key in capitals.
    pub fn env_var(key: &str) -> String {
        format!("TESSERA_{}", key.to_ascii_uppercase())
    }

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
        // Where each setting came from, for the errors.
        let mut origin: std::collections::BTreeMap<String, String> = table
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    path.map_or(String::new(), |p| p.display().to_string()),
                )
            })
            .collect();
        let defaults = toml::Table::try_from(Config::default())?;
        for key in Self::keys() {
            let var = Self::env_var(key);
            if let Some(value) = env(&var) {
                let value = typed(&defaults, key, &value).with_context(|| var.clone())?;
                table.insert((*key).into(), value);
                origin.insert((*key).into(), var);
            }
        }
        for (key, value) in overrides {
            table.insert(key.clone(), typed(&defaults, key, value)?);
            origin.insert(key.clone(), "--set".into());
        }
        // Each setting on its own first, so that an error names the one that is wrong.
        for (key, value) in &table {
            let single = toml::Table::from_iter([(key.clone(), value.clone())]);
            toml::Value::Table(single)
                .try_into::<Config>()
                .map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))
                .with_context(|| match origin.get(key) {
                    Some(from) if !from.is_empty() => {
                        format!("setting `{key}` = {value} (from {from})")
                    }
                    _ => format!("setting `{key}` = {value}"),
                })?;
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.program_id != tessera_sdk::tessera::ID {
            bail!(
                "program_id {} is not the program this worker was built for ({})",
                self.program_id,
                tessera_sdk::tessera::ID
            );
        }
        if self.region >= 32 {
            bail!("region {} must be below 32", self.region);
        }
        if self.watch_bps > 10_000 {
            bail!("watch_bps is a share in basis points: at most 10000");
        }
        if self.concurrency == 0 {
            bail!("concurrency must be at least 1");
        }
        if self.poll_interval < Duration::from_millis(10) {
            bail!(
                "poll_interval {} is too short: at least 10ms",
                humantime::format_duration(self.poll_interval)
            );
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            bail!(
                "public_url {} must be an http:// or https:// URL",
                self.public_url
            );
        }
        Ok(())
    }

    /// The configuration as logged at start: everything (the keypair is only a path).
    pub fn describe(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("<unprintable config: {e}>"))
    }
}

/// Parses an override into the TOML type of the field's default.
fn typed(defaults: &toml::Table, key: &str, value: &str) -> anyhow::Result<toml::Value> {
    if !Config::keys().contains(&key) {
        bail!(
            "unknown setting {key} (settings: {})",
            Config::keys().join(", ")
        );
    }
    match defaults.get(key) {
        Some(toml::Value::Integer(_)) => value
            .parse::<i64>()
            .map(toml::Value::Integer)
            .with_context(|| format!("{key} = {value}: not an integer")),
        Some(toml::Value::Boolean(_)) => value
            .parse::<bool>()
            .map(toml::Value::Boolean)
            .with_context(|| format!("{key} = {value}: not true or false")),
        // Strings, paths, addresses, keys, durations, enums, and settings absent by default.
        _ => Ok(toml::Value::String(value.into())),
    }
}

/// A value kept as its text in the file: parsed with `FromStr`, written with `Display`.
mod text {
    use super::*;

    pub fn serialize<T: Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: serde::Deserializer<'de>,
    {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format!("`{text}`: {e}")))
    }
}

/// [`text`] for an optional value.
mod text_opt {
    use super::*;

    pub fn serialize<T: Display, S: serde::Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: serde::Deserializer<'de>,
    {
        super::text::deserialize(d).map(Some)
    }
}

/// A duration with its unit, as humantime reads and writes it.
mod duration {
    use super::*;

    pub fn serialize<S: serde::Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(*v))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}`: {e} (a duration with its unit, e.g. \"2s\" or \"500ms\")"
            ))
        })
    }
}

/// The field names of a struct, as its `Deserialize` asks for them.
mod fields {
    use serde::de::{self, Visitor};

    struct Catch<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Catch<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only a struct's field names are read"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only a struct's field names are read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    pub fn of<T: de::DeserializeOwned>() -> &'static [&'static str] {
        let mut fields: &'static [&'static str] = &[];
        let _ = T::deserialize(Catch(&mut fields));
        fields
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

    #[test]
    fn settings_are_typed_and_their_errors_name_them() {
        let load = |key: &str, value: &str| {
            Config::load(None, |_| None, &[(key.to_string(), value.to_string())])
        };
        let err = |key: &str, value: &str| format!("{:#}", load(key, value).unwrap_err());
        // Keys are public keys, the interval a duration with its unit, the backend an enum.
        let token = Pubkey::new_unique();
        let c = load("token_account", &token.to_string()).unwrap();
        assert_eq!(c.token_account, Some(token));
        assert_eq!(
            load("poll_interval", "500ms").unwrap().poll_interval,
            Duration::from_millis(500)
        );
        assert_eq!(load("backend", "cpu").unwrap().backend, BackendChoice::Cpu);
        for (key, value, says) in [
            ("token_account", "not-a-key", "token_account"),
            ("program_id", "0x12", "program_id"),
            ("poll_interval", "2", "poll_interval"),
            ("poll_interval", "fast", "e.g. \"2s\""),
            ("backend", "tpu", "auto, cpu or cuda"),
            ("behaviour", "saboteur", "unknown behaviour `saboteur`"),
            ("listen", "localhost", "listen"),
            ("watch_bps", "lots", "not an integer"),
            ("polll_interval", "2s", "unknown setting polll_interval"),
        ] {
            let e = err(key, value);
            assert!(e.contains(says), "{key} = {value}: {e}");
        }
        // A wrong value in the environment names its variable.
        let env = |k: &str| (k == "TESSERA_BACKEND").then(|| "tpu".to_string());
        let e = format!("{:#}", Config::load(None, env, &[]).unwrap_err());
        assert!(e.contains("TESSERA_BACKEND") && e.contains("tpu"), "{e}");
        // Every setting has its variable, derived from the struct: none is left out.
        assert_eq!(Config::keys().len(), 19);
        assert!(Config::keys().contains(&"token_account"));
        assert_eq!(Config::env_var("poll_interval"), "TESSERA_POLL_INTERVAL");
        // What is written at start reads back as the same configuration.
        let c = load("token_account", &token.to_string()).unwrap();
        let back: Config = toml::from_str(&c.describe()).unwrap();
        assert_eq!(back, c);
    }
}
