//! How clients meet a chain: one trait, implemented over RPC ([`crate::rpc::RpcChain`]) and,
//! behind the `in-process` feature, over an in-process bank ([`crate::in_process`]).
use std::future::Future;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_account::Account;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The transaction reached the runtime and failed there.
    #[error("transaction failed: {error}{}", format_logs(logs))]
    Transaction {
        error: TransactionError,
        logs: Vec<String>,
    },
    /// The node could not be reached or answered with an error.
    #[error("rpc: {0}")]
    Rpc(String),
    /// An account's bytes are not what the caller asked for.
    #[error("decode: {0}")]
    Decode(String),
    /// An instruction could not be built from the given inputs.
    #[error("build: {0}")]
    Build(String),
    /// The in-process bank could not be set up.
    #[error("setup: {0}")]
    Setup(String),
}

fn format_logs(logs: &[String]) -> String {
    if logs.is_empty() {
        String::new()
    } else {
        format!("\nprogram logs:\n  {}", logs.join("\n  "))
    }
}

impl ChainError {
    /// The runtime error, if the transaction failed in the runtime.
    pub fn transaction_error(&self) -> Option<&TransactionError> {
        match self {
            ChainError::Transaction { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The custom program error code (Anchor's and ours, 6000+), if an instruction returned one.
    pub fn custom_code(&self) -> Option<u32> {
        use solana_instruction_error::InstructionError;
        match self.transaction_error()? {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
            _ => None,
        }
    }
}

/// Filters for [`Chain::program_accounts`], applied by the node (RPC) or the bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountFilter {
    /// Account data at `offset` equals `bytes`.
    Memcmp { offset: usize, bytes: Vec<u8> },
    /// Account data is exactly this long.
    DataSize(u64),
}

impl AccountFilter {
    pub fn matches(&self, data: &[u8]) -> bool {
        match self {
            AccountFilter::Memcmp { offset, bytes } => data
                .get(*offset..)
                .and_then(|rest| rest.get(..bytes.len()))
                .is_some_and(|window| window == bytes.as_slice()),
            AccountFilter::DataSize(len) => data.len() as u64 == *len,
        }
    }
}

/// A chain the SDK can talk to. Every future is `Send`, so workers can spawn them.
pub trait Chain: Send + Sync {
    /// Signs `instructions` with `payer` (fee payer) and `signers`, sends, and waits for it to land.
    fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> impl Future<Output = Result<Signature, ChainError>> + Send;

    /// One account, or `None` if it does not exist.
    fn account(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Option<Account>, ChainError>> + Send;

    /// Many accounts in one call, in the order asked.
    fn accounts(
        &self,
        addresses: &[Pubkey],
    ) -> impl Future<Output = Result<Vec<Option<Account>>, ChainError>> + Send;

    /// All accounts owned by `program` that pass every filter.
    fn program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> impl Future<Output = Result<Vec<(Pubkey, Account)>, ChainError>> + Send;

    /// The cluster clock.
    fn clock(&self) -> impl Future<Output = Result<Clock, ChainError>> + Send;

    /// A recent blockhash for building transactions by hand.
    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, ChainError>> + Send;
}

macro_rules! forward_chain {
    ($($ty:ty),*) => {$(
        impl<T: Chain + ?Sized> Chain for $ty {
            fn send(
                &self,
                instructions: &[Instruction],
                payer: &Keypair,
                signers: &[&Keypair],
            ) -> impl Future<Output = Result<Signature, ChainError>> + Send {
                (**self).send(instructions, payer, signers)
            }
            fn account(
                &self,
                address: &Pubkey,
            ) -> impl Future<Output = Result<Option<Account>, ChainError>> + Send {
                (**self).account(address)
            }
            fn accounts(
                &self,
                addresses: &[Pubkey],
            ) -> impl Future<Output = Result<Vec<Option<Account>>, ChainError>> + Send {
                (**self).accounts(addresses)
            }
            fn program_accounts(
                &self,
                program: &Pubkey,
                filters: &[AccountFilter],
            ) -> impl Future<Output = Result<Vec<(Pubkey, Account)>, ChainError>> + Send {
                (**self).program_accounts(program, filters)
            }
            fn clock(&self) -> impl Future<Output = Result<Clock, ChainError>> + Send {
                (**self).clock()
            }
            fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, ChainError>> + Send {
                (**self).latest_blockhash()
            }
        }
    )*};
}

// A borrowed or shared chain is a chain: tests lend theirs, daemons share one between tasks.
forward_chain!(&T, std::sync::Arc<T>);

/// Decodes an Anchor account of type `T` (checks its discriminator).
pub fn decode<T: AccountDeserialize>(address: &Pubkey, data: &[u8]) -> Result<T, ChainError> {
    let mut slice = data;
    T::try_deserialize(&mut slice).map_err(|e| {
        ChainError::Decode(format!(
            "account {address} is not a {}: {e}",
            std::any::type_name::<T>()
        ))
    })
}

/// Reads and decodes one Anchor account; `None` if it does not exist.
pub async fn fetch<T: AccountDeserialize, C: Chain + ?Sized>(
    chain: &C,
    address: &Pubkey,
) -> Result<Option<T>, ChainError> {
    match chain.account(address).await? {
        Some(account) => decode(address, &account.data).map(Some),
        None => Ok(None),
    }
}

/// The filter that selects accounts of Anchor type `T` (its discriminator).
pub fn type_filter<T: Discriminator>() -> AccountFilter {
    AccountFilter::Memcmp {
        offset: 0,
        bytes: T::DISCRIMINATOR.to_vec(),
    }
}

/// Lists every account of Anchor type `T` owned by the program, with extra `filters`.
pub async fn list<T: AccountDeserialize + Discriminator, C: Chain + ?Sized>(
    chain: &C,
    filters: &[AccountFilter],
) -> Result<Vec<(Pubkey, T)>, ChainError> {
    let mut all = vec![type_filter::<T>()];
    all.extend_from_slice(filters);
    chain
        .program_accounts(&tessera::ID, &all)
        .await?
        .into_iter()
        .map(|(address, account)| Ok((address, decode(&address, &account.data)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memcmp_filter_matches_only_inside_the_data() {
        let f = AccountFilter::Memcmp {
            offset: 2,
            bytes: vec![3, 4],
        };
        assert!(f.matches(&[1, 2, 3, 4, 5]));
        assert!(!f.matches(&[1, 2, 3, 5]));
        assert!(!f.matches(&[1, 2, 3]));
        let beyond = AccountFilter::Memcmp {
            offset: 9,
            bytes: vec![],
        };
        assert!(!beyond.matches(&[0; 4]));
        assert!(AccountFilter::DataSize(3).matches(&[0; 3]));
        assert!(!AccountFilter::DataSize(3).matches(&[0; 4]));
    }

    #[test]
    fn custom_code_extracts_program_errors() {
        use solana_instruction_error::InstructionError;
        let err = ChainError::Transaction {
            error: TransactionError::InstructionError(0, InstructionError::Custom(6001)),
            logs: vec![],
        };
        assert_eq!(err.custom_code(), Some(6001));
        assert_eq!(ChainError::Rpc("down".into()).custom_code(), None);
    }

    #[test]
    fn decode_rejects_wrong_discriminator() {
        let err = decode::<tessera::state::Config>(&Pubkey::new_unique(), &[0u8; 64]).unwrap_err();
        assert!(matches!(err, ChainError::Decode(_)));
    }
}
