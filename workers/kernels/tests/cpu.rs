//! CPU results: golden roots for fixed inputs, identical bytes across thread counts on fresh
//! inputs, and agreement with naive reference implementations.
#![allow(clippy::assign_op_pattern)] // `acc = acc + a * b`: the documented order, spelled out
mod common;

use common::*;
use tessera_kernels::backend::Cpu;
use tessera_kernels::codec::{f32s, i32s, i8s};
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::random::fresh_seed;
use tessera_kernels::{merkle, Backend, Job, KernelId};

fn cpu(threads: usize) -> Backend {
    Backend::Cpu(Cpu::new(threads).expect("thread pool"))
}

/// Result roots of `small_jobs()` on the inputs of seed 42. A change to any of these breaks
/// agreement with every worker already running: change them only with a new kernel version.
/// (Regenerated when the tree moved from 4 KiB leaves to 32-byte cells so that one element
/// opens in a dispute; the outputs did not change — the `merkle` module's golden roots pin the
/// new layout against an independent implementation.)
const GOLDEN: [(KernelId, &str); 5] = [
    (
        KernelId::Render,
        "30fa3602f81a28a0067cc4a3aac9963cc0fe7cdb19bae666cbba882b9a168695",
    ),
    (
        KernelId::MatmulF32,
        "533b9515e2571bde2ff9a1d3e45df181185dbca8090a02ca007c17af725df958",
    ),
    (
        KernelId::MatmulI8,
        "44e2fcce02237c4aae939fb36e1e1e3dc16d4708cb3523a15f0f1eb5b3858029",
    ),
    (
        KernelId::MlpInfer,
        "0c9b1e57612cb2ff7465ddeefd176a731af28ba937ac08c6b8e9c05a1f0bec3b",
    ),
    (
        KernelId::TrainStep,
        "b5f9a9ec8988ace52486cc40c1d5294f5b548bf6fa847c64799f7d54c1a1fd00",
    ),
];

#[test]
fn golden_roots() {
    let backend = cpu(2);
    let mut changed = Vec::new();
    for (job, (id, golden)) in small_jobs().iter().zip(GOLDEN) {
        assert_eq!(job.kernel(), id);
        let job = round_trip(job);
        let input = job.random_input(42);
        let output = job.run(&input, &backend).expect("run");
        assert_eq!(output.len(), job.output_len());
        let root = hex(&merkle::root(&output));
        println!("{id}: {root}");
        if root != golden {
            changed.push(id);
        }
    }
    assert!(changed.is_empty(), "golden roots changed: {changed:?}");
}

#[test]
fn identical_bytes_with_1_2_and_8_threads_on_fresh_inputs() {
    let seed = fresh_seed();
    eprintln!("seed {seed}");
    let backends = [cpu(1), cpu(2), cpu(8)];
    let mut jobs = small_jobs();
    // Larger than one task's rows, so several threads really share the work.
    jobs.push(Job::MatmulF32(MatmulParams {
        m: 131,
        n: 70,
        k: 45,
    }));
    for job in jobs {
        let input = job.random_input(seed);
        let outputs: Vec<Vec<u8>> = backends
            .iter()
            .map(|b| job.run(&input, b).expect("run"))
            .collect();
        assert_eq!(outputs[0], outputs[1], "{}: 1 vs 2 threads", job.kernel());
        assert_eq!(outputs[0], outputs[2], "{}: 1 vs 8 threads", job.kernel());
        // And twice in a row.
        assert_eq!(outputs[2], job.run(&input, &backends[2]).unwrap());
    }
}

#[test]
fn matmul_matches_the_documented_order() {
    let seed = fresh_seed();
    for (m, n, k) in [(1, 1, 1), (4, 16, 3), (9, 35, 50), (33, 17, 64)] {
        let params = MatmulParams { m, n, k };
        let job = Job::MatmulF32(params);
        let input = job.random_input(seed);
        let out = f32s(&job.run(&input, &cpu(2)).unwrap());
        let values = f32s(&input);
        let (a, b) = values.split_at((m * k) as usize);
        let (m, n, k) = (m as usize, n as usize, k as usize);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0f32;
                for p in 0..k {
                    acc = acc + a[i * k + p] * b[p * n + j];
                }
                assert_eq!(out[i * n + j].to_bits(), acc.to_bits(), "C[{i}][{j}]");
            }
        }
        let job = Job::MatmulI8(params);
        let input = job.random_input(seed);
        let out = i32s(&job.run(&input, &cpu(2)).unwrap());
        let values = i8s(&input);
        let (a, b) = values.split_at(m * k);
        for i in 0..m {
            for j in 0..n {
                let want: i32 = (0..k)
                    .map(|p| i32::from(a[i * k + p]) * i32::from(b[p * n + j]))
                    .sum();
                assert_eq!(out[i * n + j], want);
            }
        }
    }
}

#[test]
fn training_lowers_the_loss() {
    // Sanity of the arithmetic, not of determinism: gradient descent must descend.
    let Job::TrainStep(mut params) = small_jobs().remove(4) else {
        unreachable!()
    };
    let job = Job::TrainStep(params);
    let input = job.random_input(3);
    let loss = |p: &tessera_kernels::kernels::TrainParams, input: &[u8]| -> f32 {
        // One step with lr tiny returns (almost) the weights; evaluate the loss on the host.
        let v = f32s(input);
        let (di, h, o, b) = (
            p.d_in as usize,
            p.hidden as usize,
            p.d_out as usize,
            p.batch as usize,
        );
        let (x, rest) = v.split_at(b * di);
        let (y, rest) = rest.split_at(b * o);
        let (w1, rest) = rest.split_at(di * h);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h * o);
        let mut total = 0.0f32;
        for s in 0..b {
            let hid: Vec<f32> = (0..h)
                .map(|j| {
                    let z = (0..di).map(|i| x[s * di + i] * w1[i * h + j]).sum::<f32>() + b1[j];
                    z.max(0.0)
                })
                .collect();
            for k in 0..o {
                let pred = (0..h).map(|j| hid[j] * w2[j * o + k]).sum::<f32>() + b2[k];
                total += (pred - y[s * o + k]).powi(2);
            }
        }
        total
    };
    let before = loss(&params, &input);
    params.steps = 50;
    let trained = Job::TrainStep(params).run(&input, &cpu(2)).unwrap();
    let data_bytes = 4 * (params.batch as usize) * (params.d_in as usize + params.d_out as usize);
    let mut after_input = input[..data_bytes].to_vec();
    after_input.extend_from_slice(&trained);
    let after = loss(&params, &after_input);
    assert!(after < before * 0.9, "loss {before} -> {after}");
}

#[test]
fn typed_and_dynamic_ids_agree() {
    assert_eq!(typed_ids(), [1, 2, 3, 4, 5]);
    for id in KernelId::ALL {
        assert_eq!(KernelId::from_u8(id as u8).unwrap(), id);
    }
    assert!(KernelId::from_u8(0).is_err());
    assert!(KernelId::from_u8(6).is_err());
}

#[test]
fn a_rendered_tile_shows_the_scene_and_tiles_assemble_into_the_image() {
    use tessera_kernels::kernels::RenderParams;
    let backend = cpu(2);
    let whole = RenderParams {
        image_w: 48,
        image_h: 32,
        tile_x: 0,
        tile_y: 0,
        tile_w: 48,
        tile_h: 32,
        spp: 4,
        max_depth: 4,
        seed: 5,
    };
    let scene = Job::Render(whole).random_input(8);
    let image = Job::Render(whole).run(&scene, &backend).unwrap();
    // Sky, plane and spheres: many distinct colours, opaque.
    let mut colours: Vec<&[u8]> = image.chunks(4).collect();
    assert!(image.chunks(4).all(|px| px[3] == 255));
    colours.sort();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours", colours.len());
    // Four tiles of the same image hold exactly its pixels.
    for (tx, ty) in [(0u16, 0u16), (24, 0), (0, 16), (24, 16)] {
        let tile = RenderParams {
            tile_x: tx,
            tile_y: ty,
            tile_w: 24,
            tile_h: 16,
            ..whole
        };
        let pixels = Job::Render(tile).run(&scene, &backend).unwrap();
        for row in 0..16usize {
            let from = ((ty as usize + row) * 48 + tx as usize) * 4;
            assert_eq!(&pixels[row * 96..(row + 1) * 96], &image[from..from + 96]);
        }
    }
}
