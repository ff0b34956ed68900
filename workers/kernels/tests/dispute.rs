//! Whole dispute games played off chain between an honest side and liars, with the rules of
//! `tessera_step::game` checking every move as the program will: the honest side wins every
//! game, whatever the liar corrupted and however deep, in a number of moves logarithmic in
//! the output size and the trace length; and a move that does not open what it claims loses.
use tessera_kernels::backend::Cpu;
use tessera_kernels::dispute::{referee_step, Side};
use tessera_kernels::kernels::MatmulParams;
use tessera_kernels::merkle::{self, Sha2};
use tessera_kernels::random::fresh_seed;
use tessera_kernels::{Backend, Job};
use tessera_step::game::{self, state_hash};
use tessera_step::tree::{self, Hash};

/// A side as the referee sees it: its moves, and whether it plays by the rules.
trait Player {
    fn top(&self) -> Hash;
    fn descent(&self, level: u32, index: u64) -> Vec<Hash>;
    fn cell(&self, index: u64) -> Vec<u8>;
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash>;
    fn state(&self, element: u64, position: u64) -> Vec<u8>;
}

impl Player for Side<'_> {
    fn top(&self) -> Hash {
        Side::top(self)
    }
    fn descent(&self, level: u32, index: u64) -> Vec<Hash> {
        Side::descent(self, level, index).unwrap()
    }
    fn cell(&self, index: u64) -> Vec<u8> {
        Side::cell(self, index).unwrap()
    }
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash> {
        Side::bisection(self, element, lo, hi).unwrap()
    }
    fn state(&self, element: u64, position: u64) -> Vec<u8> {
        Side::state(self, element, position).unwrap()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    AWins,
    BWins,
    BothLose,
}

#[derive(Debug)]
struct Played {
    verdict: Verdict,
    /// Moves per side (descent, cell, bisection; the last step is one more transaction).
    moves: u32,
    /// The largest move, in bytes.
    largest: usize,
}

/// The referee: plays a game between `a` and `b`, whose roots differ, as the program will.
fn referee(job: &Job, input: &[u8], a: &dyn Player, b: &dyn Player) -> Played {
    let len = job.output_len() as u64;
    let (input_root, input_len) = (merkle::root(input), input.len() as u64);
    let mut moves = 0;
    let mut largest = 0;
    // Descent.
    let (mut level, mut index) = (game::height(len), 0u64);
    let (mut node_a, mut node_b) = (a.top(), b.top());
    assert_ne!(node_a, node_b, "a game needs two different roots");
    while level > 0 {
        let (hs_a, hs_b) = (a.descent(level, index), b.descent(level, index));
        moves += 1;
        largest = largest.max(32 * hs_a.len());
        let ok_a = game::verify_descent::<Sha2>(len, level, index, &node_a, &hs_a);
        let ok_b = game::verify_descent::<Sha2>(len, level, index, &node_b, &hs_b);
        match (ok_a, ok_b) {
            (true, true) => {}
            (true, false) => {
                return Played {
                    verdict: Verdict::AWins,
                    moves,
                    largest,
                }
            }
            (false, true) => {
                return Played {
                    verdict: Verdict::BWins,
                    moves,
                    largest,
                }
            }
            (false, false) => {
                return Played {
                    verdict: Verdict::BothLose,
                    moves,
                    largest,
                }
            }
        }
        let j =
            game::first_difference(&hs_a, &hs_b).expect("different nodes have a differing child");
        let (target, first, _) = game::descendants(len, level, index).unwrap();
        (level, index) = (target, first + j as u64);
        (node_a, node_b) = (hs_a[j], hs_b[j]);
    }
    let (cell_a, cell_b) = (a.cell(index), b.cell(index));
    moves += 1;
    assert_eq!(tree::leaf::<Sha2>(&cell_a), node_a);
    assert_eq!(tree::leaf::<Sha2>(&cell_b), node_b);
    let element = game::differing_element(index, &cell_a, &cell_b).expect("different cells");
    let within = (element as usize * game::ELEMENT) % tree::CELL;
    let end_a = state_hash::<Sha2>(&cell_a[within..within + game::ELEMENT]);
    let end_b = state_hash::<Sha2>(&cell_b[within..within + game::ELEMENT]);
    // Bisection: the start state is the kernel's (0 for a dot product), the end the elements.
    let honest = Side {
        job,
        input,
        output: &[],
    };
    let (mut lo, mut hi) = (0u64, honest.trace_len(element).unwrap());
    let (mut at_hi_a, mut at_hi_b) = (end_a, end_b);
    while hi - lo > 1 {
        let (points, count) = game::points(lo, hi);
        let (hs_a, hs_b) = (a.bisection(element, lo, hi), b.bisection(element, lo, hi));
        moves += 1;
        largest = largest.max(32 * count);
        assert_eq!(hs_a.len(), count);
        let (new_lo, new_hi) =
            game::select(lo, hi, &points[..count], &hs_a, &hs_b).expect("a well-formed move");
        if new_hi != hi {
            let j = points[..count].iter().position(|p| *p == new_hi).unwrap();
            (at_hi_a, at_hi_b) = (hs_a[j], hs_b[j]);
        }
        (lo, hi) = (new_lo, new_hi);
    }
    // The step: anyone posts the agreed state and the operands; the referee executes it.
    let start = if lo == 0 {
        // The kernel's start state, which the referee knows from the job.
        match job {
            Job::Render(_) => tessera_step::render::PixelState::start().encode().to_vec(),
            _ => vec![0u8; 4],
        }
    } else {
        // Both sides posted this state's hash; side a's bytes must match it.
        a.state(element, lo)
    };
    let mut witness = honest.witness(element, lo).unwrap();
    witness.state = start;
    let next =
        referee_step(job, &input_root, input_len, element, lo, &witness).expect("a valid step");
    let truth = state_hash::<Sha2>(&next);
    let verdict = match (at_hi_a == truth, at_hi_b == truth) {
        (true, false) => Verdict::AWins,
        (false, true) => Verdict::BWins,
        (false, false) => Verdict::BothLose,
        (true, true) => unreachable!("the sides differ at hi"),
    };
    Played {
        verdict,
        moves: moves + 1,
        largest,
    }
}

/// A liar that computed honestly up to `from` steps of `element`'s trace and then added
/// `delta` to the state (a wrong operand, a flipped bit): its trace and output agree with the
/// truth before, and differ after.
struct Liar<'a> {
    side: Side<'a>,
    output: Vec<u8>,
    element: u64,
    from: u64,
}

impl<'a> Liar<'a> {
    fn new(job: &'a Job, input: &'a [u8], honest: &[u8], element: u64, from: u64) -> Self {
        let mut liar = Liar {
            side: Side {
                job,
                input,
                output: &[],
            },
            output: honest.to_vec(),
            element,
            from,
        };
        let k = liar.side.trace_len(element).unwrap();
        let last = liar.state(element, k);
        let at = element as usize * 4;
        liar.output[at..at + 4].copy_from_slice(&last);
        liar
    }
    fn honest_side(&self) -> Side<'_> {
        Side {
            job: self.side.job,
            input: self.side.input,
            output: &self.output,
        }
    }
}

impl Player for Liar<'_> {
    fn top(&self) -> Hash {
        self.honest_side().top()
    }
    fn descent(&self, level: u32, index: u64) -> Vec<Hash> {
        self.honest_side().descent(level, index).unwrap()
    }
    fn cell(&self, index: u64) -> Vec<u8> {
        self.honest_side().cell(index).unwrap()
    }
    fn bisection(&self, element: u64, lo: u64, hi: u64) -> Vec<Hash> {
        let (points, count) = game::points(lo, hi);
        points[..count]
            .iter()
            .map(|p| state_hash::<Sha2>(&self.state(element, *p)))
            .collect()
    }
    fn state(&self, element: u64, position: u64) -> Vec<u8> {
        let truth = Side {
            job: self.side.job,
            input: self.side.input,
            output: &[],
        }
        .state(
            element,
            position.min(self.side.trace_len(element).unwrap() - 1),
        )
        .unwrap();
        let truth = if position == self.side.trace_len(element).unwrap() {
            // Recompute the honest final state from the trace, not from an output.
            let before = Side {
                job: self.side.job,
                input: self.side.input,
                output: &[],
            };
            let w = before.witness(element, position - 1).unwrap();
            let job = self.side.job;
            let root = merkle::root(self.side.input);
            referee_step(
                job,
                &root,
                self.side.input.len() as u64,
                element,
                position - 1,
                &w,
            )
            .unwrap()
        } else {
            truth
        };
        if element != self.element || position < self.from {
            return truth;
        }
        let mut bent = truth;
        bent[0] ^= 0x10;
        bent
    }
}

fn matmul(m: u32, n: u32, k: u32, i8: bool) -> Job {
    let p = MatmulParams { m, n, k };
    if i8 {
        Job::MatmulI8(p)
    } else {
        Job::MatmulF32(p)
    }
}

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

/// What the MLP referee asks of a side.
trait MlpPlayer {
    fn chain(&self) -> Vec<Hash>;
    fn roots(&self) -> Vec<Hash>;
    fn tensor(&self, t: usize) -> &[u8];
    fn state(&self, t: usize, element: u64, position: u64) -> Vec<u8>;
}

impl MlpPlayer for tessera_kernels::dispute::MlpSide<'_> {
    fn chain(&self) -> Vec<Hash> {
        tessera_kernels::dispute::MlpSide::chain(self)
    }
    fn roots(&self) -> Vec<Hash> {
        tessera_kernels::dispute::MlpSide::roots(self)
    }
    fn tensor(&self, t: usize) -> &[u8] {
        &self.tensors[t]
    }
    fn state(&self, t: usize, element: u64, position: u64) -> Vec<u8> {
        tessera_kernels::dispute::MlpSide::state(self, t, element, position).unwrap()
    }
}

/// A liar that bends neuron `element` of tensor `t` from step `from` of its trace on, and
/// computes every later layer from its bent tensor (a consistent liar).
struct MlpLiar<'a> {
    side: tessera_kernels::dispute::MlpSide<'a>,
    honest: &'a tessera_kernels::dispute::MlpSide<'a>,
    t: usize,
    element: u64,
    from: u64,
}

impl<'a> MlpLiar<'a> {
    fn new(
        honest: &'a tessera_kernels::dispute::MlpSide<'a>,
        t: usize,
        element: u64,
        from: u64,
    ) -> Self {
        use tessera_kernels::dispute::MlpSide;
        let mut tensors: Vec<Vec<u8>> = honest.tensors[..t].to_vec();
        let size = honest.element_size(t);
        let mut bent = honest.tensors[t].clone();
        let at = element as usize * size;
        bent[at] ^= 0x10;
        tensors.push(bent);
        for later in t + 1..honest.tensors.len() {
            let next = MlpSide::layer(honest.params, honest.input, tensors.last(), later);
            tensors.push(next);
        }
        MlpLiar {
            side: MlpSide {
                params: honest.params,
                input: honest.input,
                tensors,
            },
            honest,
            t,
            element,
            from,
        }
    }
}

impl MlpPlayer for MlpLiar<'_> {
    fn chain(&self) -> Vec<Hash> {
        self.side.chain()
    }
    fn roots(&self) -> Vec<Hash> {
        self.side.roots()
    }
    fn tensor(&self, t: usize) -> &[u8] {
        &self.side.tensors[t]
    }
    fn state(&self, t: usize, element: u64, position: u64) -> Vec<u8> {
        let end = self.side.trace_len(t);
        if position == end {
            return self.side.state(t, element, position).unwrap();
        }
        let mut truth = self.honest.state(t, element, position).unwrap();
        if t == self.t && element == self.element && position >= self.from {
            truth[0] ^= 0x10;
        }
        truth
    }
}

/// The MLP referee: the tensor chain's bisection, the reveal of the first differing tensor's
/// root, its descent, the neuron's bisection, the step.
fn mlp_referee(
    params: &tessera_kernels::kernels::MlpParams,
    input: &[u8],
    a: &dyn MlpPlayer,
    b: &dyn MlpPlayer,
) -> Played {
    use tessera_kernels::dispute::{mlp_referee_step, MlpSide};
    let layers = params.shape().layers() as u64;
    let (chain_a, chain_b) = (a.chain(), b.chain());
    assert_ne!(chain_a.last(), chain_b.last(), "the results differ");
    let mut moves = 0;
    // 1. Bisect the chain: position j holds C_j (C_0 agreed, C_L differs).
    let (mut lo, mut hi) = (0u64, layers);
    while hi - lo > 1 {
        let (points, count) = game::points(lo, hi);
        let pick = |c: &[Hash]| {
            points[..count]
                .iter()
                .map(|p| c[*p as usize - 1])
                .collect::<Vec<_>>()
        };
        (lo, hi) = game::select(lo, hi, &points[..count], &pick(&chain_a), &pick(&chain_b))
            .expect("a well-formed move");
        moves += 1;
    }
    let t = (hi - 1) as usize;
    let agreed = if t == 0 {
        game::CHAIN_START
    } else {
        chain_a[t - 1]
    };
    assert_eq!(
        agreed,
        if t == 0 {
            game::CHAIN_START
        } else {
            chain_b[t - 1]
        }
    );
    // 2. Each side reveals tensor t's root, which must link to its C_t.
    let (root_a, root_b) = (a.roots()[t], b.roots()[t]);
    assert_eq!(game::chain_link::<Sha2>(&agreed, &root_a), chain_a[t]);
    assert_eq!(game::chain_link::<Sha2>(&agreed, &root_b), chain_b[t]);
    moves += 1;
    // 3. Descend tensor t's tree to a differing element.
    let (ta, tb) = (a.tensor(t), b.tensor(t));
    let len = ta.len() as u64;
    let (tree_a, tree_b) = (
        tessera_kernels::dispute::Tree(ta),
        tessera_kernels::dispute::Tree(tb),
    );
    let (mut level, mut index) = (game::height(len), 0u64);
    let (mut node_a, mut node_b) = (tree_a.top(), tree_b.top());
    assert_eq!(tree::seal::<Sha2>(len, &node_a), root_a);
    while level > 0 {
        let (hs_a, hs_b) = (
            tree_a.descent(level, index).unwrap(),
            tree_b.descent(level, index).unwrap(),
        );
        assert!(game::verify_descent::<Sha2>(
            len, level, index, &node_a, &hs_a
        ));
        assert!(game::verify_descent::<Sha2>(
            len, level, index, &node_b, &hs_b
        ));
        let j = game::first_difference(&hs_a, &hs_b).unwrap();
        let (target, first, _) = game::descendants(len, level, index).unwrap();
        (level, index) = (target, first + j as u64);
        (node_a, node_b) = (hs_a[j], hs_b[j]);
        moves += 1;
    }
    let size = if t + 1 == layers as usize { 4 } else { 1 };
    let (cell_a, cell_b) = (tree_a.cell(index).unwrap(), tree_b.cell(index).unwrap());
    let element = game::differing_element_of(index, &cell_a, &cell_b, size).unwrap();
    moves += 1;
    // 4. Bisect the neuron's trace.
    let honest = MlpSide::honest(params, input);
    let (mut lo, mut hi) = (0u64, honest.trace_len(t));
    let (mut at_hi_a, mut at_hi_b) = (
        state_hash::<Sha2>(&a.state(t, element, hi)),
        state_hash::<Sha2>(&b.state(t, element, hi)),
    );
    while hi - lo > 1 {
        let (points, count) = game::points(lo, hi);
        let post = |p: &dyn MlpPlayer| {
            points[..count]
                .iter()
                .map(|q| state_hash::<Sha2>(&p.state(t, element, *q)))
                .collect::<Vec<_>>()
        };
        let (hs_a, hs_b) = (post(a), post(b));
        let (new_lo, new_hi) =
            game::select(lo, hi, &points[..count], &hs_a, &hs_b).expect("a well-formed move");
        if new_hi != hi {
            let j = points[..count].iter().position(|p| *p == new_hi).unwrap();
            (at_hi_a, at_hi_b) = (hs_a[j], hs_b[j]);
        }
        (lo, hi) = (new_lo, new_hi);
        moves += 1;
    }
    // 5. The step, from the agreed state (side a's bytes at lo, which both sides hashed).
    let mut witness = honest.witness(t, element, lo).unwrap();
    if lo > 0 {
        witness.state = a.state(t, element, lo);
    }
    let next = mlp_referee_step(
        params,
        &merkle::root(input),
        input.len() as u64,
        &agreed,
        t,
        element,
        lo,
        &witness,
    )
    .expect("a valid step");
    let truth = state_hash::<Sha2>(&next);
    let verdict = match (at_hi_a == truth, at_hi_b == truth) {
        (true, false) => Verdict::AWins,
        (false, true) => Verdict::BWins,
        _ => Verdict::BothLose,
    };
    Played {
        verdict,
        moves: moves + 1,
        largest: 512,
    }
}

#[test]
fn the_honest_mlp_wins_against_a_liar_in_any_layer_and_at_any_step() {
    use tessera_kernels::dispute::MlpSide;
    use tessera_kernels::kernels::MlpParams;
    let seed = fresh_seed();
    let params = MlpParams {
        batch: 6,
        widths: vec![40, 70, 33, 9],
        shifts: vec![6, 5, 0],
    };
    let job = Job::MlpInfer(params.clone());
    let input = job.random_input(seed);
    let output = job
        .run(&input, &Backend::Cpu(Cpu::new(2).unwrap()))
        .unwrap();
    let honest = MlpSide::honest(&params, &input);
    assert_eq!(
        honest.tensors.last().unwrap(),
        &output,
        "the side's tensors end in the kernel's output"
    );
    let mut played_any = 0;
    // (tensor, from): the first fold step, the middle, the activation, the output layer.
    for (t, from) in [(0usize, 0u64), (0, 20), (1, 70), (1, 35), (2, 32), (2, 0)] {
        // A neuron whose bend reaches the output (a ReLU may swallow it): the first that does.
        let size = honest.element_size(t) as u64;
        let count = honest.tensors[t].len() as u64 / size;
        let Some(liar) = (0..count)
            .map(|e| (e * 7919 + seed) % count)
            .map(|e| MlpLiar::new(&honest, t, e, from.min(honest.trace_len(t) - 1)))
            .find(|l| l.side.tensors.last() != honest.tensors.last())
        else {
            continue;
        };
        let played = mlp_referee(&params, &input, &honest, &liar);
        assert_eq!(
            played.verdict,
            Verdict::AWins,
            "tensor {t} from {from}, seed {seed}"
        );
        assert_eq!(
            mlp_referee(&params, &input, &liar, &honest).verdict,
            Verdict::BWins
        );
        println!(
            "mlp: tensor {t}, neuron {}, liar from step {from}: {played:?}",
            liar.element
        );
        played_any += 1;
    }
    assert!(played_any >= 4, "most bends reach the output (seed {seed})");
}

/// The pieces an input is loaded on chain in prove against its root, at every length around
/// the piece and level boundaries, and a bent piece does not.
#[test]
fn input_pieces_prove_against_the_root() {
    use tessera_kernels::dispute::Tree;
    for len in [0usize, 1, 31, 32, 511, 512, 513, 1_024, 2_084, 5_000] {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let root = merkle::root(&bytes);
        let level = tree::INPUT_PIECE_LEVEL;
        let pieces = Tree(&bytes).pieces(level).unwrap();
        assert_eq!(pieces.len() as u64, tree::width(len as u64, level));
        let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.clone()).collect();
        assert_eq!(joined, bytes, "the pieces are the bytes, in order");
        for p in &pieces {
            assert!(
                tree::verify_piece::<Sha2>(
                    &root,
                    len as u64,
                    level,
                    p.index,
                    &p.bytes,
                    &p.siblings
                ),
                "len {len} piece {}",
                p.index
            );
            if !p.bytes.is_empty() {
                let mut bent = p.bytes.clone();
                bent[0] ^= 1;
                assert!(!tree::verify_piece::<Sha2>(
                    &root,
                    len as u64,
                    level,
                    p.index,
                    &bent,
                    &p.siblings
                ));
            }
        }
    }
}
