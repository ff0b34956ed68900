//! CPU benchmarks (a bench binary: `cargo bench -p tessera-kernels`).
//!
//! - `matmul_f32` against `matrixmultiply::sgemm` (which is free to use FMA and any summation
//!   order) at 256, 512 and 1024, both on one thread;
//! - render in Mpixel/s (at a fixed spp and depth), mlp inferences/s, train steps/s, on one
//!   thread and on all cores.
use std::time::{Duration, Instant};

use tessera_kernels::backend::Cpu;
use tessera_kernels::codec::f32s;
use tessera_kernels::kernels::{MatmulParams, MlpParams, RenderParams, TrainParams};
use tessera_kernels::{Backend, Job};

/// Best of several runs of `f`, each repeated until it takes at least 0.2 s.
fn time(mut f: impl FnMut()) -> Duration {
    f();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut runs = 0u32;
        while start.elapsed() < Duration::from_millis(200) {
            f();
            runs += 1;
        }
        best = best.min(start.elapsed() / runs);
    }
    best
}

fn main() {
    let one = Backend::Cpu(Cpu::new(1).expect("pool"));
    let all = Backend::Cpu(Cpu::new(0).expect("pool"));
    let cores = match &all {
        Backend::Cpu(c) => c.threads(),
        Backend::Cuda(_) => unreachable!(),
    };
    println!("machine: {} threads, {}", cores, cpu_model());
    println!();
    println!("| matmul_f32, 1 thread | ours (k order, no FMA) | matrixmultiply::sgemm | ratio |");
    println!("|---|---:|---:|---:|");
    for size in [256u32, 512, 1024] {
        let job = Job::MatmulF32(MatmulParams {
            m: size,
            n: size,
            k: size,
        });
        let input = job.random_input(1);
        let ours = time(|| {
            job.run(&input, &one).expect("run");
        });
        let values = f32s(&input);
        let n = size as usize;
        let (a, b) = values.split_at(n * n);
        let mut c = vec![0.0f32; n * n];
        let theirs = time(|| unsafe {
            // SAFETY: a, b and c hold n×n row-major matrices.
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                n as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        });
        let gflops = |d: Duration| 2.0 * (n * n * n) as f64 / d.as_secs_f64() / 1e9;
        println!(
            "| {size}³ | {:.1} GFLOP/s | {:.1} GFLOP/s | {:.2}× |",
            gflops(ours),
            gflops(theirs),
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
    println!();
    println!("| kernel | job | 1 thread | {cores} threads |");
    println!("|---|---|---:|---:|");
    let render = RenderParams {
        image_w: 256,
        image_h: 256,
        tile_x: 0,
        tile_y: 0,
        tile_w: 128,
        tile_h: 128,
        spp: 16,
        max_depth: 6,
        seed: 1,
    };
    let mlp = MlpParams {
        batch: 256,
        widths: vec![784, 256, 128, 10],
        shifts: vec![8, 8, 0],
    };
    let train = TrainParams {
        d_in: 64,
        hidden: 128,
        d_out: 10,
        batch: 128,
        steps: 10,
        lr: 0.01,
    };
    let rows: [(Job, &str, f64, &str); 3] = [
        (
            Job::Render(render),
            "128×128 tile, 16 spp, depth 6",
            (128.0 * 128.0) / 1e6,
            "Mpixel/s",
        ),
        (
            Job::MlpInfer(mlp),
            "batch 256, 784-256-128-10",
            256.0,
            "inferences/s",
        ),
        (
            Job::TrainStep(train),
            "64-128-10, batch 128, 10 steps",
            10.0,
            "steps/s",
        ),
    ];
    for (job, what, per_run, unit) in rows {
        let input = job.random_input(2);
        let rate = |backend: &Backend| {
            per_run
                / time(|| {
                    job.run(&input, backend).expect("run");
                })
                .as_secs_f64()
        };
        println!(
            "| {} | {what} | {:.3} {unit} | {:.3} {unit} |",
            job.kernel(),
            rate(&one),
            rate(&all)
        );
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
