//! Submitter instructions: post_job and cancel_job.
use anchor_lang::error::ErrorCode as AnchorError;
use solana_signer::Signer;
use tessera::error::TesseraError;
use tessera::state::{JobStatus, Params};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

#[test]
fn post_job_escrows_rewards_and_dispute_reserve() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let args = env.job_args(42, 3, 2_000_000);
    env.post_job(&submitter, args.clone()).unwrap();

    // Three replicas plus two escalation replicas in reserve.
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS - 10_000_000);
    assert_eq!(env.escrow_vault_balance(), 10_000_000);
    let job = env.job(&submitter.key(), 42);
    assert_eq!(job.submitter, submitter.key());
    assert_eq!(job.nonce, 42);
    assert_eq!(job.kernel_id, args.kernel_id);
    assert_eq!(job.input, args.input);
    assert_eq!(job.kernel_params, args.kernel_params);
    assert_eq!(job.work_units, 1_000);
    assert_eq!(
        (
            job.replicas,
            job.escalation_replicas,
            job.reward_per_replica,
            job.escrow
        ),
        (3, 2, 2_000_000, 10_000_000)
    );
    assert_eq!(job.deadline, args.deadline);
    assert_eq!(job.requirements, args.requirements);
    assert_eq!(job.posted_at, env.chain.get_clock().unix_timestamp);
    assert_eq!((job.slots.len(), job.status), (0, JobStatus::Open));
    assert!(!job.escalated);
    assert_eq!(
        (
            job.round_started_at,
            job.commit_deadline,
            job.reveal_deadline
        ),
        (
            job.posted_at,
            args.deadline - i64::from(env.params.reveal_window_secs),
            args.deadline
        )
    );
    assert_ne!(job.seed, [0; 32]);
    assert_eq!(job.result_root, None);
    assert_eq!(job.bump, pda::job(&submitter.key(), 42).1);
}

#[test]
fn a_replayed_post_is_refused() {
    let env = TestEnv::new();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 2, 1_000)).unwrap();
    // Same nonce: same address, the account exists.
    assert_custom_code(
        env.post_job(&submitter, env.job_args(1, 2, 1_000)),
        0,
        "AccountAlreadyInUse",
    );
    assert_eq!(env.escrow_vault_balance(), escrow_of(2, 1_000));
    // Another nonce is another job, with another sortition seed.
    env.post_job(&submitter, env.job_args(2, 2, 1_000)).unwrap();
    assert_eq!(env.escrow_vault_balance(), 2 * escrow_of(2, 1_000));
    assert_ne!(
        env.job(&submitter.key(), 1).seed,
        env.job(&submitter.key(), 2).seed
    );
}

#[test]
fn post_job_validates_its_arguments() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let now = env.chain.get_clock().unix_timestamp;
    let base = env.job_args(9, 2, 1_000);
    let min_duration = i64::from(env.params.commit_window_secs + env.params.reveal_window_secs);
    let mut cases = Vec::new();
    let mut with = |f: &dyn Fn(&mut tessera::instructions::PostJobArgs), e: TesseraError| {
        let mut a = base.clone();
        f(&mut a);
        cases.push((a, e));
    };
    with(&|a| a.kernel_id = 0, TesseraError::KernelNotAllowed);
    with(&|a| a.kernel_id = 6, TesseraError::KernelNotAllowed);
    with(&|a| a.kernel_id = 255, TesseraError::KernelNotAllowed);
    with(
        &|a| a.input.uri = String::new(),
        TesseraError::InvalidInputUri,
    );
    with(
        &|a| a.input.uri = "x".repeat(201),
        TesseraError::InvalidInputUri,
    );
    with(&|a| a.input.size_bytes = 0, TesseraError::InvalidInputSize);
    with(
        &|a| a.input.size_bytes = (4 << 30) + 1,
        TesseraError::InvalidInputSize,
    );
    with(
        &|a| a.kernel_params = vec![0; 257],
        TesseraError::KernelParamsTooLong,
    );
    with(&|a| a.work_units = 0, TesseraError::ZeroWorkUnits);
    with(&|a| a.replicas = 0, TesseraError::InvalidReplicas);
    with(&|a| a.replicas = 6, TesseraError::InvalidReplicas);
    with(&|a| a.reward_per_replica = 0, TesseraError::ZeroReward);
    with(
        &|a| a.requirements.region_mask = 0,
        TesseraError::EmptyRegionMask,
    );
    with(
        &|a| a.deadline = now + min_duration - 1,
        TesseraError::DeadlineTooSoon,
    );
    with(&|a| a.deadline = now - 1, TesseraError::DeadlineTooSoon);
    with(
        &|a| a.deadline = now + 7 * 86_400 + 1,
        TesseraError::DeadlineTooFar,
    );
    with(
        &|a| a.reward_per_replica = u64::MAX / 2 + 1,
        TesseraError::MathOverflow,
    );
    for (args, error) in cases {
        assert_tessera_error(env.post_job(&submitter, args), error);
    }
    assert!(!env.exists(&pda::job(&submitter.key(), 9).0));
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS);

    // The bounds themselves are accepted.
    let mut edge = base.clone();
    edge.deadline = now + min_duration;
    edge.kernel_params = vec![1; 256];
    edge.input.uri = "u".repeat(200);
    edge.replicas = 5;
    env.post_job(&submitter, edge).unwrap();
}

#[test]
fn post_job_follows_the_allowed_kernels() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let only_render = Params {
        allowed_kernels: 1 << 1,
        ..env.params
    };
    env.update_params(&env.authority, only_render).unwrap();
    assert_tessera_error(
        env.post_job(&submitter, env.job_args(1, 1, 10)),
        TesseraError::KernelNotAllowed,
    );
    let mut render = env.job_args(1, 1, 10);
    render.kernel_id = 1;
    env.post_job(&submitter, render).unwrap();
}

#[test]
fn post_job_attacks() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let victim = env.actor();
    // More than the submitter holds: the token transfer fails, nothing is created.
    let too_much = env.job_args(1, 1, ACTOR_TOKENS + 1);
    assert_custom_code(env.post_job(&submitter, too_much), 1, "InsufficientFunds");
    assert!(!env.exists(&pda::job(&submitter.key(), 1).0));
    // Paying with the victim's tokens.
    let steal = ix::post_job(&submitter.key(), &victim.token, env.job_args(1, 1, 10));
    assert_custom_code(env.send_one(steal, &submitter.wallet), 4, "OwnerMismatch");
    // Tokens of another mint.
    let other = env.other_mint();
    let fake = env.token_account(&submitter.key(), &other);
    env.send_one(
        tessera_sdk::token::mint_to(&other, &fake, &env.authority.pubkey(), 1_000).unwrap(),
        &env.authority,
    )
    .unwrap();
    let wrong_mint = ix::post_job(&submitter.key(), &fake, env.job_args(1, 1, 10));
    assert_tessera_error(
        env.send_one(wrong_mint, &submitter.wallet),
        TesseraError::WrongMint,
    );
    // Escrow into a substituted vault.
    let own = env.token_account(&submitter.key(), &env.mint);
    let wrong_vault = substitute(
        ix::post_job(&submitter.key(), &submitter.token, env.job_args(1, 1, 10)),
        &pda::escrow_vault().0,
        &own,
    );
    assert_tessera_error(
        env.send_one(wrong_vault, &submitter.wallet),
        TesseraError::WrongVault,
    );
    // A job posted in the victim's name.
    let forged = unsign(
        ix::post_job(&victim.key(), &victim.token, env.job_args(1, 1, 10)),
        &victim.key(),
    );
    assert_anchor_error(
        env.send_one(forged, &submitter.wallet),
        AnchorError::AccountNotSigner,
    );
    assert_eq!(env.escrow_vault_balance(), 0);
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS);
    assert_eq!(env.balance(&victim.token), ACTOR_TOKENS);
}

#[test]
fn cancel_job_refunds_everything() {
    let env = TestEnv::new();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(5, 4, 250_000))
        .unwrap();
    let job_address = pda::job(&submitter.key(), 5).0;
    let rent = env.lamports(&job_address);
    let lamports_before = env.lamports(&submitter.key());

    env.cancel_job(&submitter, 5).unwrap();
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS);
    assert_eq!(env.escrow_vault_balance(), 0);
    assert!(!env.exists(&job_address));
    assert_eq!(
        env.lamports(&submitter.key()),
        lamports_before + rent - 5_000
    );

    // Cancelling again: the account is gone.
    assert_anchor_error(
        env.cancel_job(&submitter, 5),
        AnchorError::AccountNotInitialized,
    );
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS);
}

#[test]
fn cancel_job_attacks() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let stranger = env.actor();
    env.post_job(&submitter, env.job_args(5, 2, 1_000_000))
        .unwrap();
    let job_address = pda::job(&submitter.key(), 5).0;

    // A stranger cancelling, refund to the stranger.
    let attack = substitute(
        ix::cancel_job(&stranger.key(), 5, &stranger.token),
        &pda::job(&stranger.key(), 5).0,
        &job_address,
    );
    assert_tessera_error(
        env.send_one(attack, &stranger.wallet),
        TesseraError::Unauthorized,
    );
    // The submitter's own cancel, but the refund redirected to the stranger.
    let redirected = ix::cancel_job(&submitter.key(), 5, &stranger.token);
    assert_tessera_error(
        env.send_one(redirected, &submitter.wallet),
        TesseraError::WrongTokenOwner,
    );
    // The submitter named but not signing.
    let unsigned = unsign(
        ix::cancel_job(&submitter.key(), 5, &submitter.token),
        &submitter.key(),
    );
    assert_anchor_error(
        env.send_one(unsigned, &stranger.wallet),
        AnchorError::AccountNotSigner,
    );
    // A substituted escrow vault (a token account the config PDA owns, funded by an attacker).
    let decoy = env.token_account(&pda::config().0, &env.mint);
    env.mint_to(&decoy, escrow_of(2, 1_000_000));
    let wrong_vault = substitute(
        ix::cancel_job(&submitter.key(), 5, &submitter.token),
        &pda::escrow_vault().0,
        &decoy,
    );
    assert_tessera_error(
        env.send_one(wrong_vault, &submitter.wallet),
        TesseraError::WrongVault,
    );

    assert_eq!(env.escrow_vault_balance(), escrow_of(2, 1_000_000));
    assert_eq!(env.balance(&stranger.token), ACTOR_TOKENS);
    env.cancel_job(&submitter, 5).unwrap();
    assert_eq!(env.balance(&submitter.token), ACTOR_TOKENS);
}

#[test]
fn a_claimed_job_cannot_be_cancelled() {
    let env = TestEnv::new();
    let submitter = env.actor();
    let operator = env.staked_operator(5_000_000);
    env.post_job(&submitter, env.job_args(3, 2, 1_000_000))
        .unwrap();
    let address = pda::job(&submitter.key(), 3).0;
    env.claim(&operator, 0, &address).unwrap();
    assert_tessera_error(
        env.cancel_job(&submitter, 3),
        TesseraError::JobAlreadyClaimed,
    );
    assert_eq!(env.escrow_vault_balance(), escrow_of(2, 1_000_000));
}
