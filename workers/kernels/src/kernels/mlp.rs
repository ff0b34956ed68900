//! `mlp_infer`: forward pass of an int8-quantized multilayer perceptron over a batch.
//!
//! Params: `batch` u32 (1..=65536), `layers` u8 (1..=4), then `layers + 1` widths as u16
//! (1..=4096: input, hidden…, output), then one requantization shift per layer as u8 (0..=31).
//! Input: X (batch × width₀, i8), then for each layer its weights (in × out, row-major [in][out],
//! i8) and biases (out, i32 LE, |b| ≤ 2^30). Each layer computes `acc = b + Σ x·w` in int32
//! (exact: |acc| < 2^31 within these limits); a hidden layer's output is
//! `max(0, clamp(acc >> shift, −128, 127))` as i8 (arithmetic shift), the last layer's is `acc`.
//! Output: batch × width_last, i32 LE. All integer: bit-identical anywhere by construction.
use rayon::prelude::*;
use tessera_step::mlp as step;

use crate::backend::{Cpu, Gpu};
use crate::codec::{i32_bytes, i32s, i8s, Reader};
use crate::random::SplitMix64;
use crate::{Kernel, KernelError, KernelId};

/// The limits the referee decodes params with (`tessera_step::mlp::Layers::decode`).
pub const MAX_BATCH: u32 = step::MAX_BATCH;
pub const MAX_LAYERS: u8 = step::MAX_LAYERS as u8;
pub const MAX_WIDTH: u16 = step::MAX_WIDTH;
pub const MAX_BIAS: i32 = 1 << 30;
/// Largest input: 256 MiB.
pub const MAX_INPUT_BYTES: usize = 256 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpParams {
    pub batch: u32,
    pub widths: Vec<u16>,
    pub shifts: Vec<u8>,
}

impl MlpParams {
    fn layers(&self) -> usize {
        self.shifts.len()
    }
    fn width(&self, i: usize) -> usize {
        usize::from(self.widths[i])
    }
    /// Byte offset of layer `l`'s weights in the input (`l = layers`: the input's length).
    /// The layout and trace definitions the referee uses (`tessera_step::mlp`).
    pub fn shape(&self) -> step::Shape<'_> {
        step::Shape {
            batch: self.batch,
            widths: &self.widths,
            shifts: &self.shifts,
        }
    }
    fn weights_at(&self, l: usize) -> usize {
        self.shape().weights_at(l) as usize
    }
    /// Byte offsets of layer `l`'s weights and of its biases.
    fn layer_offsets(&self, l: usize) -> (usize, usize) {
        let at = self.weights_at(l);
        (at, at + self.width(l) * self.width(l + 1))
    }
    fn input_len(&self) -> usize {
        self.weights_at(self.layers())
    }
}

const ID: KernelId = KernelId::MlpInfer;

fn hidden(acc: i32, shift: u8) -> i8 {
    step::activate(acc, shift)
}

const CUDA: &str = r#"
extern "C" __global__ void mlp_layer(const signed char* x, const signed char* w, const int* bias,
                                     signed char* x_next, int* out, unsigned batch,
                                     unsigned in_w, unsigned out_w, unsigned shift, int last) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= batch * out_w) return;
    unsigned b = idx / out_w, o = idx % out_w;
    int acc = bias[o];
    for (unsigned i = 0; i < in_w; ++i) {
        acc += (int)x[b * in_w + i] * (int)w[i * out_w + o];
    }
    if (last) {
        out[idx] = acc;
    } else {
        int q = acc >> shift;
        q = q < -128 ? -128 : (q > 127 ? 127 : q);
        x_next[idx] = (signed char)(q > 0 ? q : 0);
    }
}
"#;

/// `mlp_infer`.
pub struct MlpInfer;

impl Kernel for MlpInfer {
    const ID: KernelId = ID;
    type Params = MlpParams;

    fn decode_params(bytes: &[u8]) -> Result<MlpParams, KernelError> {
        let mut r = Reader::new(bytes);
        let short = || KernelError::params(ID, "truncated: batch, layers, widths, shifts");
        let batch = r.u32().ok_or_else(short)?;
        let layers = r.u8().ok_or_else(short)?;
        if !(1..=MAX_BATCH).contains(&batch) {
            return Err(KernelError::params(
                ID,
                format!("batch = {batch}; must be 1..={MAX_BATCH}"),
            ));
        }
        if !(1..=MAX_LAYERS).contains(&layers) {
            return Err(KernelError::params(
                ID,
                format!("layers = {layers}; must be 1..={MAX_LAYERS}"),
            ));
        }
        let mut widths = Vec::with_capacity(usize::from(layers) + 1);
        for _ in 0..=layers {
            let w = r.u16().ok_or_else(short)?;
            if !(1..=MAX_WIDTH).contains(&w) {
                return Err(KernelError::params(
                    ID,
                    format!("width {w}; must be 1..={MAX_WIDTH}"),
                ));
            }
            widths.push(w);
        }
        let mut shifts = Vec::with_capacity(usize::from(layers));
        for _ in 0..layers {
            let s = r.u8().ok_or_else(short)?;
            if s > 31 {
                return Err(KernelError::params(
                    ID,
                    format!("shift {s}; must be 0..=31"),
                ));
            }
            shifts.push(s);
        }
        if r.remaining() != 0 {
            return Err(KernelError::params(ID, "trailing bytes after the shifts"));
        }
        let params = MlpParams {
            batch,
            widths,
            shifts,
        };
        if params.input_len() > MAX_INPUT_BYTES {
            return Err(KernelError::params(
                ID,
                format!(
                    "input would be {} bytes; at most {MAX_INPUT_BYTES}",
                    params.input_len()
                ),
            ));
        }
        Ok(params)
    }
    fn encode_params(p: &MlpParams) -> Vec<u8> {
        let mut out = p.batch.to_le_bytes().to_vec();
        out.push(p.shifts.len() as u8);
        for w in &p.widths {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&p.shifts);
        out
    }
    fn input_len(p: &MlpParams) -> usize {
        p.input_len()
    }
    fn output_len(p: &MlpParams) -> usize {
        p.batch as usize * p.width(p.layers()) * 4
    }
    fn work_units(p: &MlpParams) -> u64 {
        let macs: u64 = (0..p.layers())
            .map(|l| p.width(l) as u64 * p.width(l + 1) as u64)
            .sum();
        (u64::from(p.batch) * macs).div_ceil(1 << 20)
    }
    fn check_input(p: &MlpParams, input: &[u8]) -> Result<(), KernelError> {
        if input.len() != p.input_len() {
            return Err(KernelError::input(
                ID,
                format!(
                    "{} bytes; batch and layers need {}",
                    input.len(),
                    p.input_len()
                ),
            ));
        }
        for l in 0..p.layers() {
            let (_, bias_at) = p.layer_offsets(l);
            let biases = i32s(&input[bias_at..bias_at + 4 * p.width(l + 1)]);
            if let Some(b) = biases.iter().find(|b| b.unsigned_abs() > MAX_BIAS as u32) {
                return Err(KernelError::input(
                    ID,
                    format!("layer {l} bias {b} exceeds ±2^30 (int32 accumulators could overflow)"),
                ));
            }
        }
        Ok(())
    }
    fn run_cpu(p: &MlpParams, input: &[u8], cpu: &Cpu) -> Vec<u8> {
        let batch = p.batch as usize;
        let d0 = p.width(0);
        let out_w = p.width(p.layers());
        let mut out = vec![0i32; batch * out_w];
        cpu.install(|| {
            out.par_chunks_mut(out_w)
                .enumerate()
                .for_each(|(b, out_row)| {
                    let mut x: Vec<i8> = i8s(&input[b * d0..(b + 1) * d0]);
                    for l in 0..p.layers() {
                        let (w_at, bias_at) = p.layer_offsets(l);
                        let (in_w, o_w) = (p.width(l), p.width(l + 1));
                        let w = &input[w_at..bias_at];
                        let bias = i32s(&input[bias_at..bias_at + 4 * o_w]);
                        let mut acc = bias;
                        for (i, xv) in x.iter().enumerate() {
                            for (a, wv) in acc.iter_mut().zip(&w[i * o_w..(i + 1) * o_w]) {
                                *a = step::fold(*a, *xv, *wv as i8);
                            }
                        }
                        if l + 1 == p.layers() {
                            out_row.copy_from_slice(&acc);
                        } else {
                            x = acc.iter().map(|a| hidden(*a, p.shifts[l])).collect();
                        }
                        let _ = in_w;
                    }
                });
        });
        i32_bytes(&out)
    }
    const CUDA_SOURCE: &'static str = CUDA;
    fn run_cuda(p: &MlpParams, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError> {
        use cudarc::driver::PushKernelArg;
        let stream = gpu.stream();
        let f = gpu.function(ID, CUDA, "mlp_layer")?;
        let batch = p.batch as usize;
        let mut x = stream.clone_htod(&i8s(&input[..batch * p.width(0)]))?;
        let out_w = p.width(p.layers());
        let mut out = stream.alloc_zeros::<i32>(batch * out_w)?;
        for l in 0..p.layers() {
            let (w_at, bias_at) = p.layer_offsets(l);
            let (in_w, o_w) = (p.width(l) as u32, p.width(l + 1) as u32);
            let w = stream.clone_htod(&i8s(&input[w_at..bias_at]))?;
            let bias = stream.clone_htod(&i32s(&input[bias_at..bias_at + 4 * o_w as usize]))?;
            let mut next = stream.alloc_zeros::<i8>(batch * o_w as usize)?;
            let last = i32::from(l + 1 == p.layers());
            let shift = u32::from(p.shifts[l]);
            let mut launch = stream.launch_builder(&f);
            launch
                .arg(&x)
                .arg(&w)
                .arg(&bias)
                .arg(&mut next)
                .arg(&mut out)
                .arg(&p.batch)
                .arg(&in_w)
                .arg(&o_w)
                .arg(&shift)
                .arg(&last);
            // SAFETY: the arguments match the kernel's signature and the buffers' sizes.
            unsafe { launch.launch(super::launch_1d(batch * o_w as usize)) }?;
            x = next;
        }
        Ok(i32_bytes(&stream.clone_dtoh(&out)?))
    }
    fn random_input(p: &MlpParams, rng: &mut SplitMix64) -> Vec<u8> {
        let mut input: Vec<u8> = (0..p.batch as usize * p.width(0))
            .map(|_| rng.i8() as u8)
            .collect();
        for l in 0..p.layers() {
            input.extend((0..p.width(l) * p.width(l + 1)).map(|_| rng.i8() as u8));
            for _ in 0..p.width(l + 1) {
                let bias = rng.below(1 << 16) as i32 - (1 << 15);
                input.extend_from_slice(&bias.to_le_bytes());
            }
        }
        input
    }
}
