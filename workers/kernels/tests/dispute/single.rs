//! Games over one output tensor: matmul (f32, i8) and render liars at any element and any
//! step; a descent that does not open the root.
use super::*;

#[test]
fn the_honest_side_wins_against_a_liar_at_any_element_and_any_step() {
    let seed = fresh_seed();
    let cpu = Backend::Cpu(Cpu::new(2).unwrap());
    for (job, cases) in [
        (
            matmul(64, 96, 700, false),
            [(0, 1), (5_000, 699), (6_143, 350)],
        ),
        (
            matmul(70, 90, 33, true),
            [(4_000, 0), (6_299, 32), (1_234, 17)],
        ),
    ] {
        let input = job.random_input(seed);
        let output = job.run(&input, &cpu).unwrap();
        let honest = Side {
            job: &job,
            input: &input,
            output: &output,
        };
        for (element, from) in cases {
            let liar = Liar::new(&job, &input, &output, element, from);
            assert_ne!(liar.output, output);
            // Deep in the output, not the first chunk, for all but the first case.
            let played = referee(&job, &input, &honest, &liar);
            assert_eq!(
                played.verdict,
                Verdict::AWins,
                "{job:?} element {element} from {from}, seed {seed}"
            );
            let played_b = referee(&job, &input, &liar, &honest);
            assert_eq!(played_b.verdict, Verdict::BWins);
            // Logarithmic: about log16(cells) descents, a cell, log16(k) bisections, a step.
            assert!(played.moves <= 12, "{played:?}");
            assert!(played.largest <= 512, "{played:?}");
            println!(
                "{:?}: element {element}, liar from step {from}: {played:?}",
                job.kernel()
            );
        }
    }
}

#[test]
fn the_honest_render_wins_against_a_liar_at_any_pixel_and_any_step() {
    use tessera_kernels::kernels::RenderParams;
    let seed = fresh_seed();
    let job = Job::Render(RenderParams {
        image_w: 64,
        image_h: 48,
        tile_x: 10,
        tile_y: 6,
        tile_w: 40,
        tile_h: 30,
        spp: 3,
        max_depth: 4,
        seed: seed as u32,
    });
    let input = job.random_input(seed);
    let output = job
        .run(&input, &Backend::Cpu(Cpu::new(2).unwrap()))
        .unwrap();
    let honest = Side {
        job: &job,
        input: &input,
        output: &output,
    };
    // The flat trace of every pixel ends in the kernel's pixel.
    for element in [0u64, 777, 1_199] {
        let len = honest.trace_len(element).unwrap();
        assert_eq!(len, 3 * 6 + 1);
        let before = honest.witness(element, len - 1).unwrap();
        let root = merkle::root(&input);
        let last =
            referee_step(&job, &root, input.len() as u64, element, len - 1, &before).unwrap();
        assert_eq!(last, honest.state(element, len).unwrap(), "pixel {element}");
    }
    // Deep in the image, at the first step (a camera ray), a bounce, an accumulation, the
    // finish.
    for (element, from) in [(1_199, 1), (900, 3), (640, 6), (333, 18)] {
        let liar = Liar::new(&job, &input, &output, element, from);
        assert_ne!(liar.output, output);
        let played = referee(&job, &input, &honest, &liar);
        assert_eq!(
            played.verdict,
            Verdict::AWins,
            "pixel {element} from {from}, seed {seed}"
        );
        assert_eq!(
            referee(&job, &input, &liar, &honest).verdict,
            Verdict::BWins
        );
        println!("render: pixel {element}, liar from step {from}: {played:?}");
    }
}

#[test]
fn a_descent_that_does_not_open_the_root_loses() {
    let seed = fresh_seed();
    let job = matmul(40, 50, 20, false);
    let input = job.random_input(seed);
    let output = job
        .run(&input, &Backend::Cpu(Cpu::new(1).unwrap()))
        .unwrap();
    let len = output.len() as u64;
    let side = Side {
        job: &job,
        input: &input,
        output: &output,
    };
    let top = side.top();
    assert_eq!(tree::seal::<Sha2>(len, &top), merkle::root(&output));
    let level = game::height(len);
    let mut hashes = side.descent(level, 0).unwrap();
    assert!(game::verify_descent::<Sha2>(len, level, 0, &top, &hashes));
    hashes[1][0] ^= 1;
    assert!(!game::verify_descent::<Sha2>(len, level, 0, &top, &hashes));
    hashes.pop();
    assert!(!game::verify_descent::<Sha2>(len, level, 0, &top, &hashes));
    // A witness whose operand does not open against the input root is refused.
    let mut witness = side.witness(7, 3).unwrap();
    let root = merkle::root(&input);
    assert!(referee_step(&job, &root, input.len() as u64, 7, 3, &witness).is_some());
    witness.operands[1].bytes[0] ^= 1;
    assert!(referee_step(&job, &root, input.len() as u64, 7, 3, &witness).is_none());
    let mut moved = side.witness(7, 3).unwrap();
    moved.operands.swap(0, 1);
    assert!(referee_step(&job, &root, input.len() as u64, 7, 3, &moved).is_none());
}
