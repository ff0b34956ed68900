//! The referee on the `.so` (always the `.so`, like the compute-unit test: the native build
//! runs on the host's floating point, which is what it is compared with): for every kind of
//! step, on random operands — fully random bits (NaN payloads, infinities, subnormals, signed
//! zeros) as well as ordinary values and real ray trajectories through random scenes — the
//! bytes the chain returns are the bytes the CPU computes with `tessera-step`. And what each
//! step costs in compute units.
use anchor_lang::AnchorDeserialize;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use tessera::referee::{execute, Step};
use tessera_sdk::in_process::ProgramMode;
use tessera_sdk::instructions as ix;
use tessera_step::render;
use tessera_tests::*;

use crate::compute_units::so_path;

/// The kernels' SplitMix64, with the draws these tests need.
struct Rng(tessera_kernels::random::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(tessera_kernels::random::SplitMix64::new(seed))
    }
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    /// f32 bits: a quarter fully random, an eighth special values, the rest ordinary.
    fn bits(&mut self) -> u32 {
        const SPECIAL: [u32; 10] = [
            0x7fc0_0000, // NaN
            0x7f80_0001, // a signalling NaN
            0xffc1_2345, // a negative NaN with a payload
            0x7f80_0000, // +inf
            0xff80_0000, // −inf
            0x0000_0000, // +0
            0x8000_0000, // −0
            0x0000_0001, // the least subnormal
            0x807f_ffff, // the largest negative subnormal
            0x7f7f_ffff, // f32::MAX
        ];
        match self.below(8) {
            0 | 1 => self.next() as u32,
            2 => SPECIAL[self.below(SPECIAL.len() as u64) as usize],
            _ => {
                let magnitude = self.range(-3.0, 3.0);
                let value = 10f32.powf(magnitude);
                if self.below(2) == 0 {
                    value.to_bits()
                } else {
                    (-value).to_bits()
                }
            }
        }
    }
    fn bits3(&mut self) -> [u32; 3] {
        [self.bits(), self.bits(), self.bits()]
    }
}

/// A random scene: `spheres` spheres and `planes` planes, as the render kernel lays them out,
/// around a camera at the origin looking down −z.
fn scene(rng: &mut Rng, spheres: usize, planes: usize) -> ([u32; 7], Vec<u32>) {
    let header = [0.0, 1.0, 3.0, 0.0, 0.5, -1.0, 0.6].map(f32::to_bits);
    let mut objects = Vec::new();
    for _ in 0..spheres {
        objects.extend([
            rng.range(-3.0, 3.0),
            rng.range(-1.0, 3.0),
            rng.range(-6.0, 0.0),
            rng.range(0.2, 1.5),
            rng.unit(),
            rng.unit(),
            rng.unit(),
            rng.below(2) as f32,
        ]);
    }
    for _ in 0..planes {
        let n = render::normalize(render::v(rng.range(-0.3, 0.3), 1.0, rng.range(-0.3, 0.3)));
        objects.extend([
            n.x,
            n.y,
            n.z,
            rng.range(-1.5, 0.0),
            rng.unit(),
            rng.unit(),
            rng.unit(),
            rng.below(2) as f32,
        ]);
    }
    (header, objects.iter().map(|v| v.to_bits()).collect())
}

fn random_step(rng: &mut Rng, kind: usize) -> Step {
    let i8v = |rng: &mut Rng| rng.next() as i8;
    match kind {
        0 => Step::MatmulF32 {
            state: rng.bits(),
            a: rng.bits(),
            b: rng.bits(),
        },
        1 => Step::MatmulI8 {
            state: rng.next() as i32,
            a: i8v(rng),
            b: i8v(rng),
        },
        2 => Step::MlpFold {
            state: rng.next() as i32,
            x: i8v(rng),
            w: i8v(rng),
        },
        3 => Step::MlpActivate {
            state: rng.next() as i32,
            shift: rng.below(32) as u8,
        },
        4 => Step::RenderCamera {
            header: [0.0, 1.0, 3.0, 0.0, 0.5, -1.0, 0.6]
                .map(|v: f32| (v + rng.range(-0.5, 0.5)).to_bits()),
            image_w: 1 + rng.below(8192) as u16,
            image_h: 1 + rng.below(8192) as u16,
            seed: rng.next() as u32,
            px: rng.below(8192) as u32,
            py: rng.below(8192) as u32,
            sample: rng.below(4096) as u32,
        },
        5 => Step::RenderAccumulate {
            sum: rng.bits3(),
            radiance: rng.bits3(),
        },
        6 => Step::RenderRgba {
            sum: rng.bits3(),
            spp: 1 + rng.below(4096) as u16,
        },
        7 => Step::TrainFold {
            acc: rng.bits(),
            a: rng.bits(),
            b: rng.bits(),
        },
        8 => Step::TrainFoldSum {
            acc: rng.bits(),
            a: rng.bits(),
        },
        9 => Step::TrainHidden {
            acc: rng.bits(),
            bias: rng.bits(),
        },
        10 => Step::TrainGrad {
            acc: rng.bits(),
            bias: rng.bits(),
            target: rng.bits(),
            scale: rng.bits(),
        },
        11 => Step::TrainDHidden {
            acc: rng.bits(),
            hidden: rng.bits(),
        },
        _ => Step::TrainUpdate {
            acc: rng.bits(),
            old: rng.bits(),
            lr: rng.bits(),
        },
    }
}

fn name(step: &Step) -> &'static str {
    match step {
        Step::MatmulF32 { .. } => "MatmulF32",
        Step::MatmulI8 { .. } => "MatmulI8",
        Step::MlpFold { .. } => "MlpFold",
        Step::MlpActivate { .. } => "MlpActivate",
        Step::RenderCamera { .. } => "RenderCamera",
        Step::RenderBounce { .. } => "RenderBounce",
        Step::RenderAccumulate { .. } => "RenderAccumulate",
        Step::RenderRgba { .. } => "RenderRgba",
        Step::TrainFold { .. } => "TrainFold",
        Step::TrainFoldSum { .. } => "TrainFoldSum",
        Step::TrainHidden { .. } => "TrainHidden",
        Step::TrainGrad { .. } => "TrainGrad",
        Step::TrainDHidden { .. } => "TrainDHidden",
        Step::TrainUpdate { .. } => "TrainUpdate",
    }
}

/// Runs `step` on the `.so` and on the host; asserts the same bytes; returns the CU used.
fn check(env: &TestEnv, step: Step, seed: u64) -> u64 {
    let expected = execute(&step).expect("a well-formed step");
    let outcome = env
        .send(
            &[
                ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
                ix::referee_step(step.clone()),
            ],
            &env.authority,
            &[],
        )
        .unwrap_or_else(|e| panic!("{} failed on chain: {e}", name(&step)));
    // Anchor returns the handler's `Vec<u8>` Borsh-encoded (a u32 length, then the bytes).
    let returned = <Vec<u8> as AnchorDeserialize>::deserialize(&mut outcome.return_data.as_slice())
        .expect("Borsh-encoded bytes");
    assert_eq!(
        returned,
        expected,
        "{} differs between the .so and the CPU (seed {seed}): {step:?}",
        name(&step)
    );
    // The compute-budget instruction costs 150 CU of the total.
    outcome.compute_units - 150
}

#[test]
fn the_so_computes_every_step_as_the_cpu_does() {
    let env = TestEnv::boot_with(ProgramMode::Sbf(so_path()));
    assert!(env.chain.program_is_bpf());
    // A fresh seed each run (printed on failure); TESSERA_SEED replays one.
    let seed = std::env::var("TESSERA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    let mut rng = Rng::new(seed);
    let mut worst: Vec<(&'static str, u64)> = Vec::new();
    let mut note = |name: &'static str, cu: u64| match worst.iter_mut().find(|(n, _)| *n == name) {
        Some((_, w)) => *w = (*w).max(cu),
        None => worst.push((name, cu)),
    };
    for kind in 0..13 {
        for _ in 0..40 {
            let step = random_step(&mut rng, kind);
            let label = name(&step);
            note(label, check(&env, step, seed));
        }
    }
    // Bounces: real trajectories through random scenes, and garbage states (a dispute's agreed
    // state is whatever both sides posted).
    let mut bounces: Vec<(usize, u64)> = Vec::new();
    for (spheres, planes) in [(1, 0), (3, 1), (6, 2), (12, 4), (24, 8), (48, 16)] {
        let mut most = 0;
        let (header, objects) = scene(&mut rng, spheres, planes);
        let camera = render::Camera::new(&header.map(f32::from_bits));
        let view = render::View {
            image_w: 64,
            image_h: 48,
            seed: rng.next() as u32,
        };
        for _ in 0..6 {
            let mut ray = render::camera_ray(
                &camera,
                &view,
                rng.below(64) as u32,
                rng.below(48) as u32,
                rng.below(16) as u32,
            );
            for _ in 0..4 {
                let step = Step::RenderBounce {
                    ray: ray.encode(),
                    spheres: spheres as u8,
                    planes: planes as u8,
                    objects: objects.clone(),
                };
                most = most.max(check(&env, step, seed));
                let values: Vec<f32> = objects.iter().map(|b| f32::from_bits(*b)).collect();
                ray = render::bounce(
                    &render::Objects {
                        values: &values,
                        spheres,
                        planes,
                    },
                    &ray,
                );
            }
        }
        let mut garbage = [0u8; render::RAY_BYTES];
        for _ in 0..4 {
            for chunk in garbage[..52].chunks_mut(4) {
                chunk.copy_from_slice(&rng.bits().to_le_bytes());
            }
            garbage[52] = 0;
            let step = Step::RenderBounce {
                ray: garbage,
                spheres: spheres as u8,
                planes: planes as u8,
                objects: objects.clone(),
            };
            check(&env, step, seed);
        }
        bounces.push((spheres + planes, most));
    }
    println!("worst compute units per step (seed {seed}):");
    for (name, cu) in &worst {
        println!("  {name}: {cu}");
        assert!(
            *cu <= 50_000,
            "{name}: {cu} CU, above the 50k of any instruction"
        );
    }
    for (objects, cu) in &bounces {
        println!("  RenderBounce, {objects} objects: {cu}");
    }
    // The largest scene the kernel allows: one bounce within the 200k CU a dispute's last move
    // may spend (issue 2/6). The scene travels in the instruction here (LiteSVM does not
    // enforce the 1,232-byte packet limit); a game keeps it in an account.
    let (objects, cu) = bounces.last().expect("measured");
    assert_eq!(*objects, 64);
    assert!(*cu <= 200_000, "a bounce over 64 objects costs {cu} CU");
}

/// Posts a job of `job`'s kernel and params whose input reference is `input`'s root.
fn post_kernel_job(
    env: &TestEnv,
    job: &tessera_kernels::Job,
    input: &[u8],
) -> anchor_lang::prelude::Pubkey {
    let submitter = env.actor();
    let mut args = env.job_args(1, 1, 1_000);
    args.kernel_id = job.kernel() as u8;
    args.kernel_params = job.encode_params();
    args.input.hash = tessera_kernels::merkle::root(input);
    args.input.size_bytes = input.len() as u64;
    env.post_job(&submitter, args).expect("post the job");
    tessera_sdk::pda::job(&submitter.key(), 1).0
}

#[test]
fn the_so_opens_a_steps_operands_against_the_jobs_input_root() {
    use tessera::error::TesseraError;
    use tessera::instructions::RefereeCheckStepArgs;
    use tessera::referee::OpenedOperand;
    use tessera_kernels::dispute::Side;
    use tessera_kernels::kernels::MatmulParams;

    let env = TestEnv::boot_with(ProgramMode::Sbf(so_path()));
    env.initialize(&env.authority, env.params).unwrap();
    let seed = 0x07e5_5e7a;
    let mut rng = Rng::new(seed);
    let mut costs = Vec::new();
    for (m, n, k, i8) in [
        (3, 5, 7, false),
        (64, 64, 256, true),
        (1024, 1024, 1024, false),
    ] {
        let params = MatmulParams { m, n, k };
        let job = if i8 {
            tessera_kernels::Job::MatmulI8(params)
        } else {
            tessera_kernels::Job::MatmulF32(params)
        };
        let input = job.random_input(seed);
        let address = post_kernel_job(&env, &job, &input);
        let side = Side {
            job: &job,
            input: &input,
            output: &[],
        };
        let args = |element: u64, position: u64| {
            let w = side.witness(element, position).unwrap();
            RefereeCheckStepArgs {
                element,
                position,
                state: w.state.as_slice().try_into().unwrap(),
                operands: w
                    .operands
                    .iter()
                    .map(|o| OpenedOperand {
                        cell: o.cell.clone(),
                        siblings: o.proof.siblings.clone(),
                    })
                    .collect(),
            }
        };
        let send = |args: RefereeCheckStepArgs| {
            env.send(
                &[
                    ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
                    ix::referee_check_step(&address, args),
                ],
                &env.authority,
                &[],
            )
        };
        let mut most = 0;
        for _ in 0..12 {
            let element = rng.below(u64::from(m) * u64::from(n));
            let position = rng.below(u64::from(k));
            let outcome = send(args(element, position)).expect("a valid step");
            let returned =
                <Vec<u8> as AnchorDeserialize>::deserialize(&mut outcome.return_data.as_slice())
                    .unwrap();
            let kind = if i8 {
                tessera_step::matmul::Kind::I8
            } else {
                tessera_step::matmul::Kind::F32
            };
            let (i, j) = params.shape().element(element).unwrap();
            let truth = params
                .shape()
                .state(kind, &input, i, j, position as u32 + 1)
                .unwrap();
            assert_eq!(
                returned, truth,
                "{m}x{n}x{k} element {element} step {position}"
            );
            most = most.max(outcome.compute_units - 150);
        }
        let siblings = args(0, 0).operands[0].siblings.len();
        costs.push((input.len(), siblings, most));
        // Attacks: a bent operand, an operand of another position, a step past the trace.
        let mut bent = args(1, 0);
        bent.operands[0].cell[0] ^= 1;
        let mut moved = args(1, 0);
        moved.position = u64::from(k.min(2) - 1);
        moved.element = (moved.element + 1) % (u64::from(m) * u64::from(n));
        let mut past = args(0, 0);
        past.position = u64::from(k);
        for (what, attack) in [("bent", bent), ("moved", moved), ("past", past)] {
            let err = send(attack).expect_err(what);
            assert_eq!(
                err.custom_code(),
                Some(TesseraError::BadOpening.into()),
                "{what}: {err}"
            );
        }
    }
    // A job of a kernel the referee cannot play to its last step yet.
    let render = tessera_kernels::Job::decode(
        1,
        &[64, 0, 48, 0, 0, 0, 0, 0, 8, 0, 8, 0, 1, 0, 1, 0, 0, 0, 0, 0],
    );
    if let Ok(render) = render {
        let input = render.random_input(seed);
        let address = post_kernel_job(&env, &render, &input);
        let args = RefereeCheckStepArgs {
            element: 0,
            position: 0,
            state: [0; 4],
            operands: vec![],
        };
        let err = env
            .send_one(ix::referee_check_step(&address, args), &env.authority)
            .expect_err("render is not refereed on chain yet");
        assert_eq!(err.custom_code(), Some(TesseraError::NotRefereed.into()));
    } else {
        panic!("the render params above are valid");
    }
    println!("referee_check_step (matmul): input bytes, siblings per operand, worst CU");
    for (bytes, siblings, cu) in &costs {
        println!("  {bytes} bytes, {siblings} siblings: {cu} CU");
        assert!(*cu <= 50_000, "{cu} CU");
    }
}
