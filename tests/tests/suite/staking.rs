//! Operator instructions: register_node, update_node, stake, request_unstake, withdraw_stake,
//! close_node.
use anchor_lang::error::ErrorCode as AnchorError;
use tessera::error::TesseraError;
use tessera::state::{HardwareKind, Node};
use tessera_sdk::{chain, instructions as ix, pda};
use tessera_tests::*;

#[test]
fn register_node_records_the_profile() {
    let env = TestEnv::new();
    let operator = env.actor();
    env.register_node(&operator, node_args(0)).unwrap();
    env.register_node(&operator, node_args(1)).unwrap();
    let node = env.node(&operator.key(), 1);
    assert_eq!(node.operator, operator.key());
    assert_eq!(node.index, 1);
    assert_eq!(node.hardware, gpu_profile());
    assert_eq!(node.region, 3);
    assert_eq!(node.endpoint, "https://node.example:8443");
    assert!(node.accepting_jobs);
    assert_eq!(
        (node.stake, node.unstaking, node.open_assignments),
        (0, 0, 0)
    );
    assert_eq!(node.reputation, Default::default());
    assert_eq!((node.reputation.score_bps, node.weight()), (5_000, 0));
    assert_eq!(node.earnings, 0);
    assert_eq!(node.bump, pda::node(&operator.key(), 1).1);
}

#[test]
fn register_node_twice_is_refused() {
    let env = TestEnv::new();
    let operator = env.actor();
    env.register_node(&operator, node_args(0)).unwrap();
    assert_custom_code(
        env.register_node(&operator, node_args(0)),
        0,
        "AccountAlreadyInUse",
    );
}

#[test]
fn register_node_validates_profile_region_and_endpoint() {
    let env = TestEnv::new();
    let operator = env.actor();
    let case = |change: &dyn Fn(&mut tessera::instructions::RegisterNodeArgs), error| {
        let mut args = node_args(0);
        change(&mut args);
        (args, error)
    };
    let cases = vec![
        case(
            &|a| a.hardware.gpu_model = String::new(),
            TesseraError::InvalidGpuModel,
        ),
        case(
            &|a| a.hardware.gpu_model = "x".repeat(33),
            TesseraError::InvalidGpuModel,
        ),
        case(
            &|a| a.hardware.vram_mib = 0,
            TesseraError::InvalidHardwareProfile,
        ),
        case(
            &|a| a.hardware.compute_capability = 201,
            TesseraError::InvalidHardwareProfile,
        ),
        case(
            &|a| {
                a.hardware = cpu_profile();
                a.hardware.vram_mib = 1;
            },
            TesseraError::InvalidHardwareProfile,
        ),
        case(&|a| a.hardware.cpu_cores = 0, TesseraError::InvalidCpuCores),
        case(&|a| a.region = 32, TesseraError::InvalidRegion),
        case(
            &|a| a.endpoint = "ftp://node".into(),
            TesseraError::InvalidEndpoint,
        ),
        case(
            &|a| a.endpoint = format!("https://{}", "a".repeat(121)),
            TesseraError::InvalidEndpoint,
        ),
    ];
    for (args, error) in cases {
        assert_tessera_error(env.register_node(&operator, args), error);
    }
    assert!(!env.exists(&pda::node(&operator.key(), 0).0));
    // A CPU-only node is fine.
    let mut cpu = node_args(0);
    cpu.hardware = cpu_profile();
    env.register_node(&operator, cpu).unwrap();
    assert_eq!(
        env.node(&operator.key(), 0).hardware.kind,
        HardwareKind::CpuOnly
    );
}

#[test]
fn update_node_by_operator_only() {
    let env = TestEnv::new();
    let operator = env.staked_operator(0);
    let mut args = update_args(&env.node(&operator.key(), 0));
    args.hardware = cpu_profile();
    args.region = 7;
    args.min_price_per_unit = 99;
    args.endpoint = "http://10.0.0.2:9000".into();
    args.accepting_jobs = false;
    env.update_node(&operator, 0, args.clone()).unwrap();
    let node = env.node(&operator.key(), 0);
    assert_eq!(node.hardware, cpu_profile());
    assert_eq!((node.region, node.min_price_per_unit), (7, 99));
    assert_eq!(node.endpoint, "http://10.0.0.2:9000");
    assert!(!node.accepting_jobs);

    // Another operator pointing at this node.
    let thief = env.actor();
    let attack = substitute(
        ix::update_node(&thief.key(), 0, args.clone()),
        &pda::node(&thief.key(), 0).0,
        &pda::node(&operator.key(), 0).0,
    );
    assert_tessera_error(
        env.send_one(attack, &thief.wallet),
        TesseraError::Unauthorized,
    );

    // Invalid values are refused and change nothing.
    let mut bad = args;
    bad.region = 200;
    assert_tessera_error(
        env.update_node(&operator, 0, bad),
        TesseraError::InvalidRegion,
    );
    assert_eq!(env.node(&operator.key(), 0).region, 7);
}

#[test]
fn stake_moves_tokens_into_the_vault() {
    let env = TestEnv::new();
    let operator = env.staked_operator(0);
    env.stake(&operator, 0, 3_000_000).unwrap();
    env.stake(&operator, 0, 2_000_000).unwrap();
    assert_eq!(env.node(&operator.key(), 0).stake, 5_000_000);
    assert_eq!(env.balance(&operator.token), ACTOR_TOKENS - 5_000_000);
    assert_eq!(env.stake_vault_balance(), 5_000_000);
}

#[test]
fn stake_attacks() {
    let env = TestEnv::new();
    let victim = env.staked_operator(1_000_000);
    let attacker = env.staked_operator(0);

    // Zero.
    assert_tessera_error(env.stake(&attacker, 0, 0), TesseraError::ZeroAmount);
    // More than the token account holds: the token program refuses (InsufficientFunds = 1).
    assert_custom_code(
        env.stake(&attacker, 0, ACTOR_TOKENS + 1),
        1,
        "InsufficientFunds",
    );
    // Staking onto another operator's node.
    let onto_victim = substitute(
        ix::stake(&attacker.key(), 0, &attacker.token, 10),
        &pda::node(&attacker.key(), 0).0,
        &pda::node(&victim.key(), 0).0,
    );
    assert_tessera_error(
        env.send_one(onto_victim, &attacker.wallet),
        TesseraError::Unauthorized,
    );
    // Paying with the victim's token account (the token program wants the victim's signature).
    let from_victim = ix::stake(&attacker.key(), 0, &victim.token, 10);
    assert_custom_code(
        env.send_one(from_victim, &attacker.wallet),
        4,
        "OwnerMismatch",
    );
    // Tokens of another mint.
    let other_mint = env.other_mint();
    let fake_tokens = env.token_account(&attacker.key(), &other_mint);
    let wrong_mint = ix::stake(&attacker.key(), 0, &fake_tokens, 10);
    assert_tessera_error(
        env.send_one(wrong_mint, &attacker.wallet),
        TesseraError::WrongMint,
    );
    // A substituted vault: the attacker's own token account as "stake vault".
    let own_vault = env.token_account(&attacker.key(), &env.mint);
    let wrong_vault = substitute(
        ix::stake(&attacker.key(), 0, &attacker.token, 10),
        &pda::stake_vault().0,
        &own_vault,
    );
    assert_tessera_error(
        env.send_one(wrong_vault, &attacker.wallet),
        TesseraError::WrongVault,
    );
    // The operator named but not signing.
    let unsigned = unsign(
        ix::stake(&victim.key(), 0, &victim.token, 10),
        &victim.key(),
    );
    assert_anchor_error(
        env.send_one(unsigned, &attacker.wallet),
        AnchorError::AccountNotSigner,
    );

    assert_eq!(env.stake_vault_balance(), 1_000_000);
    assert_eq!(env.balance(&attacker.token), ACTOR_TOKENS);
    assert_eq!(env.node(&attacker.key(), 0).stake, 0);
}

#[test]
fn stake_overflow_is_refused() {
    let env = TestEnv::new();
    let operator = env.staked_operator(0);
    // Mint enough that the token program would accept the transfers; the node's counter
    // must refuse to wrap first.
    env.mint_to(&operator.token, u64::MAX - ACTOR_TOKENS);
    env.stake(&operator, 0, u64::MAX - 10).unwrap();
    assert_tessera_error(env.stake(&operator, 0, 11), TesseraError::MathOverflow);
    assert_eq!(env.node(&operator.key(), 0).stake, u64::MAX - 10);
}

#[test]
fn unstake_cooldown_and_withdraw() {
    let env = TestEnv::new();
    let operator = env.staked_operator(10_000_000);
    let start = env.chain.get_clock().unix_timestamp;

    env.request_unstake(&operator, 0, 4_000_000).unwrap();
    let node = env.node(&operator.key(), 0);
    assert_eq!((node.stake, node.unstaking), (6_000_000, 4_000_000));
    assert_eq!(
        node.unstake_available_at,
        start + env.params.unstake_cooldown_secs
    );
    // Stake in cooldown stays in the vault.
    assert_eq!(env.stake_vault_balance(), 10_000_000);

    // Before the cooldown.
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 1),
        TesseraError::CooldownNotElapsed,
    );
    env.chain.advance_time(env.params.unstake_cooldown_secs - 1);
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 1),
        TesseraError::CooldownNotElapsed,
    );
    env.chain.advance_time(1);

    // Over-withdraw and zero.
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 4_000_001),
        TesseraError::InsufficientUnstaking,
    );
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 0),
        TesseraError::ZeroAmount,
    );

    let before = env.balance(&operator.token);
    env.withdraw_stake(&operator, 0, 1_000_000).unwrap();
    env.withdraw_stake(&operator, 0, 3_000_000).unwrap();
    assert_eq!(env.balance(&operator.token), before + 4_000_000);
    assert_eq!(env.stake_vault_balance(), 6_000_000);
    let node = env.node(&operator.key(), 0);
    assert_eq!(
        (node.stake, node.unstaking, node.unstake_available_at),
        (6_000_000, 0, 0)
    );
    // Nothing left in cooldown.
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 1),
        TesseraError::InsufficientUnstaking,
    );
}

#[test]
fn a_second_unstake_request_restarts_the_cooldown() {
    let env = TestEnv::new();
    let operator = env.staked_operator(10_000_000);
    env.request_unstake(&operator, 0, 1_000_000).unwrap();
    env.chain
        .advance_time(env.params.unstake_cooldown_secs - 10);
    env.request_unstake(&operator, 0, 1_000_000).unwrap();
    env.chain.advance_time(10);
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 1),
        TesseraError::CooldownNotElapsed,
    );
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    env.withdraw_stake(&operator, 0, 2_000_000).unwrap();
}

#[test]
fn unstake_attacks() {
    let env = TestEnv::new();
    let victim = env.staked_operator(5_000_000);
    let attacker = env.staked_operator(5_000_000);
    assert_tessera_error(
        env.request_unstake(&attacker, 0, 0),
        TesseraError::ZeroAmount,
    );
    assert_tessera_error(
        env.request_unstake(&attacker, 0, 5_000_001),
        TesseraError::InsufficientStake,
    );
    // Unstaking the victim's node.
    let attack = substitute(
        ix::request_unstake(&attacker.key(), 0, 1),
        &pda::node(&attacker.key(), 0).0,
        &pda::node(&victim.key(), 0).0,
    );
    assert_tessera_error(
        env.send_one(attack, &attacker.wallet),
        TesseraError::Unauthorized,
    );

    // Withdrawing the victim's cooled-down stake, into the attacker's account.
    env.request_unstake(&victim, 0, 5_000_000).unwrap();
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    let attack = substitute(
        ix::withdraw_stake(&attacker.key(), 0, &attacker.token, 5_000_000),
        &pda::node(&attacker.key(), 0).0,
        &pda::node(&victim.key(), 0).0,
    );
    assert_tessera_error(
        env.send_one(attack, &attacker.wallet),
        TesseraError::Unauthorized,
    );
    // The victim withdrawing into an account it does not own.
    let redirected = ix::withdraw_stake(&victim.key(), 0, &attacker.token, 5_000_000);
    assert_tessera_error(
        env.send_one(redirected, &victim.wallet),
        TesseraError::WrongTokenOwner,
    );
    // A substituted vault.
    let attacker_vault = env.token_account(&pda::config().0, &env.mint);
    env.mint_to(&attacker_vault, 5_000_000);
    let wrong_vault = substitute(
        ix::withdraw_stake(&victim.key(), 0, &victim.token, 5_000_000),
        &pda::stake_vault().0,
        &attacker_vault,
    );
    assert_tessera_error(
        env.send_one(wrong_vault, &victim.wallet),
        TesseraError::WrongVault,
    );

    assert_eq!(env.stake_vault_balance(), 10_000_000);
    env.withdraw_stake(&victim, 0, 5_000_000).unwrap();
    assert_eq!(env.balance(&victim.token), ACTOR_TOKENS);
}

#[test]
fn close_node_only_when_empty() {
    let env = TestEnv::new();
    let operator = env.staked_operator(2_000_000);
    let node_address = pda::node(&operator.key(), 0).0;

    assert_tessera_error(env.close_node(&operator, 0), TesseraError::NodeHasStake);
    env.request_unstake(&operator, 0, 2_000_000).unwrap();
    // Stake in cooldown still blocks closing.
    assert_tessera_error(env.close_node(&operator, 0), TesseraError::NodeHasStake);
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    env.withdraw_stake(&operator, 0, 2_000_000).unwrap();

    // A stranger cannot close it (and take its rent).
    let thief = env.actor();
    let attack = substitute(
        ix::close_node(&thief.key(), 0),
        &pda::node(&thief.key(), 0).0,
        &node_address,
    );
    assert_tessera_error(
        env.send_one(attack, &thief.wallet),
        TesseraError::Unauthorized,
    );

    let rent = env.lamports(&node_address);
    let before = env.lamports(&operator.key());
    let outcome = env.close_node(&operator, 0).unwrap();
    assert!(!env.exists(&node_address));
    let fee = 5_000;
    assert_eq!(
        env.lamports(&operator.key()),
        before + rent - fee,
        "{outcome:?}"
    );

    // Closed: the node can be registered afresh, and the old one cannot be used.
    assert_anchor_error(
        env.stake(&operator, 0, 1),
        AnchorError::AccountNotInitialized,
    );
    env.register_node(&operator, node_args(0)).unwrap();
    assert_eq!(env.node(&operator.key(), 0).stake, 0);
}

#[test]
fn nodes_are_listed_through_the_chain_trait() {
    let env = TestEnv::new();
    let _a = env.staked_operator(1_000_000);
    let b = env.staked_operator(2_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let nodes: Vec<(anchor_lang::prelude::Pubkey, Node)> =
        runtime.block_on(chain::list(&env.chain, &[])).unwrap();
    assert_eq!(nodes.len(), 2);
    // Filter by operator (offset: discriminator 8 + version 1 + bump 1).
    let only_b = runtime
        .block_on(chain::list::<Node, _>(
            &env.chain,
            &[chain::AccountFilter::Memcmp {
                offset: 10,
                bytes: b.key().to_bytes().to_vec(),
            }],
        ))
        .unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0].1.stake, 2_000_000);
    assert_eq!(only_b[0].0, pda::node(&b.key(), 0).0);
}

/// Claiming comes with the verification core; the guards that depend on open assignments are
/// tested by writing the counter directly.
#[test]
fn open_assignments_lock_stake_and_block_closing() {
    let env = TestEnv::new();
    let operator = env.staked_operator(env.params.min_stake + 500);
    let address = pda::node(&operator.key(), 0).0;
    let mut node = env.node(&operator.key(), 0);
    node.open_assignments = 1;
    env.overwrite(&address, &node);

    // Keeping min_stake active is fine; going below it is not.
    env.request_unstake(&operator, 0, 500).unwrap();
    assert_tessera_error(
        env.request_unstake(&operator, 0, 1),
        TesseraError::StakeLockedByAssignments,
    );
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    // Stake in cooldown stays until the node's open jobs end (it backs them).
    assert_tessera_error(
        env.withdraw_stake(&operator, 0, 500),
        TesseraError::NodeHasOpenAssignments,
    );
    let mut node = env.node(&operator.key(), 0);
    node.open_assignments = 0;
    env.overwrite(&address, &node);
    env.withdraw_stake(&operator, 0, 500).unwrap();

    // A node without stake but with an open assignment cannot be closed.
    let idle = env.staked_operator(0);
    let idle_address = pda::node(&idle.key(), 0).0;
    let mut node = env.node(&idle.key(), 0);
    node.open_assignments = 1;
    env.overwrite(&idle_address, &node);
    assert_tessera_error(
        env.close_node(&idle, 0),
        TesseraError::NodeHasOpenAssignments,
    );
    assert!(env.exists(&idle_address));
}
