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

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` distinct nodes' tickets for one seed.
    fn tickets(seed: &[u8; 32], n: usize) -> Vec<u64> {
        (0..n)
            .map(|_| ticket(seed, &Pubkey::new_unique()))
            .collect()
    }

    #[test]
    fn priority_is_won_in_proportion_to_weight_and_capped_at_certainty() {
        let seed = job_seed(&Pubkey::new_unique(), &[3; 32]);
        let draws = tickets(&seed, 20_000);
        let rate = |weight: u64| {
            draws
                .iter()
                .filter(|t| wins_priority(**t, weight, 1, 1_000_000))
                .count() as f64
                / draws.len() as f64
        };
        // One slot, oversubscribed 3×: a node with 1 % of the weight wins about 3 % of the
        // time, one with 4 % about 12 %; the sampling error at 20,000 draws is about 0.2 %.
        let (small, large) = (rate(10_000), rate(40_000));
        assert!((small - 0.03).abs() < 0.006, "{small}");
        assert!((large - 0.12).abs() < 0.012, "{large}");
        // A third of the total weight or more (× 3 slots oversubscription) always wins; no
        // weight never does.
        assert!(draws
            .iter()
            .all(|t| wins_priority(*t, 333_334, 1, 1_000_000)));
        assert!(draws.iter().all(|t| !wins_priority(*t, 0, 1, 1_000_000)));
        // More slots, more winners: three slots win three times as often.
        let three = draws
            .iter()
            .filter(|t| wins_priority(**t, 10_000, 3, 1_000_000))
            .count() as f64
            / draws.len() as f64;
        assert!((three - 0.09).abs() < 0.01, "{three}");
        // A zero network weight is read as 1, not a division by zero.
        assert!(wins_priority(0, 1, 1, 0));
    }

    #[test]
    fn tickets_and_seeds_are_bound_to_their_inputs() {
        let job = Pubkey::new_unique();
        let seed = job_seed(&job, &[1; 32]);
        assert_ne!(
            seed,
            job_seed(&job, &[2; 32]),
            "another slot hash, another seed"
        );
        assert_ne!(seed, job_seed(&Pubkey::new_unique(), &[1; 32]));
        assert_ne!(escalation_seed(&seed, &[1; 32]), seed);
        assert_ne!(
            audit_seed(&seed, &[1; 32]),
            escalation_seed(&seed, &[1; 32])
        );
        let node = Pubkey::new_unique();
        assert_eq!(ticket(&seed, &node), ticket(&seed, &node));
        assert_ne!(
            ticket(&seed, &node),
            ticket(&escalation_seed(&seed, &[1; 32]), &node)
        );
    }

    #[test]
    fn audits_are_drawn_at_their_rate() {
        let drawn = (0u32..20_000)
            .filter(|i| {
                let mut hash = [0u8; 32];
                hash[..4].copy_from_slice(&i.to_le_bytes());
                audit_drawn(&[9; 32], &hash, 1_000)
            })
            .count();
        assert!((1_800..2_200).contains(&drawn), "{drawn} of 20000 at 10 %");
        assert!(!audit_drawn(&[9; 32], &[1; 32], 0));
        assert!(audit_drawn(&[9; 32], &[1; 32], MAX_BPS));
    }

    #[test]
    fn slot_hashes_are_searched_newest_first_and_checked() {
        let hash = |slot: u64| [slot as u8; 32];
        let slots = [105u64, 104, 102, 100];
        let mut data = (slots.len() as u64).to_le_bytes().to_vec();
        for slot in slots {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(&hash(slot));
        }
        let owner = Pubkey::default();
        let mut lamports = 1u64;
        let key = SLOT_HASHES_ID;
        let account = AccountInfo::new(&key, false, false, &mut lamports, &mut data, &owner, false);
        assert_eq!(latest_slot_hash(&account).unwrap(), hash(105));
        // The oldest slot at or after the target, final before the current slot.
        assert_eq!(
            slot_hash_at_or_after(&account, 101, 106).unwrap(),
            Some((102, hash(102)))
        );
        assert_eq!(
            slot_hash_at_or_after(&account, 100, 106).unwrap(),
            Some((100, hash(100)))
        );
        let not_ready = |target, current| {
            slot_hash_at_or_after(&account, target, current)
                .unwrap_err()
                .to_string()
                .contains("AuditNotReady")
        };
        assert!(not_ready(106, 107), "no slot at or after the target yet");
        assert!(
            not_ready(105, 105),
            "the slot is not final before the current one"
        );
        // Any other account is refused.
        let other = Pubkey::new_unique();
        let mut lamports = 1u64;
        let mut data2 = data.clone();
        let wrong = AccountInfo::new(
            &other,
            false,
            false,
            &mut lamports,
            &mut data2,
            &owner,
            false,
        );
        assert!(latest_slot_hash(&wrong)
            .unwrap_err()
            .to_string()
            .contains("WrongSlotHashes"));
    }
}
