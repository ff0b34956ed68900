//! Stake-weighted sortition of replica slots, and the job seeds it draws from.
use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use crate::constants::*;
use crate::error::TesseraError;

/// Address of the SlotHashes sysvar.
pub const SLOT_HASHES_ID: Pubkey = pubkey!("SysvarS1otHashes111111111111111111111111111");

/// The SlotHashes sysvar's data, read straight from the account: bincode
/// `Vec<(u64 slot, [u8; 32] hash)>`, newest first. Checks the account's address.
struct SlotHashesData<'a> {
    data: std::cell::Ref<'a, &'a mut [u8]>,
}

impl<'a> SlotHashesData<'a> {
    fn read(slot_hashes: &'a AccountInfo) -> Result<Self> {
        require_keys_eq!(
            *slot_hashes.key,
            SLOT_HASHES_ID,
            TesseraError::WrongSlotHashes
        );
        Ok(Self {
            data: slot_hashes.try_borrow_data()?,
        })
    }

    fn u64_at(&self, at: usize) -> Result<u64> {
        self.data
            .get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| error!(TesseraError::WrongSlotHashes))
    }

    /// Entries held (at most [`SLOT_HASHES_MAX_ENTRIES`]).
    fn len(&self) -> Result<usize> {
        Ok(usize::try_from(self.u64_at(0)?.min(SLOT_HASHES_MAX_ENTRIES)).unwrap_or(0))
    }

    fn slot(&self, index: usize) -> Result<u64> {
        self.u64_at(8 + 40 * index)
    }

    fn hash(&self, index: usize) -> Result<[u8; 32]> {
        let at = 8 + 40 * index + 8;
        self.data
            .get(at..at + 32)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| error!(TesseraError::WrongSlotHashes))
    }
}

/// The hash of the most recent slot in the SlotHashes sysvar (its first entry).
pub fn latest_slot_hash(slot_hashes: &AccountInfo) -> Result<[u8; 32]> {
    let sysvar = SlotHashesData::read(slot_hashes)?;
    require!(sysvar.len()? > 0, TesseraError::WrongSlotHashes);
    sysvar.hash(0)
}

/// The hash of the oldest slot at or after `target` that is final now (strictly before
/// `current_slot`), from the SlotHashes sysvar (entries newest first, so a binary search):
/// `Ok(Some((slot, hash)))`; `Ok(None)` when `target` has aged out of the sysvar (its oldest
/// entry is later and the sysvar is full); `AuditNotReady` when no such slot is on chain yet.
pub fn slot_hash_at_or_after(
    slot_hashes: &AccountInfo,
    target: u64,
    current_slot: u64,
) -> Result<Option<(u64, [u8; 32])>> {
    let sysvar = SlotHashesData::read(slot_hashes)?;
    let entries = sysvar.len()?;
    // Entries are sorted by slot, descending: count those with slot >= target.
    let (mut lo, mut hi) = (0usize, entries);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if sysvar.slot(mid)? >= target {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let index = lo.checked_sub(1).ok_or(TesseraError::AuditNotReady)?;
    let slot = sysvar.slot(index)?;
    require!(slot < current_slot, TesseraError::AuditNotReady);
    if index + 1 == entries && entries as u64 == SLOT_HASHES_MAX_ENTRIES && slot > target {
        return Ok(None);
    }
    Ok(Some((slot, sysvar.hash(index)?)))
}

/// The first 8 bytes of a hash, little-endian: a uniform draw in `0..2^64`.
fn first_u64(hash: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first)
}

/// Whether a spot-check job is audited: the first 8 bytes (LE) of
/// `sha256(domain ‖ job seed ‖ slot hash)`, read as a fraction of 2^64, below `audit_bps`.
pub fn audit_drawn(job_seed: &[u8; 32], slot_hash: &[u8; 32], audit_bps: u16) -> bool {
    let draw = first_u64(&hashv(&[AUDIT_DRAW_DOMAIN, job_seed, slot_hash]).to_bytes());
    u128::from(draw) * u128::from(MAX_BPS) < u128::from(audit_bps) << 64
}

/// Seed of a spot-check job's audit round.
pub fn audit_seed(job_seed: &[u8; 32], slot_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[AUDIT_SEED_DOMAIN, job_seed, slot_hash]).to_bytes()
}

/// Seed of a job's first round: the job's address and the latest slot hash when it was posted.
pub fn job_seed(job: &Pubkey, slot_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[JOB_SEED_DOMAIN, job.as_ref(), slot_hash]).to_bytes()
}

/// Seed of a job's escalation round: the first seed and the latest slot hash at escalation.
pub fn escalation_seed(job_seed: &[u8; 32], slot_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[ESCALATION_SEED_DOMAIN, job_seed, slot_hash]).to_bytes()
}

/// A node's ticket for a round: the first 8 bytes (LE) of `sha256(domain ‖ seed ‖ node)`.
pub fn ticket(seed: &[u8; 32], node: &Pubkey) -> u64 {
    first_u64(&hashv(&[TICKET_DOMAIN, seed, node.as_ref()]).to_bytes())
}

/// Sortition weight of a node: active stake × its reputation factor.
pub fn weight(stake: u64, weight_factor_bps: u64) -> u64 {
    crate::math::mul_bps(stake, weight_factor_bps)
}

/// Whether `ticket` wins priority: `ticket / 2^64 < slots × PRIORITY_OVERSUBSCRIPTION × weight
/// / sortition_weight`, so the chance is proportional to weight (capped at 1).
pub fn wins_priority(ticket: u64, weight: u64, slots: u8, sortition_weight: u64) -> bool {
    let scaled = u128::from(weight) * u128::from(slots) * u128::from(PRIORITY_OVERSUBSCRIPTION);
    let total = u128::from(sortition_weight.max(1));
    if scaled >= total {
        return true;
    }
    // scaled < total < 2^64, so the shift cannot overflow; ticket × total < 2^128.
    u128::from(ticket) * total < scaled << 64
}

/// The commitment a replica publishes: `sha256(result_root ‖ node ‖ salt)`. Binding the node's
/// address makes a copied commitment useless to anyone else.
pub fn commitment(result_root: &[u8; 32], node: &Pubkey, salt: &[u8; 32]) -> [u8; 32] {
    hashv(&[result_root, node.as_ref(), salt]).to_bytes()
}
