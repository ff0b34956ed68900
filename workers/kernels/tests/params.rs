//! Bad params and bad inputs give clear errors, never a panic or an allocation past the
//! limits; random bytes never crash the decoders.
mod common;

use common::*;
use tessera_kernels::backend::Cpu;
use tessera_kernels::random::SplitMix64;
use tessera_kernels::{Backend, Job, KernelError};

fn params_error(id: u8, bytes: &[u8]) -> String {
    match Job::decode(id, bytes) {
        Err(e @ KernelError::BadParams { .. }) => e.to_string(),
        other => panic!("kernel {id} params {bytes:?}: expected BadParams, got {other:?}"),
    }
}

fn le(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn matmul_params_are_bounded() {
    for id in [2u8, 3] {
        assert!(params_error(id, &le(&[0, 4, 4])).contains("m = 0"));
        assert!(params_error(id, &le(&[4, 4097, 4])).contains("n = 4097"));
        assert!(params_error(id, &le(&[4, 4, u32::MAX])).contains("k = 4294967295"));
        assert!(params_error(id, &le(&[4, 4])).contains("need 12 bytes"));
        assert!(params_error(id, &[le(&[4, 4, 4]), vec![0]].concat()).contains("trailing"));
    }
}

#[test]
fn mlp_params_are_bounded() {
    let ok = |batch: u32, layers: u8, widths: &[u16], shifts: &[u8]| {
        let mut b = batch.to_le_bytes().to_vec();
        b.push(layers);
        for w in widths {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(shifts);
        b
    };
    assert!(Job::decode(4, &ok(2, 1, &[3, 4], &[0])).is_ok());
    assert!(params_error(4, &ok(0, 1, &[3, 4], &[0])).contains("batch = 0"));
    assert!(params_error(4, &ok(2, 5, &[3, 4, 4, 4, 4, 4], &[0; 5])).contains("layers = 5"));
    assert!(params_error(4, &ok(2, 1, &[0, 4], &[0])).contains("width 0"));
    assert!(params_error(4, &ok(2, 1, &[3, 4], &[32])).contains("shift 32"));
    assert!(params_error(4, &ok(2, 2, &[3, 4], &[])).contains("truncated"));
    // Within every per-field limit, but the input would be 4 × 4096² + … bytes: refused.
    let huge = ok(65_536, 4, &[4096; 5], &[0; 4]);
    assert!(params_error(4, &huge).contains("at most"));
}

#[test]
fn train_params_are_bounded() {
    let enc = |d: [u16; 5], lr: f32| {
        let mut b: Vec<u8> = d.iter().flat_map(|v| v.to_le_bytes()).collect();
        b.extend_from_slice(&lr.to_le_bytes());
        b
    };
    assert!(Job::decode(5, &enc([4, 4, 4, 4, 4], 0.1)).is_ok());
    assert!(params_error(5, &enc([0, 4, 4, 4, 4], 0.1)).contains("d_in = 0"));
    assert!(params_error(5, &enc([4, 4, 4, 4, 1001], 0.1)).contains("steps = 1001"));
    assert!(params_error(5, &enc([4, 4, 4, 4, 4], f32::NAN)).contains("lr = NaN"));
    assert!(params_error(5, &enc([4, 4, 4, 4, 4], -1.0)).contains("lr = -1"));
    assert!(params_error(5, &enc([1024, 1024, 1024, 1024, 1000], 0.1)).contains("multiply-adds"));
}

#[test]
fn render_params_are_bounded() {
    let enc = |d: [u16; 7], depth: u8, zero: u8| {
        let mut b: Vec<u8> = d.iter().flat_map(|v| v.to_le_bytes()).collect();
        b.extend_from_slice(&[depth, zero]);
        b.extend_from_slice(&9u32.to_le_bytes());
        b
    };
    assert!(Job::decode(1, &enc([64, 64, 0, 0, 32, 32, 4], 4, 0)).is_ok());
    assert!(params_error(1, &enc([64, 64, 40, 0, 32, 32, 4], 4, 0)).contains("inside the image"));
    assert!(params_error(1, &enc([64, 64, 0, 0, 32, 32, 0], 4, 0)).contains("spp = 0"));
    assert!(params_error(1, &enc([64, 64, 0, 0, 32, 32, 4], 17, 0)).contains("max_depth = 17"));
    assert!(params_error(1, &enc([64, 64, 0, 0, 32, 32, 4], 4, 1)).contains("byte 15"));
    assert!(params_error(1, &enc([8192, 8192, 0, 0, 512, 512, 4096], 4, 0)).contains("samples"));
    assert!(params_error(1, &enc([0, 64, 0, 0, 0, 0, 4], 4, 0)).contains("image 0×64"));
}

#[test]
fn bad_inputs_are_refused_before_running() {
    let cpu = Backend::Cpu(Cpu::new(1).unwrap());
    for job in small_jobs() {
        let input = job.random_input(1);
        // Truncated and padded inputs.
        for bad in [
            &input[..input.len() - 1],
            &[input.as_slice(), &[0]].concat()[..],
        ] {
            match job.run(bad, &cpu) {
                Err(KernelError::BadInput { .. }) => {}
                other => panic!("{}: {other:?}", job.kernel()),
            }
        }
    }
    // NaN where the f32 kernels forbid it.
    for job in [small_jobs().remove(1), small_jobs().remove(4)] {
        let mut input = job.random_input(2);
        input[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
        let err = job.run(&input, &cpu).unwrap_err().to_string();
        assert!(err.contains("NaN or infinite"), "{err}");
    }
    // A render scene with a NaN, a sphere of radius 0, or too many objects.
    let render = small_jobs().remove(0);
    let scene = render.random_input(3);
    let mut nan = scene.clone();
    nan[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(render
        .run(&nan, &cpu)
        .unwrap_err()
        .to_string()
        .contains("NaN"));
    let mut flat = scene.clone();
    let radius_at = 8 + 4 * (7 + 3);
    flat[radius_at..radius_at + 4].copy_from_slice(&0.0f32.to_le_bytes());
    assert!(render
        .run(&flat, &cpu)
        .unwrap_err()
        .to_string()
        .contains("radius"));
    let mut crowded = scene.clone();
    crowded[0..4].copy_from_slice(&1000u32.to_le_bytes());
    assert!(render
        .run(&crowded, &cpu)
        .unwrap_err()
        .to_string()
        .contains("objects"));
    // An MLP bias that could overflow the int32 accumulators.
    let mlp = small_jobs().remove(3);
    let mut input = mlp.random_input(4);
    let bias_at = 9 * 33 + 33 * 40;
    input[bias_at..bias_at + 4].copy_from_slice(&i32::MAX.to_le_bytes());
    assert!(mlp
        .run(&input, &cpu)
        .unwrap_err()
        .to_string()
        .contains("bias"));
}

#[test]
fn random_bytes_never_crash_the_decoders() {
    let mut rng = SplitMix64::new(0x7e55e7a);
    for _ in 0..20_000 {
        let id = rng.below(7) as u8;
        let len = rng.below(40) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        if let Ok(job) = Job::decode(id, &bytes) {
            // Whatever decodes is within the limits and round-trips.
            assert_eq!(job.encode_params(), bytes);
            assert!(job.output_len() <= 1 << 26);
            assert!(job.input_len() <= 256 << 20);
        }
    }
}

#[test]
fn the_referee_reads_matmul_params_as_the_kernels_do() {
    // The program decodes a job's matmul shape with `tessera_step::matmul::Shape::decode`:
    // it must accept exactly what the kernels accept, with the same m, n, k.
    let mut rng = SplitMix64::new(0x5a4e);
    let dims = [0u32, 1, 2, 4095, 4096, 4097, u32::MAX];
    for _ in 0..5_000 {
        let mut bytes: Vec<u8> = [0, 1, 2]
            .iter()
            .flat_map(|_| dims[rng.below(dims.len() as u64) as usize].to_le_bytes())
            .collect();
        if rng.below(10) == 0 {
            bytes.push(0);
        }
        let referee = tessera_step::matmul::Shape::decode(&bytes);
        for id in [2u8, 3] {
            match Job::decode(id, &bytes) {
                Ok(Job::MatmulF32(p)) | Ok(Job::MatmulI8(p)) => {
                    assert_eq!(referee, Some(p.shape()), "{bytes:?}")
                }
                Ok(other) => panic!("kernel {id} decoded as {other:?}"),
                Err(_) => assert_eq!(referee, None, "{bytes:?}"),
            }
        }
    }
}
