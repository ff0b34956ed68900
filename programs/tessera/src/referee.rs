//! The referee: one elementary step of a kernel, executed on chain exactly as `tessera-step`
//! defines it — the same functions the CPU kernels call, compiled to SBF (soft-float f32,
//! IEEE round-to-nearest-even, one rounding per operation).
//!
//! A dispute (docs/disputes.md) ends by running one [`Step`] from the state both sides agreed
//! on; `referee_step` exposes the same execution read-only, so anyone can ask the chain what
//! it computes for a step (and CI checks it against the CPU, bit for bit, on the `.so`).
//! Floats travel as their bits (`u32`): a state may be NaN, which Borsh's `f32` refuses.
use anchor_lang::prelude::*;
use tessera_step::{matmul, mlp, render, train};

use crate::error::TesseraError;

/// Most objects a render step's scene holds (the kernel's limit).
pub const MAX_SCENE_OBJECTS: usize = 64;

/// One elementary step of a kernel's trace, with its operands.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq)]
pub enum Step {
    /// `matmul_f32`: `s + a·b`.
    MatmulF32 { state: u32, a: u32, b: u32 },
    /// `matmul_i8`: `s + a·b` in int32.
    MatmulI8 { state: i32, a: i8, b: i8 },
    /// `mlp_infer`: a neuron's fold, `s + x·w` in int32.
    MlpFold { state: i32, x: i8, w: i8 },
    /// `mlp_infer`: a hidden neuron's activation of its sum.
    MlpActivate { state: i32, shift: u8 },
    /// `render`: state 0 of a sample, the jittered camera ray.
    RenderCamera {
        header: [u32; 7],
        image_w: u16,
        image_h: u16,
        seed: u32,
        px: u32,
        py: u32,
        sample: u32,
    },
    /// `render`: one bounce of a ray through the scene's objects (8 values each, spheres
    /// first).
    RenderBounce {
        ray: [u8; render::RAY_BYTES],
        spheres: u8,
        planes: u8,
        objects: Vec<u32>,
    },
    /// `render`: one step of a pixel's fold over its samples.
    RenderAccumulate { sum: [u32; 3], radiance: [u32; 3] },
    /// `render`: the pixel from its samples' sum.
    RenderRgba { sum: [u32; 3], spp: u16 },
    /// `train_step`: one step of a fold, `acc + a·b`.
    TrainFold { acc: u32, a: u32, b: u32 },
    /// `train_step`: one step of a bias gradient's fold, `acc + a`.
    TrainFoldSum { acc: u32, a: u32 },
    /// `train_step`: H's finish.
    TrainHidden { acc: u32, bias: u32 },
    /// `train_step`: G's finish.
    TrainGrad {
        acc: u32,
        bias: u32,
        target: u32,
        scale: u32,
    },
    /// `train_step`: dH's finish.
    TrainDHidden { acc: u32, hidden: u32 },
    /// `train_step`: a parameter's finish, `old − lr·acc`.
    TrainUpdate { acc: u32, old: u32, lr: u32 },
}

fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}

fn v3(bits: [u32; 3]) -> render::V3 {
    render::v(f(bits[0]), f(bits[1]), f(bits[2]))
}

fn v3_bytes(value: render::V3) -> Vec<u8> {
    render::encode_v3(value).to_vec()
}

/// A state's bytes: any NaN as the one canonical NaN.
fn f32_bytes(value: f32) -> Vec<u8> {
    matmul::canonical(value).to_le_bytes().to_vec()
}

/// Executes `step`: the next state's canonical bytes (f32 bits LE, i32 LE, an i8, an encoded
/// ray, or a pixel's RGBA).
pub fn execute(step: &Step) -> Result<Vec<u8>> {
    Ok(match step {
        Step::MatmulF32 { state, a, b } => matmul::step_f32(*state, f(*a), f(*b))
            .to_le_bytes()
            .to_vec(),
        Step::MatmulI8 { state, a, b } => matmul::step_i8(*state, *a, *b).to_le_bytes().to_vec(),
        Step::MlpFold { state, x, w } => mlp::fold(*state, *x, *w).to_le_bytes().to_vec(),
        Step::MlpActivate { state, shift } => {
            require!(*shift <= 31, TesseraError::BadStep);
            vec![mlp::activate(*state, *shift) as u8]
        }
        Step::RenderCamera {
            header,
            image_w,
            image_h,
            seed,
            px,
            py,
            sample,
        } => {
            require!(*image_w > 0 && *image_h > 0, TesseraError::BadStep);
            let camera = render::Camera::new(&header.map(f));
            let view = render::View {
                image_w: *image_w,
                image_h: *image_h,
                seed: *seed,
            };
            render::camera_ray(&camera, &view, *px, *py, *sample)
                .encode()
                .to_vec()
        }
        Step::RenderBounce {
            ray,
            spheres,
            planes,
            objects,
        } => {
            let count = usize::from(*spheres) + usize::from(*planes);
            require!(
                (1..=MAX_SCENE_OBJECTS).contains(&count)
                    && objects.len() == count * render::OBJECT_F32,
                TesseraError::BadStep
            );
            let ray = render::Ray::decode(ray).ok_or(TesseraError::BadStep)?;
            let values: Vec<f32> = objects.iter().map(|b| f(*b)).collect();
            let scene = render::Objects {
                values: &values,
                spheres: usize::from(*spheres),
                planes: usize::from(*planes),
            };
            render::bounce(&scene, &ray).encode().to_vec()
        }
        Step::RenderAccumulate { sum, radiance } => {
            v3_bytes(render::accumulate(v3(*sum), v3(*radiance)))
        }
        Step::RenderRgba { sum, spp } => {
            require!(*spp > 0, TesseraError::BadStep);
            render::to_rgba(v3(*sum), *spp).to_vec()
        }
        Step::TrainFold { acc, a, b } => f32_bytes(train::fold(f(*acc), f(*a), f(*b))),
        Step::TrainFoldSum { acc, a } => f32_bytes(train::fold_sum(f(*acc), f(*a))),
        Step::TrainHidden { acc, bias } => f32_bytes(train::finish_hidden(f(*acc), f(*bias))),
        Step::TrainGrad {
            acc,
            bias,
            target,
            scale,
        } => f32_bytes(train::finish_grad(f(*acc), f(*bias), f(*target), f(*scale))),
        Step::TrainDHidden { acc, hidden } => f32_bytes(train::finish_dhidden(f(*acc), f(*hidden))),
        Step::TrainUpdate { acc, old, lr } => {
            f32_bytes(train::finish_update(f(*acc), f(*old), f(*lr)))
        }
    })
}

/// SHA-256 through the `sol_sha256` syscall, for the commitment tree.
pub struct SyscallSha256;

impl tessera_step::tree::Hasher for SyscallSha256 {
    fn hashv(parts: &[&[u8]]) -> [u8; 32] {
        solana_sha256_hasher::hashv(parts).to_bytes()
    }
}

/// An operand opened against a job's input root: the cell holding it and the cell's siblings.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct OpenedOperand {
    pub cell: Vec<u8>,
    pub siblings: Vec<[u8; 32]>,
}

/// The matmul kind and shape of a job of `kernel_id` with `kernel_params`: `NotRefereed` for
/// another kernel, `BadStep` for params its decoder refuses.
pub fn matmul_of(kernel_id: u8, kernel_params: &[u8]) -> Result<(matmul::Kind, matmul::Shape)> {
    let kind = match kernel_id {
        crate::constants::KERNEL_MATMUL_F32 => matmul::Kind::F32,
        crate::constants::KERNEL_MATMUL_I8 => matmul::Kind::I8,
        _ => return err!(TesseraError::NotRefereed),
    };
    let shape = matmul::Shape::decode(kernel_params).ok_or(TesseraError::BadStep)?;
    Ok((kind, shape))
}

/// The last move of a dispute over a `matmul_f32` or `matmul_i8` job's output element
/// `element`: opens the operands of step `position → position + 1` against the job's input
/// root (at the offsets the trace names; the job's params give the shape, its input reference
/// the root and the length) and executes the step from `state`.
pub fn check_matmul_step(
    kernel_id: u8,
    kernel_params: &[u8],
    input: &crate::state::InputRef,
    element: u64,
    position: u64,
    state: [u8; 4],
    operands: &[OpenedOperand],
) -> Result<[u8; 4]> {
    let (kind, shape) = matmul_of(kernel_id, kernel_params)?;
    let [a, b] = operands else {
        return err!(TesseraError::BadStep);
    };
    shape
        .referee::<SyscallSha256>(
            kind,
            &input.hash,
            input.size_bytes,
            element,
            position,
            state,
            matmul::Opening {
                cell: &a.cell,
                siblings: &a.siblings,
            },
            matmul::Opening {
                cell: &b.cell,
                siblings: &b.siblings,
            },
        )
        .ok_or_else(|| error!(TesseraError::BadOpening))
}

/// The last move of a dispute over an `mlp_infer` job: step `position` of neuron `element` of
/// tensor `tensor` (a layer's activations) from `state`, the sides agreed on the chain link
/// `agreed` before that tensor. The bias's cells, or `x` and `w`, open against the job's input
/// root; for a layer after the first, `x` opens against the previous tensor's root, which
/// `previous` (`[C_{t−1}, root]`) must link to `agreed`.
#[allow(clippy::too_many_arguments)]
pub fn check_mlp_step(
    layers: &mlp::Layers,
    input: &crate::state::InputRef,
    agreed: &[u8; 32],
    tensor: usize,
    element: u64,
    position: u64,
    state: [u8; 4],
    operands: &[OpenedOperand],
    previous: &[[u8; 32]],
) -> Result<Vec<u8>> {
    require!(operands.len() <= 2, TesseraError::BadStep);
    let mut openings = [matmul::Opening {
        cell: &[],
        siblings: &[],
    }; 2];
    for (slot, o) in openings.iter_mut().zip(operands) {
        *slot = matmul::Opening {
            cell: &o.cell,
            siblings: &o.siblings,
        };
    }
    let previous = match previous {
        [] => None,
        [before, root] => Some((before, root)),
        _ => return err!(TesseraError::BadStep),
    };
    let (bytes, len) = layers
        .shape()
        .referee::<SyscallSha256>(
            &input.hash,
            input.size_bytes,
            agreed,
            tensor,
            element,
            position,
            state,
            &openings[..operands.len()],
            previous,
        )
        .ok_or_else(|| error!(TesseraError::BadOpening))?;
    Ok(bytes[..len].to_vec())
}

/// What the referee reads of a refereed job's kernel from its params.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refereed {
    Matmul(matmul::Kind, matmul::Shape),
    Render(render::Tile),
    /// A chain of tensors: each layer's activations, the last the output.
    Mlp(mlp::Layers),
}

/// What a game over one tensor of a refereed job plays on: its bytes, its elements' size and
/// their traces' length.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
)]
pub struct TensorShape {
    pub len: u64,
    pub element_size: u8,
    pub trace_len: u64,
}

/// Most tensors a refereed job's chain holds (an MLP's layers).
pub const MAX_TENSORS: usize = mlp::MAX_LAYERS;

impl Refereed {
    /// The refereed reading of a job of `kernel_id` with `kernel_params`: `NotRefereed` for a
    /// kernel the referee does not play on chain, `BadStep` for params it cannot read.
    pub fn of(kernel_id: u8, kernel_params: &[u8]) -> Result<Self> {
        if kernel_id == crate::constants::KERNEL_RENDER {
            let tile = render::Tile::decode(kernel_params).ok_or(TesseraError::BadStep)?;
            return Ok(Refereed::Render(tile));
        }
        if kernel_id == crate::constants::KERNEL_MLP_INFER {
            let layers = mlp::Layers::decode(kernel_params).ok_or(TesseraError::BadStep)?;
            return Ok(Refereed::Mlp(layers));
        }
        let (kind, shape) = matmul_of(kernel_id, kernel_params)?;
        Ok(Refereed::Matmul(kind, shape))
    }

    /// Output elements (each [`tessera_step::game::ELEMENT`] bytes).
    pub fn outputs(&self) -> u64 {
        match self {
            Refereed::Matmul(_, shape) => shape.outputs(),
            Refereed::Render(tile) => tile.outputs(),
            Refereed::Mlp(layers) => {
                let shape = layers.shape();
                u64::from(shape.batch) * shape.width(shape.layers())
            }
        }
    }

    /// Steps in every output element's trace.
    pub fn trace_len(&self) -> u64 {
        match self {
            Refereed::Matmul(_, shape) => u64::from(shape.trace_len()),
            Refereed::Render(tile) => tile.trace_len(),
            Refereed::Mlp(layers) => layers.shape().trace_len(layers.shape().layers() - 1),
        }
    }

    /// Tensors of the job's chain: 1 for a kernel whose output is its only tensor (its game
    /// starts at the output's tree), an MLP's layers.
    pub fn tensors(&self) -> usize {
        match self {
            Refereed::Mlp(layers) => layers.shape().layers(),
            _ => 1,
        }
    }

    /// The shape of tensor `t` of the chain (`t < tensors()`; the last is the output).
    pub fn tensor(&self, t: usize) -> TensorShape {
        match self {
            Refereed::Mlp(layers) => {
                let shape = layers.shape();
                TensorShape {
                    len: shape.tensor_len(t),
                    element_size: shape.element_size(t) as u8,
                    trace_len: shape.trace_len(t),
                }
            }
            _ => TensorShape {
                len: self.outputs() * tessera_step::game::ELEMENT as u64,
                element_size: tessera_step::game::ELEMENT as u8,
                trace_len: self.trace_len(),
            },
        }
    }

    /// Whether an input of `size` bytes fits the params: a matmul's two matrices or an MLP's
    /// data and layers exactly; a render's scene of 1 to 64 objects (the whole input, which
    /// its steps read).
    pub fn input_fits(&self, size: u64) -> bool {
        match self {
            Refereed::Matmul(kind, shape) => shape.input_len(*kind) == size,
            Refereed::Mlp(layers) => layers.shape().input_len() == size,
            Refereed::Render(_) => {
                let fixed = 8 + 4 * render::HEADER_F32 as u64;
                let object = 4 * render::OBJECT_F32 as u64;
                size > fixed
                    && size <= render::MAX_SCENE_BYTES as u64
                    && (size - fixed).is_multiple_of(object)
            }
        }
    }
}

/// Whether step `position` of a render tile's pixel trace reads the scene (a camera ray or a
/// bounce; an accumulation and the finish read only the state).
pub fn render_step_reads_scene(tile: &render::Tile, position: u64) -> bool {
    let pixel = tile.pixel(0);
    matches!(
        pixel.and_then(|p| p.step_at(position)),
        Some(render::PixelStep::Camera(_) | render::PixelStep::Bounce)
    )
}

/// The last move of a dispute over a render job's pixel `element`: step `position →
/// position + 1` of its trace from `state`, in the scene (the job's whole input, loaded and
/// proven in an [`crate::state::InputBuffer`]) when the step reads it.
pub fn check_render_step(
    tile: &render::Tile,
    scene: Option<&[u8]>,
    element: u64,
    position: u64,
    state: &[u8],
) -> Result<Vec<u8>> {
    let pixel = tile.pixel(element).ok_or(TesseraError::BadStep)?;
    let state = render::PixelState::decode(state).ok_or(TesseraError::BadStep)?;
    let step = |camera: &render::Camera, objects: &render::Objects| {
        pixel
            .step(camera, objects, position, &state)
            .ok_or_else(|| error!(TesseraError::BadStep))
    };
    let next = if render_step_reads_scene(tile, position) {
        let scene = scene.ok_or(TesseraError::InputNotLoaded)?;
        let (spheres, planes) = render::scene_counts(scene).ok_or(TesseraError::BadStep)?;
        let values: Vec<f32> = scene
            .get(8..)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let header: &[f32; render::HEADER_F32] = values
            .get(..render::HEADER_F32)
            .and_then(|h| h.try_into().ok())
            .ok_or(TesseraError::BadStep)?;
        let camera = render::Camera::new(header);
        let objects = render::Objects {
            values: values.get(render::HEADER_F32..).unwrap_or(&[]),
            spheres,
            planes,
        };
        step(&camera, &objects)?
    } else {
        // Neither the camera nor the objects are read: any well-formed ones do.
        let camera = render::Camera::new(&[0.0; render::HEADER_F32]);
        let objects = render::Objects {
            values: &[],
            spheres: 0,
            planes: 0,
        };
        step(&camera, &objects)?
    };
    let (bytes, len) = next.encode();
    Ok(bytes[..len].to_vec())
}
