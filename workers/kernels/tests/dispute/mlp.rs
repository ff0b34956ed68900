//! MLP games: the tensor chain's bisection, then the disputed layer's game.
use super::*;

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
