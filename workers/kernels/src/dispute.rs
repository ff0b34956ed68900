//! One side of a dispute game, off chain: the moves a worker posts, computed from its own
//! output and the job's input under the rules of `tessera_step::game` (docs/disputes.md).
//!
//! Everything is recomputed on demand from what the worker keeps anyway (the input and the
//! output): a descent move hashes the subtrees under the disputed node (all moves of a game
//! together hash the output about once more), a bisection move folds one element's trace up
//! to each posted position.
use tessera_step::game::{self, ELEMENT};
use tessera_step::tree::{self, Hash};
use tessera_step::{matmul, render};

use crate::merkle::{self, Proof, Sha2};
use crate::Job;

/// An operand of the referee's step, opened against the job's input root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    /// Byte offset of the operand in the input.
    pub offset: u64,
    /// The operand's bytes.
    pub bytes: Vec<u8>,
    /// The cell holding it, and the cell's proof.
    pub cell: Vec<u8>,
    pub proof: Proof,
}

/// What the last move needs: the agreed state before the step and the step's operands (for
/// a render step: the whole scene, which is the job's input, checked against its root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepWitness {
    pub state: Vec<u8>,
    pub operands: Vec<Operand>,
    pub scene: Option<Vec<u8>>,
}

/// Why a side cannot produce a move.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisputeError {
    #[error("position outside the tree or the trace")]
    OutOfRange,
    #[error("{0}: its trace is not playable off chain yet (matmul_f32, matmul_i8 and render are)")]
    NotPlayable(crate::KernelId),
}

/// A worker's side of a game over `job`.
pub struct Side<'a> {
    pub job: &'a Job,
    pub input: &'a [u8],
    pub output: &'a [u8],
}

/// The commitment tree of one byte string (an output, or an intermediate tensor), as a side
/// opens it in a descent.
#[derive(Clone, Copy)]
pub struct Tree<'a>(pub &'a [u8]);

impl Tree<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    /// The hash of node (`level`, `index`).
    pub fn node(&self, level: u32, index: u64) -> Result<Hash, DisputeError> {
        if index >= tree::width(self.len(), level) {
            return Err(DisputeError::OutOfRange);
        }
        let span = (tree::CELL as u64) << level;
        let start = (index * span).min(self.len()) as usize;
        let end = ((index + 1) * span).min(self.len()) as usize;
        Ok(tree::subtree::<Sha2>(&self.0[start..end]))
    }

    /// The top of the tree (sealed with the length, the root).
    pub fn top(&self) -> Hash {
        self.node(game::height(self.len()), 0)
            .expect("the top is in the tree")
    }

    /// A descent move from the disputed node (`level`, `index`).
    pub fn descent(&self, level: u32, index: u64) -> Result<Vec<Hash>, DisputeError> {
        if level == 0 {
            return Err(DisputeError::OutOfRange);
        }
        let (target, first, end) =
            game::descendants(self.len(), level, index).ok_or(DisputeError::OutOfRange)?;
        (first..end).map(|i| self.node(target, i)).collect()
    }

    /// Cell `index`.
    pub fn cell(&self, index: u64) -> Result<Vec<u8>, DisputeError> {
        let (start, end) = tree::cell_range(self.len(), index).ok_or(DisputeError::OutOfRange)?;
        Ok(self.0[start as usize..end as usize].to_vec())
    }

    /// Every piece at `level` with the siblings that prove it against the root
    /// (`tree::verify_piece`): how an input is loaded on chain for the referee, piece by piece.
    pub fn pieces(&self, level: u32) -> Result<Vec<Piece>, DisputeError> {
        let len = self.len();
        (0..tree::width(len, level))
            .map(|index| {
                let (start, end) =
                    tree::piece_range(len, level, index).ok_or(DisputeError::OutOfRange)?;
                let mut siblings = Vec::new();
                let (mut at, mut position) = (level, index);
                while tree::width(len, at) > 1 {
                    if position ^ 1 < tree::width(len, at) {
                        siblings.push(self.node(at, position ^ 1)?);
                    }
                    at += 1;
                    position /= 2;
                }
                Ok(Piece {
                    index,
                    bytes: self.0[start as usize..end as usize].to_vec(),
                    siblings,
                })
            })
            .collect()
    }
}

/// A piece of a byte string (the cells under one node) and its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    pub index: u64,
    pub bytes: Vec<u8>,
    pub siblings: Vec<Hash>,
}

impl Side<'_> {
    /// The hash of node (`level`, `index`) of this side's result tree.
    pub fn node(&self, level: u32, index: u64) -> Result<Hash, DisputeError> {
        Tree(self.output).node(level, index)
    }

    /// The top of this side's tree (sealed with the length, its result root).
    pub fn top(&self) -> Hash {
        Tree(self.output).top()
    }

    /// A descent move from the disputed node (`level`, `index`).
    pub fn descent(&self, level: u32, index: u64) -> Result<Vec<Hash>, DisputeError> {
        Tree(self.output).descent(level, index)
    }

    /// Cell `index` of the output.
    pub fn cell(&self, index: u64) -> Result<Vec<u8>, DisputeError> {
        Tree(self.output).cell(index)
    }

    fn matmul(&self) -> Result<(matmul::Shape, matmul::Kind), DisputeError> {
        match self.job {
            Job::MatmulF32(p) => Ok((p.shape(), matmul::Kind::F32)),
            Job::MatmulI8(p) => Ok((p.shape(), matmul::Kind::I8)),
            other => Err(DisputeError::NotPlayable(other.kernel())),
        }
    }

    /// Steps in the trace of output element `element`.
    pub fn trace_len(&self, element: u64) -> Result<u64, DisputeError> {
        if let Job::Render(p) = self.job {
            return Ok(pixel(p, element)?.trace_len());
        }
        let (shape, _) = self.matmul()?;
        shape.element(element).ok_or(DisputeError::OutOfRange)?;
        Ok(u64::from(shape.trace_len()))
    }

    /// The state after `position` steps of element `element`'s trace, from the input (at the
    /// trace's end: this side's output element, which is what its root commits).
    pub fn state(&self, element: u64, position: u64) -> Result<Vec<u8>, DisputeError> {
        if position == self.trace_len(element)? {
            let at = element as usize * ELEMENT;
            return self
                .output
                .get(at..at + ELEMENT)
                .map(<[u8]>::to_vec)
                .ok_or(DisputeError::OutOfRange);
        }
        if let Job::Render(p) = self.job {
            let pixel = pixel(p, element)?;
            let scene = Scene::parse(self.input).ok_or(DisputeError::OutOfRange)?;
            let mut state = render::PixelState::start();
            for step in 0..position {
                match pixel.step(&scene.camera, &scene.objects(), step, &state) {
                    Some(render::PixelNext::State(next)) => state = next,
                    _ => return Err(DisputeError::OutOfRange),
                }
            }
            return Ok(state.encode().to_vec());
        }
        let (shape, kind) = self.matmul()?;
        let (i, j) = shape.element(element).ok_or(DisputeError::OutOfRange)?;
        let steps = u32::try_from(position).map_err(|_| DisputeError::OutOfRange)?;
        shape
            .state(kind, self.input, i, j, steps)
            .map(|s| s.to_vec())
            .ok_or(DisputeError::OutOfRange)
    }

    /// The hashes of a bisection move over (`lo`, `hi`) of element `element`'s trace.
    pub fn bisection(&self, element: u64, lo: u64, hi: u64) -> Result<Vec<Hash>, DisputeError> {
        let (points, count) = game::points(lo, hi);
        points[..count]
            .iter()
            .map(|p| Ok(game::state_hash::<Sha2>(&self.state(element, *p)?)))
            .collect()
    }

    fn operand(&self, offset: u64, size: u64) -> Result<Operand, DisputeError> {
        open_bytes(self.input, offset, size)
    }

    /// The witness of the step from `position` to `position + 1` of element `element`: the
    /// state at `position` and the operands, opened against the input root (a render step:
    /// the scene).
    pub fn witness(&self, element: u64, position: u64) -> Result<StepWitness, DisputeError> {
        if position >= self.trace_len(element)? {
            return Err(DisputeError::OutOfRange);
        }
        if let Job::Render(_) = self.job {
            return Ok(StepWitness {
                state: self.state(element, position)?,
                operands: vec![],
                scene: Some(self.input.to_vec()),
            });
        }
        let (shape, kind) = self.matmul()?;
        let (i, j) = shape.element(element).ok_or(DisputeError::OutOfRange)?;
        let p = u32::try_from(position).map_err(|_| DisputeError::OutOfRange)?;
        let size = kind.operand_size();
        Ok(StepWitness {
            state: self.state(element, position)?,
            operands: vec![
                self.operand(shape.a_offset(kind, i, p), size)?,
                self.operand(shape.b_offset(kind, p, j), size)?,
            ],
            scene: None,
        })
    }
}

/// The pixel of output element `element` of a render job (`tessera_step::render::Tile`: the
/// referee's own reading of the params).
fn pixel(p: &crate::kernels::RenderParams, element: u64) -> Result<render::Pixel, DisputeError> {
    let params = <crate::kernels::Render as crate::Kernel>::encode_params(p);
    render::Tile::decode(&params)
        .and_then(|tile| tile.pixel(element))
        .ok_or(DisputeError::OutOfRange)
}

/// A render job's scene, parsed from its input.
struct Scene {
    camera: render::Camera,
    values: Vec<f32>,
    spheres: usize,
    planes: usize,
}

impl Scene {
    fn parse(input: &[u8]) -> Option<Self> {
        let (spheres, planes) = render::scene_counts(input)?;
        let values: Vec<f32> = input
            .get(8..)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let header: &[f32; render::HEADER_F32] =
            values.get(..render::HEADER_F32)?.try_into().ok()?;
        let objects = values.get(render::HEADER_F32..)?.to_vec();
        (objects.len() == render::OBJECT_F32 * (spheres + planes)).then(|| Scene {
            camera: render::Camera::new(header),
            values: objects,
            spheres,
            planes,
        })
    }

    fn objects(&self) -> render::Objects<'_> {
        render::Objects {
            values: &self.values,
            spheres: self.spheres,
            planes: self.planes,
        }
    }
}

/// What the referee computes for a witnessed step of `job` (the chain runs the same
/// `tessera_step` function): the operands must open against `input_root` at the offsets the
/// element and position name; `None` if anything does not check.
pub fn referee_step(
    job: &Job,
    input_root: &Hash,
    input_len: u64,
    element: u64,
    position: u64,
    witness: &StepWitness,
) -> Option<Vec<u8>> {
    if let Job::Render(p) = job {
        // The scene is the whole input: it must be the input the job names.
        let scene_bytes = witness.scene.as_deref()?;
        if scene_bytes.len() as u64 != input_len || merkle::root(scene_bytes) != *input_root {
            return None;
        }
        let scene = Scene::parse(scene_bytes)?;
        let state = render::PixelState::decode(&witness.state)?;
        let next =
            pixel(p, element)
                .ok()?
                .step(&scene.camera, &scene.objects(), position, &state)?;
        let (bytes, len) = next.encode();
        return Some(bytes[..len].to_vec());
    }
    let (shape, kind) = match job {
        Job::MatmulF32(p) => (p.shape(), matmul::Kind::F32),
        Job::MatmulI8(p) => (p.shape(), matmul::Kind::I8),
        _ => return None,
    };
    let [a, b] = witness.operands.as_slice() else {
        return None;
    };
    let opening = |o: &Operand| -> Option<()> {
        // The bytes a side shows must be the ones its opening holds.
        let (index, within) = tree::cell_of(o.offset);
        (o.proof.index == index && o.cell.get(within..within + o.bytes.len()) == Some(&o.bytes[..]))
            .then_some(())
    };
    opening(a)?;
    opening(b)?;
    let state: [u8; 4] = witness.state.as_slice().try_into().ok()?;
    fn open(o: &Operand) -> matmul::Opening<'_> {
        matmul::Opening {
            cell: &o.cell,
            siblings: &o.proof.siblings,
        }
    }
    shape
        .referee::<Sha2>(
            kind,
            input_root,
            input_len,
            element,
            position,
            state,
            open(a),
            open(b),
        )
        .map(|s| s.to_vec())
}

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

/// Opens `size` bytes at `offset` of `bytes` (an input or a tensor) with their cell's proof.
fn open_bytes(bytes: &[u8], offset: u64, size: u64) -> Result<Operand, DisputeError> {
    let (cell_index, _) = tree::cell_of(offset);
    let (cell, proof) = merkle::open_cell(bytes, cell_index).ok_or(DisputeError::OutOfRange)?;
    let value = bytes
        .get(offset as usize..(offset + size) as usize)
        .ok_or(DisputeError::OutOfRange)?
        .to_vec();
    Ok(Operand {
        offset,
        bytes: value,
        cell,
        proof,
    })
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
