//! The trace of an `mlp_infer` output.
//!
//! Input: X (batch × width₀, i8), then per layer `l` its weights (width_l × width_{l+1},
//! row-major, i8) and biases (width_{l+1}, i32 LE). Layer `l` maps activations `x_l` (batch ×
//! width_l, i8; `x_0 = X`) to `x_{l+1}`: for each row `b` and neuron `o`, the fold
//! `s_0 = bias[o]`, `s_{i+1} = s_i + x_l[b][i]·w[i][o]` (int32) over `i < width_l`, then the
//! activation: a hidden layer's `max(0, clamp(s >> shift, −128, 127))` as i8, the last layer's
//! `s` itself (the output, i32 LE).
//!
//! A dispute first finds the first layer whose activations the two sides commit differently
//! (each side commits every layer's activations with the [`crate::tree`] layout), then a
//! neuron of that layer whose value differs, then the step of its fold.

/// The shape of an MLP over a batch (the kernel's params).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape<'a> {
    pub batch: u32,
    /// `layers + 1` widths: input, hidden…, output.
    pub widths: &'a [u16],
    /// One requantization shift per layer (the last layer's is unused).
    pub shifts: &'a [u8],
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

    /// Byte offset of activation `x_l[b][o]` in layer `l`'s activations (`l ≥ 1`; i8 for a
    /// hidden layer, i32 LE for the output).
    pub fn activation_offset(&self, l: usize, b: u32, o: u32) -> u64 {
        let size = if l == self.layers() { 4 } else { 1 };
        (u64::from(b) * self.width(l) + u64::from(o)) * size
    }

    /// Steps of a layer-`l` neuron's trace: its fold over `width_l` inputs, then (hidden
    /// layers) the activation.
    pub fn trace_len(&self, l: usize) -> u64 {
        self.width(l) + u64::from(l + 1 < self.layers())
    }
}
