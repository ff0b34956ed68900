//! IEEE 754 binary32 arithmetic in integers, for the SBF build.
//!
//! SBF has no floating-point unit, and upstream rustc's BPF target ships no soft-float
//! routines (`solana-compiler-builtins` has a few f64 ones, none for f32). The referee's steps
//! (`tessera-step`) are f32 code, so the program provides the libcalls LLVM emits for them:
//! `__addsf3`, `__subsf3`, `__mulsf3`, `__divsf3`, `sqrtf`, the comparisons and the integer
//! conversions. Each result is the correctly rounded one (round to nearest, ties to even, with
//! subnormals; no flags, no traps) — exactly what an x86-64 or CUDA `_rn` operation computes,
//! which is what makes the chain's step the kernels' step. Every NaN result is the canonical
//! quiet NaN `0x7fc00000` (payloads differ between platforms anyway; the step states carry
//! one NaN).
//!
//! The functions work on bits and are compiled on every target, so the host tests can compare
//! them with the hardware on millions of operands; only the BPF build exports the symbols.

const SIGN: u32 = 0x8000_0000;
const EXP_MASK: u32 = 0x7f80_0000;
const FRAC_MASK: u32 = 0x007f_ffff;
const IMPLICIT: u32 = 0x0080_0000;
/// The NaN every NaN-producing operation returns.
pub const QNAN: u32 = 0x7fc0_0000;

fn is_nan(a: u32) -> bool {
    a & !SIGN > EXP_MASK
}

fn is_inf(a: u32) -> bool {
    a & !SIGN == EXP_MASK
}

fn is_zero(a: u32) -> bool {
    a & !SIGN == 0
}

/// A finite nonzero value as (significand, exponent): value = m × 2^e, m < 2^24.
fn unpack(a: u32) -> (u64, i32) {
    let field = ((a & EXP_MASK) >> 23) as i32;
    let frac = a & FRAC_MASK;
    if field == 0 {
        (u64::from(frac), 1 - 150)
    } else {
        (u64::from(frac | IMPLICIT), field - 150)
    }
}

/// Rounds `sig × 2^e` (with `sign`) to binary32, ties to even. Inexactness below `sig`'s
/// lowest bit must already be folded into that bit (a sticky bit), and `sig` must then carry
/// at least 26 significant bits so that the sticky bit stays below the rounding position.
fn round_pack(sign: u32, e: i32, sig: u64) -> u32 {
    if sig == 0 {
        return sign;
    }
    let lz = sig.leading_zeros();
    let mut sig = sig << lz;
    // The exponent field the value would have as a normal number.
    let mut biased = e + 63 - lz as i32 + 127;
    if biased <= 0 {
        // Subnormal: the significand moves right until the exponent is the least one.
        let shift = (1 - biased) as u32;
        sig = if shift >= 64 {
            u64::from(sig != 0)
        } else {
            (sig >> shift) | u64::from(sig << (64 - shift) != 0)
        };
        biased = 0;
    }
    let mut m = (sig >> 40) as u32;
    let rest = sig & ((1u64 << 40) - 1);
    let half = 1u64 << 39;
    if rest > half || (rest == half && m & 1 == 1) {
        m += 1;
    }
    if biased == 0 {
        // A subnormal that rounds up to 2^23 becomes the least normal: the field's carry.
        return sign | m;
    }
    if m == 1 << 24 {
        m >>= 1;
        biased += 1;
    }
    if biased >= 255 {
        return sign | EXP_MASK;
    }
    sign | ((biased as u32) << 23) | (m & FRAC_MASK)
}

/// `a + b`.
pub fn add(a: u32, b: u32) -> u32 {
    if is_nan(a) || is_nan(b) {
        return QNAN;
    }
    if is_inf(a) {
        return if is_inf(b) && (a ^ b) & SIGN != 0 {
            QNAN
        } else {
            a
        };
    }
    if is_inf(b) {
        return b;
    }
    if is_zero(a) && is_zero(b) {
        // +0 unless both are −0.
        return a & b;
    }
    if is_zero(a) {
        return b;
    }
    if is_zero(b) {
        return a;
    }
    let (ma, ea) = unpack(a);
    let (mb, eb) = unpack(b);
    // 38 spare bits below each significand: room for the alignment's sticky bit.
    let (ma, ea, mb, eb) = (ma << 38, ea - 38, mb << 38, eb - 38);
    // `big` has the larger magnitude.
    let a_larger = (a & !SIGN) >= (b & !SIGN);
    let ((big, e, big_sign), (small, es)) = if a_larger {
        ((ma, ea, a & SIGN), (mb, eb))
    } else {
        ((mb, eb, b & SIGN), (ma, ea))
    };
    let d = (e - es) as u32;
    let small = if d >= 64 {
        u64::from(small != 0)
    } else if d == 0 {
        small
    } else {
        (small >> d) | u64::from(small << (64 - d) != 0)
    };
    if (a ^ b) & SIGN == 0 {
        round_pack(big_sign, e, big + small)
    } else {
        let diff = big - small;
        if diff == 0 {
            return 0;
        }
        round_pack(big_sign, e, diff)
    }
}

/// `a − b`.
pub fn sub(a: u32, b: u32) -> u32 {
    if is_nan(b) {
        return QNAN;
    }
    add(a, b ^ SIGN)
}

/// `a × b`.
pub fn mul(a: u32, b: u32) -> u32 {
    if is_nan(a) || is_nan(b) {
        return QNAN;
    }
    let sign = (a ^ b) & SIGN;
    if is_inf(a) || is_inf(b) {
        return if is_zero(a) || is_zero(b) {
            QNAN
        } else {
            sign | EXP_MASK
        };
    }
    if is_zero(a) || is_zero(b) {
        return sign;
    }
    let (ma, ea) = unpack(a);
    let (mb, eb) = unpack(b);
    // The product is exact in 48 bits.
    round_pack(sign, ea + eb, ma * mb)
}

/// A finite nonzero significand moved up to bit 23 (subnormals normalized).
fn normalized(a: u32) -> (u64, i32) {
    let (m, e) = unpack(a);
    let shift = m.leading_zeros() as i32 - 40;
    (m << shift, e - shift)
}

/// `a / b`.
pub fn div(a: u32, b: u32) -> u32 {
    if is_nan(a) || is_nan(b) {
        return QNAN;
    }
    let sign = (a ^ b) & SIGN;
    if is_inf(a) {
        return if is_inf(b) { QNAN } else { sign | EXP_MASK };
    }
    if is_inf(b) {
        return sign;
    }
    if is_zero(b) {
        return if is_zero(a) { QNAN } else { sign | EXP_MASK };
    }
    if is_zero(a) {
        return sign;
    }
    let (ma, ea) = normalized(a);
    let (mb, eb) = normalized(b);
    // ma, mb in [2^23, 2^24): the quotient has 40 or 41 bits, the remainder is the sticky bit.
    let num = ma << 40;
    let q = num / mb;
    let r = num % mb;
    round_pack(sign, ea - 40 - eb, q | u64::from(r != 0))
}

fn isqrt(n: u64) -> u64 {
    let mut rem = n;
    let mut root = 0u64;
    let mut bit = 1u64 << 62;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// `√a`.
pub fn sqrt(a: u32) -> u32 {
    if is_nan(a) {
        return QNAN;
    }
    if is_zero(a) {
        return a;
    }
    if a & SIGN != 0 {
        return QNAN;
    }
    if is_inf(a) {
        return a;
    }
    let (mut m, mut e) = normalized(a);
    if e % 2 != 0 {
        m <<= 1;
        e -= 1;
    }
    // m < 2^25: m × 2^38 < 2^63, its root has 31 or 32 bits, the remainder is the sticky bit.
    let n = m << 38;
    let root = isqrt(n);
    let sticky = u64::from(root * root != n);
    round_pack(0, (e - 38) / 2, root | sticky)
}

/// The order of `a` and `b`; `None` if either is NaN. −0 equals +0.
pub fn compare(a: u32, b: u32) -> Option<core::cmp::Ordering> {
    if is_nan(a) || is_nan(b) {
        return None;
    }
    if is_zero(a) && is_zero(b) {
        return Some(core::cmp::Ordering::Equal);
    }
    let key = |x: u32| {
        let magnitude = i64::from(x & !SIGN);
        if x & SIGN != 0 {
            -magnitude
        } else {
            magnitude
        }
    };
    Some(key(a).cmp(&key(b)))
}

/// An unsigned integer, rounded to binary32.
pub fn from_u32(x: u32) -> u32 {
    round_pack(0, 0, u64::from(x))
}

/// A signed integer, rounded to binary32.
pub fn from_i32(x: i32) -> u32 {
    let sign = if x < 0 { SIGN } else { 0 };
    round_pack(sign, 0, u64::from(x.unsigned_abs()))
}

/// Truncation toward zero to an unsigned integer (LLVM's `fptoui`; values outside the range
/// are undefined there, saturated here).
pub fn to_u32(a: u32) -> u32 {
    if is_nan(a) || a & SIGN != 0 || is_zero(a) {
        return 0;
    }
    if is_inf(a) {
        return u32::MAX;
    }
    let (m, e) = unpack(a);
    if e >= 0 {
        if e > 8 {
            return u32::MAX;
        }
        u32::try_from(m << e).unwrap_or(u32::MAX)
    } else if e <= -64 {
        0
    } else {
        (m >> (-e) as u32) as u32
    }
}

/// Truncation toward zero to a 64-bit unsigned integer (saturated, NaN as 0).
pub fn to_u64(a: u32) -> u64 {
    if is_nan(a) || a & SIGN != 0 || is_zero(a) {
        return 0;
    }
    if is_inf(a) {
        return u64::MAX;
    }
    let (m, e) = unpack(a);
    if e >= 0 {
        if e > 40 {
            return u64::MAX;
        }
        m << e
    } else if e <= -64 {
        0
    } else {
        m >> (-e) as u32
    }
}

/// Truncation toward zero to a 64-bit signed integer (saturated, NaN as 0).
pub fn to_i64(a: u32) -> i64 {
    let magnitude = to_u64(a & !SIGN);
    if a & SIGN != 0 && !is_nan(a) {
        if magnitude >= 1 << 63 {
            i64::MIN
        } else {
            -(magnitude as i64)
        }
    } else {
        i64::try_from(magnitude).unwrap_or(i64::MAX)
    }
}

/// A 64-bit unsigned integer, rounded to binary32 (`round_pack` is exact for a 64-bit
/// significand without a sticky bit).
pub fn from_u64(x: u64) -> u32 {
    round_pack(0, 0, x)
}

/// A 64-bit signed integer, rounded to binary32.
pub fn from_i64(x: i64) -> u32 {
    let sign = if x < 0 { SIGN } else { 0 };
    round_pack(sign, 0, x.unsigned_abs())
}

/// Truncation toward zero to a signed integer (saturated, NaN as 0).
pub fn to_i32(a: u32) -> i32 {
    let magnitude = to_u32(a & !SIGN);
    if a & SIGN != 0 && !is_nan(a) {
        if magnitude >= 1 << 31 {
            i32::MIN
        } else {
            -(magnitude as i32)
        }
    } else {
        i32::try_from(magnitude).unwrap_or(i32::MAX)
    }
}

/// The libcalls LLVM emits for f32 on SBF. Comparison results follow libgcc: `__lt/__le/__eq/
/// __ne` give 1 for unordered operands, `__gt/__ge` give −1; the values are sign-extended to
/// the full register, so a caller reading 32 or 64 bits sees the same number.
#[cfg(target_arch = "bpf")]
mod exports {
    use super::*;
    use core::cmp::Ordering;

    fn order(a: f32, b: f32, unordered: i64) -> i64 {
        match compare(a.to_bits(), b.to_bits()) {
            None => unordered,
            Some(Ordering::Less) => -1,
            Some(Ordering::Equal) => 0,
            Some(Ordering::Greater) => 1,
        }
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn __addsf3(a: f32, b: f32) -> f32 {
        f32::from_bits(add(a.to_bits(), b.to_bits()))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __subsf3(a: f32, b: f32) -> f32 {
        f32::from_bits(sub(a.to_bits(), b.to_bits()))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __mulsf3(a: f32, b: f32) -> f32 {
        f32::from_bits(mul(a.to_bits(), b.to_bits()))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __divsf3(a: f32, b: f32) -> f32 {
        f32::from_bits(div(a.to_bits(), b.to_bits()))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn sqrtf(a: f32) -> f32 {
        f32::from_bits(sqrt(a.to_bits()))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __ltsf2(a: f32, b: f32) -> i64 {
        order(a, b, 1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __lesf2(a: f32, b: f32) -> i64 {
        order(a, b, 1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __eqsf2(a: f32, b: f32) -> i64 {
        order(a, b, 1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __nesf2(a: f32, b: f32) -> i64 {
        order(a, b, 1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __gtsf2(a: f32, b: f32) -> i64 {
        order(a, b, -1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __gesf2(a: f32, b: f32) -> i64 {
        order(a, b, -1)
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __unordsf2(a: f32, b: f32) -> i64 {
        i64::from(compare(a.to_bits(), b.to_bits()).is_none())
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __floatunsisf(x: u32) -> f32 {
        f32::from_bits(from_u32(x))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __floatsisf(x: i32) -> f32 {
        f32::from_bits(from_i32(x))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __fixunssfsi(a: f32) -> u32 {
        to_u32(a.to_bits())
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __fixunssfdi(a: f32) -> u64 {
        to_u64(a.to_bits())
    }
    // Without ALU32 (`target-cpu=v2`), i32 is not a legal type on BPF: LLVM widens float-to-int
    // and int-to-float conversions to 64 bits and calls these.
    #[unsafe(no_mangle)]
    pub extern "C" fn __fixsfdi(a: f32) -> i64 {
        to_i64(a.to_bits())
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __floatundisf(x: u64) -> f32 {
        f32::from_bits(from_u64(x))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __floatdisf(x: i64) -> f32 {
        f32::from_bits(from_i64(x))
    }
    #[unsafe(no_mangle)]
    pub extern "C" fn __fixsfsi(a: f32) -> i32 {
        to_i32(a.to_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Operands that reach every path: random bits, nearby exponents (cancellation,
        /// ties), subnormals and specials.
        fn operand(&mut self, other: u32) -> u32 {
            let r = self.next();
            match r % 8 {
                0..=2 => ((r as u32) >> 3) ^ ((r >> 40) as u32),
                3 => (other & 0xff80_0000) | (r as u32 & FRAC_MASK),
                4 => (other ^ (1 << ((r >> 8) % 24))) ^ ((r >> 32) as u32 & SIGN),
                5 => (r as u32) & (SIGN | 0x00ff_ffff),
                6 => [
                    0,
                    SIGN,
                    EXP_MASK,
                    SIGN | EXP_MASK,
                    QNAN,
                    1,
                    0x7f7f_ffff,
                    0x0080_0000,
                ][(r >> 8) as usize % 8],
                _ => (other.wrapping_add((r >> 16) as u32 % 5)) ^ ((r >> 32) as u32 & SIGN),
            }
        }
    }

    fn same(ours: u32, hardware: f32, what: &str, a: u32, b: u32) {
        if hardware.is_nan() {
            assert_eq!(ours, QNAN, "{what}({a:#010x}, {b:#010x}): NaN expected");
        } else {
            assert_eq!(
                ours,
                hardware.to_bits(),
                "{what}({a:#010x}, {b:#010x}) = {hardware:e}"
            );
        }
    }

    #[test]
    fn every_operation_matches_the_hardware() {
        let mut rng = Rng(0x5eed);
        let mut a = 0x3f80_0000;
        for _ in 0..2_000_000 {
            a = rng.operand(a);
            let b = rng.operand(a);
            let (x, y) = (f32::from_bits(a), f32::from_bits(b));
            same(add(a, b), x + y, "add", a, b);
            same(sub(a, b), x - y, "sub", a, b);
            same(mul(a, b), x * y, "mul", a, b);
            same(div(a, b), x / y, "div", a, b);
            same(sqrt(a), x.sqrt(), "sqrt", a, 0);
            assert_eq!(compare(a, b), x.partial_cmp(&y), "compare({a:#x}, {b:#x})");
            same(from_u32(a), a as f32, "from_u32", a, 0);
            same(from_i32(a as i32), a as i32 as f32, "from_i32", a, 0);
            assert_eq!(to_u32(a), x as u32, "to_u32({a:#x})");
            assert_eq!(to_i32(a), x as i32, "to_i32({a:#x})");
            assert_eq!(to_u64(a), x as u64, "to_u64({a:#x})");
            assert_eq!(to_i64(a), x as i64, "to_i64({a:#x})");
            let wide = rng.next() >> (rng.next() % 64);
            same(from_u64(wide), wide as f32, "from_u64", wide as u32, 0);
            same(
                from_i64(wide as i64),
                wide as i64 as f32,
                "from_i64",
                wide as u32,
                0,
            );
        }
    }

    #[test]
    fn edge_cases() {
        let f = f32::to_bits;
        assert_eq!(add(f(1.0), f(-1.0)), 0, "x − x is +0");
        assert_eq!(add(f(-0.0), f(-0.0)), f(-0.0));
        assert_eq!(add(f(f32::MAX), f(f32::MAX)), f(f32::INFINITY));
        assert_eq!(
            mul(f(f32::MIN_POSITIVE), f(0.5)),
            0x0040_0000,
            "into the subnormals"
        );
        assert_eq!(
            mul(1, f(0.5)),
            0,
            "half the least subnormal ties to even: 0"
        );
        assert_eq!(mul(3, f(0.5)), 2, "1.5 ulp ties to 2");
        assert_eq!(div(f(1.0), f(3.0)), f(1.0 / 3.0));
        assert_eq!(sqrt(f(2.0)), f(2f32.sqrt()));
        assert_eq!(sqrt(1), f(f32::from_bits(1).sqrt()));
        assert_eq!(sqrt(f(-1.0)), QNAN);
        assert_eq!(from_u32(16_777_217), f(16_777_216.0), "ties to even");
        assert_eq!(from_u32(u32::MAX), f(4_294_967_296.0));
    }
}
