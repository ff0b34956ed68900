//! Little-endian encoding of params, inputs and outputs.

/// Reads little-endian values from a byte slice; every read is bounds-checked.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    pub fn f32(&mut self) -> Option<f32> {
        self.take().map(f32::from_le_bytes)
    }
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }
}

/// `f32`s from little-endian bytes (the length is a multiple of 4).
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `i32`s from little-endian bytes (the length is a multiple of 4).
pub fn i32s(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `i8`s from bytes.
pub fn i8s(bytes: &[u8]) -> Vec<i8> {
    bytes.iter().map(|b| *b as i8).collect()
}

/// The canonical quiet NaN every kernel writes for any NaN result: CPUs and GPUs disagree on
/// NaN payloads and signs, so outputs never carry them.
pub const CANONICAL_NAN: u32 = 0x7fc0_0000;

/// Canonical little-endian bytes of `f32` results.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for v in values {
        let bits = if v.is_nan() {
            CANONICAL_NAN
        } else {
            v.to_bits()
        };
        out.extend_from_slice(&bits.to_le_bytes());
    }
    out
}

pub fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Whether every `f32` of `bytes` is finite; the index of the first that is not.
pub fn first_non_finite(bytes: &[u8]) -> Option<usize> {
    bytes
        .chunks_exact(4)
        .position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
}
