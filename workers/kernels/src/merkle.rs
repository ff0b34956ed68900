//! Result and input roots: the commitment tree of `tessera_step::tree` (32-byte cells under a
//! SHA-256 Merkle tree, sealed with the length) built with software SHA-256, 4 KiB chunk by
//! chunk in parallel.
//!
//! Two kinds of proof come out of it: a chunk's (a worker serving a result piecewise, a
//! partial download) and a cell's (one element, which a dispute opens on chain; see
//! `tessera_step`). Both check against the same root.
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tessera_step::tree::{self, CHUNK_LEVEL};
pub use tessera_step::tree::{cell_count, chunk_count, Hash, CELL, CHUNK as CHUNK_SIZE};

/// Software SHA-256 for the tree.
pub struct Sha2;

impl tree::Hasher for Sha2 {
    fn hashv(parts: &[&[u8]]) -> Hash {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }
}

fn chunks(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.is_empty() {
        vec![&[]]
    } else {
        bytes.chunks(CHUNK_SIZE).collect()
    }
}

/// The subtree roots of every chunk (the tree's level [`CHUNK_LEVEL`]), in parallel.
fn chunk_roots(bytes: &[u8]) -> Vec<Hash> {
    chunks(bytes)
        .par_iter()
        .map(|c| tree::subtree::<Sha2>(c))
        .collect()
}

fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => tree::node::<Sha2>(left, right),
            [last] => *last,
            _ => unreachable!("chunks(2) yields one or two"),
        })
        .collect()
}

/// Every level from `base` up to the top.
fn levels_from(base: Vec<Hash>) -> Vec<Vec<Hash>> {
    let mut levels = vec![base];
    while levels.last().map_or(0, Vec::len) > 1 {
        let next = parent_level(levels.last().expect("a level"));
        levels.push(next);
    }
    levels
}

fn siblings(levels: &[Vec<Hash>], mut position: usize) -> Vec<Hash> {
    let mut out = Vec::new();
    for level in &levels[..levels.len() - 1] {
        if position ^ 1 < level.len() {
            out.push(level[position ^ 1]);
        }
        position /= 2;
    }
    out
}

/// The root of `bytes`: a job's result root, or its input root.
pub fn root(bytes: &[u8]) -> Hash {
    let levels = levels_from(chunk_roots(bytes));
    tree::seal::<Sha2>(bytes.len() as u64, &levels.last().expect("a level")[0])
}

/// The sibling hashes from a chunk (or a cell) up to the top of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub index: u64,
    pub siblings: Vec<Hash>,
}

/// A proof that chunk `index` of `bytes` is under [`root`]`(bytes)`.
pub fn prove(bytes: &[u8], index: u64) -> Option<Proof> {
    let roots = chunk_roots(bytes);
    let position = usize::try_from(index).ok()?;
    if position >= roots.len() {
        return None;
    }
    Some(Proof {
        index,
        siblings: siblings(&levels_from(roots), position),
    })
}

/// Whether `chunk` is chunk `proof.index` of a `len`-byte string whose root is `root`.
pub fn verify(root: &Hash, len: u64, chunk: &[u8], proof: &Proof) -> bool {
    tree::verify_chunk::<Sha2>(root, len, proof.index, chunk, &proof.siblings)
}

/// Cell `index` of `bytes` and its proof: one element's opening, as a dispute posts it.
pub fn open_cell(bytes: &[u8], index: u64) -> Option<(Vec<u8>, Proof)> {
    let (start, end) = tree::cell_range(bytes.len() as u64, index)?;
    let cell = bytes[start as usize..end as usize].to_vec();
    // Inside the chunk: the chunk's own levels from its cells.
    let per_chunk = (CHUNK_SIZE / CELL) as u64;
    let chunk = (index / per_chunk) as usize;
    let chunk_bytes = chunks(bytes)[chunk];
    let cells: Vec<Hash> = if chunk_bytes.is_empty() {
        vec![tree::leaf::<Sha2>(&[])]
    } else {
        chunk_bytes.chunks(CELL).map(tree::leaf::<Sha2>).collect()
    };
    let mut path = siblings(&levels_from(cells), (index % per_chunk) as usize);
    // Above it: the chunk's proof.
    path.extend(prove(bytes, chunk as u64)?.siblings);
    debug_assert_eq!(
        path.len(),
        tree::proof_len(bytes.len() as u64, 0, index),
        "cell proofs climb the one tree"
    );
    Some((
        cell,
        Proof {
            index,
            siblings: path,
        },
    ))
}

/// Whether `cell` is cell `proof.index` of a `len`-byte string whose root is `root`.
pub fn verify_cell(root: &Hash, len: u64, cell: &[u8], proof: &Proof) -> bool {
    tree::verify_cell::<Sha2>(root, len, proof.index, cell, &proof.siblings)
}

/// Level of a chunk's root in the tree (cells are level 0).
pub const CHUNK_ROOT_LEVEL: u32 = CHUNK_LEVEL;

#[cfg(test)]
mod tests {
    use super::*;

    fn output(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
    }

    #[test]
    fn every_chunk_proves_and_nothing_else_does() {
        for len in [0, 1, 4095, 4096, 4097, 3 * 4096, 5 * 4096 + 1, 9 * 4096] {
            let data = output(len);
            let root = root(&data);
            let count = chunk_count(len as u64);
            for index in 0..count {
                let proof = prove(&data, index).unwrap();
                let start = (index as usize) * CHUNK_SIZE;
                let chunk = &data[start.min(len)..(start + CHUNK_SIZE).min(len)];
                assert!(
                    verify(&root, len as u64, chunk, &proof),
                    "len {len} chunk {index}"
                );
                // A changed byte, another length, another index, a truncated proof: refused.
                if !chunk.is_empty() {
                    let mut bad = chunk.to_vec();
                    bad[0] ^= 1;
                    assert!(!verify(&root, len as u64, &bad, &proof));
                }
                assert!(!verify(&root, len as u64 + 1, chunk, &proof));
                if count > 1 {
                    let moved = Proof {
                        index: (index + 1) % count,
                        ..proof.clone()
                    };
                    assert!(!verify(&root, len as u64, chunk, &moved));
                    let mut short = proof.clone();
                    short.siblings.pop();
                    assert!(!verify(&root, len as u64, chunk, &short));
                }
            }
            assert!(prove(&data, count).is_none());
        }
    }

    #[test]
    fn every_cell_opens_and_nothing_else_does() {
        for len in [0, 5, 32, 33, 4096, 4097, 3 * 4096 + 100] {
            let data = output(len);
            let root = root(&data);
            let cells = cell_count(len as u64);
            for index in 0..cells {
                let (cell, proof) = open_cell(&data, index).unwrap();
                assert!(
                    verify_cell(&root, len as u64, &cell, &proof),
                    "len {len} cell {index}"
                );
                if !cell.is_empty() {
                    let mut bad = cell.clone();
                    bad[cell.len() - 1] ^= 0x40;
                    assert!(!verify_cell(&root, len as u64, &bad, &proof));
                }
                if cells > 1 {
                    let moved = Proof {
                        index: (index + 1) % cells,
                        ..proof.clone()
                    };
                    assert!(!verify_cell(&root, len as u64, &cell, &moved));
                    let mut long = proof.clone();
                    long.siblings.push([7; 32]);
                    assert!(!verify_cell(&root, len as u64, &cell, &long));
                }
            }
            assert!(open_cell(&data, cells).is_none());
        }
    }

    #[test]
    fn the_parallel_root_is_the_one_tree() {
        for len in [0, 31, 4096 * 2 + 64, 4096 * 7 + 1] {
            let data = output(len);
            assert_eq!(root(&data), tree::root::<Sha2>(&data), "len {len}");
        }
    }

    #[test]
    fn roots_bind_content_and_length() {
        assert_ne!(root(&[]), root(&[0]));
        assert_ne!(root(&[0; 4096]), root(&[0; 4097]));
        let mut data = output(10_000);
        let before = root(&data);
        data[9_999] ^= 0x80;
        assert_ne!(root(&data), before);
        // Domain separation: a one-cell tree's root is not the bare leaf hash.
        assert_ne!(root(b"abc"), tree::leaf::<Sha2>(b"abc"));
    }

    fn hex(h: Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn golden_roots_match_an_independent_implementation() {
        // Computed with Python's hashlib from the layout in `tessera_step::tree`'s
        // documentation (32-byte cells, odd node carried up, sealed with the length): a
        // change here breaks every worker's agreement with the chain.
        assert_eq!(
            hex(root(b"tessera")),
            "0e79c311e7d673670f280ed1d0e8cc6b544c6c69de69db91515fb7e4cb220e87"
        );
        assert_eq!(
            hex(root(&output(5000))),
            "f0df982907bee7aa6e5171eedcf73fc47673c94059ce20d248e71c9800c37942"
        );
        assert_eq!(
            hex(root(&output(20_000))),
            "0da34f8d7efae6fa3aab75e244c0d416410ddb269a3280cddb686b0317a1b3e7"
        );
        assert_eq!(
            hex(root(&[])),
            "c0e50f0d90d6e2fea1e6f53d4f758ed5fc9035a399a8eb215c29c6ff3ea05425"
        );
    }
}
