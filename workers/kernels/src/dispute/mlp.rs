//! An MLP's side of a dispute game: the layer chain, the neuron's fold, and the referee's
//! step with operands opened against the input root or the previous layer's root.
use tessera_step::game;
use tessera_step::tree::{self, Hash};

use crate::merkle::{self, Proof, Sha2};

use tessera_step::matmul::Opening;

use super::{DisputeError, Tree};

/// A side of a game over an `mlp_infer` job: every layer's activations are tensors (tensor
/// `t` is layer `t`'s output; the last is the result), committed in a chain
/// (`tessera_step::game::chain_link`). The game bisects the chain to the first tensor the
/// sides compute differently, descends into that tensor's tree to a neuron, bisects the
/// neuron's trace (its fold from the bias over its inputs, then — hidden layers — its
/// activation), and the referee executes one step with operands opened against the input root
/// and, for layers after the first, the previous tensor's root (revealed through the chain).
/// `C_t` links tensor `t − 1`'s root: `C_L` links the output's, the side's result root.
pub struct MlpSide<'a> {
    pub params: &'a crate::kernels::MlpParams,
    pub input: &'a [u8],
    /// This side's tensors, layer by layer.
    pub tensors: Vec<Vec<u8>>,
}

/// What the last move of an MLP game needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpWitness {
    /// The agreed state before the step (i32 LE; the zero state before the bias step).
    pub state: Vec<u8>,
    /// The cells the step reads, each with its proof: the bias's one or two cells of the
    /// input (the input's layout leaves biases unaligned, i8 weights before them), or `x`
    /// (from the input, or from the previous tensor) then `w` (from the input) for a fold
    /// step; none for an activation.
    pub openings: Vec<(Vec<u8>, Proof)>,
    /// For a fold step of a layer after the first: `C_{t−1}` and the previous tensor's root,
    /// whose link is the agreed `C_t`.
    pub previous: Option<(Hash, Hash)>,
}

fn open(bytes: &[u8], index: u64) -> Result<(Vec<u8>, Proof), DisputeError> {
    merkle::open_cell(bytes, index).ok_or(DisputeError::OutOfRange)
}

impl<'a> MlpSide<'a> {
    /// The honest side: every layer computed with `tessera_step::mlp`'s steps.
    pub fn honest(params: &'a crate::kernels::MlpParams, input: &'a [u8]) -> Self {
        let shape = params.shape();
        let mut tensors = Vec::new();
        for t in 0..shape.layers() {
            let tensor = Self::layer(params, input, tensors.last(), t);
            tensors.push(tensor);
        }
        MlpSide {
            params,
            input,
            tensors,
        }
    }

    /// A side whose result is `output`: its hidden layers recomputed from the input (what it
    /// computed on the way to the output, if it is honest), its last tensor the output it
    /// revealed.
    pub fn with_output(
        params: &'a crate::kernels::MlpParams,
        input: &'a [u8],
        output: &[u8],
    ) -> Self {
        let mut side = Self::honest(params, input);
        if let Some(last) = side.tensors.last_mut() {
            *last = output.to_vec();
        }
        side
    }

    /// Layer `t`'s activations from the previous tensor (`None`: the input's X).
    pub fn layer(
        params: &crate::kernels::MlpParams,
        input: &[u8],
        previous: Option<&Vec<u8>>,
        t: usize,
    ) -> Vec<u8> {
        let shape = params.shape();
        let (in_w, out_w) = (shape.width(t) as u32, shape.width(t + 1) as u32);
        let last = t + 1 == shape.layers();
        let mut out = Vec::new();
        for b in 0..shape.batch {
            for o in 0..out_w {
                let at = shape.bias_offset(t, o) as usize;
                let mut s = i32::from_le_bytes(input[at..at + 4].try_into().expect("4 bytes"));
                for i in 0..in_w {
                    let x = match previous {
                        None => input[shape.x_offset(b, i) as usize],
                        Some(prev) => prev[(b * in_w + i) as usize],
                    } as i8;
                    s = tessera_step::mlp::fold(
                        s,
                        x,
                        input[shape.weight_offset(t, i, o) as usize] as i8,
                    );
                }
                if last {
                    out.extend(s.to_le_bytes());
                } else {
                    out.push(tessera_step::mlp::activate(s, shape.shifts[t]) as u8);
                }
            }
        }
        out
    }

    /// Bytes of one element of tensor `t`.
    pub fn element_size(&self, t: usize) -> usize {
        if t + 1 == self.params.shape().layers() {
            4
        } else {
            1
        }
    }

    /// The roots of this side's tensors.
    pub fn roots(&self) -> Vec<Hash> {
        self.tensors.iter().map(|t| merkle::root(t)).collect()
    }

    /// `C_1 … C_L` of this side's tensor chain.
    pub fn chain(&self) -> Vec<Hash> {
        let mut link = game::CHAIN_START;
        self.roots()
            .iter()
            .map(|root| {
                link = game::chain_link::<Sha2>(&link, root);
                link
            })
            .collect()
    }

    /// The tree of tensor `t`, for a descent.
    pub fn tree(&self, t: usize) -> Tree<'_> {
        Tree(&self.tensors[t])
    }

    /// Steps in the trace of a neuron of tensor `t`.
    pub fn trace_len(&self, t: usize) -> u64 {
        self.params.shape().trace_len(t)
    }

    /// The state after `position` steps of the trace of element `element` (neuron
    /// `(b, o)` = `element / width, element % width`) of tensor `t`: the zero state, then the
    /// bias and the partial sums (i32 LE), or at the trace's end this side's element of the
    /// tensor.
    pub fn state(&self, t: usize, element: u64, position: u64) -> Result<Vec<u8>, DisputeError> {
        let shape = self.params.shape();
        let size = self.element_size(t);
        if position == self.trace_len(t) {
            let at = element as usize * size;
            return self.tensors[t]
                .get(at..at + size)
                .map(<[u8]>::to_vec)
                .ok_or(DisputeError::OutOfRange);
        }
        let (b, o) = shape.neuron(t, element).ok_or(DisputeError::OutOfRange)?;
        if position > shape.trace_len(t) {
            return Err(DisputeError::OutOfRange);
        }
        if position == 0 {
            return Ok(vec![0; 4]);
        }
        let at = shape.bias_offset(t, o) as usize;
        let mut s = i32::from_le_bytes(self.input[at..at + 4].try_into().expect("4 bytes"));
        for i in 0..(position - 1).min(shape.width(t)) as u32 {
            let x = self.x(t, b, i) as i8;
            let w = self.input[shape.weight_offset(t, i, o) as usize] as i8;
            s = tessera_step::mlp::fold(s, x, w);
        }
        Ok(s.to_le_bytes().to_vec())
    }

    /// This side's state hashes at the interior points of segment (`lo`, `hi`) of the trace
    /// of element `element` of tensor `t`.
    pub fn bisection(
        &self,
        t: usize,
        element: u64,
        lo: u64,
        hi: u64,
    ) -> Result<Vec<Hash>, DisputeError> {
        let (points, count) = game::points(lo, hi);
        points[..count]
            .iter()
            .map(|p| Ok(game::state_hash::<Sha2>(&self.state(t, element, *p)?)))
            .collect()
    }

    /// `C_j` of this side's chain (`C_0` is [`game::CHAIN_START`]).
    pub fn link(&self, j: usize) -> Result<Hash, DisputeError> {
        if j == 0 {
            return Ok(game::CHAIN_START);
        }
        self.chain()
            .get(j - 1)
            .copied()
            .ok_or(DisputeError::OutOfRange)
    }

    /// This side's links at the interior points of the chain's segment (`lo`, `hi`).
    pub fn links(&self, lo: u64, hi: u64) -> Result<Vec<Hash>, DisputeError> {
        let chain = self.chain();
        let (points, count) = game::points(lo, hi);
        points[..count]
            .iter()
            .map(|p| {
                chain
                    .get(*p as usize - 1)
                    .copied()
                    .ok_or(DisputeError::OutOfRange)
            })
            .collect()
    }

    /// Tensor `t`'s root and the top of its tree: what a side reveals once the chain's
    /// bisection has found `t`.
    pub fn reveal(&self, t: usize) -> Result<(Hash, Hash), DisputeError> {
        let tensor = self.tensors.get(t).ok_or(DisputeError::OutOfRange)?;
        Ok((merkle::root(tensor), Tree(tensor).top()))
    }

    fn x(&self, t: usize, b: u32, i: u32) -> u8 {
        let shape = self.params.shape();
        if t == 0 {
            self.input[shape.x_offset(b, i) as usize]
        } else {
            self.tensors[t - 1][(u64::from(b) * shape.width(t) + u64::from(i)) as usize]
        }
    }

    /// The witness of the step from `position` of element `element` of tensor `t`.
    pub fn witness(
        &self,
        t: usize,
        element: u64,
        position: u64,
    ) -> Result<MlpWitness, DisputeError> {
        use tessera_step::mlp::NeuronStep;
        let shape = self.params.shape();
        let (b, o) = shape.neuron(t, element).ok_or(DisputeError::OutOfRange)?;
        let step = shape.step_at(t, position).ok_or(DisputeError::OutOfRange)?;
        let state = self.state(t, element, position)?;
        let (openings, previous) = match step {
            NeuronStep::Bias => {
                let offset = shape.bias_offset(t, o);
                let (first, _) = tree::cell_of(offset);
                let (last, _) = tree::cell_of(offset + 3);
                let cells = (first..=last)
                    .map(|i| open(self.input, i))
                    .collect::<Result<_, _>>()?;
                (cells, None)
            }
            NeuronStep::Fold(i) => {
                let w = open(self.input, tree::cell_of(shape.weight_offset(t, i, o)).0)?;
                if t == 0 {
                    let x = open(self.input, tree::cell_of(shape.x_offset(b, i)).0)?;
                    (vec![x, w], None)
                } else {
                    let at = u64::from(b) * shape.width(t) + u64::from(i);
                    let x = open(&self.tensors[t - 1], tree::cell_of(at).0)?;
                    let previous = (self.link(t - 1)?, self.roots()[t - 1]);
                    (vec![x, w], Some(previous))
                }
            }
            NeuronStep::Activate => (vec![], None),
        };
        Ok(MlpWitness {
            state,
            openings,
            previous,
        })
    }
}

/// The referee's last move of an MLP game, off chain: the step from `position` of element
/// `element` of tensor `t`, with the sides agreed on `agreed` (`C_t`) — the same check the
/// program runs (`tessera_step::mlp::Shape::referee`). `None` if anything does not check.
#[allow(clippy::too_many_arguments)]
pub fn mlp_referee_step(
    params: &crate::kernels::MlpParams,
    input_root: &Hash,
    input_len: u64,
    agreed: &Hash,
    t: usize,
    element: u64,
    position: u64,
    witness: &MlpWitness,
) -> Option<Vec<u8>> {
    let openings: Vec<Opening> = witness
        .openings
        .iter()
        .map(|(cell, proof)| Opening {
            cell,
            siblings: &proof.siblings,
        })
        .collect();
    let previous = witness.previous.as_ref().map(|(c, r)| (c, r));
    let (bytes, len) = params.shape().referee::<Sha2>(
        input_root,
        input_len,
        agreed,
        t,
        element,
        position,
        witness.state.as_slice().try_into().ok()?,
        &openings,
        previous,
    )?;
    Some(bytes[..len].to_vec())
}
