//! Addresses of every account the program derives.
use anchor_lang::prelude::Pubkey;
use tessera::constants::*;

/// The network config (also the vaults' token authority).
pub fn config() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CONFIG_SEED], &tessera::ID)
}

/// The program's ProgramData account under the upgradeable loader (holds its upgrade
/// authority, which `initialize` requires as signer).
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(
        &[tessera::ID.as_ref()],
        &tessera::instructions::initialize::BPF_LOADER_UPGRADEABLE_ID,
    )
    .0
}

/// Token account holding all operator stake.
pub fn stake_vault() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[STAKE_VAULT_SEED], &tessera::ID)
}

/// Token account holding every open job's escrow.
pub fn escrow_vault() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ESCROW_VAULT_SEED], &tessera::ID)
}

/// Token account receiving protocol fees and slashed stake.
pub fn treasury() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[TREASURY_SEED], &tessera::ID)
}

/// The `index`-th node of `operator`.
pub fn node(operator: &Pubkey, index: u16) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[NODE_SEED, operator.as_ref(), &index.to_le_bytes()],
        &tessera::ID,
    )
}

/// The job `submitter` posted with `nonce`.
pub fn job(submitter: &Pubkey, nonce: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[JOB_SEED, submitter.as_ref(), &nonce.to_le_bytes()],
        &tessera::ID,
    )
}

/// The dispute game between slots `slots[0] < slots[1]` of `job`.
pub fn game(job: &Pubkey, slots: [u8; 2]) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GAME_SEED, job.as_ref(), &slots], &tessera::ID)
}

/// The input buffer of `job` (`[INPUT_SEED, job]`): its input loaded on chain for the
/// referee.
pub fn input_buffer(job: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[INPUT_SEED, job.as_ref()], &tessera::ID)
}

/// The governance PDA: the config's authority once handed over.
pub fn governance() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GOVERNANCE_SEED], &tessera::ID)
}

/// Token account holding governance deposits and proposal deposits.
pub fn gov_vault() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[GOV_VAULT_SEED], &tessera::ID)
}

/// The governance deposit of `owner`.
pub fn voter(owner: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[VOTER_SEED, owner.as_ref()], &tessera::ID)
}

/// Proposal number `id`.
pub fn proposal(id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[PROPOSAL_SEED, &id.to_le_bytes()], &tessera::ID)
}

/// The vote of `voter` on `proposal`.
pub fn vote_record(proposal: &Pubkey, voter: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[VOTE_SEED, proposal.as_ref(), voter.as_ref()],
        &tessera::ID,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_distinct_per_seed() {
        let a = Pubkey::new_unique();
        let all = [
            config().0,
            stake_vault().0,
            escrow_vault().0,
            treasury().0,
            node(&a, 0).0,
            node(&a, 1).0,
            job(&a, 0).0,
            job(&a, 1).0,
            governance().0,
            gov_vault().0,
            voter(&a).0,
            proposal(0).0,
            proposal(1).0,
            vote_record(&proposal(0).0, &a).0,
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn derivation_matches_create_program_address() {
        let operator = Pubkey::new_unique();
        let (addr, bump) = node(&operator, 7);
        let again = Pubkey::create_program_address(
            &[NODE_SEED, operator.as_ref(), &7u16.to_le_bytes(), &[bump]],
            &tessera::ID,
        )
        .unwrap();
        assert_eq!(addr, again);
    }
}
