//! `matmul_f32`: C = A·B in f32, and `matmul_i8`: C = A·B with int8 operands and exact int32
//! results.
//!
//! Params (12 bytes): `m`, `n`, `k` as u32 LE, each 1..=4096. Input: A (m×k, row-major) then
//! B (k×n, row-major), f32 LE (finite values only) or i8. Output: C (m×n, row-major), f32 LE
//! (any NaN written as 0x7fc00000) or i32 LE.
//!
//! Summation order: every C[i][j] is `((0 + A[i][0]·B[0][j]) + A[i][1]·B[1][j]) + …`, strictly
//! in k order, each product and each sum rounded on its own (no fused multiply-add). The CPU
//! parallelizes across rows and vectorizes across columns, so every output keeps that order;
//! the GPU gives each output its own thread, which walks k in order through shared-memory tiles.
use rayon::prelude::*;
use tessera_step::matmul as step;

use crate::backend::{Cpu, Gpu};
use crate::codec::{f32_bytes, f32s, first_non_finite, i32_bytes, i8s, Reader};
use crate::random::SplitMix64;
use crate::{Kernel, KernelError, KernelId};

/// Largest m, n or k.
pub const MAX_MATMUL_DIM: u32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

impl MatmulParams {
    fn decode(kernel: KernelId, bytes: &[u8]) -> Result<Self, KernelError> {
        let mut r = Reader::new(bytes);
        let (Some(m), Some(n), Some(k)) = (r.u32(), r.u32(), r.u32()) else {
            return Err(KernelError::params(
                kernel,
                "need 12 bytes: m, n, k as u32 LE",
            ));
        };
        if r.remaining() != 0 {
            return Err(KernelError::params(kernel, "trailing bytes after m, n, k"));
        }
        for (name, v) in [("m", m), ("n", n), ("k", k)] {
            if v == 0 || v > MAX_MATMUL_DIM {
                return Err(KernelError::params(
                    kernel,
                    format!("{name} = {v}; must be 1..={MAX_MATMUL_DIM}"),
                ));
            }
        }
        Ok(Self { m, n, k })
    }

    fn encode(&self) -> Vec<u8> {
        [self.m, self.n, self.k]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    /// The layout and trace definitions the referee uses (`tessera_step::matmul`).
    pub fn shape(&self) -> step::Shape {
        step::Shape {
            m: self.m,
            n: self.n,
            k: self.k,
        }
    }

    fn dims(&self) -> (usize, usize, usize) {
        (self.m as usize, self.n as usize, self.k as usize)
    }

    fn work_units(&self) -> u64 {
        (u64::from(self.m) * u64::from(self.n) * u64::from(self.k)).div_ceil(1 << 20)
    }

    fn check_len(&self, kernel: KernelId, input: &[u8], elem: usize) -> Result<(), KernelError> {
        let (m, n, k) = self.dims();
        let want = (m * k + k * n) * elem;
        if input.len() != want {
            return Err(KernelError::input(
                kernel,
                format!("{} bytes; A and B need {want}", input.len()),
            ));
        }
        Ok(())
    }
}

/// Rows of C a CPU task computes (and the B strip it keeps in cache).
const ROWS_PER_TASK: usize = 64;
/// Terms of k per block (the packed B strip, KC × 16 floats, stays in L1).
const KC: usize = 256;
/// Columns of the register tile.
const TILE_N: usize = 16;
/// Rows of the register tile (4 × 16 floats: eight 8-wide accumulators).
const TILE_M: usize = 4;

/// Continues the sums in `acc` over `k` more terms of `A[rows]·B[:, strip]`, in k order: the
/// register tile, over a strip of B packed as k rows of 16. Each term is the referee's step
/// (`tessera_step::matmul::step_f32`); the vector tile below computes the same bits.
#[inline(always)]
fn tile_f32(
    rows: [&[f32]; TILE_M],
    b: &[[f32; TILE_N]],
    k: usize,
    acc: &mut [[f32; TILE_N]; TILE_M],
) {
    for (r, acc_r) in acc.iter_mut().enumerate() {
        let mut c = *acc_r;
        for (p, row) in b.iter().take(k).enumerate() {
            let x = rows[r][p];
            for j in 0..TILE_N {
                c[j] = f32::from_bits(step::step_f32(c[j].to_bits(), x, row[j]));
            }
        }
        *acc_r = c;
    }
}

/// The same tile with AVX intrinsics: `_mm256_mul_ps` then `_mm256_add_ps`, each rounded on
/// its own, per output in k order — the arithmetic of [`tile_f32`], eight lanes at a time.
/// The eight accumulators are named variables so that they live in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn tile_f32_avx(
    rows: [&[f32]; TILE_M],
    b: &[[f32; TILE_N]],
    k: usize,
    acc: &mut [[f32; TILE_N]; TILE_M],
) {
    use std::arch::x86_64::*;
    let [a0, a1, a2, a3] = rows;
    let (a0, a1, a2, a3, b) = (&a0[..k], &a1[..k], &a2[..k], &a3[..k], &b[..k]);
    // SAFETY: every pointer below points into a 16-float row of `acc` or `b`.
    unsafe {
        let ld = |r: &[f32; TILE_N], h: usize| _mm256_loadu_ps(r.as_ptr().add(8 * h));
        let (mut c00, mut c01) = (ld(&acc[0], 0), ld(&acc[0], 1));
        let (mut c10, mut c11) = (ld(&acc[1], 0), ld(&acc[1], 1));
        let (mut c20, mut c21) = (ld(&acc[2], 0), ld(&acc[2], 1));
        let (mut c30, mut c31) = (ld(&acc[3], 0), ld(&acc[3], 1));
        for p in 0..k {
            let row = &b[p];
            let (lo, hi) = (ld(row, 0), ld(row, 1));
            let x = _mm256_set1_ps(a0[p]);
            c00 = _mm256_add_ps(c00, _mm256_mul_ps(x, lo));
            c01 = _mm256_add_ps(c01, _mm256_mul_ps(x, hi));
            let x = _mm256_set1_ps(a1[p]);
            c10 = _mm256_add_ps(c10, _mm256_mul_ps(x, lo));
            c11 = _mm256_add_ps(c11, _mm256_mul_ps(x, hi));
            let x = _mm256_set1_ps(a2[p]);
            c20 = _mm256_add_ps(c20, _mm256_mul_ps(x, lo));
            c21 = _mm256_add_ps(c21, _mm256_mul_ps(x, hi));
            let x = _mm256_set1_ps(a3[p]);
            c30 = _mm256_add_ps(c30, _mm256_mul_ps(x, lo));
            c31 = _mm256_add_ps(c31, _mm256_mul_ps(x, hi));
        }
        let st = |r: &mut [f32; TILE_N], h: usize, v: __m256| {
            _mm256_storeu_ps(r.as_mut_ptr().add(8 * h), v)
        };
        st(&mut acc[0], 0, c00);
        st(&mut acc[0], 1, c01);
        st(&mut acc[1], 0, c10);
        st(&mut acc[1], 1, c11);
        st(&mut acc[2], 0, c20);
        st(&mut acc[2], 1, c21);
        st(&mut acc[3], 0, c30);
        st(&mut acc[3], 1, c31);
    }
}

fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Rows `row0..` of C (as many as `c` holds). The k dimension is walked in blocks of `KC`,
/// each output resuming from the partial sum stored in C, so every output is still summed
/// strictly in k order. B is packed 16 columns at a time; edge strips and edge rows are padded
/// with zeros, which only produce padding outputs that are dropped (each output depends on its
/// own row of A and column of B alone); A is read in place.
fn matmul_f32_rows(
    a: &[f32],
    b: &[f32],
    n: usize,
    k: usize,
    row0: usize,
    c: &mut [f32],
    avx: bool,
) {
    let rows = c.len() / n;
    let mut strip = vec![[0.0f32; TILE_N]; KC.min(k)];
    let zeros = vec![0.0f32; KC.min(k)];
    let mut acc = [[0.0f32; TILE_N]; TILE_M];
    for k0 in (0..k).step_by(KC) {
        let kc = KC.min(k - k0);
        for j0 in (0..n).step_by(TILE_N) {
            let w = TILE_N.min(n - j0);
            for (p, packed) in strip.iter_mut().take(kc).enumerate() {
                let at = (k0 + p) * n + j0;
                packed[..w].copy_from_slice(&b[at..at + w]);
                packed[w..].fill(0.0);
            }
            for r in (0..rows).step_by(TILE_M) {
                let h = TILE_M.min(rows - r);
                let a_rows: [&[f32]; TILE_M] = std::array::from_fn(|t| {
                    if t < h {
                        let at = (row0 + r + t) * k + k0;
                        &a[at..at + kc]
                    } else {
                        &zeros[..kc]
                    }
                });
                for (t, acc_r) in acc.iter_mut().enumerate() {
                    if t < h && k0 > 0 {
                        acc_r[..w].copy_from_slice(&c[(r + t) * n + j0..(r + t) * n + j0 + w]);
                        acc_r[w..].fill(0.0);
                    } else {
                        *acc_r = [0.0; TILE_N];
                    }
                }
                #[cfg(target_arch = "x86_64")]
                if avx {
                    // SAFETY: avx was detected at run time.
                    unsafe { tile_f32_avx(a_rows, &strip[..kc], kc, &mut acc) };
                } else {
                    tile_f32(a_rows, &strip[..kc], kc, &mut acc);
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    let _ = avx;
                    tile_f32(a_rows, &strip[..kc], kc, &mut acc);
                }
                for (t, acc_r) in acc.iter().take(h).enumerate() {
                    c[(r + t) * n + j0..(r + t) * n + j0 + w].copy_from_slice(&acc_r[..w]);
                }
            }
        }
    }
}

/// C = A·B in f32 on the CPU, in the documented order.
pub fn matmul_f32_cpu(a: &[f32], b: &[f32], m: usize, n: usize, k: usize, cpu: &Cpu) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    let avx2 = avx2();
    cpu.install(|| {
        c.par_chunks_mut(ROWS_PER_TASK * n)
            .enumerate()
            .for_each(|(task, rows)| {
                matmul_f32_rows(a, b, n, k, task * ROWS_PER_TASK, rows, avx2);
            });
    });
    c
}

const CUDA_F32: &str = r#"
#define TILE 16
extern "C" __global__ void matmul_f32(const float* A, const float* B, float* C,
                                      unsigned m, unsigned n, unsigned k) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    unsigned row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
    float acc = 0.0f;
    for (unsigned t = 0; t < k; t += TILE) {
        As[ty][tx] = (row < m && t + tx < k) ? A[row * k + t + tx] : 0.0f;
        Bs[ty][tx] = (col < n && t + ty < k) ? B[(t + ty) * n + col] : 0.0f;
        __syncthreads();
        unsigned lim = (k - t < TILE) ? (k - t) : TILE;
        /* Strictly in k order, each product and sum rounded on its own. */
        for (unsigned p = 0; p < lim; ++p) {
            acc = __fadd_rn(acc, __fmul_rn(As[ty][p], Bs[p][tx]));
        }
        __syncthreads();
    }
    if (row < m && col < n) C[row * n + col] = acc;
}
"#;

fn launch_2d(m: u32, n: u32) -> cudarc::driver::LaunchConfig {
    cudarc::driver::LaunchConfig {
        grid_dim: (n.div_ceil(16), m.div_ceil(16), 1),
        block_dim: (16, 16, 1),
        shared_mem_bytes: 0,
    }
}

/// `matmul_f32`.
pub struct MatmulF32;

impl Kernel for MatmulF32 {
    const ID: KernelId = KernelId::MatmulF32;
    type Params = MatmulParams;

    fn decode_params(bytes: &[u8]) -> Result<MatmulParams, KernelError> {
        MatmulParams::decode(Self::ID, bytes)
    }
    fn encode_params(params: &MatmulParams) -> Vec<u8> {
        params.encode()
    }
    fn input_len(params: &MatmulParams) -> usize {
        let (m, n, k) = params.dims();
        (m * k + k * n) * 4
    }
    fn output_len(params: &MatmulParams) -> usize {
        params.m as usize * params.n as usize * 4
    }
    fn work_units(params: &MatmulParams) -> u64 {
        params.work_units()
    }
    fn check_input(params: &MatmulParams, input: &[u8]) -> Result<(), KernelError> {
        params.check_len(Self::ID, input, 4)?;
        if let Some(i) = first_non_finite(input) {
            return Err(KernelError::input(
                Self::ID,
                format!("value {i} is NaN or infinite; inputs must be finite"),
            ));
        }
        Ok(())
    }
    fn run_cpu(params: &MatmulParams, input: &[u8], cpu: &Cpu) -> Vec<u8> {
        let (m, n, k) = params.dims();
        let values = f32s(input);
        let (a, b) = values.split_at(m * k);
        f32_bytes(&matmul_f32_cpu(a, b, m, n, k, cpu))
    }
    const CUDA_SOURCE: &'static str = CUDA_F32;
    fn run_cuda(params: &MatmulParams, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError> {
        use cudarc::driver::PushKernelArg;
        let (m, n, k) = params.dims();
        let values = f32s(input);
        let stream = gpu.stream();
        let a = stream.clone_htod(&values[..m * k])?;
        let b = stream.clone_htod(&values[m * k..])?;
        let mut c = stream.alloc_zeros::<f32>(m * n)?;
        let f = gpu.function(Self::ID, Self::CUDA_SOURCE, "matmul_f32")?;
        let mut launch = stream.launch_builder(&f);
        launch
            .arg(&a)
            .arg(&b)
            .arg(&mut c)
            .arg(&params.m)
            .arg(&params.n)
            .arg(&params.k);
        // SAFETY: the arguments match the kernel's signature and the buffers' sizes.
        unsafe { launch.launch(launch_2d(params.m, params.n)) }?;
        Ok(f32_bytes(&stream.clone_dtoh(&c)?))
    }
    fn random_input(params: &MatmulParams, rng: &mut SplitMix64) -> Vec<u8> {
        let (m, n, k) = params.dims();
        (0..m * k + k * n)
            .flat_map(|_| rng.signed_unit().to_le_bytes())
            .collect()
    }
}

const CUDA_I8: &str = r#"
extern "C" __global__ void matmul_i8(const signed char* A, const signed char* B, int* C,
                                     unsigned m, unsigned n, unsigned k) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= m * n) return;
    unsigned row = idx / n, col = idx % n;
    int acc = 0;
    for (unsigned p = 0; p < k; ++p) {
        acc += (int)A[row * k + p] * (int)B[p * n + col];
    }
    C[idx] = acc;
}
"#;

/// C = A·B with int8 operands, exact in int32 (|C| ≤ 4096 · 128 · 128 < 2^31).
pub fn matmul_i8_cpu(a: &[i8], b: &[i8], m: usize, n: usize, k: usize, cpu: &Cpu) -> Vec<i32> {
    let mut c = vec![0i32; m * n];
    cpu.install(|| {
        c.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
            let a_row = &a[i * k..(i + 1) * k];
            for (p, av) in a_row.iter().enumerate() {
                let b_row = &b[p * n..(p + 1) * n];
                for (c, bv) in row.iter_mut().zip(b_row) {
                    *c = step::step_i8(*c, *av, *bv);
                }
            }
        });
    });
    c
}

/// `matmul_i8`.
pub struct MatmulI8;

impl Kernel for MatmulI8 {
    const ID: KernelId = KernelId::MatmulI8;
    type Params = MatmulParams;

    fn decode_params(bytes: &[u8]) -> Result<MatmulParams, KernelError> {
        MatmulParams::decode(Self::ID, bytes)
    }
    fn encode_params(params: &MatmulParams) -> Vec<u8> {
        params.encode()
    }
    fn input_len(params: &MatmulParams) -> usize {
        let (m, n, k) = params.dims();
        m * k + k * n
    }
    fn output_len(params: &MatmulParams) -> usize {
        params.m as usize * params.n as usize * 4
    }
    fn work_units(params: &MatmulParams) -> u64 {
        params.work_units()
    }
    fn check_input(params: &MatmulParams, input: &[u8]) -> Result<(), KernelError> {
        params.check_len(Self::ID, input, 1)
    }
    fn run_cpu(params: &MatmulParams, input: &[u8], cpu: &Cpu) -> Vec<u8> {
        let (m, n, k) = params.dims();
        let values = i8s(input);
        let (a, b) = values.split_at(m * k);
        i32_bytes(&matmul_i8_cpu(a, b, m, n, k, cpu))
    }
    const CUDA_SOURCE: &'static str = CUDA_I8;
    fn run_cuda(params: &MatmulParams, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError> {
        use cudarc::driver::PushKernelArg;
        let (m, n, k) = params.dims();
        let values = i8s(input);
        let stream = gpu.stream();
        let a = stream.clone_htod(&values[..m * k])?;
        let b = stream.clone_htod(&values[m * k..])?;
        let mut c = stream.alloc_zeros::<i32>(m * n)?;
        let f = gpu.function(Self::ID, Self::CUDA_SOURCE, "matmul_i8")?;
        let mut launch = stream.launch_builder(&f);
        launch
            .arg(&a)
            .arg(&b)
            .arg(&mut c)
            .arg(&params.m)
            .arg(&params.n)
            .arg(&params.k);
        // SAFETY: the arguments match the kernel's signature and the buffers' sizes.
        unsafe { launch.launch(super::launch_1d(m * n)) }?;
        Ok(i32_bytes(&stream.clone_dtoh(&c)?))
    }
    fn random_input(params: &MatmulParams, rng: &mut SplitMix64) -> Vec<u8> {
        let (m, n, k) = params.dims();
        (0..m * k + k * n).map(|_| rng.i8() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SplitMix64;

    #[test]
    fn the_vector_tile_and_the_portable_tile_agree_bit_for_bit() {
        let mut rng = SplitMix64::new(99);
        for k in [1usize, 7, 64, 300] {
            let a: Vec<f32> = (0..TILE_M * k).map(|_| rng.signed_unit() * 3.0).collect();
            let b: Vec<[f32; TILE_N]> = (0..k)
                .map(|_| std::array::from_fn(|_| rng.signed_unit()))
                .collect();
            let start: [[f32; TILE_N]; TILE_M] =
                std::array::from_fn(|_| std::array::from_fn(|_| rng.signed_unit()));
            let mut portable = start;
            tile_f32(
                std::array::from_fn(|r| &a[r * k..(r + 1) * k]),
                &b,
                k,
                &mut portable,
            );
            // Against the definition: resume from `start`, add each term in k order.
            for r in 0..TILE_M {
                for j in 0..TILE_N {
                    let mut acc = start[r][j];
                    for p in 0..k {
                        acc = acc + a[r * k + p] * b[p][j];
                    }
                    assert_eq!(portable[r][j].to_bits(), acc.to_bits());
                }
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx") {
                let mut vector = start;
                // SAFETY: avx was detected.
                unsafe {
                    tile_f32_avx(
                        std::array::from_fn(|r| &a[r * k..(r + 1) * k]),
                        &b,
                        k,
                        &mut vector,
                    )
                };
                assert_eq!(
                    portable.map(|r| r.map(f32::to_bits)),
                    vector.map(|r| r.map(f32::to_bits))
                );
            }
        }
    }
}
