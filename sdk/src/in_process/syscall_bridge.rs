//! Running the Anchor program natively needs the host syscall stubs, and two traps stand in
//! the way (../shared/TOOLCHAIN.md, "Running the Anchor program natively"):
//!
//! 1. anchor-lang 1.2.2 calls the stubs of **solana-sysvar 3**, while solana-program-test
//!    4.2.2 installs its working stubs (sysvars from the invoke context, real CPIs) into
//!    **solana-sysvar 4**. Unbridged, `Rent::get()` fails and — worse — every CPI, token
//!    transfers included, hits solana-sysvar 3's default stub, which logs a line and returns
//!    `Ok(())` having done nothing.
//! 2. Anchor's `entry` ties every lifetime together; the builtin wants independent ones.
//!
//! The bridge takes program-test's stubs out of solana-sysvar 4 and installs one forwarder to
//! them into both registries.
use std::sync::{Arc, OnceLock};

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use litesvm::LiteSVM;
use solana_program_test::{processor, ProgramTest};
use solana_sysvar_v3::program_stubs as v3;
use solana_sysvar_v4::program_stubs as v4;

use crate::chain::ChainError;

/// Registers the program's native entrypoint as a builtin at the program id.
pub(crate) fn add_native_program(svm: &mut LiteSVM) -> Result<(), ChainError> {
    let registerer =
        processor!(entry).ok_or_else(|| ChainError::Setup("processor! gave no builtin".into()))?;
    svm.add_builtin(tessera::ID, registerer);
    Ok(())
}

fn entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: only lifetimes change. The runtime keeps every AccountInfo and the data it
    // borrows alive for the whole call, which is all `tessera::entry` needs.
    let accounts: &[AccountInfo<'_>] = unsafe { std::mem::transmute(accounts) };
    tessera::entry(program_id, accounts, data)
}

/// Installs the bridge once per process; later calls return the first outcome.
pub fn install_syscall_bridge() -> Result<(), ChainError> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(install)
        .clone()
        .map_err(ChainError::Setup)
}

fn install() -> Result<(), String> {
    // program-test installs its stubs into solana-sysvar 4 the first time a bank starts. Its
    // own runtime lives on its own thread, so callers may already be inside a tokio runtime.
    std::thread::spawn(|| -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime for solana-program-test: {e}"))?;
        runtime.block_on(async {
            let context = ProgramTest::default().start_with_context().await;
            drop(context);
        });
        Ok(())
    })
    .join()
    .map_err(|_| "solana-program-test's first bank panicked".to_string())??;
    let program_test_stubs: Arc<dyn v4::SyscallStubs> =
        Arc::from(v4::set_syscall_stubs(Box::new(Placeholder)));
    v4::set_syscall_stubs(Box::new(Forward(program_test_stubs.clone())));
    v3::set_syscall_stubs(Box::new(Forward(program_test_stubs)));
    Ok(())
}

/// Sits in the solana-sysvar 4 registry for the instant between taking program-test's stubs
/// out and putting the forwarder in.
struct Placeholder;
impl v4::SyscallStubs for Placeholder {}

/// Delegates every stub to program-test's.
struct Forward(Arc<dyn v4::SyscallStubs>);

macro_rules! forward_all {
    ($stubs:path) => {
        impl $stubs for Forward {
            fn sol_log(&self, message: &str) {
                self.0.sol_log(message)
            }
            fn sol_log_compute_units(&self) {
                self.0.sol_log_compute_units()
            }
            fn sol_remaining_compute_units(&self) -> u64 {
                self.0.sol_remaining_compute_units()
            }
            fn sol_invoke_signed(
                &self,
                instruction: &Instruction,
                account_infos: &[AccountInfo],
                signers_seeds: &[&[&[u8]]],
            ) -> ProgramResult {
                self.0
                    .sol_invoke_signed(instruction, account_infos, signers_seeds)
            }
            fn sol_get_sysvar(
                &self,
                sysvar_id_addr: *const u8,
                var_addr: *mut u8,
                offset: u64,
                length: u64,
            ) -> u64 {
                self.0
                    .sol_get_sysvar(sysvar_id_addr, var_addr, offset, length)
            }
            fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_clock_sysvar(var_addr)
            }
            fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_epoch_schedule_sysvar(var_addr)
            }
            fn sol_get_fees_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_fees_sysvar(var_addr)
            }
            fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_rent_sysvar(var_addr)
            }
            fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_epoch_rewards_sysvar(var_addr)
            }
            fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
                self.0.sol_get_last_restart_slot(var_addr)
            }
            fn sol_get_epoch_stake(&self, vote_address: *const u8) -> u64 {
                self.0.sol_get_epoch_stake(vote_address)
            }
            unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: the caller upholds sol_memcpy's contract; we only delegate.
                unsafe { self.0.sol_memcpy(dst, src, n) }
            }
            unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: as above.
                unsafe { self.0.sol_memmove(dst, src, n) }
            }
            unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
                // SAFETY: as above.
                unsafe { self.0.sol_memcmp(s1, s2, n, result) }
            }
            unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
                // SAFETY: as above.
                unsafe { self.0.sol_memset(s, c, n) }
            }
            fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
                self.0.sol_get_return_data()
            }
            fn sol_set_return_data(&self, data: &[u8]) {
                self.0.sol_set_return_data(data)
            }
            fn sol_log_data(&self, fields: &[&[u8]]) {
                self.0.sol_log_data(fields)
            }
            fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
                self.0.sol_get_processed_sibling_instruction(index)
            }
            fn sol_get_stack_height(&self) -> u64 {
                self.0.sol_get_stack_height()
            }
        }
    };
}

forward_all!(v3::SyscallStubs);
forward_all!(v4::SyscallStubs);
