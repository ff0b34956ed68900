//! [`Chain`] over an in-process bank: LiteSVM 0.16 with the real SPL Token program (BPF) and
//! the Tessera program loaded either natively (a builtin compiled into this process, good for
//! debugging) or as the SBPF `.so` that `scripts/build-sbf.sh` builds (the truth for compute
//! units, stack and heap). Time does not move by itself: callers set or advance the clock.
mod syscall_bridge;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_signature::Signature;
use solana_sysvar_v3::slot_hashes::SlotHashes;

use crate::chain::{AccountFilter, Chain, ChainError};
use crate::transaction::sign;

pub use syscall_bridge::install_syscall_bridge;

/// Environment variable choosing how tests load the program: `native` (default) or `sbf`.
pub const PROGRAM_MODE_ENV: &str = "TESSERA_PROGRAM_MODE";
/// Environment variable overriding where the `.so` is read from in `sbf` mode.
pub const PROGRAM_SO_ENV: &str = "TESSERA_PROGRAM_SO";
/// Unix time the bank's clock starts at (2026-01-01T00:00:00Z).
pub const GENESIS_UNIX_TIMESTAMP: i64 = 1_767_225_600;

/// How the Tessera program is loaded into the bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramMode {
    /// Compiled into this process and registered as a builtin.
    Native,
    /// The SBPF `.so` at this path, run by the VM with compute-unit metering.
    Sbf(PathBuf),
}

impl ProgramMode {
    /// Reads [`PROGRAM_MODE_ENV`]; in `sbf` mode the `.so` is [`PROGRAM_SO_ENV`] or
    /// `target/deploy/tessera.so` under `workspace_root`.
    pub fn from_env(workspace_root: &Path) -> Result<Self, ChainError> {
        match std::env::var(PROGRAM_MODE_ENV).as_deref() {
            Err(_) | Ok("") | Ok("native") => Ok(ProgramMode::Native),
            Ok("sbf") => Ok(ProgramMode::Sbf(match std::env::var(PROGRAM_SO_ENV) {
                Ok(path) if !path.is_empty() => PathBuf::from(path),
                _ => workspace_root.join("target/deploy/tessera.so"),
            })),
            Ok(other) => Err(ChainError::Setup(format!(
                "{PROGRAM_MODE_ENV}={other} is not a mode; use `native` or `sbf`"
            ))),
        }
    }
}

/// What a landed transaction reported.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub signature: Signature,
    pub logs: Vec<String>,
    pub compute_units: u64,
    /// What the last instruction set as return data (empty if none).
    pub return_data: Vec<u8>,
}

/// An in-process bank holding the Tessera program.
pub struct InProcessChain {
    svm: Mutex<LiteSVM>,
    mode: ProgramMode,
    /// Transactions submitted through [`InProcessChain::process`], landed or failed.
    transactions: AtomicU64,
}

impl InProcessChain {
    /// A fresh bank with the program loaded as `mode` says.
    pub fn new(mode: ProgramMode) -> Result<Self, ChainError> {
        let mut svm = LiteSVM::new();
        match &mode {
            ProgramMode::Native => {
                install_syscall_bridge()?;
                syscall_bridge::add_native_program(&mut svm)?;
            }
            ProgramMode::Sbf(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    ChainError::Setup(format!(
                        "cannot read the program at {}: {e}; build it with scripts/build-sbf.sh",
                        path.display()
                    ))
                })?;
                svm.add_program(tessera::ID, &bytes).map_err(|e| {
                    ChainError::Setup(format!("cannot load {}: {e:?}", path.display()))
                })?;
            }
        }
        let mut clock: Clock = svm.get_sysvar();
        clock.unix_timestamp = GENESIS_UNIX_TIMESTAMP;
        clock.epoch_start_timestamp = GENESIS_UNIX_TIMESTAMP;
        svm.set_sysvar(&clock);
        Ok(Self {
            svm: Mutex::new(svm),
            mode,
            transactions: AtomicU64::new(0),
        })
    }

    /// Transactions submitted so far (landed or failed; airdrops are not transactions).
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }

    pub fn mode(&self) -> &ProgramMode {
        &self.mode
    }

    /// Whether the program account holds a BPF program (true in `Sbf` mode) rather than a
    /// native builtin. Tests use it as a canary against a silent fall-back to native.
    pub fn program_is_bpf(&self) -> bool {
        self.svm()
            .get_account(&tessera::ID)
            .is_some_and(|a| a.owner != litesvm_native_loader())
    }

    fn svm(&self) -> MutexGuard<'_, LiteSVM> {
        // A panic while holding the lock leaves the bank as consistent as the runtime left
        // it; keep using it rather than poisoning every later call.
        self.svm.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Signs and processes one transaction with a fresh blockhash (so identical instructions
    /// sent twice are two transactions, as on a real cluster after a blockhash change).
    pub fn process(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<TxOutcome, ChainError> {
        let mut svm = self.svm();
        svm.expire_blockhash();
        // Each transaction lands in a slot of its own, as on a cluster where a node, its stake
        // and a job posted after them land in successive slots (the program orders them by
        // slot). Record the new blockhash as the slot's hash, so that programs reading the
        // SlotHashes sysvar see it change between transactions.
        let mut clock: Clock = svm.get_sysvar();
        clock.slot = clock.slot.saturating_add(1);
        svm.set_sysvar(&clock);
        let slot = clock.slot;
        let mut slot_hashes: SlotHashes = svm.get_sysvar();
        slot_hashes.add(slot, svm.latest_blockhash());
        svm.set_sysvar(&slot_hashes);
        let tx = sign(instructions, payer, signers, svm.latest_blockhash())?;
        self.transactions.fetch_add(1, Ordering::Relaxed);
        match svm.send_transaction(tx) {
            Ok(meta) => Ok(TxOutcome {
                signature: meta.signature,
                logs: meta.logs,
                compute_units: meta.compute_units_consumed,
                return_data: meta.return_data.data,
            }),
            Err(failed) => Err(ChainError::Transaction {
                error: failed.err,
                logs: failed.meta.logs,
            }),
        }
    }

    pub fn get_account(&self, address: &Pubkey) -> Option<Account> {
        self.svm().get_account(address)
    }

    /// Overwrites an account (test and simulation set-up only: it bypasses the programs).
    pub fn set_account(&self, address: &Pubkey, account: Account) -> Result<(), ChainError> {
        self.svm()
            .set_account(*address, account)
            .map_err(|e| ChainError::Setup(format!("set_account {address}: {e:?}")))
    }

    /// Makes `authority` the program's upgrade authority, as a deployer's `solana program
    /// deploy` would (the `.so` is loaded through the upgradeable loader with none; the
    /// native builtin has no ProgramData, and this does nothing for it). `initialize`
    /// requires that authority's signature.
    pub fn set_upgrade_authority(&self, authority: &Pubkey) -> Result<(), ChainError> {
        let address = crate::pda::program_data();
        let Some(mut account) = self.get_account(&address) else {
            return Ok(());
        };
        // Bincode `ProgramData { slot, upgrade_authority_address: Option<Pubkey> }` after its
        // tag: the option's tag at byte 12, the key at 13..45; the bytecode follows at 45.
        let header = account
            .data
            .get_mut(..45)
            .filter(|h| h[..4] == [3, 0, 0, 0])
            .ok_or_else(|| ChainError::Setup(format!("{address} is not a ProgramData account")))?;
        header[12] = 1;
        header[13..45].copy_from_slice(authority.as_ref());
        self.set_account(&address, account)
    }

    /// Gives `address` lamports out of thin air (test and demo set-up only).
    pub fn airdrop(&self, address: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        self.svm()
            .airdrop(address, lamports)
            .map(|_| ())
            .map_err(|failed| ChainError::Transaction {
                error: failed.err,
                logs: failed.meta.logs,
            })
    }

    pub fn rent_exempt_minimum(&self, data_len: usize) -> u64 {
        self.svm().minimum_balance_for_rent_exemption(data_len)
    }

    pub fn get_clock(&self) -> Clock {
        self.svm().get_sysvar()
    }

    /// Moves the clock `seconds` forward (and the slot by 2.5 slots a second).
    pub fn advance_time(&self, seconds: i64) {
        let mut svm = self.svm();
        let mut clock: Clock = svm.get_sysvar();
        clock.unix_timestamp = clock.unix_timestamp.saturating_add(seconds);
        let slots = u64::try_from(seconds.max(0)).unwrap_or(0).saturating_mul(5) / 2;
        clock.slot = clock.slot.saturating_add(slots.max(1));
        svm.set_sysvar(&clock);
    }

    /// Replaces the SlotHashes sysvar's entries (test set-up only: e.g. to age a slot out of
    /// it, as 512 slots of a real cluster would).
    pub fn set_slot_hashes(&self, entries: &[(u64, [u8; 32])]) {
        let entries: Vec<(u64, Hash)> = entries
            .iter()
            .map(|(slot, hash)| (*slot, Hash::new_from_array(*hash)))
            .collect();
        self.svm().set_sysvar(&SlotHashes::new(&entries));
    }

    /// Accounts owned by `program` passing every filter, ordered by address.
    pub fn scan(&self, program: &Pubkey, filters: &[AccountFilter]) -> Vec<(Pubkey, Account)> {
        let mut found: Vec<(Pubkey, Account)> = self
            .svm()
            .get_program_accounts(program)
            .into_iter()
            .filter(|(_, account)| filters.iter().all(|f| f.matches(&account.data)))
            .collect();
        found.sort_by_key(|(address, _)| *address);
        found
    }
}

fn litesvm_native_loader() -> Pubkey {
    Pubkey::from_str_const("NativeLoader1111111111111111111111111111111")
}

impl Chain for InProcessChain {
    async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Signature, ChainError> {
        self.process(instructions, payer, signers)
            .map(|outcome| outcome.signature)
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        Ok(self.get_account(address))
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let svm = self.svm();
        Ok(addresses.iter().map(|a| svm.get_account(a)).collect())
    }

    async fn program_accounts(
        &self,
        program: &Pubkey,
        filters: &[AccountFilter],
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        Ok(self.scan(program, filters))
    }

    async fn clock(&self) -> Result<Clock, ChainError> {
        Ok(self.get_clock())
    }

    async fn latest_blockhash(&self) -> Result<Hash, ChainError> {
        Ok(self.svm().latest_blockhash())
    }
}
