//! Events, on the SBF `.so` (natively, anchor-lang's `sol_log_data` is a no-op and no event
//! reaches the logs).
use solana_signer::Signer;
use tessera::events::*;
use tessera::state::{JobEndReason, Params, Verdict};
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

#[test]
fn the_verification_lifecycle_emits_its_events() {
    let env = sbf_env();
    env.initialize(&env.authority, env.params).unwrap();
    let workers: Vec<Actor> = (0..5).map(|_| env.staked_operator(10_000_000)).collect();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, 1_000_000))
        .unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    let salt = [5u8; 32];
    let roots = [[1u8; 32], [1; 32], [2; 32], [1; 32], [1; 32]];
    let run = |range: std::ops::Range<usize>| {
        for i in range.clone() {
            let logs = env.claim(&workers[i], 0, &job).unwrap().logs;
            let e = one(decode::<SlotClaimed>(&logs));
            let node = pda::node(&workers[i].key(), 0).0;
            assert_eq!((e.job, e.node, e.slot), (job, node, i as u8));
            assert_eq!((e.escalation, e.by_priority), (i >= 3, true));
        }
        for i in range.clone() {
            let logs = env
                .commit(&workers[i], 0, &job, roots[i], salt)
                .unwrap()
                .logs;
            let e = one(decode::<ResultCommitted>(&logs));
            assert_eq!(
                (e.slot, e.node),
                (i as u8, pda::node(&workers[i].key(), 0).0)
            );
        }
        for i in range {
            let logs = env
                .reveal(&workers[i], 0, &job, roots[i], salt)
                .unwrap()
                .logs;
            let e = one(decode::<ResultRevealed>(&logs));
            assert_eq!((e.slot, e.root), (i as u8, roots[i]));
        }
    };
    run(0..3);
    let logs = env.settle(&job).unwrap().logs;
    let e = one(decode::<EscalationStarted>(&logs));
    assert_eq!((e.job, e.replicas), (job, 2));
    assert!(decode::<JobSettled>(&logs).is_empty());
    run(3..5);

    let logs = env.settle(&job).unwrap().logs;
    let e = one(decode::<JobSettled>(&logs));
    assert_eq!(
        (e.reason, e.result_root, e.submitter),
        (JobEndReason::Accepted, Some([1; 32]), submitter.key())
    );
    // Four winners paid 1,000,000 less the 2.5% fee; the liar slashed half of its stake,
    // which gives the submitter back the two escalation rewards.
    assert_eq!(e.protocol_fees, 4 * 25_000);
    assert_eq!((e.reimbursed, e.refund), (2_000_000, 3_000_000));
    assert_eq!(e.penalties_to_treasury, 5_000_000 - 2_000_000);
    assert_eq!((e.bounty, e.bounty_to), (0, None));
    assert_eq!(e.slots.len(), 5);
    for (i, slot) in e.slots.iter().enumerate() {
        assert_eq!(slot.node, pda::node(&workers[i].key(), 0).0);
        if i == 2 {
            assert_eq!(
                (slot.verdict, slot.paid, slot.penalty),
                (Verdict::Disagreed, 0, 5_000_000)
            );
            assert!(slot.score_bps < 5_000);
        } else {
            assert_eq!(
                (slot.verdict, slot.paid, slot.fee, slot.penalty),
                (Verdict::Agreed, 975_000, 25_000, 0)
            );
        }
    }

    let logs = env.withdraw_earnings(&workers[0], 0, 975_000).unwrap().logs;
    let e = one(decode::<EarningsWithdrawn>(&logs));
    assert_eq!(
        (e.amount, e.earnings, e.destination),
        (975_000, 0, workers[0].token)
    );

    let logs = env.close_job(&submitter, 1).unwrap().logs;
    let e = one(decode::<JobClosed>(&logs));
    assert_eq!((e.job, e.refunded), (job, 3_000_000));
}

#[test]
fn every_governance_change_emits_its_event_with_old_and_new_values() {
    use tessera::state::{
        GovParamChanges, ParamChanges, ProposalAction, ProposalStatus, VoteChoice,
    };
    let env = sbf_env();
    env.initialize(&env.authority, env.params).unwrap();
    let gov = default_gov_params();
    let logs = env.init_governance(gov).unwrap().logs;
    let e = one(decode::<GovernanceInitialized>(&logs));
    assert_eq!(
        (e.governance, e.vault, e.params),
        (pda::governance().0, pda::gov_vault().0, gov)
    );

    let holder = env.actor();
    let logs = env.gov_deposit(&holder, 30_000_000).unwrap().logs;
    let e = one(decode::<GovDeposited>(&logs));
    assert_eq!(
        (e.owner, e.amount, e.deposit),
        (holder.key(), 30_000_000, 30_000_000)
    );

    let logs = env.hand_over().unwrap().logs;
    let e = one(decode::<AuthorityHandedOver>(&logs));
    assert_eq!(
        (e.old_authority, e.new_authority),
        (env.authority.pubkey(), pda::governance().0)
    );

    // Each kind of change, passed and executed, with its own event.
    env.mint_to(&pda::treasury().0, 1_000);
    let actions = [
        ProposalAction::UpdateParams(ParamChanges {
            slash_bps: Some(7_500),
            ..ParamChanges::default()
        }),
        ProposalAction::SetKernel {
            kernel_id: 3,
            allowed: false,
        },
        ProposalAction::SetPaused(true),
        ProposalAction::TreasuryGrant {
            recipient: holder.token,
            amount: 600,
        },
        ProposalAction::UpdateGovernance(GovParamChanges {
            quorum_bps: Some(3_000),
            ..GovParamChanges::default()
        }),
    ];
    for (id, action) in actions.into_iter().enumerate() {
        let id = id as u64;
        let params_before = env.config().params;
        let logs = env
            .send_one(
                tessera_sdk::instructions::create_proposal(
                    &holder.key(),
                    &holder.token,
                    id,
                    "change",
                    action,
                ),
                &holder.wallet,
            )
            .unwrap()
            .logs;
        let e = one(decode::<ProposalCreated>(&logs));
        assert_eq!(
            (e.id, e.action, e.deposit),
            (id, action, gov.proposal_deposit)
        );
        let logs = env.vote(&holder, id, VoteChoice::Yes, &[]).unwrap().logs;
        let e = one(decode::<VoteCast>(&logs));
        assert_eq!(
            (e.choice, e.deposit_power, e.yes),
            (VoteChoice::Yes, 30_000_000, 30_000_000)
        );
        env.chain.advance_time(i64::from(gov.voting_period_secs));
        let logs = env.finalize(id).unwrap().logs;
        let e = one(decode::<ProposalFinalized>(&logs));
        assert_eq!((e.status, e.forfeited), (ProposalStatus::Passed, 0));
        env.chain.advance_time(i64::from(gov.timelock_secs));
        let logs = env.execute(id).unwrap().logs;
        let e = one(decode::<ProposalExecuted>(&logs));
        assert_eq!((e.id, e.action), (id, action));
        match action {
            ProposalAction::UpdateParams(_) | ProposalAction::SetKernel { .. } => {
                let e = one(decode::<ParamsUpdated>(&logs));
                assert_eq!((e.old, e.new), (params_before, env.config().params));
                assert_ne!(e.old, e.new);
            }
            ProposalAction::SetPaused(_) => {
                let e = one(decode::<PauseChanged>(&logs));
                assert_eq!((e.old, e.new), (false, true));
            }
            ProposalAction::TreasuryGrant { .. } => {
                let e = one(decode::<TreasuryGranted>(&logs));
                assert_eq!(
                    (e.recipient, e.amount, e.treasury_before, e.treasury_after),
                    (holder.token, 600, 1_000, 400)
                );
            }
            ProposalAction::UpdateGovernance(_) => {
                let e = one(decode::<GovParamsUpdated>(&logs));
                assert_eq!((e.old.quorum_bps, e.new.quorum_bps), (2_000, 3_000));
            }
        }
        let logs = env.close_proposal(&holder, id).unwrap().logs;
        let e = one(decode::<ProposalClosed>(&logs));
        assert_eq!((e.cancelled, e.refunded), (false, gov.proposal_deposit));
    }

    let id = env
        .propose(&holder, "withdrawn", ProposalAction::SetPaused(false))
        .unwrap();
    let logs = env.cancel_proposal(&holder, id).unwrap().logs;
    let e = one(decode::<ProposalClosed>(&logs));
    assert_eq!((e.cancelled, e.refunded), (true, gov.proposal_deposit));
    let logs = env.gov_withdraw(&holder, 30_000_000).unwrap().logs;
    let e = one(decode::<GovWithdrawn>(&logs));
    assert_eq!(
        (e.amount, e.deposit, e.destination),
        (30_000_000, 0, holder.token)
    );
}
