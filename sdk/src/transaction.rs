//! Signing, shared by every [`crate::chain::Chain`] implementation.
use anchor_lang::solana_program::instruction::Instruction;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::chain::ChainError;

/// Builds and signs a legacy transaction; `payer` pays fees and signs, duplicates are ignored.
pub fn sign(
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
    blockhash: Hash,
) -> Result<Transaction, ChainError> {
    let mut all: Vec<&Keypair> = vec![payer];
    for signer in signers {
        if !all.iter().any(|k| k.pubkey() == signer.pubkey()) {
            all.push(signer);
        }
    }
    let mut tx = Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
    tx.try_sign(&all, blockhash)
        .map_err(|e| ChainError::Build(format!("signing: {e}")))?;
    Ok(tx)
}
