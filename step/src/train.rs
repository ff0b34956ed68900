//! The trace of a `train_step` output.
//!
//! Training is a graph of tensors. Step `t` (of `steps`) reads the data X (batch × d_in), Y
//! (batch × d_out) and the model `W1_t, b1_t, W2_t, b2_t` (`t = 0`: the input's), and writes,
//! in this order, [`Tensor::Hidden`] H, [`Tensor::Grad`] G, [`Tensor::DHidden`] dH, then the
//! next model [`Tensor::W2`], [`Tensor::B2`], [`Tensor::W1`], [`Tensor::B1`]. Every element of
//! every tensor is a *fold* — `acc_0 = 0`, `acc_{p+1} = acc_p + a_p·b_p` (or `+ a_p` for a
//! bias gradient) over `p < len` — followed by a *finish* that combines the sum with at most
//! three more values:
//!
//! | tensor | element | fold over p | operands | finish |
//! |---|---|---|---|---|
//! | H | (b, j) | d_in | X[b][p], W1[p][j] | `z = acc + b1[j]`, `z > 0 ? z : 0` |
//! | G | (b, o) | hidden | H[b][p], W2[p][o] | `((acc + b2[o]) − Y[b][o]) · s`, `s = 2/(batch·d_out)` |
//! | dH | (b, j) | d_out | G[b][p], W2[j][p] | `H[b][j] > 0 ? acc : 0` |
//! | W2' | (j, o) | batch | H[p][j], G[p][o] | `W2[j][o] − lr·acc` |
//! | b2' | o | batch | G[p][o] | `b2[o] − lr·acc` |
//! | W1' | (i, j) | batch | X[p][i], dH[p][j] | `W1[i][j] − lr·acc` |
//! | b1' | j | batch | dH[p][j] | `b1[j] − lr·acc` |
//!
//! A dispute bisects the graph first (the first tensor, in step order, whose committed root
//! the sides disagree on, all earlier ones agreed), then a differing element of it, then its
//! fold; the referee executes one [`fold`] or one finish. The output is `W1, b1, W2, b2` after
//! the last step, f32 LE; states are f32 bits with any NaN written as `0x7fc00000`.

use crate::matmul::canonical;

/// The shape of a training job (the kernel's params).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub d_in: u16,
    pub hidden: u16,
    pub d_out: u16,
    pub batch: u16,
    pub steps: u16,
    pub lr: f32,
}

/// The tensors one training step writes, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tensor {
    Hidden,
    Grad,
    DHidden,
    W2,
    B2,
    W1,
    B1,
}

impl Tensor {
    pub const ALL: [Tensor; 7] = [
        Tensor::Hidden,
        Tensor::Grad,
        Tensor::DHidden,
        Tensor::W2,
        Tensor::B2,
        Tensor::W1,
        Tensor::B1,
    ];
}

/// One step of a fold with a product: `acc + a·b`, each rounded on its own.
#[inline(always)]
pub fn fold(acc: f32, a: f32, b: f32) -> f32 {
    f32::from_bits(canonical(acc + a * b))
}

/// One step of a bias gradient's fold: `acc + a`.
#[inline(always)]
pub fn fold_sum(acc: f32, a: f32) -> f32 {
    f32::from_bits(canonical(acc + a))
}

/// H's finish: the ReLU of `acc + bias`.
#[inline(always)]
pub fn finish_hidden(acc: f32, bias: f32) -> f32 {
    let z = acc + bias;
    if z > 0.0 {
        z
    } else {
        0.0
    }
}

/// G's finish: the scaled error of the prediction `acc + bias` against `target`.
#[inline(always)]
pub fn finish_grad(acc: f32, bias: f32, target: f32, scale: f32) -> f32 {
    f32::from_bits(canonical(((acc + bias) - target) * scale))
}

/// dH's finish: the gradient through the ReLU whose output was `hidden`.
#[inline(always)]
pub fn finish_dhidden(acc: f32, hidden: f32) -> f32 {
    if hidden > 0.0 {
        f32::from_bits(canonical(acc))
    } else {
        0.0
    }
}

/// A parameter's finish: `old − lr·acc`.
#[inline(always)]
pub fn finish_update(acc: f32, old: f32, lr: f32) -> f32 {
    f32::from_bits(canonical(old - lr * acc))
}

impl Shape {
    fn dims(&self) -> (u64, u64, u64, u64) {
        (
            u64::from(self.d_in),
            u64::from(self.hidden),
            u64::from(self.d_out),
            u64::from(self.batch),
        )
    }

    /// The mean-squared-error scale `2 / (batch · d_out)`.
    pub fn scale(&self) -> f32 {
        2.0f32 / (u64::from(self.batch) * u64::from(self.d_out)) as f32
    }

    /// Elements of `tensor`.
    pub fn elements(&self, tensor: Tensor) -> u64 {
        let (i, h, o, b) = self.dims();
        match tensor {
            Tensor::Hidden | Tensor::DHidden => b * h,
            Tensor::Grad => b * o,
            Tensor::W2 => h * o,
            Tensor::B2 => o,
            Tensor::W1 => i * h,
            Tensor::B1 => h,
        }
    }

    /// Terms of the fold of an element of `tensor`.
    pub fn fold_len(&self, tensor: Tensor) -> u64 {
        let (i, h, o, b) = self.dims();
        match tensor {
            Tensor::Hidden => i,
            Tensor::Grad => h,
            Tensor::DHidden => o,
            Tensor::W2 | Tensor::B2 | Tensor::W1 | Tensor::B1 => b,
        }
    }

    /// Byte offsets in the input of X, Y, W1, b1, W2, b2 (f32 each).
    pub fn input_offsets(&self) -> [u64; 6] {
        let (i, h, o, b) = self.dims();
        let x = 0;
        let y = x + 4 * b * i;
        let w1 = y + 4 * b * o;
        let b1 = w1 + 4 * i * h;
        let w2 = b1 + 4 * h;
        let b2 = w2 + 4 * h * o;
        [x, y, w1, b1, w2, b2]
    }

    /// Input bytes.
    pub fn input_len(&self) -> u64 {
        let (_, _, o, _) = self.dims();
        self.input_offsets()[5] + 4 * o
    }
}
