//! Tessera's deterministic compute kernels.
//!
//! Every kernel has a CPU and a CUDA implementation that produce the same bytes: the same
//! operations in the same order, IEEE-rounded one at a time (no fused multiply-add, no fast
//! math, no reductions whose order varies), so independent workers on different hardware
//! agree on the [`merkle`] root of a job's output and the chain can compare roots.
//!
//! - [`Kernel`]: the typed interface of one kernel (id, params, limits, work units, CPU and
//!   CUDA execution, canonical output bytes).
//! - [`Job`]: a kernel id and its decoded params, for callers that hold the raw bytes the
//!   chain stores; [`Job::run`] executes it on a [`Backend`].
//! - [`backend`]: CPU thread pools and the CUDA device (through cudarc, loaded dynamically; with
//!   no driver the crate falls back to the CPU and says so).
//!
//! This crate knows nothing of Solana.

// The kernels spell out `acc = acc + a * b` so that the Rust reads like the CUDA source and
// the documented order; `+=` would compute the same, but hides the order being documented.
#![allow(clippy::assign_op_pattern)]

pub mod backend;
pub mod codec;
pub mod dispute;
pub mod kernels;
pub mod merkle;
pub mod random;

use std::fmt;

pub use backend::{Backend, BackendChoice, Cpu, Gpu};
pub use kernels::{MatmulF32, MatmulI8, MlpInfer, Render, TrainStep};

/// Stable kernel ids, as jobs name them on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KernelId {
    Render = 1,
    MatmulF32 = 2,
    MatmulI8 = 3,
    MlpInfer = 4,
    TrainStep = 5,
}

impl KernelId {
    pub const ALL: [KernelId; 5] = [
        KernelId::Render,
        KernelId::MatmulF32,
        KernelId::MatmulI8,
        KernelId::MlpInfer,
        KernelId::TrainStep,
    ];

    pub fn from_u8(id: u8) -> Result<Self, KernelError> {
        Self::ALL
            .into_iter()
            .find(|k| *k as u8 == id)
            .ok_or(KernelError::UnknownKernel(id))
    }

    pub fn name(self) -> &'static str {
        match self {
            KernelId::Render => "render",
            KernelId::MatmulF32 => "matmul_f32",
            KernelId::MatmulI8 => "matmul_i8",
            KernelId::MlpInfer => "mlp_infer",
            KernelId::TrainStep => "train_step",
        }
    }
}

impl fmt::Display for KernelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong running a kernel. Bad params and bad input are refused before
/// anything is allocated for the output.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("unknown kernel id {0}")]
    UnknownKernel(u8),
    #[error("{kernel} params: {reason}")]
    BadParams { kernel: KernelId, reason: String },
    #[error("{kernel} input: {reason}")]
    BadInput { kernel: KernelId, reason: String },
    #[error("CUDA is not available: {0}")]
    CudaUnavailable(String),
    #[error("CUDA driver: {0}")]
    Cuda(String),
    #[error("NVRTC could not compile {kernel}: {log}")]
    Compile { kernel: KernelId, log: String },
}

impl KernelError {
    pub(crate) fn params(kernel: KernelId, reason: impl Into<String>) -> Self {
        KernelError::BadParams {
            kernel,
            reason: reason.into(),
        }
    }

    pub(crate) fn input(kernel: KernelId, reason: impl Into<String>) -> Self {
        KernelError::BadInput {
            kernel,
            reason: reason.into(),
        }
    }
}

impl From<cudarc::driver::DriverError> for KernelError {
    fn from(e: cudarc::driver::DriverError) -> Self {
        KernelError::Cuda(e.to_string())
    }
}

/// One kernel: its params, limits, price and two implementations with identical output.
pub trait Kernel {
    const ID: KernelId;
    /// Decoded, validated params.
    type Params: Clone + fmt::Debug + PartialEq;

    /// Decodes params from their little-endian encoding, enforcing the kernel's limits.
    fn decode_params(bytes: &[u8]) -> Result<Self::Params, KernelError>;
    fn encode_params(params: &Self::Params) -> Vec<u8>;
    /// Exact input size in bytes.
    fn input_len(params: &Self::Params) -> usize;
    /// Exact output size in bytes.
    fn output_len(params: &Self::Params) -> usize;
    /// Size of the work, for pricing (`reward ≥ node price × work units`).
    fn work_units(params: &Self::Params) -> u64;
    /// Checks the input (its length, and values the kernel forbids, e.g. NaN).
    fn check_input(params: &Self::Params, input: &[u8]) -> Result<(), KernelError>;
    /// Runs on the CPU; `input` has passed [`Kernel::check_input`].
    fn run_cpu(params: &Self::Params, input: &[u8], cpu: &Cpu) -> Vec<u8>;
    /// CUDA C source of the kernel's device functions (compiled by NVRTC).
    const CUDA_SOURCE: &'static str;
    /// Runs on the GPU; `input` has passed [`Kernel::check_input`].
    fn run_cuda(params: &Self::Params, input: &[u8], gpu: &Gpu) -> Result<Vec<u8>, KernelError>;
    /// A random input that passes [`Kernel::check_input`] (tests, benchmarks, GPU check).
    fn random_input(params: &Self::Params, rng: &mut random::SplitMix64) -> Vec<u8>;

    /// Checks the input, then runs on `backend`.
    fn run(params: &Self::Params, input: &[u8], backend: &Backend) -> Result<Vec<u8>, KernelError> {
        Self::check_input(params, input)?;
        match backend {
            Backend::Cpu(cpu) => Ok(Self::run_cpu(params, input, cpu)),
            Backend::Cuda(gpu) => Self::run_cuda(params, input, gpu),
        }
    }
}

/// A kernel and its params, decoded from what a job stores on chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Job {
    Render(<Render as Kernel>::Params),
    MatmulF32(<MatmulF32 as Kernel>::Params),
    MatmulI8(<MatmulI8 as Kernel>::Params),
    MlpInfer(<MlpInfer as Kernel>::Params),
    TrainStep(<TrainStep as Kernel>::Params),
}

macro_rules! dispatch {
    ($job:expr, $kernel:ident, $params:ident => $body:expr) => {
        match $job {
            Job::Render($params) => {
                type $kernel = Render;
                $body
            }
            Job::MatmulF32($params) => {
                type $kernel = MatmulF32;
                $body
            }
            Job::MatmulI8($params) => {
                type $kernel = MatmulI8;
                $body
            }
            Job::MlpInfer($params) => {
                type $kernel = MlpInfer;
                $body
            }
            Job::TrainStep($params) => {
                type $kernel = TrainStep;
                $body
            }
        }
    };
}

impl Job {
    /// Decodes `params` of kernel `kernel_id`.
    pub fn decode(kernel_id: u8, params: &[u8]) -> Result<Self, KernelError> {
        Ok(match KernelId::from_u8(kernel_id)? {
            KernelId::Render => Job::Render(Render::decode_params(params)?),
            KernelId::MatmulF32 => Job::MatmulF32(MatmulF32::decode_params(params)?),
            KernelId::MatmulI8 => Job::MatmulI8(MatmulI8::decode_params(params)?),
            KernelId::MlpInfer => Job::MlpInfer(MlpInfer::decode_params(params)?),
            KernelId::TrainStep => Job::TrainStep(TrainStep::decode_params(params)?),
        })
    }

    pub fn kernel(&self) -> KernelId {
        dispatch!(self, K, _p => K::ID)
    }

    pub fn encode_params(&self) -> Vec<u8> {
        dispatch!(self, K, p => K::encode_params(p))
    }

    pub fn input_len(&self) -> usize {
        dispatch!(self, K, p => K::input_len(p))
    }

    pub fn output_len(&self) -> usize {
        dispatch!(self, K, p => K::output_len(p))
    }

    pub fn work_units(&self) -> u64 {
        dispatch!(self, K, p => K::work_units(p))
    }

    /// Checks `input` as the kernel does before running (its length, values it forbids).
    pub fn check_input(&self, input: &[u8]) -> Result<(), KernelError> {
        dispatch!(self, K, p => K::check_input(p, input))
    }

    /// Checks `input` and runs the kernel on `backend`: the canonical output bytes.
    pub fn run(&self, input: &[u8], backend: &Backend) -> Result<Vec<u8>, KernelError> {
        dispatch!(self, K, p => K::run(p, input, backend))
    }

    /// A fresh random input of the right size and range for these params.
    pub fn random_input(&self, seed: u64) -> Vec<u8> {
        dispatch!(self, K, p => random::input_for::<K>(p, seed))
    }
}

/// The CUDA source of every kernel, for compile checks.
pub fn cuda_sources() -> [(KernelId, &'static str); 5] {
    [
        (KernelId::Render, Render::CUDA_SOURCE),
        (KernelId::MatmulF32, MatmulF32::CUDA_SOURCE),
        (KernelId::MatmulI8, MatmulI8::CUDA_SOURCE),
        (KernelId::MlpInfer, MlpInfer::CUDA_SOURCE),
        (KernelId::TrainStep, TrainStep::CUDA_SOURCE),
    ]
}
