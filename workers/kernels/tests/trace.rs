//! The kernels and the referee's definition agree: every output element of a CPU run equals
//! its trace replayed with `tessera_step`'s steps from the input's bytes at `tessera_step`'s
//! offsets, on fresh random inputs, and every element opens against the result root.
mod common;

use tessera_kernels::backend::Cpu;
use tessera_kernels::kernels::{MatmulParams, MlpParams};
use tessera_kernels::random::fresh_seed;
use tessera_kernels::{merkle, Backend, Job};
use tessera_step::{matmul, mlp, tree};

fn cpu() -> Backend {
    Backend::Cpu(Cpu::new(2).expect("thread pool"))
}

fn matmul_case(job: &Job, params: &MatmulParams, kind: matmul::Kind, seed: u64) {
    let input = job.random_input(seed);
    let output = job.run(&input, &cpu()).expect("run");
    let shape = params.shape();
    assert_eq!(shape.input_len(kind), input.len() as u64);
    for e in 0..shape.outputs() {
        let (i, j) = shape.element(e).expect("in range");
        let replayed = shape
            .state(kind, &input, i, j, shape.trace_len())
            .expect("trace");
        let at = 4 * e as usize;
        assert_eq!(
            replayed,
            output[at..at + 4],
            "{kind:?} {}x{}x{} element ({i}, {j}), seed {seed}",
            shape.m,
            shape.n,
            shape.k
        );
    }
    // The trace is a chain: each state is one step from the one before.
    let (i, j) = (shape.m - 1, shape.n / 2);
    let size = kind.operand_size();
    for p in 0..shape.k {
        let before = shape.state(kind, &input, i, j, p).unwrap();
        let a = shape.a_offset(kind, i, p) as usize;
        let b = shape.b_offset(kind, p, j) as usize;
        let next = kind
            .step(
                before,
                &input[a..a + size as usize],
                &input[b..b + size as usize],
            )
            .unwrap();
        assert_eq!(Some(next), shape.state(kind, &input, i, j, p + 1));
    }
}

#[test]
fn matmul_elements_are_their_traces() {
    let seed = fresh_seed();
    for (m, n, k) in [(1, 1, 1), (5, 17, 300), (37, 53, 29), (3, 70, 513)] {
        let params = MatmulParams { m, n, k };
        matmul_case(&Job::MatmulF32(params), &params, matmul::Kind::F32, seed);
        matmul_case(&Job::MatmulI8(params), &params, matmul::Kind::I8, seed);
    }
}

/// Replays an MLP's forward pass from the step definitions alone: every layer's activations,
/// each neuron folded from its bias over its inputs, then activated.
fn mlp_replay(shape: &mlp::Shape, input: &[u8]) -> Vec<Vec<u8>> {
    let mut layers = Vec::new();
    let mut x: Vec<i8> = input[..(shape.batch as u64 * shape.width(0)) as usize]
        .iter()
        .map(|b| *b as i8)
        .collect();
    for l in 0..shape.layers() {
        let (in_w, out_w) = (shape.width(l) as u32, shape.width(l + 1) as u32);
        let mut next = Vec::new();
        let mut out = Vec::new();
        for b in 0..shape.batch {
            for o in 0..out_w {
                let at = shape.bias_offset(l, o) as usize;
                let mut s = i32::from_le_bytes(input[at..at + 4].try_into().unwrap());
                for i in 0..in_w {
                    let w = input[shape.weight_offset(l, i, o) as usize] as i8;
                    s = mlp::fold(s, x[(b * in_w + i) as usize], w);
                }
                if l + 1 == shape.layers() {
                    out.extend(s.to_le_bytes());
                } else {
                    next.push(mlp::activate(s, shape.shifts[l]));
                }
            }
        }
        if l + 1 == shape.layers() {
            layers.push(out);
        } else {
            layers.push(next.iter().map(|v| *v as u8).collect());
            x = next;
        }
    }
    layers
}

#[test]
fn mlp_outputs_are_their_traces() {
    let seed = fresh_seed();
    for (batch, widths, shifts) in [
        (1, vec![1, 1], vec![0]),
        (9, vec![33, 40, 17, 5], vec![7, 6, 0]),
        (4, vec![64, 128, 10], vec![9, 0]),
    ] {
        let params = MlpParams {
            batch,
            widths,
            shifts,
        };
        let job = Job::MlpInfer(params.clone());
        let input = job.random_input(seed);
        let output = job.run(&input, &cpu()).expect("run");
        let shape = params.shape();
        assert_eq!(shape.input_len(), input.len() as u64);
        let layers = mlp_replay(&shape, &input);
        assert_eq!(layers.last().unwrap(), &output, "{params:?}, seed {seed}");
        for (l, acts) in layers.iter().enumerate() {
            let size = if l + 1 == shape.layers() { 4 } else { 1 };
            assert_eq!(
                acts.len() as u64,
                u64::from(batch) * shape.width(l + 1) * size
            );
            assert_eq!(
                shape.activation_offset(l + 1, batch - 1, shape.width(l + 1) as u32 - 1) + size,
                acts.len() as u64
            );
        }
    }
}

#[test]
fn every_output_element_opens_against_the_result_root() {
    let seed = fresh_seed();
    let params = MatmulParams { m: 40, n: 70, k: 3 };
    let job = Job::MatmulF32(params);
    let output = job.run(&job.random_input(seed), &cpu()).expect("run");
    let root = merkle::root(&output);
    let shape = params.shape();
    for e in 0..shape.outputs() {
        let (cell, within) = tree::cell_of(4 * e);
        let (bytes, proof) = merkle::open_cell(&output, cell).expect("a cell");
        assert!(merkle::verify_cell(
            &root,
            output.len() as u64,
            &bytes,
            &proof
        ));
        assert_eq!(
            bytes[within..within + 4],
            output[4 * e as usize..4 * e as usize + 4]
        );
        // One element's opening fits a Solana transaction with room to spare.
        assert!(bytes.len() + 32 * proof.siblings.len() <= 32 + 32 * 10);
    }
}

#[test]
fn render_pixels_are_their_traces() {
    use tessera_kernels::kernels::RenderParams;
    use tessera_step::render;
    let seed = fresh_seed();
    let params = RenderParams {
        image_w: 40,
        image_h: 30,
        tile_x: 8,
        tile_y: 4,
        tile_w: 9,
        tile_h: 7,
        spp: 5,
        max_depth: 6,
        seed: seed as u32,
    };
    let job = Job::Render(params);
    let input = job.random_input(seed);
    let output = job.run(&input, &cpu()).expect("run");
    let f = |at: usize| f32::from_le_bytes(input[at..at + 4].try_into().unwrap());
    let spheres = u32::from_le_bytes(input[0..4].try_into().unwrap()) as usize;
    let planes = u32::from_le_bytes(input[4..8].try_into().unwrap()) as usize;
    let values: Vec<f32> = (8..input.len()).step_by(4).map(f).collect();
    let camera = render::Camera::new(values[..render::HEADER_F32].try_into().unwrap());
    let objects = render::Objects {
        values: &values[render::HEADER_F32..],
        spheres,
        planes,
    };
    let view = render::View {
        image_w: params.image_w,
        image_h: params.image_h,
        seed: params.seed,
    };
    for (i, pixel) in output.chunks(4).enumerate() {
        let px = u32::from(params.tile_x) + (i % usize::from(params.tile_w)) as u32;
        let py = u32::from(params.tile_y) + (i / usize::from(params.tile_w)) as u32;
        let mut sum = render::v(0.0, 0.0, 0.0);
        for s in 0..u32::from(params.spp) {
            // Each state goes through its canonical bytes, as a bisection posts it: the chain
            // of steps from decoded states is the sample.
            let mut ray = render::camera_ray(&camera, &view, px, py, s);
            for _ in 0..params.max_depth {
                let posted = render::Ray::decode(&ray.encode()).expect("a state");
                assert_eq!(posted.encode(), ray.encode());
                ray = render::bounce(&objects, &posted);
            }
            sum = render::accumulate(sum, ray.contribution());
        }
        assert_eq!(
            render::to_rgba(sum, params.spp),
            pixel,
            "pixel ({px}, {py}), seed {seed}"
        );
    }
}

/// Replays a training job from `tessera_step::train`'s table alone, in the simplest loops.
fn train_replay(shape: &tessera_step::train::Shape, input: &[u8]) -> Vec<u8> {
    use tessera_step::train::*;
    let values: Vec<f32> = input
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let [x, y, w1, b1, w2, b2] = shape.input_offsets().map(|o| (o / 4) as usize);
    let (di, h, o, b) = (
        usize::from(shape.d_in),
        usize::from(shape.hidden),
        usize::from(shape.d_out),
        usize::from(shape.batch),
    );
    let (xs, ys) = (&values[x..y], &values[y..w1]);
    let (mut mw1, mut mb1) = (values[w1..b1].to_vec(), values[b1..w2].to_vec());
    let (mut mw2, mut mb2) = (values[w2..b2].to_vec(), values[b2..].to_vec());
    for _ in 0..shape.steps {
        let hid: Vec<f32> = (0..b * h)
            .map(|e| {
                let (r, j) = (e / h, e % h);
                let acc = (0..di).fold(0.0, |a, p| fold(a, xs[r * di + p], mw1[p * h + j]));
                finish_hidden(acc, mb1[j])
            })
            .collect();
        let g: Vec<f32> = (0..b * o)
            .map(|e| {
                let (r, k) = (e / o, e % o);
                let acc = (0..h).fold(0.0, |a, p| fold(a, hid[r * h + p], mw2[p * o + k]));
                finish_grad(acc, mb2[k], ys[r * o + k], shape.scale())
            })
            .collect();
        let dh: Vec<f32> = (0..b * h)
            .map(|e| {
                let (r, j) = (e / h, e % h);
                let acc = (0..o).fold(0.0, |a, p| fold(a, g[r * o + p], mw2[j * o + p]));
                finish_dhidden(acc, hid[e])
            })
            .collect();
        let lr = shape.lr;
        mw2 = (0..h * o)
            .map(|e| {
                let (j, k) = (e / o, e % o);
                let acc = (0..b).fold(0.0, |a, p| fold(a, hid[p * h + j], g[p * o + k]));
                finish_update(acc, mw2[e], lr)
            })
            .collect();
        mb2 = (0..o)
            .map(|k| {
                finish_update(
                    (0..b).fold(0.0, |a, p| fold_sum(a, g[p * o + k])),
                    mb2[k],
                    lr,
                )
            })
            .collect();
        mw1 = (0..di * h)
            .map(|e| {
                let (i, j) = (e / h, e % h);
                let acc = (0..b).fold(0.0, |a, p| fold(a, xs[p * di + i], dh[p * h + j]));
                finish_update(acc, mw1[e], lr)
            })
            .collect();
        mb1 = (0..h)
            .map(|j| {
                finish_update(
                    (0..b).fold(0.0, |a, p| fold_sum(a, dh[p * h + j])),
                    mb1[j],
                    lr,
                )
            })
            .collect();
    }
    [mw1, mb1, mw2, mb2]
        .concat()
        .iter()
        .flat_map(|v| tessera_step::matmul::canonical(*v).to_le_bytes())
        .collect()
}

#[test]
fn training_outputs_are_their_traces() {
    use tessera_kernels::kernels::TrainParams;
    let seed = fresh_seed();
    for (d_in, hidden, d_out, batch, steps) in
        [(1, 1, 1, 1, 1), (7, 12, 3, 10, 5), (16, 9, 4, 33, 3)]
    {
        let params = TrainParams {
            d_in,
            hidden,
            d_out,
            batch,
            steps,
            lr: 0.05,
        };
        let job = Job::TrainStep(params);
        let input = job.random_input(seed);
        let output = job.run(&input, &cpu()).expect("run");
        let shape = params.shape();
        assert_eq!(shape.input_len(), input.len() as u64);
        assert_eq!(
            train_replay(&shape, &input),
            output,
            "{params:?}, seed {seed}"
        );
    }
}
