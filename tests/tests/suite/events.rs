//! Events, on the SBF `.so` (natively, anchor-lang's `sol_log_data` is a no-op and no event
//! reaches the logs).
use solana_signer::Signer;
use tessera::events::*;
use tessera::state::{JobEndReason, Params};
use tessera_sdk::events::decode;
use tessera_sdk::in_process::ProgramMode;
use tessera_sdk::pda;
use tessera_tests::*;

fn one<T>(mut events: Vec<T>) -> T {
    assert_eq!(events.len(), 1, "expected exactly one event of the type");
    events.remove(0)
}

fn sbf_env() -> TestEnv {
    let so = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/tessera.so");
    assert!(
        so.exists(),
        "{} is missing: run scripts/build-sbf.sh",
        so.display()
    );
    TestEnv::boot_with(ProgramMode::Sbf(so))
}

#[test]
fn every_state_change_emits_its_event() {
    let env = sbf_env();
    let init = env.initialize(&env.authority, env.params).unwrap();
    let e = one(decode::<NetworkInitialized>(&init.logs));
    assert_eq!(
        (e.authority, e.mint, e.params),
        (env.authority.pubkey(), env.mint, env.params)
    );
    assert_eq!(e.escrow_vault, pda::escrow_vault().0);

    let new = Params {
        slash_bps: 9_000,
        ..env.params
    };
    let updated = env.update_params(&env.authority, new).unwrap();
    let e = one(decode::<ParamsUpdated>(&updated.logs));
    assert_eq!((e.old, e.new), (env.params, new));

    let operator = env.actor();
    let logs = env.register_node(&operator, node_args(0)).unwrap().logs;
    let e = one(decode::<NodeRegistered>(&logs));
    assert_eq!(
        (e.operator, e.index, e.hardware),
        (operator.key(), 0, gpu_profile())
    );

    let mut args = update_args(&env.node(&operator.key(), 0));
    args.region = 9;
    let logs = env.update_node(&operator, 0, args).unwrap().logs;
    let e = one(decode::<NodeUpdated>(&logs));
    assert_eq!((e.old_region, e.new_region), (3, 9));

    let logs = env.stake(&operator, 0, 700).unwrap().logs;
    let e = one(decode::<Staked>(&logs));
    assert_eq!((e.amount, e.stake), (700, 700));

    let logs = env.request_unstake(&operator, 0, 700).unwrap().logs;
    let e = one(decode::<UnstakeRequested>(&logs));
    assert_eq!((e.amount, e.stake, e.unstaking), (700, 0, 700));

    env.chain.advance_time(env.params.unstake_cooldown_secs);
    let logs = env.withdraw_stake(&operator, 0, 700).unwrap().logs;
    let e = one(decode::<StakeWithdrawn>(&logs));
    assert_eq!((e.amount, e.destination), (700, operator.token));

    let logs = env.close_node(&operator, 0).unwrap().logs;
    let e = one(decode::<NodeClosed>(&logs));
    assert_eq!(e.node, pda::node(&operator.key(), 0).0);

    let submitter = env.actor();
    let logs = env
        .post_job(&submitter, env.job_args(4, 2, 50))
        .unwrap()
        .logs;
    let e = one(decode::<JobPosted>(&logs));
    assert_eq!((e.nonce, e.replicas, e.escrow), (4, 2, 200));

    let logs = env.cancel_job(&submitter, 4).unwrap().logs;
    let e = one(decode::<JobEnded>(&logs));
    assert_eq!(
        (e.reason, e.refunded),
        (JobEndReason::CancelledBySubmitter, 200)
    );
}
