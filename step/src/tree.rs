//! The commitment tree of results and inputs.
//!
//! A byte string of `len` bytes is cut into cells of [`CELL`] bytes (the last may be shorter;
//! an empty string is one empty cell) and committed as:
//!
//! - leaf = `sha256(0x00 ‖ cell)`;
//! - inner node = `sha256(0x01 ‖ left ‖ right)`; a level with an odd count carries its last
//!   node up unchanged;
//! - root = `sha256(0x02 ‖ len as u64 LE ‖ tree root)`.
//!
//! One element (4 bytes of a matrix, one pixel) opens with its cell and the siblings on the
//! way up: `32 + 32 × ⌈log₂ cells⌉` bytes, 736 for a 128 MiB input — one Solana transaction.
//! A 4 KiB chunk (the unit workers serve) is the subtree of its 128 cells, the node at level
//! [`CHUNK_LEVEL`], so a chunk proves with the siblings above that level.
//!
//! The hash comes from the caller ([`Hasher`]): software SHA-256 off chain, the `sol_sha256`
//! syscall in the program. The layout is the same.

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 over the concatenation of `parts`.
pub trait Hasher {
    fn hashv(parts: &[&[u8]]) -> Hash;
}

/// Bytes per cell (leaf).
pub const CELL: usize = 32;
/// Bytes per chunk, the unit a worker serves with a proof.
pub const CHUNK: usize = 4096;
/// The level of a chunk's subtree root (`CHUNK / CELL = 2^CHUNK_LEVEL` cells).
pub const CHUNK_LEVEL: u32 = 7;
/// The level of the pieces a job's input is loaded on chain in, for a referee step that reads
/// more of it than one transaction carries (a render's scene): 16 cells, 512 bytes.
pub const INPUT_PIECE_LEVEL: u32 = 4;
/// The most levels a tree climbs (2^48 cells: far beyond any job).
pub const MAX_LEVELS: u32 = 48;

const LEAF: u8 = 0;
const NODE: u8 = 1;
const ROOT: u8 = 2;

pub fn leaf<H: Hasher>(cell: &[u8]) -> Hash {
    H::hashv(&[&[LEAF], cell])
}

pub fn node<H: Hasher>(left: &Hash, right: &Hash) -> Hash {
    H::hashv(&[&[NODE], left, right])
}

/// The root of a tree whose top node is `tree`, over `len` bytes.
pub fn seal<H: Hasher>(len: u64, tree: &Hash) -> Hash {
    H::hashv(&[&[ROOT], &len.to_le_bytes(), tree])
}

/// Cells of a `len`-byte string.
pub fn cell_count(len: u64) -> u64 {
    len.div_ceil(CELL as u64).max(1)
}

/// Chunks of a `len`-byte string.
pub fn chunk_count(len: u64) -> u64 {
    len.div_ceil(CHUNK as u64).max(1)
}

/// Nodes at `level` (0: the leaves) of the tree over `len` bytes.
pub fn width(len: u64, level: u32) -> u64 {
    if level >= 64 {
        return 1;
    }
    cell_count(len).div_ceil(1u64 << level)
}

/// The byte range of cell `index` of a `len`-byte string (`None` past the end).
pub fn cell_range(len: u64, index: u64) -> Option<(u64, u64)> {
    if index >= cell_count(len) {
        return None;
    }
    let start = index * CELL as u64;
    Some((start, (start + CELL as u64).min(len)))
}

/// The cell holding byte `offset`, and the offset within it.
pub fn cell_of(offset: u64) -> (u64, usize) {
    (offset / CELL as u64, (offset % CELL as u64) as usize)
}

/// Climbs from the node at (`level`, `index`) whose hash is `hash` to the top of the tree over
/// `len` bytes, taking one sibling from `siblings` wherever the node has one. `None` if the
/// position is outside the tree or the siblings are not exactly the ones needed.
pub fn climb<H: Hasher>(
    len: u64,
    level: u32,
    index: u64,
    mut hash: Hash,
    siblings: &[Hash],
) -> Option<Hash> {
    let mut width = width(len, level);
    if index >= width {
        return None;
    }
    let mut position = index;
    let mut siblings = siblings.iter();
    let mut climbed = 0;
    while width > 1 {
        climbed += 1;
        if climbed > MAX_LEVELS {
            return None;
        }
        let sibling = position ^ 1;
        if sibling < width {
            let s = siblings.next()?;
            hash = if position.is_multiple_of(2) {
                node::<H>(&hash, s)
            } else {
                node::<H>(s, &hash)
            };
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    siblings.next().is_none().then_some(hash)
}

/// Siblings a proof from (`level`, `index`) carries in the tree over `len` bytes.
pub fn proof_len(len: u64, level: u32, index: u64) -> usize {
    let (mut width, mut position, mut count) = (width(len, level), index, 0);
    while width > 1 {
        if position ^ 1 < width {
            count += 1;
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    count
}

/// Whether `cell` is cell `index` of a `len`-byte string whose root is `root`.
pub fn verify_cell<H: Hasher>(
    root: &Hash,
    len: u64,
    index: u64,
    cell: &[u8],
    siblings: &[Hash],
) -> bool {
    let Some((start, end)) = cell_range(len, index) else {
        return false;
    };
    if cell.len() as u64 != end - start {
        return false;
    }
    climb::<H>(len, 0, index, leaf::<H>(cell), siblings)
        .is_some_and(|top| seal::<H>(len, &top) == *root)
}

/// The subtree root of consecutive cells (`bytes` cut into cells; the last may be shorter),
/// with the odd-node rule: for an aligned run of `2^l` cells this is the tree's node at level
/// `l`; for a whole string it is the tree's top. No allocation: a stack of pending subtrees.
pub fn subtree<H: Hasher>(bytes: &[u8]) -> Hash {
    if bytes.is_empty() {
        return leaf::<H>(&[]);
    }
    let mut stack = [(0u32, [0u8; 32]); MAX_LEVELS as usize + 1];
    let mut depth = 0usize;
    for cell in bytes.chunks(CELL) {
        let mut entry = (0u32, leaf::<H>(cell));
        while depth > 0 && stack[depth - 1].0 == entry.0 {
            depth -= 1;
            entry = (entry.0 + 1, node::<H>(&stack[depth].1, &entry.1));
        }
        stack[depth] = entry;
        depth += 1;
    }
    // What is left are the left-to-right subtrees of decreasing height; under the odd-node
    // rule the rightmost is carried up to meet each one on its left.
    let mut top = stack[depth - 1].1;
    for (_, left) in stack[..depth - 1].iter().rev() {
        top = node::<H>(left, &top);
    }
    top
}

/// The root of `bytes` (for strings small enough to hash in one call; the kernels build large
/// ones chunk by chunk in parallel, to the same root).
pub fn root<H: Hasher>(bytes: &[u8]) -> Hash {
    seal::<H>(bytes.len() as u64, &subtree::<H>(bytes))
}

/// Whether `chunk` is chunk `index` of a `len`-byte string whose root is `root`.
pub fn verify_chunk<H: Hasher>(
    root: &Hash,
    len: u64,
    index: u64,
    chunk: &[u8],
    siblings: &[Hash],
) -> bool {
    verify_piece::<H>(root, len, CHUNK_LEVEL, index, chunk, siblings)
}

/// The byte range of piece `index` at `level` (the `2^level` cells under node (`level`,
/// `index`)) of a `len`-byte string; `None` past the end.
pub fn piece_range(len: u64, level: u32, index: u64) -> Option<(u64, u64)> {
    if level > MAX_LEVELS || index >= width(len, level) {
        return None;
    }
    let size = (CELL as u64) << level;
    let start = index.checked_mul(size)?;
    Some((start, start.saturating_add(size).min(len)))
}

/// Whether `piece` is piece `index` at `level` of a `len`-byte string whose root is `root`
/// (a chunk is the piece at [`CHUNK_LEVEL`]).
pub fn verify_piece<H: Hasher>(
    root: &Hash,
    len: u64,
    level: u32,
    index: u64,
    piece: &[u8],
    siblings: &[Hash],
) -> bool {
    let Some((start, end)) = piece_range(len, level, index) else {
        return false;
    };
    if piece.len() as u64 != end - start {
        return false;
    }
    climb::<H>(len, level, index, subtree::<H>(piece), siblings)
        .is_some_and(|top| seal::<H>(len, &top) == *root)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};
    use std::vec::Vec;

    struct Sha2;
    impl Hasher for Sha2 {
        fn hashv(parts: &[&[u8]]) -> Hash {
            let mut h = Sha256::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().into()
        }
    }

    /// The tree level by level, as the module documentation states it.
    fn levels(bytes: &[u8]) -> Vec<Vec<Hash>> {
        let cells: Vec<&[u8]> = if bytes.is_empty() {
            std::vec![&[][..]]
        } else {
            bytes.chunks(CELL).collect()
        };
        let mut levels = std::vec![cells.iter().map(|c| leaf::<Sha2>(c)).collect::<Vec<_>>()];
        while levels.last().unwrap().len() > 1 {
            let next = levels
                .last()
                .unwrap()
                .chunks(2)
                .map(|p| {
                    if p.len() == 2 {
                        node::<Sha2>(&p[0], &p[1])
                    } else {
                        p[0]
                    }
                })
                .collect();
            levels.push(next);
        }
        levels
    }

    fn path(levels: &[Vec<Hash>], level: usize, mut position: usize) -> Vec<Hash> {
        let mut out = Vec::new();
        for l in &levels[level..levels.len() - 1] {
            if position ^ 1 < l.len() {
                out.push(l[position ^ 1]);
            }
            position /= 2;
        }
        out
    }

    proptest! {
        #[test]
        fn openings_verify_and_tampering_fails(
            bytes in proptest::collection::vec(any::<u8>(), 0..20_000),
            pick in any::<u64>(),
        ) {
            let levels = levels(&bytes);
            let len = bytes.len() as u64;
            let root = seal::<Sha2>(len, &levels.last().unwrap()[0]);
            prop_assert_eq!(super::root::<Sha2>(&bytes), root);
            prop_assert_eq!(width(len, 0), levels[0].len() as u64);
            // A cell.
            let index = pick % cell_count(len);
            let (start, end) = cell_range(len, index).unwrap();
            let cell = &bytes[start as usize..end as usize];
            let siblings = path(&levels, 0, index as usize);
            prop_assert_eq!(siblings.len(), proof_len(len, 0, index));
            prop_assert!(verify_cell::<Sha2>(&root, len, index, cell, &siblings));
            prop_assert!(!verify_cell::<Sha2>(&root, len + 1, index, cell, &siblings));
            if !cell.is_empty() {
                let mut bad = cell.to_vec();
                bad[0] ^= 1;
                prop_assert!(!verify_cell::<Sha2>(&root, len, index, &bad, &siblings));
            }
            if !siblings.is_empty() {
                prop_assert!(!verify_cell::<Sha2>(&root, len, index, cell, &siblings[1..]));
            }
            // A chunk: the subtree of its cells is the tree's node at CHUNK_LEVEL.
            let chunk = pick % chunk_count(len);
            let start = (chunk as usize) * CHUNK;
            let bytes_of = &bytes[start.min(bytes.len())..(start + CHUNK).min(bytes.len())];
            if (CHUNK_LEVEL as usize) < levels.len() {
                prop_assert_eq!(subtree::<Sha2>(bytes_of), levels[CHUNK_LEVEL as usize][chunk as usize]);
                let siblings = path(&levels, CHUNK_LEVEL as usize, chunk as usize);
                prop_assert!(verify_chunk::<Sha2>(&root, len, chunk, bytes_of, &siblings));
            } else {
                prop_assert!(verify_chunk::<Sha2>(&root, len, chunk, bytes_of, &[]));
            }
        }
    }

    #[test]
    fn out_of_range_positions_are_refused() {
        let bytes = [1u8; 100];
        let root = super::root::<Sha2>(&bytes);
        assert!(!verify_cell::<Sha2>(&root, 100, 4, &[], &[]));
        assert!(climb::<Sha2>(100, 0, 4, [0; 32], &[]).is_none());
        assert!(!verify_chunk::<Sha2>(&root, 100, 1, &[], &[]));
        assert_eq!(cell_range(100, 3), Some((96, 100)));
        assert_eq!(cell_count(0), 1);
    }
}
