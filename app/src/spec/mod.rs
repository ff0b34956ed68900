//! Job spec files (`docs/job-spec.md`): a job described in TOML — the kernel by name and its
//! parameters by name, the input as a path or a URI, replicas or a spot check, the reward in
//! tokens, the deadline as a duration, hardware and region requirements. [`JobSpec::parse`]
//! reads one, [`JobSpec::plan`] checks every field against the kernels' and the program's
//! limits (one definition each: `tessera_kernels::kernels::*::MAX_*`, the kernel decoders,
//! `tessera::constants`) and turns it into the jobs to post; [`Plan::check_network`] adds the
//! limits the network's governed parameters set. Every error names its field.
pub mod kernel;
pub mod scene;
pub mod templates;
pub mod units;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tessera_kernels::{Job, KernelId};
use tessera_sdk::tessera::constants::{
    MAX_INPUT_BYTES, MAX_INPUT_URI_LEN, MAX_REPLICAS_CEILING, REGION_COUNT,
};
use tessera_sdk::tessera::state::{Config, Requirements};

pub use kernel::{KernelSpec, MatmulSpec, MlpLayerSpec, MlpSpec, RenderSpec, TrainSpec};
pub use scene::SceneSpec;

/// The spec format's version; a file names it in `version`.
pub const SPEC_VERSION: u32 = 1;

/// An error in one field of a spec: `field `render.samples`: 0 is out of bounds 1..=4096`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: String) -> Self {
        FieldError {
            field: field.to_string(),
            message,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A token amount: a string (`"2.5"`) or a TOML number, in whole tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenAmount {
    Text(String),
    Integer(u64),
    Float(f64),
}

impl TokenAmount {
    fn text(&self) -> String {
        match self {
            TokenAmount::Text(s) => s.clone(),
            TokenAmount::Integer(n) => n.to_string(),
            // The shortest decimal that reads back as this float: what the person wrote.
            TokenAmount::Float(x) => format!("{x}"),
        }
    }
}

/// `[input]`: a local file (hashed and sized when the spec is read, referenced as `file://`)
/// or a URI with its root and size.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// A local file; relative to the spec file's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// An input hosted elsewhere (http(s)://, s3://, file://).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The URI input's root, 64 hex digits (`tessera job root FILE` prints it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The URI input's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// `[requirements]`: who may claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsSpec {
    /// Only GPU nodes.
    #[serde(default)]
    pub gpu: bool,
    /// Only GPU nodes with at least this much memory, e.g. "8 GiB" (implies `gpu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vram: Option<String>,
    /// Allowed region codes (0..32); default anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<u8>>,
}

/// A job spec file, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub version: u32,
    /// render, matmul_f32, matmul_i8, mlp_infer or train_step.
    pub kernel: String,
    /// Replicas that compute the job independently (default 3; 1 with `spot_check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u8>,
    /// One replica, audited with the network's probability.
    #[serde(default)]
    pub spot_check: bool,
    /// Reward per replica, in tokens (per tile job for a tiled render).
    pub reward: TokenAmount,
    /// From posting to the deadline, e.g. "1h".
    #[serde(default = "default_deadline")]
    pub deadline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSpec>,
    #[serde(default)]
    pub requirements: RequirementsSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderSpec>,
    /// A render's scene (instead of an `[input]` scene file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scene: Option<SceneSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matmul: Option<MatmulSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp: Option<MlpSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainSpec>,
}

fn default_deadline() -> String {
    "1h".into()
}

/// Where a job's input is and what it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedInput {
    pub uri: String,
    pub root: [u8; 32],
    pub size: u64,
    /// A scene built from `[scene]`: written to this file before posting.
    pub write: Option<(PathBuf, Vec<u8>)>,
}

/// What a spec posts: one job per render tile, else one job.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub kernel: KernelSpec,
    pub jobs: Vec<Job>,
    pub input: PlannedInput,
    pub replicas: u8,
    pub spot_check: bool,
    /// Per replica, base units.
    pub reward: u64,
    pub deadline_secs: u64,
    pub requirements: Requirements,
}

/// The field a TOML error is about: `section.key`, from the key serde names (an unknown or a
/// missing field) or the key on the line the error's span starts on, in the table that line
/// belongs to.
fn toml_error(source: &str, e: &toml::de::Error) -> FieldError {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return FieldError::new("(file)", message);
    };
    let header = |l: &str| l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
    let before = &source[..span.start.min(source.len())];
    let line_no = before.matches('\n').count() + 1;
    let line = source.lines().nth(line_no - 1).unwrap_or("").trim();
    let table = if line.starts_with('[') {
        Some(header(line))
    } else {
        before
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(header)
    };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|m| m.split('`').next());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_string())
        .filter(|_| !line.starts_with('['));
    let field = match (table, named.map(str::to_string).or(key)) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "(top level)".into(),
    };
    FieldError::new(&field, format!("{message} (line {line_no})"))
}

impl JobSpec {
    /// Parses a spec; errors name the field and its line.
    pub fn parse(source: &str) -> Result<Self, FieldError> {
        let spec: JobSpec = toml::from_str(source).map_err(|e| toml_error(source, &e))?;
        if spec.version != SPEC_VERSION {
            return Err(FieldError::new(
                "version",
                format!(
                    "{}: this tessera reads version {SPEC_VERSION}",
                    spec.version
                ),
            ));
        }
        Ok(spec)
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        JobSpec::parse(&source).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    fn kernel_id(&self) -> Result<KernelId, FieldError> {
        KernelId::ALL
            .into_iter()
            .find(|k| k.name() == self.kernel)
            .ok_or_else(|| {
                FieldError::new(
                    "kernel",
                    format!(
                        "unknown kernel `{}`: render, matmul_f32, matmul_i8, mlp_infer, train_step",
                        self.kernel
                    ),
                )
            })
    }

    /// The kernel section matching `kernel`; any other section is an error.
    pub fn kernel_spec(&self) -> Result<KernelSpec, FieldError> {
        let id = self.kernel_id()?;
        let wanted = match id {
            KernelId::Render => "render",
            KernelId::MatmulF32 | KernelId::MatmulI8 => "matmul",
            KernelId::MlpInfer => "mlp",
            KernelId::TrainStep => "train",
        };
        for (name, present) in [
            ("render", self.render.is_some()),
            ("matmul", self.matmul.is_some()),
            ("mlp", self.mlp.is_some()),
            ("train", self.train.is_some()),
            ("scene", self.scene.is_some()),
        ] {
            let belongs = name == wanted || (name == "scene" && wanted == "render");
            if present && !belongs {
                return Err(FieldError::new(
                    name,
                    format!("a [{name}] section does not belong to kernel {id}"),
                ));
            }
        }
        let missing = || {
            FieldError::new(
                wanted,
                format!("kernel {id} needs a [{wanted}] section (`tessera job template {id}`)"),
            )
        };
        Ok(match id {
            KernelId::Render => KernelSpec::Render(self.render.clone().ok_or_else(missing)?),
            KernelId::MatmulF32 | KernelId::MatmulI8 => {
                KernelSpec::Matmul(id, self.matmul.clone().ok_or_else(missing)?)
            }
            KernelId::MlpInfer => KernelSpec::Mlp(self.mlp.clone().ok_or_else(missing)?),
            KernelId::TrainStep => KernelSpec::Train(self.train.clone().ok_or_else(missing)?),
        })
    }

    /// Checks every field and builds the jobs to post. `dir` is the spec file's folder
    /// (relative paths are read from there); `spec_name` names a scene file written for it;
    /// `decimals` are the mint's.
    pub fn plan(&self, dir: &Path, spec_name: &str, decimals: u8) -> Result<Plan, FieldError> {
        let kernel = self.kernel_spec()?;
        let jobs = kernel.jobs()?;
        let spot_check = self.spot_check;
        let replicas = self.replicas.unwrap_or(if spot_check { 1 } else { 3 });
        if !(1..=MAX_REPLICAS_CEILING).contains(&replicas) {
            return Err(FieldError::new(
                "replicas",
                format!("{replicas} is out of bounds 1..={MAX_REPLICAS_CEILING}"),
            ));
        }
        if spot_check && replicas != 1 {
            return Err(FieldError::new(
                "replicas",
                format!("{replicas}: a spot-checked job has exactly 1 replica"),
            ));
        }
        let reward = units::parse_tokens(&self.reward.text(), decimals)
            .map_err(|e| FieldError::new("reward", e))?;
        if reward == 0 {
            return Err(FieldError::new("reward", "must be more than 0".into()));
        }
        let deadline_secs =
            units::parse_duration(&self.deadline).map_err(|e| FieldError::new("deadline", e))?;
        let requirements = self.requirements()?;
        let input = self.input(dir, spec_name, &kernel, &jobs)?;
        Ok(Plan {
            kernel,
            jobs,
            input,
            replicas,
            spot_check,
            reward,
            deadline_secs,
            requirements,
        })
    }

    fn requirements(&self) -> Result<Requirements, FieldError> {
        let r = &self.requirements;
        let min_vram_mib = match &r.min_vram {
            Some(text) => {
                units::parse_mib(text).map_err(|e| FieldError::new("requirements.min_vram", e))?
            }
            None => 0,
        };
        let region_mask = match &r.regions {
            None => u32::MAX,
            Some(list) if list.is_empty() => {
                return Err(FieldError::new(
                    "requirements.regions",
                    "is empty: no node could claim (leave it out for anywhere)".into(),
                ))
            }
            Some(list) => list.iter().try_fold(0u32, |mask, &region| {
                if region >= REGION_COUNT {
                    return Err(FieldError::new(
                        "requirements.regions",
                        format!("region {region} is out of bounds 0..={}", REGION_COUNT - 1),
                    ));
                }
                Ok(mask | 1 << region)
            })?,
        };
        Ok(Requirements {
            gpu_required: r.gpu || min_vram_mib > 0,
            min_vram_mib,
            region_mask,
        })
    }

    fn input(
        &self,
        dir: &Path,
        spec_name: &str,
        kernel: &KernelSpec,
        jobs: &[Job],
    ) -> Result<PlannedInput, FieldError> {
        let input = self.input.clone().unwrap_or_default();
        let render = matches!(kernel, KernelSpec::Render(_));
        if let Some(scene) = &self.scene {
            if self.input.is_some() {
                return Err(FieldError::new(
                    "input",
                    "a render takes either [scene] or an [input] scene file, not both".into(),
                ));
            }
            let bytes = scene.encode("scene")?;
            let path = absolute(&dir.join(format!("{spec_name}.scene")));
            return Ok(PlannedInput {
                uri: format!("file://{}", path.display()),
                root: tessera_kernels::merkle::root(&bytes),
                size: bytes.len() as u64,
                write: Some((path, bytes)),
            });
        }
        let expected = (!render).then(|| jobs[0].input_len() as u64);
        match (&input.path, &input.uri) {
            (Some(_), Some(_)) => Err(FieldError::new(
                "input",
                "give `path` (a local file) or `uri`, not both".into(),
            )),
            (None, None) => Err(FieldError::new(
                if render { "scene" } else { "input.path" },
                if render {
                    "a render needs a [scene] (or an [input] scene file)".into()
                } else {
                    format!("missing: the job's input, {}", kernel.input_layout())
                },
            )),
            (Some(path), None) => {
                if input.root.is_some() || input.size_bytes.is_some() {
                    return Err(FieldError::new(
                        "input.root",
                        "a local file's root and size are computed; give them only with `uri`"
                            .into(),
                    ));
                }
                let path = absolute(&dir.join(path));
                let bytes = std::fs::read(&path).map_err(|e| {
                    FieldError::new("input.path", format!("cannot read {}: {e}", path.display()))
                })?;
                if let Some(want) = expected.filter(|w| *w != bytes.len() as u64) {
                    return Err(FieldError::new(
                        "input.path",
                        format!(
                            "{} is {} bytes; {} with these parameters needs {want}: {}",
                            path.display(),
                            bytes.len(),
                            kernel.kernel(),
                            kernel.input_layout()
                        ),
                    ));
                }
                jobs[0].check_input(&bytes).map_err(|e| {
                    FieldError::new("input.path", format!("{}: {e}", path.display()))
                })?;
                Ok(PlannedInput {
                    uri: format!("file://{}", path.display()),
                    root: tessera_kernels::merkle::root(&bytes),
                    size: bytes.len() as u64,
                    write: None,
                })
            }
            (None, Some(uri)) => {
                if uri.is_empty() || uri.len() > MAX_INPUT_URI_LEN {
                    return Err(FieldError::new(
                        "input.uri",
                        format!("{} characters; 1..={MAX_INPUT_URI_LEN}", uri.len()),
                    ));
                }
                let root = input
                    .root
                    .as_deref()
                    .and_then(tessera_worker::store::parse_hex32)
                    .ok_or_else(|| {
                        FieldError::new(
                            "input.root",
                            "a URI input needs its root, 64 hex digits (`tessera job root FILE`)"
                                .into(),
                        )
                    })?;
                let size = input.size_bytes.ok_or_else(|| {
                    FieldError::new("input.size_bytes", "a URI input needs its size".into())
                })?;
                if !(1..=MAX_INPUT_BYTES).contains(&size) {
                    return Err(FieldError::new(
                        "input.size_bytes",
                        format!("{size} is out of bounds 1..={MAX_INPUT_BYTES}"),
                    ));
                }
                if let Some(want) = expected.filter(|w| *w != size) {
                    return Err(FieldError::new(
                        "input.size_bytes",
                        format!(
                            "{size}; {} with these parameters needs {want}",
                            kernel.kernel()
                        ),
                    ));
                }
                Ok(PlannedInput {
                    uri: uri.clone(),
                    root,
                    size,
                    write: None,
                })
            }
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Plan {
    /// The limits the network's governed parameters set: replicas, the minimum reward, spot
    /// checks, the deadline's range and the kernel being allowed.
    pub fn check_network(&self, config: &Config) -> Result<(), FieldError> {
        let p = &config.params;
        if !config.kernel_allowed(self.kernel.kernel() as u8) {
            return Err(FieldError::new(
                "kernel",
                format!("{} is not allowed on this network", self.kernel.kernel()),
            ));
        }
        if self.replicas > p.max_replicas {
            return Err(FieldError::new(
                "replicas",
                format!(
                    "{} is out of bounds 1..={} (the network's max_replicas)",
                    self.replicas, p.max_replicas
                ),
            ));
        }
        if self.reward < p.min_reward {
            return Err(FieldError::new(
                "reward",
                format!(
                    "{} base units is below the network's min_reward of {}",
                    self.reward, p.min_reward
                ),
            ));
        }
        if self.spot_check {
            if p.audit_replicas == 0 {
                return Err(FieldError::new(
                    "spot_check",
                    "this network does not allow spot checks".into(),
                ));
            }
            if self.reward > p.max_audited_reward {
                return Err(FieldError::new(
                    "reward",
                    format!(
                        "{} base units is above the largest spot-checked reward, {}",
                        self.reward, p.max_audited_reward
                    ),
                ));
            }
        }
        let min = p.min_job_duration_secs() as u64;
        let max = u64::from(p.max_job_duration_secs);
        if self.deadline_secs < min || self.deadline_secs > max {
            return Err(FieldError::new(
                "deadline",
                format!(
                    "{} is out of bounds {}..={} (the commit and reveal windows; the longest job)",
                    units::format_duration(self.deadline_secs),
                    units::format_duration(min),
                    units::format_duration(max)
                ),
            ));
        }
        Ok(())
    }
}
