//! Fixed jobs shared by the kernel tests, the benchmark and the GPU check.
#![allow(dead_code)]
use tessera_kernels::kernels::{MatmulParams, MlpParams, RenderParams, TrainParams};
use tessera_kernels::{Job, Kernel, MatmulF32, MatmulI8, MlpInfer, Render, TrainStep};

/// One small job per kernel, with awkward sizes (not multiples of the tile sizes).
pub fn small_jobs() -> Vec<Job> {
    vec![
        Job::Render(RenderParams {
            image_w: 64,
            image_h: 48,
            tile_x: 16,
            tile_y: 8,
            tile_w: 21,
            tile_h: 13,
            spp: 8,
            max_depth: 4,
            seed: 7,
        }),
        Job::MatmulF32(MatmulParams {
            m: 37,
            n: 53,
            k: 29,
        }),
        Job::MatmulI8(MatmulParams {
            m: 19,
            n: 41,
            k: 67,
        }),
        Job::MlpInfer(MlpParams {
            batch: 9,
            widths: vec![33, 40, 17, 5],
            shifts: vec![7, 6, 0],
        }),
        Job::TrainStep(TrainParams {
            d_in: 7,
            hidden: 12,
            d_out: 3,
            batch: 10,
            steps: 5,
            lr: 0.05,
        }),
    ]
}

/// The params of `job` re-encoded and decoded (what a worker does with the chain's bytes).
pub fn round_trip(job: &Job) -> Job {
    Job::decode(job.kernel() as u8, &job.encode_params()).expect("params decode")
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Keeps the typed API in the build of every test binary.
pub fn typed_ids() -> [u8; 5] {
    [
        Render::ID as u8,
        MatmulF32::ID as u8,
        MatmulI8::ID as u8,
        MlpInfer::ID as u8,
        TrainStep::ID as u8,
    ]
}
