//! The trace of one element of `matmul_f32` or `matmul_i8`.
//!
//! Input: A (m×k, row-major) then B (k×n, row-major); output C (m×n, row-major); elements of
//! 4 bytes (f32 LE, i32 LE) or A and B of 1 byte (i8). Element `C[i][j]` has the trace
//! `s_0, s_1, …, s_k` with `s_0 = 0` and `s_{p+1} = step(s_p, A[i][p], B[p][j])`: the partial
//! sums strictly in k order, and `C[i][j] = s_k`. A state is 4 bytes: an f32's bits (any NaN
//! written as `0x7fc00000`, as the output is) or an i32.

use crate::tree::{self, Hash, Hasher};

/// The shape of a matrix product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub m: u32,
    pub n: u32,
    pub k: u32,
}

/// The one NaN a state or an output holds.
pub const CANONICAL_NAN: u32 = 0x7fc0_0000;

/// The bits a state keeps of `x`.
pub fn canonical(x: f32) -> u32 {
    if x.is_nan() {
        CANONICAL_NAN
    } else {
        x.to_bits()
    }
}

/// One step of `matmul_f32`: `s + a·b`, the product and the sum each rounded on its own
/// (round to nearest even, no fused multiply-add).
#[inline(always)]
pub fn step_f32(state: u32, a: f32, b: f32) -> u32 {
    canonical(f32::from_bits(state) + a * b)
}

/// One step of `matmul_i8`: `s + a·b` in int32 (exact within the kernel's limits; wrapping
/// defines it for any state).
#[inline(always)]
pub fn step_i8(state: i32, a: i8, b: i8) -> i32 {
    state.wrapping_add(i32::from(a) * i32::from(b))
}

/// Which of the two kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    F32,
    I8,
}

impl Kind {
    /// Bytes of one input element.
    pub fn operand_size(self) -> u64 {
        match self {
            Kind::F32 => 4,
            Kind::I8 => 1,
        }
    }

    /// One step from the 4-byte state `state` with operands `a` and `b` (their little-endian
    /// bytes, [`Kind::operand_size`] each): the next state.
    pub fn step(self, state: [u8; 4], a: &[u8], b: &[u8]) -> Option<[u8; 4]> {
        match self {
            Kind::F32 => {
                let a = f32::from_le_bytes(a.try_into().ok()?);
                let b = f32::from_le_bytes(b.try_into().ok()?);
                Some(step_f32(u32::from_le_bytes(state), a, b).to_le_bytes())
            }
            Kind::I8 => {
                let ([a], [b]) = (a, b) else { return None };
                Some(step_i8(i32::from_le_bytes(state), *a as i8, *b as i8).to_le_bytes())
            }
        }
    }
}

/// Largest m, n or k (the kernels' limit).
pub const MAX_DIM: u32 = 4096;

/// An operand of a step opened against the input root: the cell holding it and the cell's
/// siblings up the tree.
#[derive(Clone, Copy, Debug)]
pub struct Opening<'a> {
    pub cell: &'a [u8],
    pub siblings: &'a [Hash],
}

impl Shape {
    /// The shape from a job's params (`m`, `n`, `k` as u32 LE, each 1..=[`MAX_DIM`]).
    pub fn decode(params: &[u8]) -> Option<Self> {
        if params.len() != 12 {
            return None;
        }
        let m = crate::u32_at(params, 0)?;
        let n = crate::u32_at(params, 4)?;
        let k = crate::u32_at(params, 8)?;
        [m, n, k]
            .iter()
            .all(|v| (1..=MAX_DIM).contains(v))
            .then_some(Shape { m, n, k })
    }

    /// The referee's last move for step `position → position + 1` of output element
    /// `element`: checks that `a` and `b` open the operands `A[i][position]` and
    /// `B[position][j]` against the input's root (`input_len` bytes, as the job names them),
    /// then executes the step from `state`. `None` if anything does not check.
    #[allow(clippy::too_many_arguments)]
    pub fn referee<H: Hasher>(
        &self,
        kind: Kind,
        input_root: &Hash,
        input_len: u64,
        element: u64,
        position: u64,
        state: [u8; 4],
        a: Opening,
        b: Opening,
    ) -> Option<[u8; 4]> {
        if input_len != self.input_len(kind) {
            return None;
        }
        let (i, j) = self.element(element)?;
        let p = u32::try_from(position).ok().filter(|p| *p < self.k)?;
        let size = kind.operand_size() as usize;
        fn operand<'a, H: Hasher>(
            root: &Hash,
            len: u64,
            offset: u64,
            size: usize,
            opening: Opening<'a>,
        ) -> Option<&'a [u8]> {
            let (index, within) = tree::cell_of(offset);
            if !tree::verify_cell::<H>(root, len, index, opening.cell, opening.siblings) {
                return None;
            }
            opening.cell.get(within..within + size)
        }
        let a = operand::<H>(input_root, input_len, self.a_offset(kind, i, p), size, a)?;
        let b = operand::<H>(input_root, input_len, self.b_offset(kind, p, j), size, b)?;
        kind.step(state, a, b)
    }

    /// Steps in an element's trace.
    pub fn trace_len(&self) -> u32 {
        self.k
    }

    /// Elements of C.
    pub fn outputs(&self) -> u64 {
        u64::from(self.m) * u64::from(self.n)
    }

    /// Input bytes.
    pub fn input_len(&self, kind: Kind) -> u64 {
        let (m, n, k) = (u64::from(self.m), u64::from(self.n), u64::from(self.k));
        (m * k + k * n) * kind.operand_size()
    }

    /// Output element `e` as (row, column).
    pub fn element(&self, e: u64) -> Option<(u32, u32)> {
        (e < self.outputs()).then(|| {
            (
                (e / u64::from(self.n)) as u32,
                (e % u64::from(self.n)) as u32,
            )
        })
    }

    /// Byte offset in the input of `A[i][p]`.
    pub fn a_offset(&self, kind: Kind, i: u32, p: u32) -> u64 {
        (u64::from(i) * u64::from(self.k) + u64::from(p)) * kind.operand_size()
    }

    /// Byte offset in the input of `B[p][j]`.
    pub fn b_offset(&self, kind: Kind, p: u32, j: u32) -> u64 {
        let a_len = u64::from(self.m) * u64::from(self.k);
        (a_len + u64::from(p) * u64::from(self.n) + u64::from(j)) * kind.operand_size()
    }

    /// The state after `steps` steps of element (`i`, `j`), folded from the input (off chain:
    /// what a worker posts in a bisection). `None` if out of range.
    pub fn state(&self, kind: Kind, input: &[u8], i: u32, j: u32, steps: u32) -> Option<[u8; 4]> {
        if i >= self.m || j >= self.n || steps > self.k {
            return None;
        }
        let size = kind.operand_size() as usize;
        let mut state = [0u8; 4];
        for p in 0..steps {
            let a = self.a_offset(kind, i, p) as usize;
            let b = self.b_offset(kind, p, j) as usize;
            state = kind.step(state, input.get(a..a + size)?, input.get(b..b + size)?)?;
        }
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_holds_one_nan_and_keeps_signed_zero() {
        let inf = f32::INFINITY.to_bits();
        // inf + (−inf) is NaN whatever the hardware's payload: the state is the canonical one.
        assert_eq!(step_f32(inf, -2.0, f32::MAX), CANONICAL_NAN);
        assert_eq!(step_f32(CANONICAL_NAN, 0.0, 0.0), CANONICAL_NAN);
        assert_eq!(step_f32(0x7fc0_1234, 1.0, 1.0), CANONICAL_NAN);
        // 0 + (−0) = +0, (−0) + (−0) = −0: IEEE, kept as is.
        assert_eq!(step_f32(0, -0.0, 1.0), 0);
        assert_eq!(
            step_f32((-0.0f32).to_bits(), -0.0, 1.0),
            (-0.0f32).to_bits()
        );
        // The i8 step is exact and wraps only outside the kernel's limits.
        assert_eq!(step_i8(5, -128, -128), 5 + 16_384);
        assert_eq!(step_i8(i32::MAX, 1, 1), i32::MIN);
        assert_eq!(Kind::I8.step([0; 4], &[2], &[3]), Some(6i32.to_le_bytes()));
        assert_eq!(Kind::F32.step([0; 4], &[0; 3], &[0; 4]), None);
    }

    #[test]
    fn offsets_follow_the_layout() {
        let s = Shape { m: 2, n: 3, k: 4 };
        assert_eq!(s.a_offset(Kind::F32, 1, 3), 4 * 7);
        assert_eq!(s.b_offset(Kind::F32, 0, 0), 4 * 8);
        assert_eq!(s.b_offset(Kind::I8, 3, 2), 8 + 11);
        assert_eq!(s.input_len(Kind::I8), 20);
        assert_eq!(s.element(5), Some((1, 2)));
        assert_eq!(s.element(6), None);
    }
}
