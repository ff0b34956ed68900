//! Each kernel's parameters by name (`[render]`, `[matmul]`, `[mlp]`, `[train]`), checked field
//! by field against the kernels' own limits (`tessera_kernels::kernels::*::MAX_*`), encoded
//! with the kernels' encoders and decoded back from a job's params.
use serde::{Deserialize, Serialize};
use tessera_kernels::kernels::{
    matmul::MAX_MATMUL_DIM, mlp, render, train, MatmulParams, MlpParams, RenderParams, TrainParams,
};
use tessera_kernels::{Job, KernelId};

use super::FieldError;

fn bounded<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), FieldError> {
    if value < min || value > max {
        return Err(FieldError::new(
            field,
            format!("{value} is out of bounds {min}..={max}"),
        ));
    }
    Ok(())
}

/// `[render]`: an image rendered in tiles, one job per tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderSpec {
    /// Image size in pixels.
    pub width: u16,
    pub height: u16,
    /// Tile size in pixels `[w, h]`; one job per tile (edge tiles are cut to the image).
    /// Default: the whole image in one job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile: Option<[u16; 2]>,
    /// Samples per pixel.
    pub samples: u16,
    /// Bounces per sample.
    pub max_depth: u8,
    #[serde(default)]
    pub seed: u32,
}

impl RenderSpec {
    /// Every tile's params, row by row, each checked by the kernel's decoder.
    pub fn tiles(&self) -> Result<Vec<RenderParams>, FieldError> {
        bounded("render.width", self.width, 1, render::MAX_IMAGE)?;
        bounded("render.height", self.height, 1, render::MAX_IMAGE)?;
        let [tw, th] = self.tile.unwrap_or([self.width, self.height]);
        bounded("render.tile[0]", tw, 1, render::MAX_TILE.min(self.width))?;
        bounded("render.tile[1]", th, 1, render::MAX_TILE.min(self.height))?;
        bounded("render.samples", self.samples, 1, render::MAX_SPP)?;
        bounded("render.max_depth", self.max_depth, 1, render::MAX_DEPTH)?;
        let per_tile = u64::from(tw) * u64::from(th) * u64::from(self.samples);
        if per_tile > render::MAX_TILE_SAMPLES {
            return Err(FieldError::new(
                "render.samples",
                format!(
                    "{tw}×{th} pixels × {} samples = {per_tile} samples a tile; at most {} (use smaller tiles)",
                    self.samples,
                    render::MAX_TILE_SAMPLES
                ),
            ));
        }
        let mut out = Vec::new();
        for y in (0..self.height).step_by(usize::from(th)) {
            for x in (0..self.width).step_by(usize::from(tw)) {
                let p = RenderParams {
                    image_w: self.width,
                    image_h: self.height,
                    tile_x: x,
                    tile_y: y,
                    tile_w: tw.min(self.width - x),
                    tile_h: th.min(self.height - y),
                    spp: self.samples,
                    max_depth: self.max_depth,
                    seed: self.seed,
                };
                decode_check("render", &Job::Render(p))?;
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The spec of a render split into `tiles` (the first is the top-left, full-size tile).
    pub fn from_tiles(tiles: &[RenderParams]) -> Option<Self> {
        let first = tiles.first()?;
        let whole = first.tile_w == first.image_w && first.tile_h == first.image_h;
        Some(RenderSpec {
            width: first.image_w,
            height: first.image_h,
            tile: (!whole).then_some([first.tile_w, first.tile_h]),
            samples: first.spp,
            max_depth: first.max_depth,
            seed: first.seed,
        })
    }
}

/// `[matmul]`: C = A·B with A m×k and B k×n (`matmul_f32` or `matmul_i8`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatmulSpec {
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl MatmulSpec {
    fn params(&self) -> Result<MatmulParams, FieldError> {
        for (name, v) in [("m", self.m), ("n", self.n), ("k", self.k)] {
            bounded(&format!("matmul.{name}"), v, 1, MAX_MATMUL_DIM)?;
        }
        Ok(MatmulParams {
            m: self.m,
            n: self.n,
            k: self.k,
        })
    }
}

/// `[mlp]`: an int8 MLP's forward pass over a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    /// Rows of the input batch.
    pub batch: u32,
    /// Width of one input row.
    pub inputs: u16,
    /// The layers in order; the last one's outputs are the logits.
    #[serde(rename = "layer")]
    pub layers: Vec<MlpLayerSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpLayerSpec {
    /// Output width.
    pub outputs: u16,
    /// Requantization shift of a hidden layer's int32 sums to int8 (0..=31; the last layer
    /// is not requantized, but carries one too).
    pub shift: u8,
}

impl MlpSpec {
    fn params(&self) -> Result<MlpParams, FieldError> {
        bounded("mlp.batch", self.batch, 1, mlp::MAX_BATCH)?;
        bounded("mlp.inputs", self.inputs, 1, mlp::MAX_WIDTH)?;
        bounded(
            "mlp.layer (count)",
            self.layers.len(),
            1,
            usize::from(mlp::MAX_LAYERS),
        )?;
        let mut widths = vec![self.inputs];
        let mut shifts = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            bounded(
                &format!("mlp.layer[{i}].outputs"),
                l.outputs,
                1,
                mlp::MAX_WIDTH,
            )?;
            bounded(&format!("mlp.layer[{i}].shift"), l.shift, 0, 31)?;
            widths.push(l.outputs);
            shifts.push(l.shift);
        }
        Ok(MlpParams {
            batch: self.batch,
            widths,
            shifts,
        })
    }
}

/// `[train]`: steps of full-batch gradient descent on a one-hidden-layer MLP (f32).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    pub inputs: u16,
    pub hidden: u16,
    pub outputs: u16,
    pub batch: u16,
    pub steps: u16,
    pub learning_rate: f32,
}

impl TrainSpec {
    fn params(&self) -> Result<TrainParams, FieldError> {
        bounded("train.inputs", self.inputs, 1, train::MAX_WIDTH)?;
        bounded("train.hidden", self.hidden, 1, train::MAX_WIDTH)?;
        bounded("train.outputs", self.outputs, 1, train::MAX_WIDTH)?;
        bounded("train.batch", self.batch, 1, train::MAX_BATCH)?;
        bounded("train.steps", self.steps, 1, train::MAX_STEPS)?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(FieldError::new(
                "train.learning_rate",
                format!("{}; must be finite and > 0", self.learning_rate),
            ));
        }
        Ok(TrainParams {
            d_in: self.inputs,
            hidden: self.hidden,
            d_out: self.outputs,
            batch: self.batch,
            steps: self.steps,
            lr: self.learning_rate,
        })
    }
}

/// A kernel and its parameters by name: what a spec's kernel section describes.
#[derive(Clone, Debug, PartialEq)]
pub enum KernelSpec {
    Render(RenderSpec),
    Matmul(KernelId, MatmulSpec),
    Mlp(MlpSpec),
    Train(TrainSpec),
}

/// Encodes `job` and decodes it with the kernel's own decoder: a limit the fields above do
/// not spell out (an MLP's total input size, a training run's multiply-adds) is still the
/// kernel's, and is reported against the section.
fn decode_check(section: &str, job: &Job) -> Result<Job, FieldError> {
    Job::decode(job.kernel() as u8, &job.encode_params())
        .map_err(|e| FieldError::new(section, e.to_string()))
}

impl KernelSpec {
    pub fn kernel(&self) -> KernelId {
        match self {
            KernelSpec::Render(_) => KernelId::Render,
            KernelSpec::Matmul(id, _) => *id,
            KernelSpec::Mlp(_) => KernelId::MlpInfer,
            KernelSpec::Train(_) => KernelId::TrainStep,
        }
    }

    /// The decoded kernel params of every job this section posts (one per render tile).
    pub fn jobs(&self) -> Result<Vec<Job>, FieldError> {
        let one = |section: &str, job: Job| decode_check(section, &job).map(|j| vec![j]);
        match self {
            KernelSpec::Render(r) => Ok(r.tiles()?.into_iter().map(Job::Render).collect()),
            KernelSpec::Matmul(KernelId::MatmulI8, m) => one("matmul", Job::MatmulI8(m.params()?)),
            KernelSpec::Matmul(_, m) => one("matmul", Job::MatmulF32(m.params()?)),
            KernelSpec::Mlp(m) => one("mlp", Job::MlpInfer(m.params()?)),
            KernelSpec::Train(t) => one("train", Job::TrainStep(t.params()?)),
        }
    }

    /// The section that posts exactly `jobs` (all of one kernel; a render's tiles in order).
    pub fn from_jobs(jobs: &[Job]) -> Option<Self> {
        match jobs.first()? {
            Job::Render(_) => {
                let tiles: Vec<RenderParams> = jobs
                    .iter()
                    .map(|j| match j {
                        Job::Render(p) => Some(*p),
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                RenderSpec::from_tiles(&tiles).map(KernelSpec::Render)
            }
            Job::MatmulF32(p) | Job::MatmulI8(p) => Some(KernelSpec::Matmul(
                jobs[0].kernel(),
                MatmulSpec {
                    m: p.m,
                    n: p.n,
                    k: p.k,
                },
            )),
            Job::MlpInfer(p) => Some(KernelSpec::Mlp(MlpSpec {
                batch: p.batch,
                inputs: p.widths[0],
                layers: p.widths[1..]
                    .iter()
                    .zip(&p.shifts)
                    .map(|(&outputs, &shift)| MlpLayerSpec { outputs, shift })
                    .collect(),
            })),
            Job::TrainStep(p) => Some(KernelSpec::Train(TrainSpec {
                inputs: p.d_in,
                hidden: p.hidden,
                outputs: p.d_out,
                batch: p.batch,
                steps: p.steps,
                learning_rate: p.lr,
            })),
        }
    }

    /// What the kernel's input must hold, for error messages.
    pub fn input_layout(&self) -> &'static str {
        match self {
            KernelSpec::Render(_) => "the scene",
            KernelSpec::Matmul(KernelId::MatmulI8, _) => "A (m×k) then B (k×n), i8, row-major",
            KernelSpec::Matmul(..) => "A (m×k) then B (k×n), f32 little-endian, row-major",
            KernelSpec::Mlp(_) => {
                "X (batch×inputs, i8), then each layer's weights (in×out, i8) and biases (out, i32 LE)"
            }
            KernelSpec::Train(_) => {
                "X, Y, W1, b1, W2, b2 as f32 little-endian (see workers/kernels/src/kernels/train.rs)"
            }
        }
    }
}
