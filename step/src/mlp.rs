//! The trace of an `mlp_infer` output.
//!
//! Input: X (batch × width₀, i8), then per layer `l` its weights (width_l × width_{l+1},
//! row-major, i8) and biases (width_{l+1}, i32 LE). Layer `l` maps activations `x_l` (batch ×
//! width_l, i8; `x_0 = X`) to `x_{l+1}`: for each row `b` and neuron `o`, the trace
//! `s_0 = 0`, `s_1 = bias[o]` (the bias step), `s_{i+2} = s_{i+1} + x_l[b][i]·w[i][o]`
//! (int32) over `i < width_l`, then the activation: a hidden layer's
//! `max(0, clamp(s >> shift, −128, 127))` as i8, the last layer's `s` itself (the output,
//! i32 LE). Every trace starts from the zero state, as a matmul's does, and every step reads
//! at most two values of the input (a bias may straddle two cells: the input's layout leaves
//! biases unaligned), so the referee's last move fits one transaction.
//!
//! A dispute first finds the first layer whose activations the two sides commit differently
//! (each side commits every layer's activations with the [`crate::tree`] layout, in a chain:
//! [`crate::game::chain_link`]), then a neuron of that layer whose value differs, then the
//! step of its trace ([`Shape::referee`]).

use crate::matmul::Opening;
use crate::tree::{self, Hash, Hasher};

/// Most layers a job may name (the kernel's limit).
pub const MAX_LAYERS: usize = 4;
/// Widest layer (the kernel's limit).
pub const MAX_WIDTH: u16 = 4096;
/// Largest batch (the kernel's limit).
pub const MAX_BATCH: u32 = 65_536;

/// The shape of an MLP over a batch (the kernel's params).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape<'a> {
    pub batch: u32,
    /// `layers + 1` widths: input, hidden…, output.
    pub widths: &'a [u16],
    /// One requantization shift per layer (the last layer's is unused).
    pub shifts: &'a [u8],
}

/// A shape decoded from a job's params, owning its widths and shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layers {
    pub batch: u32,
    pub layers: u8,
    pub widths: [u16; MAX_LAYERS + 1],
    pub shifts: [u8; MAX_LAYERS],
}

impl Layers {
    /// The params as the kernel encodes them: batch (u32 LE), layers (u8), `layers + 1`
    /// widths (u16 LE), `layers` shifts; each within the kernel's limits, nothing after.
    pub fn decode(params: &[u8]) -> Option<Self> {
        let batch = crate::u32_at(params, 0)?;
        let layers = *params.get(4)?;
        let count = usize::from(layers);
        if !(1..=MAX_BATCH).contains(&batch)
            || !(1..=MAX_LAYERS).contains(&count)
            || params.len() != 5 + 2 * (count + 1) + count
        {
            return None;
        }
        let mut widths = [0u16; MAX_LAYERS + 1];
        for (i, w) in widths.iter_mut().take(count + 1).enumerate() {
            let at = 5 + 2 * i;
            *w = u16::from_le_bytes([params[at], params[at + 1]]);
            if !(1..=MAX_WIDTH).contains(w) {
                return None;
            }
        }
        let mut shifts = [0u8; MAX_LAYERS];
        shifts[..count].copy_from_slice(&params[5 + 2 * (count + 1)..]);
        if shifts.iter().any(|s| *s > 31) {
            return None;
        }
        Some(Layers {
            batch,
            layers,
            widths,
            shifts,
        })
    }

    pub fn shape(&self) -> Shape<'_> {
        let count = usize::from(self.layers);
        Shape {
            batch: self.batch,
            widths: &self.widths[..count + 1],
            shifts: &self.shifts[..count],
        }
    }
}

/// One step of a neuron's fold: `s + x·w` in int32 (exact within the kernel's limits;
/// wrapping defines it for any state).
#[inline(always)]
pub fn fold(state: i32, x: i8, w: i8) -> i32 {
    state.wrapping_add(i32::from(x) * i32::from(w))
}

/// A hidden neuron's activation of its folded sum.
#[inline(always)]
pub fn activate(state: i32, shift: u8) -> i8 {
    (state >> (shift & 31)).clamp(-128, 127).max(0) as i8
}

/// What step `position` of a neuron's trace does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeuronStep {
    /// Position 0: the state becomes the neuron's bias.
    Bias,
    /// The fold of input `i`.
    Fold(u32),
    /// A hidden neuron's last step.
    Activate,
}

impl Shape<'_> {
    pub fn layers(&self) -> usize {
        self.shifts.len()
    }

    pub fn width(&self, layer: usize) -> u64 {
        self.widths.get(layer).map_or(0, |w| u64::from(*w))
    }

    /// Byte offset of layer `l`'s weights (`l = layers`: the input's length).
    pub fn weights_at(&self, l: usize) -> u64 {
        let mut at = u64::from(self.batch) * self.width(0);
        for i in 0..l {
            at += self.width(i) * self.width(i + 1) + 4 * self.width(i + 1);
        }
        at
    }

    /// Input bytes.
    pub fn input_len(&self) -> u64 {
        self.weights_at(self.layers())
    }

    /// Byte offset in the input of `X[b][i]`.
    pub fn x_offset(&self, b: u32, i: u32) -> u64 {
        u64::from(b) * self.width(0) + u64::from(i)
    }

    /// Byte offset in the input of layer `l`'s weight `w[i][o]`.
    pub fn weight_offset(&self, l: usize, i: u32, o: u32) -> u64 {
        self.weights_at(l) + u64::from(i) * self.width(l + 1) + u64::from(o)
    }

    /// Byte offset in the input of layer `l`'s bias `o` (4 bytes).
    pub fn bias_offset(&self, l: usize, o: u32) -> u64 {
        self.weights_at(l) + self.width(l) * self.width(l + 1) + 4 * u64::from(o)
    }

    /// Bytes of one element of layer `l`'s activations (tensor `l`, `l < layers`): an i8 for
    /// a hidden layer, an i32 for the output.
    pub fn element_size(&self, l: usize) -> usize {
        if l + 1 == self.layers() {
            4
        } else {
            1
        }
    }

    /// Bytes of tensor `l` (layer `l`'s activations; the last is the output).
    pub fn tensor_len(&self, l: usize) -> u64 {
        u64::from(self.batch) * self.width(l + 1) * self.element_size(l) as u64
    }

    /// Byte offset of activation `x_l[b][o]` in layer `l`'s activations (`l ≥ 1`; i8 for a
    /// hidden layer, i32 LE for the output).
    pub fn activation_offset(&self, l: usize, b: u32, o: u32) -> u64 {
        let size = if l == self.layers() { 4 } else { 1 };
        (u64::from(b) * self.width(l) + u64::from(o)) * size
    }

    /// Steps of a layer-`l` neuron's trace: its bias, its fold over `width_l` inputs, then
    /// (hidden layers) the activation.
    pub fn trace_len(&self, l: usize) -> u64 {
        1 + self.width(l) + u64::from(l + 1 < self.layers())
    }

    /// What step `position` of a layer-`l` neuron's trace does; `None` past the trace.
    pub fn step_at(&self, l: usize, position: u64) -> Option<NeuronStep> {
        if position >= self.trace_len(l) {
            None
        } else if position == 0 {
            Some(NeuronStep::Bias)
        } else if position <= self.width(l) {
            Some(NeuronStep::Fold((position - 1) as u32))
        } else {
            Some(NeuronStep::Activate)
        }
    }

    /// Neuron `element` of layer `l` as (row, neuron); `None` outside the layer.
    pub fn neuron(&self, l: usize, element: u64) -> Option<(u32, u32)> {
        let width = self.width(l + 1);
        (l < self.layers() && width > 0 && element < u64::from(self.batch) * width)
            .then(|| ((element / width) as u32, (element % width) as u32))
    }

    /// The referee's last move of an MLP game: step `position` of neuron `element` of
    /// tensor `l`, from `state` (the agreed state; the game checked its hash), where the
    /// sides agree on the chain link `agreed` before tensor `l` (`C_l`).
    ///
    /// - The bias step reads the bias: `openings` are the one or two consecutive cells of
    ///   the input that hold it, each opened against the input root.
    /// - A fold step reads `x[b][i]` and `w[i][o]`: `openings` are `[x, w]`. `w` opens
    ///   against the input root; `x` against it too for the first layer, else against the
    ///   previous tensor's root, given in `previous` as (`C_{l−1}`, root of tensor `l−1`),
    ///   which must link to `agreed`.
    /// - The activation reads nothing.
    ///
    /// Returns the next state's bytes and their length (4, or 1 for an activation); `None`
    /// if anything does not check.
    #[allow(clippy::too_many_arguments)]
    pub fn referee<H: Hasher>(
        &self,
        input_root: &Hash,
        input_len: u64,
        agreed: &Hash,
        l: usize,
        element: u64,
        position: u64,
        state: [u8; 4],
        openings: &[Opening],
        previous: Option<(&Hash, &Hash)>,
    ) -> Option<([u8; 4], usize)> {
        if input_len != self.input_len() {
            return None;
        }
        let (b, o) = self.neuron(l, element)?;
        let s = i32::from_le_bytes(state);
        match self.step_at(l, position)? {
            NeuronStep::Bias => {
                let offset = self.bias_offset(l, o);
                let (first, within) = tree::cell_of(offset);
                let mut joined = [0u8; 2 * tree::CELL];
                let mut filled = 0;
                if openings.is_empty() || openings.len() > 2 {
                    return None;
                }
                for (k, opening) in openings.iter().enumerate() {
                    if !tree::verify_cell::<H>(
                        input_root,
                        input_len,
                        first + k as u64,
                        opening.cell,
                        opening.siblings,
                    ) || opening.cell.len() > tree::CELL
                    {
                        return None;
                    }
                    joined[filled..filled + opening.cell.len()].copy_from_slice(opening.cell);
                    filled += opening.cell.len();
                }
                let bias = joined
                    .get(within..within + 4)
                    .filter(|_| within + 4 <= filled)?;
                Some(([bias[0], bias[1], bias[2], bias[3]], 4))
            }
            NeuronStep::Fold(i) => {
                let [x, w] = openings else {
                    return None;
                };
                let w = opened::<H>(input_root, input_len, self.weight_offset(l, i, o), w)?;
                let x = if l == 0 {
                    opened::<H>(input_root, input_len, self.x_offset(b, i), x)?
                } else {
                    let (before, root) = previous?;
                    if crate::game::chain_link::<H>(before, root) != *agreed {
                        return None;
                    }
                    let at = u64::from(b) * self.width(l) + u64::from(i);
                    opened::<H>(root, self.tensor_len(l - 1), at, x)?
                };
                Some((fold(s, x as i8, w as i8).to_le_bytes(), 4))
            }
            NeuronStep::Activate => Some(([activate(s, self.shifts[l]) as u8, 0, 0, 0], 1)),
        }
    }
}

/// The byte at `offset` of a `len`-byte string whose root is `root`, if `opening` opens the
/// cell holding it.
fn opened<H: Hasher>(root: &Hash, len: u64, offset: u64, opening: &Opening) -> Option<u8> {
    let (index, within) = tree::cell_of(offset);
    if !tree::verify_cell::<H>(root, len, index, opening.cell, opening.siblings) {
        return None;
    }
    opening.cell.get(within).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode_within_the_kernels_limits() {
        // batch 6, 3 layers, widths 40 70 33 9, shifts 6 5 0.
        let mut p = 6u32.to_le_bytes().to_vec();
        p.push(3);
        for w in [40u16, 70, 33, 9] {
            p.extend_from_slice(&w.to_le_bytes());
        }
        p.extend_from_slice(&[6, 5, 0]);
        let layers = Layers::decode(&p).expect("valid params");
        let shape = layers.shape();
        assert_eq!(shape.widths, &[40, 70, 33, 9]);
        assert_eq!(shape.shifts, &[6, 5, 0]);
        assert_eq!(shape.trace_len(0), 1 + 40 + 1);
        assert_eq!(shape.trace_len(2), 1 + 33);
        assert_eq!(shape.step_at(0, 0), Some(NeuronStep::Bias));
        assert_eq!(shape.step_at(0, 40), Some(NeuronStep::Fold(39)));
        assert_eq!(shape.step_at(0, 41), Some(NeuronStep::Activate));
        assert_eq!(shape.step_at(0, 42), None);
        assert_eq!(shape.tensor_len(1), 6 * 33);
        assert_eq!(shape.tensor_len(2), 6 * 9 * 4);
        assert_eq!(shape.neuron(1, 6 * 33), None);
        // Trailing bytes, a zero width, a shift past 31, no layers.
        let mut long = p.clone();
        long.push(0);
        assert_eq!(Layers::decode(&long), None);
        let mut zero = p.clone();
        zero[5] = 0;
        zero[6] = 0;
        assert_eq!(Layers::decode(&zero), None);
        let mut shift = p.clone();
        *shift.last_mut().unwrap() = 32;
        assert_eq!(Layers::decode(&shift), None);
        assert_eq!(Layers::decode(&[1, 0, 0, 0, 0]), None);
    }
}
