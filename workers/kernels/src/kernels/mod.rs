//! The kernels. Each file holds one kernel's params, CPU implementation and CUDA source.
//! Each module is public for its limits (`render::MAX_SPP`, …), which the CLI's job spec
//! checks fields against.
pub mod matmul;
pub mod mlp;
pub mod render;
pub mod train;

pub use matmul::{MatmulF32, MatmulI8, MatmulParams, MAX_MATMUL_DIM};
pub use mlp::{MlpInfer, MlpParams};
pub use render::{Render, RenderParams};
pub use train::{TrainParams, TrainStep};

use cudarc::driver::LaunchConfig;

/// A 1-D launch of `n` threads in blocks of 256.
pub(crate) fn launch_1d(n: usize) -> LaunchConfig {
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    LaunchConfig {
        grid_dim: (n.div_ceil(256), 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}
