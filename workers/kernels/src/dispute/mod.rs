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

mod mlp;
pub use mlp::{mlp_referee_step, MlpSide, MlpWitness};

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

/// Opens `size` bytes at `offset` of `bytes` (an input or a tensor) with their cell's proof.
pub(crate) fn open_bytes(bytes: &[u8], offset: u64, size: u64) -> Result<Operand, DisputeError> {
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
