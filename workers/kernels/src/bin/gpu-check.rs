//! `gpu-check`: runs every kernel on the CUDA device and on the CPU with fresh random inputs,
//! asserts the outputs are byte-identical, and prints a timing table with each kernel's
//! fraction of the GPU's roofline. Exits 0 when every output matches, 1 on a mismatch, 2 when
//! no CUDA device can be used.
//!
//! `gpu-check [--seed N] [--fp32-tflops X] [--int32-tops X] [--bandwidth-tbs X] [--quick]`
//! The peaks default to an H200 SXM (FP32 67 TFLOP/s, INT32 33.5 TOP/s, HBM 4.8 TB/s).
use std::process::ExitCode;
use std::time::Instant;

use tessera_kernels::backend::{Cpu, Gpu};
use tessera_kernels::kernels::{MatmulParams, MlpParams, RenderParams, TrainParams};
use tessera_kernels::random::fresh_seed;
use tessera_kernels::{merkle, Backend, Job};

struct Peaks {
    fp32: f64,
    int32: f64,
    bandwidth: f64,
}

/// Arithmetic of a job: operations, whether they are f32 (else int32), bytes moved.
fn arithmetic(job: &Job) -> Option<(f64, bool)> {
    Some(match job {
        Job::MatmulF32(p) => (2.0 * p.m as f64 * p.n as f64 * p.k as f64, true),
        Job::MatmulI8(p) => (2.0 * p.m as f64 * p.n as f64 * p.k as f64, false),
        Job::MlpInfer(p) => {
            let macs: f64 = p
                .widths
                .windows(2)
                .map(|w| f64::from(w[0]) * f64::from(w[1]))
                .sum();
            (2.0 * f64::from(p.batch) * macs, false)
        }
        Job::TrainStep(p) => {
            let (i, h, o, b) = (
                f64::from(p.d_in),
                f64::from(p.hidden),
                f64::from(p.d_out),
                f64::from(p.batch),
            );
            // Forward, hidden gradient, both weight gradients: 3 passes of 2 flops per MAC.
            (6.0 * f64::from(p.steps) * b * (i * h + h * o), true)
        }
        Job::Render(_) => return None,
    })
}

fn jobs(quick: bool) -> Vec<Job> {
    let s = if quick { 4 } else { 1 };
    vec![
        Job::MatmulF32(MatmulParams {
            m: 2048 / s,
            n: 2048 / s,
            k: 2048 / s,
        }),
        Job::MatmulI8(MatmulParams {
            m: 2048 / s,
            n: 2048 / s,
            k: 2048 / s,
        }),
        Job::MlpInfer(MlpParams {
            batch: 4096 / s,
            widths: vec![1024, 1024, 1024, 16],
            shifts: vec![9, 9, 0],
        }),
        Job::TrainStep(TrainParams {
            d_in: 256,
            hidden: 512,
            d_out: 64,
            batch: 256,
            steps: 20 / s as u16,
            lr: 0.01,
        }),
        Job::Render(RenderParams {
            image_w: 1024,
            image_h: 1024,
            tile_x: 256,
            tile_y: 256,
            tile_w: 512 / s as u16,
            tile_h: 512 / s as u16,
            spp: 64 / s as u16,
            max_depth: 6,
            seed: 11,
        }),
    ]
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let number = |name: &str, default: f64| {
        arg(&args, name).map_or(Ok(default), |v| {
            v.parse::<f64>().map_err(|e| format!("{name} {v}: {e}"))
        })
    };
    let peaks = match (
        number("--fp32-tflops", 67.0),
        number("--int32-tops", 33.5),
        number("--bandwidth-tbs", 4.8),
    ) {
        (Ok(f), Ok(i), Ok(b)) => Peaks {
            fp32: f * 1e12,
            int32: i * 1e12,
            bandwidth: b * 1e12,
        },
        (f, i, b) => {
            for e in [f.err(), i.err(), b.err()].into_iter().flatten() {
                eprintln!("gpu-check: {e}");
            }
            return ExitCode::from(2);
        }
    };
    let seed = match arg(&args, "--seed").map(|s| s.parse::<u64>()) {
        None => fresh_seed(),
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            eprintln!("gpu-check: --seed: {e}");
            return ExitCode::from(2);
        }
    };
    let gpu = match Gpu::open(0) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("gpu-check: no CUDA device to check: {e}");
            return ExitCode::from(2);
        }
    };
    let cpu = match Cpu::new(0) {
        Ok(cpu) => cpu,
        Err(e) => {
            eprintln!("gpu-check: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "device: {} ({}); CPU: {} threads; seed {seed}",
        gpu.name(),
        gpu.arch(),
        cpu.threads()
    );
    let (gpu, cpu) = (Backend::Cuda(gpu), Backend::Cpu(cpu));
    println!();
    println!("| kernel | job | CPU ms | CUDA ms | CUDA achieved | roofline | fraction | identical | root |");
    println!("|---|---|---:|---:|---:|---:|---:|---|---|");
    let mut all_identical = true;
    for job in jobs(args.iter().any(|a| a == "--quick")) {
        let input = job.random_input(seed);
        let started = Instant::now();
        let on_cpu = job.run(&input, &cpu);
        let cpu_ms = started.elapsed().as_secs_f64() * 1e3;
        // The first CUDA run compiles and loads the module; time the second.
        let warm = job.run(&input, &gpu);
        let started = Instant::now();
        let on_gpu = job.run(&input, &gpu);
        let gpu_s = started.elapsed().as_secs_f64();
        let (on_cpu, on_gpu) = match (on_cpu, warm.and(on_gpu)) {
            (Ok(c), Ok(g)) => (c, g),
            (c, g) => {
                eprintln!(
                    "gpu-check: {}: cpu {:?} / cuda {:?}",
                    job.kernel(),
                    c.err(),
                    g.err()
                );
                all_identical = false;
                continue;
            }
        };
        let identical = on_cpu == on_gpu;
        if !identical {
            all_identical = false;
            let first = on_cpu
                .iter()
                .zip(&on_gpu)
                .position(|(a, b)| a != b)
                .unwrap_or(on_cpu.len().min(on_gpu.len()));
            eprintln!(
                "gpu-check: {}: outputs differ from byte {first} (of {} / {})",
                job.kernel(),
                on_cpu.len(),
                on_gpu.len()
            );
        }
        let bytes = (input.len() + on_gpu.len()) as f64;
        let (achieved, roofline, fraction) = match arithmetic(&job) {
            Some((ops, is_f32)) => {
                let peak = if is_f32 { peaks.fp32 } else { peaks.int32 };
                let roof = peak.min(ops / bytes * peaks.bandwidth);
                let rate = ops / gpu_s;
                (
                    format!(
                        "{:.2} T{}/s",
                        rate / 1e12,
                        if is_f32 { "FLOP" } else { "OP" }
                    ),
                    format!("{:.1} T/s", roof / 1e12),
                    format!("{:.1}%", 100.0 * rate / roof),
                )
            }
            None => {
                let Job::Render(p) = &job else { unreachable!() };
                let samples = f64::from(p.tile_w) * f64::from(p.tile_h) * f64::from(p.spp);
                (
                    format!("{:.1} Msample/s", samples / gpu_s / 1e6),
                    "n/a".into(),
                    "n/a".into(),
                )
            }
        };
        let root: String = merkle::root(&on_gpu)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        println!(
            "| {} | {:?} | {cpu_ms:.1} | {:.1} | {achieved} | {roofline} | {fraction} | {} | {root}… |",
            job.kernel(),
            job,
            gpu_s * 1e3,
            if identical { "yes" } else { "NO" }
        );
    }
    println!();
    println!("CUDA times include host-to-device and device-to-host copies; the roofline is");
    println!("min(peak, arithmetic intensity × bandwidth) over input + output bytes.");
    if all_identical {
        println!("gpu-check: every kernel's CUDA output is byte-identical to the CPU's");
        ExitCode::SUCCESS
    } else {
        println!("gpu-check: MISMATCH");
        ExitCode::from(1)
    }
}
