//! The rules of a dispute game that do not depend on the chain: where the next move looks, how
//! a move is checked against what it claims to open, and which part of the disagreement it
//! keeps. The program's game instructions apply them to posted moves; the worker applies them
//! to compute its own moves (`tessera_kernels::dispute`). See docs/disputes.md.
//!
//! A game between two sides whose result roots differ runs in two phases:
//!
//! 1. **Descent** of the result tree. The disputed node starts at the top (level
//!    `tree::height`). A move opens [`DESCENT_LEVELS`] levels at once: each side posts the
//!    hashes of the node's descendants that many levels down ([`descendants`]), which must
//!    fold back up to the side's node ([`fold`]); the first position where the sides differ
//!    is the next disputed node. At level 0 each side posts its cell; the first differing
//!    [`ELEMENT`]-byte element is the disputed output element.
//! 2. **Bisection** of that element's trace, from the state both sides must agree on (the
//!    kernel's start) to the element itself (where they differ). Each move posts the hashes
//!    of the states at up to [`BISECTION_POINTS`] interior positions ([`points`]); the first
//!    position where the sides differ ends the kept segment ([`select`]). When the segment is
//!    one step long, the referee executes that step from the agreed state.

use crate::tree::{self, Hash, Hasher};

/// Bytes of one output element of every kernel (f32, i32, or an RGBA8 pixel).
pub const ELEMENT: usize = 4;
/// Levels a descent move opens: at most 16 hashes, 512 bytes.
pub const DESCENT_LEVELS: u32 = 4;
/// Interior states a bisection move posts: at most 15 hashes, 480 bytes, 16 segments.
pub const BISECTION_POINTS: u64 = 15;
/// Domain tag of a state's hash.
const STATE: u8 = 3;

/// The hash a bisection posts for a state's canonical bytes.
pub fn state_hash<H: Hasher>(state: &[u8]) -> Hash {
    H::hashv(&[&[STATE], state])
}

/// The level of the top node of the tree over `len` bytes.
pub fn height(len: u64) -> u32 {
    let mut level = 0;
    while tree::width(len, level) > 1 {
        level += 1;
    }
    level
}

/// The nodes a descent move from (`level`, `index`) opens: their level and their index range
/// (the node's descendants [`DESCENT_LEVELS`] levels down, or down to the cells). `None` if
/// the node is not in the tree over `len` bytes (a posted position is never trusted).
pub fn descendants(len: u64, level: u32, index: u64) -> Option<(u32, u64, u64)> {
    if level >= 64 || index >= tree::width(len, level) {
        return None;
    }
    let down = level.min(DESCENT_LEVELS);
    let target = level - down;
    let first = index.checked_shl(down)?;
    let end = index
        .checked_add(1)?
        .checked_shl(down)?
        .min(tree::width(len, target));
    (first < end).then_some((target, first, end))
}

/// Folds consecutive nodes `hashes` (aligned as [`descendants`] gives them) `levels` levels up,
/// with the odd-node rule: the node they descend from. `None` for more than 16 hashes.
pub fn fold<H: Hasher>(hashes: &[Hash], levels: u32) -> Option<Hash> {
    if hashes.is_empty() || hashes.len() > 16 {
        return None;
    }
    let mut buffer = [[0u8; 32]; 16];
    buffer[..hashes.len()].copy_from_slice(hashes);
    let mut count = hashes.len();
    for _ in 0..levels {
        let mut next = 0;
        let mut i = 0;
        while i < count {
            buffer[next] = if i + 1 < count {
                tree::node::<H>(&buffer[i], &buffer[i + 1])
            } else {
                buffer[i]
            };
            next += 1;
            i += 2;
        }
        count = next;
    }
    (count == 1).then_some(buffer[0])
}

/// Whether `hashes` are the descendants of the node (`level`, `index`) of the tree over `len`
/// bytes whose hash is `node`.
pub fn verify_descent<H: Hasher>(
    len: u64,
    level: u32,
    index: u64,
    node: &Hash,
    hashes: &[Hash],
) -> bool {
    let Some((target, first, end)) = descendants(len, level, index) else {
        return false;
    };
    hashes.len() as u64 == end - first && fold::<H>(hashes, level - target).as_ref() == Some(node)
}

/// The first position where two sides' lists differ.
pub fn first_difference<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y)
}

/// The first differing element of two cells, as an output element index (`cell` is the cells'
/// index). `None` if the cells are equal.
pub fn differing_element(cell: u64, a: &[u8], b: &[u8]) -> Option<u64> {
    differing_element_of(cell, a, b, ELEMENT)
}

/// [`differing_element`] for a tensor of `size`-byte elements (an i8 activation: 1).
pub fn differing_element_of(cell: u64, a: &[u8], b: &[u8], size: usize) -> Option<u64> {
    if size == 0 || !tree::CELL.is_multiple_of(size) {
        return None;
    }
    let at = a
        .chunks(size)
        .zip(b.chunks(size))
        .position(|(x, y)| x != y)?;
    Some(cell * (tree::CELL / size) as u64 + at as u64)
}

/// Domain tag of a tensor chain link.
const CHAIN: u8 = 4;

/// The chain of a kernel's tensors (a DAG: every layer of an MLP reads the whole layer before
/// it): `C_0` = [`CHAIN_START`], `C_t = sha256(0x04 ‖ C_{t−1} ‖ root of tensor t)`. Both sides
/// agreeing on `C_{t−1}` agree on every tensor before `t`, so bisecting the chain finds the
/// first tensor they compute differently with all of its inputs agreed.
pub fn chain_link<H: Hasher>(previous: &Hash, root: &Hash) -> Hash {
    H::hashv(&[&[CHAIN], previous, root])
}

/// `C_0` of every tensor chain.
pub const CHAIN_START: Hash = [0; 32];

/// The interior positions a bisection move over the segment (`lo`, `hi`) posts, in order:
/// `lo + (hi − lo)·j/16` for `j = 1..=15`, without repeats, strictly inside the segment.
/// Empty when the segment is one step long.
pub fn points(lo: u64, hi: u64) -> ([u64; BISECTION_POINTS as usize], usize) {
    let mut out = [0u64; BISECTION_POINTS as usize];
    let mut count = 0;
    let span = hi.saturating_sub(lo);
    for j in 1..=BISECTION_POINTS {
        let p = lo + (u128::from(span) * u128::from(j) / u128::from(BISECTION_POINTS + 1)) as u64;
        if p > lo && p < hi && (count == 0 || out[count - 1] != p) {
            out[count] = p;
            count += 1;
        }
    }
    (out, count)
}

/// The segment kept after a bisection move: the sides agree at `lo` and differ at `hi`; at the
/// posted `positions` (which must be [`points`]`(lo, hi)`) they posted `a` and `b`, one hash per
/// position. The first position where they differ becomes `hi`, the position before it `lo`.
/// `None` if the move does not have that shape (a posted move is never trusted).
pub fn select(lo: u64, hi: u64, positions: &[u64], a: &[Hash], b: &[Hash]) -> Option<(u64, u64)> {
    let (expected, count) = points(lo, hi);
    if count == 0 || positions != &expected[..count] || a.len() != count || b.len() != count {
        return None;
    }
    Some(match first_difference(a, b) {
        Some(0) => (lo, positions[0]),
        Some(j) => (positions[j - 1], positions[j]),
        None => (positions[count - 1], hi),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_split_a_segment_into_at_most_sixteen() {
        let (p, n) = points(0, 4096);
        assert_eq!(n, 15);
        assert_eq!(p[0], 256);
        assert_eq!(p[14], 3840);
        let (p, n) = points(10, 14);
        assert_eq!(&p[..n], &[11, 12, 13]);
        let (_, n) = points(5, 6);
        assert_eq!(n, 0, "a one-step segment is the referee's");
        // Every segment the selection can keep is shorter than the one before.
        for (lo, hi) in [(0u64, 17u64), (3, 1000), (0, 1 << 40)] {
            let (p, n) = points(lo, hi);
            let mut bounds = vec![lo];
            bounds.extend_from_slice(&p[..n]);
            bounds.push(hi);
            assert!(bounds
                .windows(2)
                .all(|w| w[0] < w[1] && w[1] - w[0] <= (hi - lo).div_ceil(16)));
        }
    }

    #[test]
    fn select_keeps_the_first_disagreement() {
        let positions = [1, 2, 3];
        let h = |x: u8| [x; 32];
        let a = [h(1), h(2), h(3)];
        assert_eq!(
            select(0, 4, &positions, &a, &[h(1), h(9), h(3)]),
            Some((1, 2))
        );
        assert_eq!(
            select(0, 4, &positions, &a, &[h(0), h(2), h(3)]),
            Some((0, 1))
        );
        assert_eq!(select(0, 4, &positions, &a, &a), Some((3, 4)));
        // Moves of the wrong shape: other positions, too few or too many hashes, a one-step
        // segment.
        assert_eq!(select(0, 4, &[1, 3], &a[..2], &a[..2]), None);
        assert_eq!(select(0, 4, &positions, &a[..2], &a), None);
        assert_eq!(
            select(0, 4, &positions, &a, &[h(1), h(2), h(3), h(4)]),
            None
        );
        assert_eq!(select(5, 6, &[], &[], &[]), None);
    }

    /// A stand-in hasher for checks that must fail before hashing anything matters.
    struct NoHash;
    impl Hasher for NoHash {
        fn hashv(parts: &[&[u8]]) -> Hash {
            let mut out = [0u8; 32];
            for (i, b) in parts.iter().flat_map(|p| p.iter()).enumerate() {
                out[i % 32] ^= b;
            }
            out
        }
    }

    #[test]
    fn descendants_cover_the_node_and_stop_at_the_edge() {
        // 100 cells: level 4 has 7 nodes, the last covering cells 96..100.
        let len = 100 * 32;
        assert_eq!(height(len), 7);
        assert_eq!(descendants(len, 7, 0), Some((3, 0, 13)));
        assert_eq!(descendants(len, 4, 6), Some((0, 96, 100)));
        assert_eq!(descendants(len, 2, 24), Some((0, 96, 100)));
        assert_eq!(descendants(32, 0, 0), Some((0, 0, 1)));
        // Nodes outside the tree (found by review: an underflow, and a shift that wrapped a
        // huge index onto node 0's children).
        assert_eq!(descendants(len, 4, 7), None);
        assert_eq!(descendants(len, 4, 1 << 60), None);
        let cells: Vec<Hash> = (0..16u8).map(|i| [i; 32]).collect();
        assert!(!verify_descent::<NoHash>(len, 4, 1 << 60, &[0; 32], &cells));
    }
}
