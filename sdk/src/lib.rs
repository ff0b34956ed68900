//! The one client SDK of Tessera: PDA helpers, an instruction builder per program
//! instruction, account decoding, and the [`chain::Chain`] trait with an RPC implementation
//! and (feature `in-process`) an in-process bank. Workers, the CLI and the tests all go
//! through it.

pub mod chain;
pub mod events;
pub mod game;
#[cfg(feature = "in-process")]
pub mod in_process;
pub mod instructions;
pub mod pda;
pub mod rpc;
pub mod token;
pub mod transaction;
pub mod verification;

pub use chain::{AccountFilter, Chain, ChainError};
pub use rpc::RpcChain;
/// The program crate, for its account, argument and error types.
pub use tessera;
