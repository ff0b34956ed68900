//! initialize and update_params.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_spl::token::spl_token;
use solana_signer::Signer;
use tessera::error::TesseraError;
use tessera::state::Params;
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

#[test]
fn initialize_creates_config_and_vaults() {
    let env = TestEnv::boot();
    env.initialize(&env.authority, env.params).unwrap();
    let config = env.config();
    assert_eq!(config.authority, env.authority.pubkey());
    assert_eq!(config.mint, env.mint);
    assert_eq!(config.stake_vault, pda::stake_vault().0);
    assert_eq!(config.escrow_vault, pda::escrow_vault().0);
    assert_eq!(config.treasury, pda::treasury().0);
    assert_eq!(config.params, env.params);
    assert_eq!(config.bump, pda::config().1);
    for vault in [config.stake_vault, config.escrow_vault, config.treasury] {
        let account = env.chain.get_account(&vault).unwrap();
        assert_eq!(account.owner, spl_token::ID);
        let token = tessera_sdk::token::decode_token_account(&account.data).unwrap();
        assert_eq!(token.mint, env.mint);
        assert_eq!(
            token.owner,
            pda::config().0,
            "vaults are owned by the config PDA"
        );
        assert_eq!(token.amount, 0);
    }
}

#[test]
fn double_initialization_is_refused() {
    let env = TestEnv::new();
    let before = env.config();
    let attacker = env.actor();
    // The config PDA exists: the system program refuses to create it again (AccountAlreadyInUse).
    assert_custom_code(
        env.initialize(&attacker.wallet, env.params),
        0,
        "AccountAlreadyInUse",
    );
    assert_custom_code(
        env.initialize(&env.authority, env.params),
        0,
        "AccountAlreadyInUse",
    );
    assert_eq!(env.config().authority, before.authority);
}

#[test]
fn initialize_refuses_out_of_bounds_params() {
    let env = TestEnv::boot();
    let cases: Vec<(Params, TesseraError)> = vec![
        (
            Params {
                min_stake: 0,
                ..env.params
            },
            TesseraError::MinStakeOutOfBounds,
        ),
        (
            Params {
                unstake_cooldown_secs: 0,
                ..env.params
            },
            TesseraError::CooldownOutOfBounds,
        ),
        (
            Params {
                unstake_cooldown_secs: 91 * 86_400,
                ..env.params
            },
            TesseraError::CooldownOutOfBounds,
        ),
        (
            Params {
                protocol_fee_bps: 2_001,
                ..env.params
            },
            TesseraError::ProtocolFeeOutOfBounds,
        ),
        (
            Params {
                slash_bps: 0,
                ..env.params
            },
            TesseraError::SlashOutOfBounds,
        ),
        (
            Params {
                slash_bps: 10_001,
                ..env.params
            },
            TesseraError::SlashOutOfBounds,
        ),
        (
            Params {
                no_show_bps: 10_001,
                ..env.params
            },
            TesseraError::NoShowOutOfBounds,
        ),
        (
            Params {
                max_replicas: 0,
                ..env.params
            },
            TesseraError::MaxReplicasOutOfBounds,
        ),
        (
            Params {
                max_replicas: 9,
                ..env.params
            },
            TesseraError::MaxReplicasOutOfBounds,
        ),
        (
            Params {
                commit_window_secs: 9,
                ..env.params
            },
            TesseraError::PhaseWindowOutOfBounds,
        ),
        (
            Params {
                reveal_window_secs: 7 * 86_400 + 1,
                ..env.params
            },
            TesseraError::PhaseWindowOutOfBounds,
        ),
        (
            Params {
                max_job_duration_secs: 1_199,
                ..env.params
            },
            TesseraError::JobDurationOutOfBounds,
        ),
        (
            Params {
                max_job_duration_secs: 30 * 86_400 + 1,
                ..env.params
            },
            TesseraError::JobDurationOutOfBounds,
        ),
        (
            Params {
                allowed_kernels: 0,
                ..env.params
            },
            TesseraError::NoKernelsAllowed,
        ),
        (
            Params {
                max_replicas: 7,
                escalation_replicas: 2,
                ..env.params
            },
            TesseraError::EscalationOutOfBounds,
        ),
        (
            Params {
                priority_window_secs: env.params.commit_window_secs + 1,
                ..env.params
            },
            TesseraError::PriorityWindowOutOfBounds,
        ),
        (
            Params {
                sortition_weight: 0,
                ..env.params
            },
            TesseraError::SortitionWeightOutOfBounds,
        ),
        (
            Params {
                unavailable_comp_bps: 10_001,
                ..env.params
            },
            TesseraError::BpsOutOfBounds,
        ),
        (
            Params {
                expiry_bounty_bps: 10_001,
                ..env.params
            },
            TesseraError::BpsOutOfBounds,
        ),
        (
            Params {
                expiry_grace_secs: 0,
                ..env.params
            },
            TesseraError::ExpiryGraceOutOfBounds,
        ),
        (
            Params {
                expiry_grace_secs: 30 * 86_400 + 1,
                ..env.params
            },
            TesseraError::ExpiryGraceOutOfBounds,
        ),
        (
            Params {
                audit_bps: 10_001,
                ..env.params
            },
            TesseraError::AuditParamsOutOfBounds,
        ),
        (
            Params {
                audit_bps: 0,
                ..env.params
            },
            TesseraError::AuditParamsOutOfBounds,
        ),
        (
            Params {
                audit_replicas: 6,
                ..env.params
            },
            TesseraError::AuditParamsOutOfBounds,
        ),
        (
            Params {
                max_audited_reward: 0,
                ..env.params
            },
            TesseraError::AuditParamsOutOfBounds,
        ),
        (
            Params {
                min_reward: 0,
                ..env.params
            },
            TesseraError::MinRewardOutOfBounds,
        ),
        // The referee only for kernels it opens on chain (train_step's tensor graph is not
        // played on chain yet); clocks within the phase bounds; a bond within 1 SOL.
        (
            Params {
                refereed_kernels: 1 << 5,
                ..env.params
            },
            TesseraError::GameParamsOutOfBounds,
        ),
        (
            Params {
                game_clock_secs: 9,
                ..env.params
            },
            TesseraError::GameParamsOutOfBounds,
        ),
        (
            Params {
                game_open_window_secs: 7 * 86_400 + 1,
                ..env.params
            },
            TesseraError::GameParamsOutOfBounds,
        ),
        (
            Params {
                game_bond_lamports: 1_000_000_001,
                ..env.params
            },
            TesseraError::GameParamsOutOfBounds,
        ),
        (
            Params {
                challenge_window_secs: 9,
                ..env.params
            },
            TesseraError::ChallengeParamsOutOfBounds,
        ),
        (
            Params {
                challenge_window_secs: 7 * 86_400 + 1,
                ..env.params
            },
            TesseraError::ChallengeParamsOutOfBounds,
        ),
        (
            Params {
                challenge_reward_bps: 10_001,
                ..env.params
            },
            TesseraError::ChallengeParamsOutOfBounds,
        ),
        // Spot checks where cheating pays: audits too rare, slashing too light, or rewards
        // too large for the minimum stake at risk.
        (
            Params {
                audit_bps: 900,
                ..env.params
            },
            TesseraError::CheatingPays,
        ),
        (
            Params {
                slash_bps: 4_000,
                ..env.params
            },
            TesseraError::CheatingPays,
        ),
        (
            Params {
                min_stake: 800_000,
                ..env.params
            },
            TesseraError::CheatingPays,
        ),
        (
            Params {
                max_audited_reward: 27_778,
                ..env.params
            },
            TesseraError::CheatingPays,
        ),
    ];
    for (params, error) in cases {
        assert_tessera_error(env.initialize(&env.authority, params), error);
    }
    assert!(!env.exists(&pda::config().0), "nothing was created");
    // The bounds themselves are accepted.
    let edge = Params {
        min_stake: 1,
        unstake_cooldown_secs: 90 * 86_400,
        protocol_fee_bps: 2_000,
        slash_bps: 10_000,
        no_show_bps: 10_000,
        max_replicas: 8,
        commit_window_secs: 10,
        reveal_window_secs: 10,
        max_job_duration_secs: 20,
        allowed_kernels: 1,
        escalation_replicas: 0,
        priority_window_secs: 10,
        sortition_weight: 1,
        unavailable_comp_bps: 10_000,
        expiry_grace_secs: 30 * 86_400,
        expiry_bounty_bps: 10_000,
        // Every job audited: cheating never goes unseen, whatever the reward.
        audit_bps: 10_000,
        audit_replicas: 7,
        max_audited_reward: u64::MAX,
        min_reward: 1,
        refereed_kernels: tessera::constants::REFEREE_KERNELS,
        game_clock_secs: 7 * 86_400,
        game_open_window_secs: 7 * 86_400,
        game_bond_lamports: 1_000_000_000,
        challenge_window_secs: 7 * 86_400,
        challenge_reward_bps: 10_000,
    };
    // The deterrence rule's own edge: 1,000 × 5,000 × 1,000,000 ≥ 20,000 × 9,000 × 27,777.
    let at_the_edge = Params {
        max_audited_reward: 27_777,
        ..env.params
    };
    assert!(at_the_edge.spot_check_deters());
    assert!(!Params {
        max_audited_reward: 27_778,
        ..env.params
    }
    .spot_check_deters());
    // Spot checks off: the rule does not apply.
    let off = Params {
        audit_replicas: 0,
        audit_bps: 0,
        max_audited_reward: 0,
        ..env.params
    };
    assert!(off.validate().is_ok());
    env.initialize(&env.authority, edge).unwrap();
    assert_eq!(env.config().params, edge);
}

#[test]
fn initialize_refuses_a_fake_token_program() {
    let env = TestEnv::boot();
    let fake = env.actor().key();
    let instruction = substitute(
        ix::initialize(&env.authority.pubkey(), &env.mint, env.params),
        &spl_token::ID,
        &fake,
    );
    assert_anchor_error(
        env.send_one(instruction, &env.authority),
        AnchorError::InvalidProgramId,
    );
}

#[test]
fn update_params_by_authority() {
    let env = TestEnv::new();
    let new = Params {
        slash_bps: 7_500,
        min_stake: 5,
        // A stake of 5 deters no cheating on spot checks: they go off with it.
        audit_replicas: 0,
        ..env.params
    };
    env.update_params(&env.authority, new).unwrap();
    assert_eq!(env.config().params, new);
}

#[test]
fn update_params_refuses_strangers_and_missing_signatures() {
    let env = TestEnv::new();
    let stranger = env.actor();
    let new = Params {
        slash_bps: 1,
        ..env.params
    };
    // A stranger signing as "authority".
    assert_tessera_error(
        env.update_params(&stranger.wallet, new),
        TesseraError::Unauthorized,
    );
    // The real authority named but not signing.
    let unsigned = unsign(
        ix::update_params(&env.authority.pubkey(), new),
        &env.authority.pubkey(),
    );
    assert_anchor_error(
        env.send_one(unsigned, &stranger.wallet),
        AnchorError::AccountNotSigner,
    );
    assert_eq!(env.config().params, env.params);
}

#[test]
fn update_params_refuses_out_of_bounds() {
    let env = TestEnv::new();
    let bad = Params {
        protocol_fee_bps: 5_000,
        ..env.params
    };
    assert_tessera_error(
        env.update_params(&env.authority, bad),
        TesseraError::ProtocolFeeOutOfBounds,
    );
    assert_eq!(env.config().params, env.params);
}

#[test]
fn update_params_refuses_a_substituted_config() {
    let env = TestEnv::new();
    // An account owned by another program, posing as the config.
    let fake = env.actor().token;
    let instruction = substitute(
        ix::update_params(&env.authority.pubkey(), env.params),
        &pda::config().0,
        &fake,
    );
    assert_anchor_error(
        env.send_one(instruction, &env.authority),
        AnchorError::AccountOwnedByWrongProgram,
    );
}
