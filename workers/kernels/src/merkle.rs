//! Result roots: a job's output split into fixed-size chunks, hashed into a SHA-256 Merkle
//! tree with domain separation, and bound to the output's length.
//!
//! - leaf `i` = `sha256(0x00 ‖ chunk_i)`, chunks of [`CHUNK_SIZE`] bytes (the last may be
//!   shorter; an empty output is one empty chunk);
//! - inner node = `sha256(0x01 ‖ left ‖ right)`; a level with an odd count carries its last
//!   node up unchanged;
//! - root = `sha256(0x02 ‖ output length as u64 LE ‖ tree root)`.
//!
//! An inclusion proof lets anyone check a single chunk against the root (disputes, partial
//! downloads) without the rest of the output.
use sha2::{Digest, Sha256};

/// Bytes per chunk.
pub const CHUNK_SIZE: usize = 4096;

const LEAF: u8 = 0;
const NODE: u8 = 1;
const ROOT: u8 = 2;

pub type Hash = [u8; 32];

fn leaf(chunk: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([LEAF])
        .chain_update(chunk)
        .finalize()
        .into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([NODE])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

fn seal(len: u64, tree: &Hash) -> Hash {
    Sha256::new()
        .chain_update([ROOT])
        .chain_update(len.to_le_bytes())
        .chain_update(tree)
        .finalize()
        .into()
}

/// Number of chunks of an output of `len` bytes.
pub fn chunk_count(len: u64) -> u64 {
    len.div_ceil(CHUNK_SIZE as u64).max(1)
}

fn chunks(output: &[u8]) -> Vec<&[u8]> {
    if output.is_empty() {
        vec![&[]]
    } else {
        output.chunks(CHUNK_SIZE).collect()
    }
}

fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => node(left, right),
            [last] => *last,
            _ => unreachable!("chunks(2) yields one or two"),
        })
        .collect()
}

fn levels(output: &[u8]) -> Vec<Vec<Hash>> {
    let mut levels = vec![chunks(output).into_iter().map(leaf).collect::<Vec<_>>()];
    while levels.last().map_or(0, Vec::len) > 1 {
        let next = parent_level(levels.last().expect("a level"));
        levels.push(next);
    }
    levels
}

/// The result root of `output`.
pub fn root(output: &[u8]) -> Hash {
    let levels = levels(output);
    seal(output.len() as u64, &levels.last().expect("a level")[0])
}

/// The sibling hashes from a chunk up to the tree root (levels where the chunk's ancestor is
/// carried up unchanged have none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    pub index: u64,
    pub siblings: Vec<Hash>,
}

/// A proof that chunk `index` of `output` is under [`root`]`(output)`.
pub fn prove(output: &[u8], index: u64) -> Option<Proof> {
    let levels = levels(output);
    let mut position = usize::try_from(index).ok()?;
    if position >= levels[0].len() {
        return None;
    }
    let mut siblings = Vec::new();
    for level in &levels[..levels.len() - 1] {
        let sibling = position ^ 1;
        if sibling < level.len() {
            siblings.push(level[sibling]);
        }
        position /= 2;
    }
    Some(Proof { index, siblings })
}

/// Whether `chunk` is chunk `proof.index` of an output of `len` bytes whose root is `root`.
pub fn verify(root: &Hash, len: u64, chunk: &[u8], proof: &Proof) -> bool {
    let count = chunk_count(len);
    if proof.index >= count {
        return false;
    }
    let expected_len = if proof.index + 1 == count {
        len - proof.index * CHUNK_SIZE as u64
    } else {
        CHUNK_SIZE as u64
    };
    if chunk.len() as u64 != expected_len {
        return false;
    }
    let mut hash = leaf(chunk);
    let (mut position, mut width) = (proof.index, count);
    let mut siblings = proof.siblings.iter();
    while width > 1 {
        let sibling = position ^ 1;
        if sibling < width {
            let Some(s) = siblings.next() else {
                return false;
            };
            hash = if position % 2 == 0 {
                node(&hash, s)
            } else {
                node(s, &hash)
            };
        }
        position /= 2;
        width = width.div_ceil(2);
    }
    siblings.next().is_none() && seal(len, &hash) == *root
}

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
    fn roots_bind_content_and_length() {
        assert_ne!(root(&[]), root(&[0]));
        assert_ne!(root(&[0; 4096]), root(&[0; 4097]));
        let mut data = output(10_000);
        let before = root(&data);
        data[9_999] ^= 0x80;
        assert_ne!(root(&data), before);
        // Domain separation: a one-chunk tree's root is not the bare leaf hash.
        assert_ne!(root(b"abc"), leaf(b"abc"));
    }

    fn hex(h: Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn golden_roots_match_an_independent_implementation() {
        // Computed with Python's hashlib from the layout in this module's documentation:
        // a change here breaks every worker's agreement with the chain.
        assert_eq!(
            hex(root(b"tessera")),
            "0e79c311e7d673670f280ed1d0e8cc6b544c6c69de69db91515fb7e4cb220e87"
        );
        assert_eq!(
            hex(root(&output(5000))),
            "645d27d2cd137ca1de23f6cc5eb74aea143e6e8b6267c42a9f3f0cc88533d686"
        );
    }
}
