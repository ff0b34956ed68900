//! Tessera's one definition of correctness.
//!
//! A refereed dispute narrows a disagreement between two workers down to one elementary step
//! of one output element and re-executes that step on chain. For that to settle anything, the
//! step the chain executes must be *the* step the kernels execute: this crate holds it, and
//! both the CPU kernels (`tessera-kernels`) and the program's referee call it.
//!
//! - [`tree`]: the commitment layout of results and inputs — a SHA-256 Merkle tree over
//!   32-byte cells, sealed with the length — so that one element opens with a proof of a few
//!   hundred bytes, and the 4 KiB chunks the workers serve are its subtrees.
//! - [`game`]: the rules of a dispute game that do not depend on the chain (descent of the
//!   result tree, bisection of an element's trace).
//! - [`matmul`]: the trace of an element of `matmul_f32` and `matmul_i8` (the partial sums in
//!   k order) and its step, one multiply-add.
//! - [`mlp`]: the trace of an `mlp_infer` output (per layer, then a neuron's fold over its
//!   inputs, then its activation) and its steps.
//! - [`render`]: the trace of a pixel (its samples' sum, then [`render::to_rgba`]) and of a
//!   sample (a camera ray, then one [`render::bounce`] per depth).
//! - [`train`]: the trace of a `train_step` output (the graph of tensors of each step, then
//!   an element's fold and its finish).
//!
//! No Solana, no CUDA, no allocation, no dependencies. (It uses `std` for one function only:
//! `f32::sqrt`, IEEE's correctly rounded square root, which `core` does not offer on stable.)

pub mod game;
pub mod matmul;
pub mod mlp;
pub mod render;
pub mod train;
pub mod tree;

/// Reads a little-endian `u32` at byte `at` of `bytes`, if it is there.
pub fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let end = at.checked_add(4)?;
    let b = bytes.get(at..end)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
