//! `train_step`: `steps` steps of full-batch gradient descent on a one-hidden-layer MLP in f32,
//! returning the new weights.
//!
//! Params (14 bytes): `d_in`, `hidden`, `d_out`, `batch`, `steps` as u16 LE (widths and batch
//! 1..=1024, steps 1..=1000), `lr` as f32 LE (finite, > 0). Input, f32 LE, finite: X (batch ×
//! d_in), Y (batch × d_out), W1 (d_in × hidden), b1 (hidden), W2 (hidden × d_out), b2 (d_out).
//! Output: W1, b1, W2, b2 after the steps, f32 LE (any NaN as 0x7fc00000).
//!
//! One step, every sum starting at 0 and running in index order, every operation rounded on
//! its own (no FMA; no transcendental functions are needed):
//! `z = (Σ_i X·W1) + b1`, `H = z > 0 ? z : 0`; `P = (Σ_j H·W2) + b2`;
//! `G = (P − Y) · s` with `s = 2 / (batch · d_out)` (mean squared error);
//! `dH = H > 0 ? Σ_o G·W2 : 0`; `W2 −= lr · Σ_b H·G`, `b2 −= lr · Σ_b G`;
//! `W1 −= lr · Σ_b X·dH`, `b1 −= lr · Σ_b dH`. Gradients use the step's old weights.
use rayon::prelude::*;
use tessera_step::train as step;

use crate::backend::{Cpu, Gpu};
use crate::codec::{f32_bytes, f32s, first_non_finite, Reader};
use crate::random::SplitMix64;
use crate::{Kernel, KernelError, KernelId};

pub const MAX_WIDTH: u16 = 1024;
pub const MAX_BATCH: u16 = 1024;
pub const MAX_STEPS: u16 = 1000;
/// Most multiply-adds a job may ask for (about 17 G).
pub const MAX_MACS: u64 = 1 << 34;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainParams {
    pub d_in: u16,
    pub hidden: u16,
    pub d_out: u16,
    pub batch: u16,
    pub steps: u16,
    pub lr: f32,
}

const ID: KernelId = KernelId::TrainStep;

impl TrainParams {
    fn dims(&self) -> (usize, usize, usize, usize) {
        (
            usize::from(self.d_in),
            usize::from(self.hidden),
            usize::from(self.d_out),
            usize::from(self.batch),
        )
    }
    fn weights_len(&self) -> usize {
        let (i, h, o, _) = self.dims();
        i * h + h + h * o + o
    }
    fn data_len(&self) -> usize {
        let (i, _, o, b) = self.dims();
        b * i + b * o
    }
    fn macs(&self) -> u64 {
        let (i, h, o, b) = self.dims();
        // Forward, the hidden gradient, and both weight gradients: about 3 passes.
        3 * u64::from(self.steps) * (b * (i * h + h * o)) as u64
    }
    /// The layout and trace definitions the referee uses (`tessera_step::train`).
    pub fn shape(&self) -> step::Shape {
        step::Shape {
            d_in: self.d_in,
            hidden: self.hidden,
            d_out: self.d_out,
            batch: self.batch,
            steps: self.steps,
            lr: self.lr,
        }
    }
    fn scale(&self) -> f32 {
        self.shape().scale()
    }
}

/// The model, laid out as in the input and output.
struct Model {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

fn split(p: &TrainParams, values: &[f32]) -> (Vec<f32>, Vec<f32>, Model) {
    let (i, h, o, b) = p.dims();
    let (x, rest) = values.split_at(b * i);
    let (y, rest) = rest.split_at(b * o);
    let (w1, rest) = rest.split_at(i * h);
    let (b1, rest) = rest.split_at(h);
    let (w2, b2) = rest.split_at(h * o);
    (
        x.to_vec(),
        y.to_vec(),
        Model {
            w1: w1.to_vec(),
            b1: b1.to_vec(),
            w2: w2.to_vec(),
            b2: b2.to_vec(),
        },
    )
}

fn step_cpu(p: &TrainParams, x: &[f32], y: &[f32], m: &mut Model) {
    let (d_in, hid, d_out, batch) = p.dims();
    let (lr, s) = (p.lr, p.scale());
    let mut hidden = vec![0.0f32; batch * hid];
    hidden.par_chunks_mut(hid).enumerate().for_each(|(b, row)| {
        for (j, h) in row.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for i in 0..d_in {
                acc = step::fold(acc, x[b * d_in + i], m.w1[i * hid + j]);
            }
            *h = step::finish_hidden(acc, m.b1[j]);
        }
    });
    let mut g = vec![0.0f32; batch * d_out];
    g.par_chunks_mut(d_out).enumerate().for_each(|(b, row)| {
        for (o, gv) in row.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for j in 0..hid {
                acc = step::fold(acc, hidden[b * hid + j], m.w2[j * d_out + o]);
            }
            *gv = step::finish_grad(acc, m.b2[o], y[b * d_out + o], s);
        }
    });
    let mut dh = vec![0.0f32; batch * hid];
    dh.par_chunks_mut(hid).enumerate().for_each(|(b, row)| {
        for (j, d) in row.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for o in 0..d_out {
                acc = step::fold(acc, g[b * d_out + o], m.w2[j * d_out + o]);
            }
            *d = step::finish_dhidden(acc, hidden[b * hid + j]);
        }
    });
    m.w2.par_chunks_mut(d_out).enumerate().for_each(|(j, row)| {
        for (o, w) in row.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for b in 0..batch {
                acc = step::fold(acc, hidden[b * hid + j], g[b * d_out + o]);
            }
            *w = step::finish_update(acc, *w, lr);
        }
    });
    for (o, bias) in m.b2.iter_mut().enumerate() {
        let mut acc = 0.0f32;
        for b in 0..batch {
            acc = step::fold_sum(acc, g[b * d_out + o]);
        }
        *bias = step::finish_update(acc, *bias, lr);
    }
    m.w1.par_chunks_mut(hid).enumerate().for_each(|(i, row)| {
        for (j, w) in row.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for b in 0..batch {
                acc = step::fold(acc, x[b * d_in + i], dh[b * hid + j]);
            }
            *w = step::finish_update(acc, *w, lr);
        }
    });
    for (j, bias) in m.b1.iter_mut().enumerate() {
        let mut acc = 0.0f32;
        for b in 0..batch {
            acc = step::fold_sum(acc, dh[b * hid + j]);
        }
        *bias = step::finish_update(acc, *bias, lr);
    }
}

const CUDA: &str = r#"
#define FMUL __fmul_rn
#define FADD __fadd_rn
#define FSUB __fsub_rn
extern "C" __global__ void train_hidden(const float* x, const float* w1, const float* b1,
                                        float* h, unsigned batch, unsigned d_in, unsigned hid) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * hid) return;
    unsigned b = idx / hid, j = idx % hid;
    float acc = 0.0f;
    for (unsigned i = 0; i < d_in; ++i) acc = FADD(acc, FMUL(x[b * d_in + i], w1[i * hid + j]));
    float z = FADD(acc, b1[j]);
    h[idx] = z > 0.0f ? z : 0.0f;
}
extern "C" __global__ void train_output(const float* h, const float* w2, const float* b2,
                                        const float* y, float* g, unsigned batch, unsigned hid,
                                        unsigned d_out, float s) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * d_out) return;
    unsigned b = idx / d_out, o = idx % d_out;
    float acc = 0.0f;
    for (unsigned j = 0; j < hid; ++j) acc = FADD(acc, FMUL(h[b * hid + j], w2[j * d_out + o]));
    float pred = FADD(acc, b2[o]);
    g[idx] = FMUL(FSUB(pred, y[idx]), s);
}
extern "C" __global__ void train_dhidden(const float* g, const float* w2, const float* h,
                                         float* dh, unsigned batch, unsigned hid, unsigned d_out) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * hid) return;
    unsigned b = idx / hid, j = idx % hid;
    float acc = 0.0f;
    for (unsigned o = 0; o < d_out; ++o) acc = FADD(acc, FMUL(g[b * d_out + o], w2[j * d_out + o]));
    dh[idx] = h[idx] > 0.0f ? acc : 0.0f;
}
/* Weight (rows x cols) -= lr * sum_b a[b][row] * d[b][col]; then bias[col] -= lr * sum_b d[b][col]
   by the threads past the weights. */
extern "C" __global__ void train_update(float* w, float* bias, const float* a, const float* d,
                                        unsigned batch, unsigned rows, unsigned cols, float lr) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < rows * cols) {
        unsigned r = idx / cols, c = idx % cols;
        float acc = 0.0f;
        for (unsigned b = 0; b < batch; ++b) acc = FADD(acc, FMUL(a[b * rows + r], d[b * cols + c]));
        w[idx] = FSUB(w[idx], FMUL(lr, acc));
    } else if (idx < rows * cols + cols) {
        unsigned c = idx - rows * cols;
        float acc = 0.0f;
        for (unsigned b = 0; b < batch; ++b) acc = FADD(acc, d[b * cols + c]);
        bias[c] = FSUB(bias[c], FMUL(lr, acc));
    }
}
"#;

/// `train_step`.
pub struct TrainStep;

impl Kernel for TrainStep {
    const ID: KernelId = ID;
    type Params = TrainParams;

    fn decode_params(bytes: &[u8]) -> Result<TrainParams, KernelError> {
        let mut r = Reader::new(bytes);
        let short = || {
            KernelError::params(
                ID,
                "need 14 bytes: d_in, hidden, d_out, batch, steps (u16), lr (f32)",
            )
        };
        let d_in = r.u16().ok_or_else(short)?;
        let hidden = r.u16().ok_or_else(short)?;
        let d_out = r.u16().ok_or_else(short)?;
        let batch = r.u16().ok_or_else(short)?;
        let steps = r.u16().ok_or_else(short)?;
        let lr = r.f32().ok_or_else(short)?;
        if r.remaining() != 0 {
            return Err(KernelError::params(ID, "trailing bytes after lr"));
        }
        for (name, v, max) in [
            ("d_in", d_in, MAX_WIDTH),
            ("hidden", hidden, MAX_WIDTH),
            ("d_out", d_out, MAX_WIDTH),
            ("batch", batch, MAX_BATCH),
            ("steps", steps, MAX_STEPS),
        ] {
            if v == 0 || v > max {
                return Err(KernelError::params(
                    ID,
                    format!("{name} = {v}; must be 1..={max}"),
                ));
            }
        }
        if !lr.is_finite() || lr <= 0.0 {
            return Err(KernelError::params(
                ID,
                format!("lr = {lr}; must be finite and > 0"),
            ));
        }
        let params = TrainParams {
            d_in,
            hidden,
            d_out,
            batch,
            steps,
            lr,
        };
        if params.macs() > MAX_MACS {
            return Err(KernelError::params(
                ID,
                format!("{} multiply-adds; at most {MAX_MACS}", params.macs()),
            ));
        }
        Ok(params)
    }
    fn encode_params(p: &TrainParams) -> Vec<u8> {
        let mut out = Vec::with_capacity(14);
        for v in [p.d_in, p.hidden, p.d_out, p.batch, p.steps] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&p.lr.to_le_bytes());
        out
    }
    fn input_len(p: &TrainParams) -> usize {
        4 * (p.data_len() + p.weights_len())
    }
    fn output_len(p: &TrainParams) -> usize {
        4 * p.weights_len()
    }
    fn work_units(p: &TrainParams) -> u64 {
        p.macs().div_ceil(1 << 20)
    }
    fn check_input(p: &TrainParams, input: &[u8]) -> Result<(), KernelError> {
        let want = Self::input_len(p);
        if input.len() != want {
            return Err(KernelError::input(
                ID,
                format!("{} bytes; data and weights need {want}", input.len()),
            ));
        }
        if let Some(i) = first_non_finite(input) {
            return Err(KernelError::input(
                ID,
                format!("value {i} is NaN or infinite; inputs must be finite"),
            ));
        }
        Ok(())
    }
    fn run_cpu(p: &TrainParams, input: &[u8], cpu: &Cpu) -> Vec<u8> {
        let (x, y, mut model) = split(p, &f32s(input));
        cpu.install(|| {
            for _ in 0..p.steps {
                step_cpu(p, &x, &y, &mut model);
            }
        });
        let mut out = model.w1;
        out.extend(model.b1);
        out.extend(model.w2);
        out.extend(model.b2);
        f32_bytes(&out)
    }
    const CUDA_SOURCE: &'static str = CUDA;
    fn run_cuda(p: &TrainParams, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError> {
        use cudarc::driver::PushKernelArg;
        let (d_in, hid, d_out, batch) = p.dims();
        let (x, y, model) = split(p, &f32s(input));
        let stream = gpu.stream();
        let x = stream.clone_htod(&x)?;
        let y = stream.clone_htod(&y)?;
        let mut w1 = stream.clone_htod(&model.w1)?;
        let mut b1 = stream.clone_htod(&model.b1)?;
        let mut w2 = stream.clone_htod(&model.w2)?;
        let mut b2 = stream.clone_htod(&model.b2)?;
        let mut h = stream.alloc_zeros::<f32>(batch * hid)?;
        let mut g = stream.alloc_zeros::<f32>(batch * d_out)?;
        let mut dh = stream.alloc_zeros::<f32>(batch * hid)?;
        let hidden_f = gpu.function(ID, CUDA, "train_hidden")?;
        let output_f = gpu.function(ID, CUDA, "train_output")?;
        let dhidden_f = gpu.function(ID, CUDA, "train_dhidden")?;
        let update_f = gpu.function(ID, CUDA, "train_update")?;
        let (b_u, i_u, h_u, o_u) = (batch as u32, d_in as u32, hid as u32, d_out as u32);
        let (s, lr) = (p.scale(), p.lr);
        for _ in 0..p.steps {
            let mut l = stream.launch_builder(&hidden_f);
            l.arg(&x)
                .arg(&w1)
                .arg(&b1)
                .arg(&mut h)
                .arg(&b_u)
                .arg(&i_u)
                .arg(&h_u);
            // SAFETY (every launch below): arguments match the kernel's signature and sizes.
            unsafe { l.launch(super::launch_1d(batch * hid)) }?;
            let mut l = stream.launch_builder(&output_f);
            l.arg(&h)
                .arg(&w2)
                .arg(&b2)
                .arg(&y)
                .arg(&mut g)
                .arg(&b_u)
                .arg(&h_u)
                .arg(&o_u)
                .arg(&s);
            unsafe { l.launch(super::launch_1d(batch * d_out)) }?;
            let mut l = stream.launch_builder(&dhidden_f);
            l.arg(&g)
                .arg(&w2)
                .arg(&h)
                .arg(&mut dh)
                .arg(&b_u)
                .arg(&h_u)
                .arg(&o_u);
            unsafe { l.launch(super::launch_1d(batch * hid)) }?;
            let mut l = stream.launch_builder(&update_f);
            l.arg(&mut w2)
                .arg(&mut b2)
                .arg(&h)
                .arg(&g)
                .arg(&b_u)
                .arg(&h_u)
                .arg(&o_u)
                .arg(&lr);
            unsafe { l.launch(super::launch_1d(hid * d_out + d_out)) }?;
            let mut l = stream.launch_builder(&update_f);
            l.arg(&mut w1)
                .arg(&mut b1)
                .arg(&x)
                .arg(&dh)
                .arg(&b_u)
                .arg(&i_u)
                .arg(&h_u)
                .arg(&lr);
            unsafe { l.launch(super::launch_1d(d_in * hid + hid)) }?;
        }
        let mut out = stream.clone_dtoh(&w1)?;
        out.extend(stream.clone_dtoh(&b1)?);
        out.extend(stream.clone_dtoh(&w2)?);
        out.extend(stream.clone_dtoh(&b2)?);
        Ok(f32_bytes(&out))
    }
    fn random_input(p: &TrainParams, rng: &mut SplitMix64) -> Vec<u8> {
        let (d_in, hid, _, _) = p.dims();
        // Data in [-1, 1); weights scaled by 1/sqrt(fan-in) so training stays finite.
        let mut out = Vec::with_capacity(Self::input_len(p));
        for _ in 0..p.data_len() {
            out.extend_from_slice(&rng.signed_unit().to_le_bytes());
        }
        let scale1 = 1.0 / (d_in as f32).sqrt();
        let scale2 = 1.0 / (hid as f32).sqrt();
        let (i, h, o, _) = p.dims();
        for (count, scale) in [(i * h, scale1), (h, 0.0), (h * o, scale2), (o, 0.0)] {
            for _ in 0..count {
                out.extend_from_slice(&(rng.signed_unit() * scale).to_le_bytes());
            }
        }
        out
    }
}
