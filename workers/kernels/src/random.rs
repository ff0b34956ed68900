//! Reproducible pseudo-random inputs for tests, benchmarks and the GPU check.
use crate::Kernel;

/// SplitMix64: tiny, fast, and the same everywhere.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`, with 24 random bits.
    pub fn signed_unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32) / (1u64 << 23) as f32 - 1.0
    }

    pub fn i8(&mut self) -> i8 {
        self.next_u64() as i8
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A fresh input for `params` of kernel `K`.
pub fn input_for<K: Kernel>(params: &K::Params, seed: u64) -> Vec<u8> {
    K::random_input(params, &mut SplitMix64::new(seed))
}

/// A seed from the operating system's clock and address randomization, for "fresh" inputs.
pub fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    now ^ (&local as *const u8 as u64).rotate_left(32)
}
