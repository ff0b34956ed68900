//! An MLP's side of a dispute game: the layer chain, the neuron's fold, and the referee's
//! step with operands opened against the input root or the previous layer's root.
use tessera_step::game;
use tessera_step::tree::{self, Hash};

use crate::merkle::{self, Proof, Sha2};

use super::{open_bytes, DisputeError, Operand, Tree};

/// A side of a game over an `mlp_infer` job: every layer's activations are tensors (tensor
/// `t` is layer `t`'s output; the last is the result), committed in a chain
/// (`tessera_step::game::chain_link`). The game bisects the chain to the first tensor the
/// sides compute differently, descends into that tensor's tree to a neuron, bisects the
/// neuron's trace (its fold from the bias over its inputs, then — hidden layers — its
/// activation), and the referee executes one step with operands opened against the input root
/// and, for layers after the first, the previous tensor's root (revealed through the chain).
pub struct MlpSide<'a> {
    pub params: &'a crate::kernels::MlpParams,
    pub input: &'a [u8],
    /// This side's tensors, layer by layer.
    pub tensors: Vec<Vec<u8>>,
}

/// What the last move of an MLP game needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpWitness {
    /// The agreed state before the step (i32 LE); for the first step, the bias instead.
    pub state: Vec<u8>,
    /// The bias, opened against the input root (first step only). The input's layout leaves
    /// biases unaligned (i8 weights before them), so a bias may straddle two cells.
    pub bias: Option<Span>,
    /// `x[b][position]` (from the input, or from the previous tensor) and `w[position][o]`
    /// (from the input), for a fold step.
    pub x: Option<Operand>,
    pub w: Option<Operand>,
    /// For a layer after the first: `C_{t−2}` and the previous tensor's root, whose link is
    /// the agreed `C_{t−1}`.
    pub previous: Option<(Hash, Hash)>,
}

/// Bytes opened against a root by every cell they touch (one or two for a 4-byte value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub cells: Vec<(Vec<u8>, Proof)>,
}

fn open_span(bytes: &[u8], offset: u64, size: u64) -> Result<Span, DisputeError> {
    let (first, _) = tree::cell_of(offset);
    let (last, _) = tree::cell_of(offset + size - 1);
    let cells = (first..=last)
        .map(|i| merkle::open_cell(bytes, i).ok_or(DisputeError::OutOfRange))
        .collect::<Result<Vec<_>, _>>()?;
    let value = bytes
        .get(offset as usize..(offset + size) as usize)
        .ok_or(DisputeError::OutOfRange)?
        .to_vec();
    Ok(Span {
        offset,
        bytes: value,
        cells,
    })
}

/// Whether `span` opens `size` bytes at `offset` of a `len`-byte string whose root is `root`:
/// the consecutive cells from the one holding `offset`, each proven, hold exactly its bytes.
fn opens_span(span: &Span, root: &Hash, len: u64, offset: u64, size: usize) -> bool {
    let (first, within) = tree::cell_of(offset);
    let mut joined = Vec::new();
    for (k, (cell, proof)) in span.cells.iter().enumerate() {
        if proof.index != first + k as u64 || !merkle::verify_cell(root, len, cell, proof) {
            return false;
        }
        joined.extend_from_slice(cell);
    }
    span.offset == offset
        && span.bytes.len() == size
        && span.cells.len() <= 2
        && joined.get(within..within + size) == Some(&span.bytes[..])
}

/// Whether `operand` opens `size` bytes at `offset` of a `len`-byte string whose root is `root`.
fn opens(operand: &Operand, root: &Hash, len: u64, offset: u64, size: usize) -> bool {
    let (index, within) = tree::cell_of(offset);
    operand.offset == offset
        && operand.proof.index == index
        && operand.bytes.len() == size
        && merkle::verify_cell(root, len, &operand.cell, &operand.proof)
        && operand.cell.get(within..within + size) == Some(&operand.bytes[..])
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
    /// `(b, o)` = `element / width, element % width`) of tensor `t`: the partial sum (i32 LE),
    /// or at the trace's end this side's element of the tensor.
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
        let width = shape.width(t + 1);
        let (b, o) = ((element / width) as u32, (element % width) as u32);
        if b >= shape.batch || position > shape.width(t) {
            return Err(DisputeError::OutOfRange);
        }
        let at = shape.bias_offset(t, o) as usize;
        let mut s = i32::from_le_bytes(self.input[at..at + 4].try_into().expect("4 bytes"));
        for i in 0..position as u32 {
            let x = self.x(t, b, i) as i8;
            let w = self.input[shape.weight_offset(t, i, o) as usize] as i8;
            s = tessera_step::mlp::fold(s, x, w);
        }
        Ok(s.to_le_bytes().to_vec())
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
        let shape = self.params.shape();
        if position >= self.trace_len(t) {
            return Err(DisputeError::OutOfRange);
        }
        let width = shape.width(t + 1);
        let (b, o) = ((element / width) as u32, (element % width) as u32);
        let fold = position < shape.width(t);
        let p = position as u32;
        let previous = (t > 0).then(|| {
            let chain = self.chain();
            let before = if t >= 2 {
                chain[t - 2]
            } else {
                game::CHAIN_START
            };
            (before, self.roots()[t - 1])
        });
        Ok(MlpWitness {
            state: self.state(t, element, position)?,
            bias: (position == 0)
                .then(|| open_span(self.input, shape.bias_offset(t, o), 4))
                .transpose()?,
            x: fold
                .then(|| {
                    if t == 0 {
                        open_bytes(self.input, shape.x_offset(b, p), 1)
                    } else {
                        open_bytes(
                            &self.tensors[t - 1],
                            u64::from(b) * shape.width(t) + u64::from(p),
                            1,
                        )
                    }
                })
                .transpose()?,
            w: fold
                .then(|| open_bytes(self.input, shape.weight_offset(t, p, o), 1))
                .transpose()?,
            previous,
        })
    }
}

/// The referee's last move of an MLP game: the step from `position` of element `element` of
/// tensor `t`, with the sides agreed on `agreed` (`C_{t−1}`). Checks every opening (the bias
/// and weights against the input root; `x` against the input or the previous tensor's root,
/// which must link to `agreed`), then executes `tessera_step::mlp`'s step. `None` if anything
/// does not check.
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
    let shape = params.shape();
    if t >= shape.layers() || position >= shape.trace_len(t) || input_len != shape.input_len() {
        return None;
    }
    let width = shape.width(t + 1);
    let (b, o) = ((element / width) as u32, (element % width) as u32);
    if b >= shape.batch {
        return None;
    }
    let state = if position == 0 {
        let bias = witness.bias.as_ref()?;
        if !opens_span(bias, input_root, input_len, shape.bias_offset(t, o), 4) {
            return None;
        }
        i32::from_le_bytes(bias.bytes.as_slice().try_into().ok()?)
    } else {
        i32::from_le_bytes(witness.state.as_slice().try_into().ok()?)
    };
    if position == shape.width(t) {
        // The activation of a hidden neuron.
        return Some(vec![
            tessera_step::mlp::activate(state, shape.shifts[t]) as u8
        ]);
    }
    let p = position as u32;
    let (x, w) = (witness.x.as_ref()?, witness.w.as_ref()?);
    if !opens(w, input_root, input_len, shape.weight_offset(t, p, o), 1) {
        return None;
    }
    let x_opened = if t == 0 {
        opens(x, input_root, input_len, shape.x_offset(b, p), 1)
    } else {
        let (before, root) = witness.previous?;
        let previous_len = u64::from(shape.batch) * shape.width(t);
        game::chain_link::<Sha2>(&before, &root) == *agreed
            && opens(
                x,
                &root,
                previous_len,
                u64::from(b) * shape.width(t) + u64::from(p),
                1,
            )
    };
    if !x_opened {
        return None;
    }
    let next = tessera_step::mlp::fold(state, x.bytes[0] as i8, w.bytes[0] as i8);
    Some(next.to_le_bytes().to_vec())
}
