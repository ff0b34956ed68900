//! Canaries for the two silent failure modes of the in-process bank.
use tessera_sdk::in_process::ProgramMode;
use tessera_tests::*;

/// Without the syscall bridge, anchor-lang's CPIs go to solana-sysvar 3's default stub, which
/// returns Ok without moving a token. This fails if a transfer-bearing instruction "succeeds"
/// without its transfer.
#[test]
fn cpi_token_transfers_really_move_tokens() {
    let env = TestEnv::new();
    let operator = env.staked_operator(0);
    let before = env.balance(&operator.token);
    env.stake(&operator, 0, 1_234_567).unwrap();
    assert_eq!(env.balance(&operator.token), before - 1_234_567);
    assert_eq!(env.stake_vault_balance(), 1_234_567);
}

/// `Rent::get()` and `Clock::get()` go through the same stubs: initialization (rent of four
/// accounts) and registration (clock) must see the bank's real values.
#[test]
fn sysvars_reach_the_native_program() {
    let env = TestEnv::new();
    let operator = env.actor();
    env.register_node(&operator, node_args(0)).unwrap();
    let node = env.node(&operator.key(), 0);
    assert_eq!(node.registered_at, env.chain.get_clock().unix_timestamp);
}

/// In SBF mode the program account must hold the `.so`, never the native builtin.
#[test]
fn program_mode_is_what_the_environment_asks_for() {
    let env = TestEnv::boot();
    match env.chain.mode() {
        ProgramMode::Native => {
            assert!(
                !env.chain.program_is_bpf(),
                "native mode loaded a BPF program"
            );
            assert_ne!(std::env::var("TESSERA_PROGRAM_MODE").as_deref(), Ok("sbf"));
        }
        ProgramMode::Sbf(path) => {
            assert!(
                env.chain.program_is_bpf(),
                "sbf mode fell back to native ({path:?})"
            );
        }
    }
}
