//! The attacker's review (issue 15): each finding as the attack itself. Every test here
//! failed on main at 17dce1f (the commit before the fixes) and passes after them, in both
//! program modes (finding 4 needs the `.so`: the native builtin has no ProgramData).
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera::error::TesseraError;
use tessera::state::sortition::{audit_seed, ticket, wins_priority, SLOT_HASHES_ID};
use tessera::state::{
    AuditState, Job, JobEndReason, JobStatus, ParamChanges, Params, ProposalAction, SlotState,
};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

use crate::spot_check::Spot;

const STAKE: u64 = 10_000_000;
const REWARD: u64 = 1_000_000;
const TRUTH: [u8; 32] = [0x11; 32];
const LIE: [u8; 32] = [0x66; 32];
/// Spot-check reward within [`default_params`]' `max_audited_reward`.
const SPOT_REWARD: u64 = 20_000;

fn reason(job: &Job) -> JobEndReason {
    match job.status {
        JobStatus::Ended { reason, .. } => reason,
        other => panic!("job has not ended: {other:?}"),
    }
}

fn salt(actor: &Actor) -> [u8; 32] {
    actor.key().to_bytes()
}

/// A network whose priority sortition is selective: a node of `STAKE` wins a 3-slot job's
/// priority with probability 3 × 3 × STAKE / (100 × STAKE) = 9 %.
fn selective_env() -> TestEnv {
    let env = TestEnv::new();
    let params = Params {
        sortition_weight: 100 * STAKE,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    TestEnv { params, ..env }
}

/// Finding 1: keys ground off chain after the seed is public, then `register_node + stake +
/// claim` in one transaction, took priority slots. Nodes and stake made after the round's
/// seed no longer count for it, in the priority window or after.
#[test]
fn h1_nodes_made_after_the_seed_cannot_capture_a_job() {
    let env = selective_env();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, REWARD))
        .unwrap();
    let job_key = pda::job(&submitter.key(), 1).0;
    let job = env.read::<Job>(&job_key);
    // Grind operator keys until the node address wins a priority ticket with STAKE.
    let weight = tessera::state::sortition::weight(STAKE, 10_000);
    let winner = (0..10_000)
        .map(|_| Keypair::new())
        .find(|k| {
            let node = pda::node(&k.pubkey(), 0).0;
            wins_priority(
                ticket(&job.seed, &node),
                weight,
                3,
                env.params.sortition_weight,
            )
        })
        .expect("a winning key within 10,000 tries");
    let attacker = env.actor_from(winner, 2 * STAKE);
    let capture = [
        ix::register_node(&attacker.key(), node_args(0)),
        ix::stake(&attacker.key(), 0, &attacker.token, STAKE),
        ix::claim(&attacker.key(), 0, &job_key),
    ];
    assert_tessera_error(
        env.send(&capture, &attacker.wallet, &[]),
        TesseraError::StakeNotWarm,
    );
    // Registered and staked now, it still does not count for this round, not even once
    // the priority window is over and claims are open to all.
    env.send(&capture[..2], &attacker.wallet, &[]).unwrap();
    env.chain
        .advance_time(i64::from(env.params.priority_window_secs));
    assert_tessera_error(
        env.claim(&attacker, 0, &job_key),
        TesseraError::StakeNotWarm,
    );
    // The next job's round counts it.
    env.post_job(&submitter, env.job_args(2, 3, REWARD))
        .unwrap();
    env.chain
        .advance_time(i64::from(env.params.priority_window_secs));
    env.claim(&attacker, 0, &pda::job(&submitter.key(), 2).0)
        .expect("a node older than the round claims");
}

/// Finding 1, flash stake: a node that existed with the minimum stake adds stake after the
/// seed is public to win priority with the bigger weight. Only the stake that predates the
/// seed weighs.
#[test]
fn h1_stake_added_after_the_seed_does_not_weigh_in_the_priority_draw() {
    let env = selective_env();
    let min = env.params.min_stake;
    // Candidates registered with the minimum stake before the job exists.
    let candidates: Vec<Actor> = (0..6).map(|_| env.staked_operator(min)).collect();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, REWARD))
        .unwrap();
    let job_key = pda::job(&submitter.key(), 1).0;
    let job = env.read::<Job>(&job_key);
    let sortition = env.params.sortition_weight;
    let wins = |actor: &Actor, stake: u64| {
        let node = pda::node(&actor.key(), 0).0;
        let weight = tessera::state::sortition::weight(stake, 10_000);
        wins_priority(ticket(&job.seed, &node), weight, 3, sortition)
    };
    // One whose ticket loses with the minimum but wins with 100 × STAKE more.
    let flash = candidates
        .iter()
        .find(|a| !wins(a, min) && wins(a, min + 100 * STAKE))
        .expect("a candidate whose ticket only the flash stake would win");
    env.mint_to(&flash.token, 100 * STAKE);
    let attack = [
        ix::stake(&flash.key(), 0, &flash.token, 100 * STAKE),
        ix::claim(&flash.key(), 0, &job_key),
    ];
    assert_tessera_error(
        env.send(&attack, &flash.wallet, &[]),
        TesseraError::NotPrioritySelected,
    );
}

/// Finding 3: with R = 3 and one first-round claim, escalation pushed the next claims at
/// index 1 and 2, inside the first round's range: those nodes could not commit and were
/// charged as no-shows. A round's slots are now explicit.
#[test]
fn h3_escalation_after_an_under_claimed_round_lets_its_claims_commit_and_be_paid() {
    let env = TestEnv::new();
    let workers: Vec<Actor> = (0..3).map(|_| env.staked_operator(STAKE)).collect();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, REWARD))
        .unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    env.claim(&workers[0], 0, &job).unwrap();
    env.commit(&workers[0], 0, &job, TRUTH, salt(&workers[0]))
        .unwrap();
    let commit_deadline = env.read::<Job>(&job).commit_deadline;
    env.chain
        .advance_time(commit_deadline - env.chain.get_clock().unix_timestamp);
    env.reveal(&workers[0], 0, &job, TRUTH, salt(&workers[0]))
        .unwrap();
    // One reveal of three slots: no majority of the round, so the job escalates.
    env.chain
        .advance_time(i64::from(env.params.reveal_window_secs));
    env.settle(&job).unwrap();
    let escalated = env.read::<Job>(&job);
    assert!(escalated.escalated);
    assert_eq!(escalated.round_start_index(), 1);
    for worker in &workers[1..] {
        env.claim(worker, 0, &job).unwrap();
        env.commit(worker, 0, &job, TRUTH, salt(worker))
            .expect("an escalation claim can commit");
    }
    for worker in &workers[1..] {
        env.reveal(worker, 0, &job, TRUTH, salt(worker)).unwrap();
    }
    env.settle(&job).unwrap();
    let ended = env.read::<Job>(&job);
    assert_eq!(reason(&ended), JobEndReason::Accepted);
    for worker in &workers {
        let node = env.node(&worker.key(), 0);
        assert_eq!(node.stake, STAKE, "nobody slashed");
        assert!(node.earnings > 0, "everyone paid");
        assert_eq!(node.open_assignments, 0);
    }
}

/// Finding 6: stake in cooldown left before a job it backed had settled (cooldown 1 day,
/// jobs up to 7). Withdrawals now wait for the node's open assignments.
#[test]
fn m6_stake_backing_an_open_assignment_cannot_leave() {
    let env = TestEnv::new();
    let worker = env.staked_operator(STAKE);
    let submitter = env.actor();
    let mut args = env.job_args(1, 1, REWARD);
    args.deadline = env.chain.get_clock().unix_timestamp + 7 * 86_400;
    env.post_job(&submitter, args).unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    env.claim(&worker, 0, &job).unwrap();
    env.commit(&worker, 0, &job, LIE, salt(&worker)).unwrap();
    // Everything above the minimum may go into cooldown while the node holds the slot.
    let excess = STAKE - env.params.min_stake;
    env.request_unstake(&worker, 0, excess).unwrap();
    env.chain.advance_time(env.params.unstake_cooldown_secs + 1);
    assert_tessera_error(
        env.withdraw_stake(&worker, 0, excess),
        TesseraError::NodeHasOpenAssignments,
    );
    assert_eq!(
        env.node(&worker.key(), 0).unstaking,
        excess,
        "still slashable"
    );
}

/// Finding 7: settlement read the current slash rate, so a change made after posting
/// applied to open jobs. The job's rates are frozen at posting.
#[test]
fn m7_settlement_applies_the_rates_the_job_was_posted_with() {
    let env = TestEnv::new();
    let workers: Vec<Actor> = (0..3).map(|_| env.staked_operator(STAKE)).collect();
    let more: Vec<Actor> = (0..2).map(|_| env.staked_operator(STAKE)).collect();
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, REWARD))
        .unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    let roots = [TRUTH, TRUTH, LIE];
    for worker in &workers {
        env.claim(worker, 0, &job).unwrap();
    }
    for (worker, root) in workers.iter().zip(roots) {
        env.commit(worker, 0, &job, root, salt(worker)).unwrap();
    }
    for (worker, root) in workers.iter().zip(roots) {
        env.reveal(worker, 0, &job, root, salt(worker)).unwrap();
    }
    // Governance doubles the slash rate and the fee while the job is open.
    let harsher = Params {
        slash_bps: 10_000,
        protocol_fee_bps: 500,
        ..env.params
    };
    env.update_params(&env.authority, harsher).unwrap();
    // The 2-of-3 first round escalates; two more honest replicas settle it.
    env.settle(&job).unwrap();
    for worker in &more {
        env.claim(worker, 0, &job).unwrap();
        env.commit(worker, 0, &job, TRUTH, salt(worker)).unwrap();
    }
    for worker in &more {
        env.reveal(worker, 0, &job, TRUTH, salt(worker)).unwrap();
    }
    env.settle(&job).unwrap();
    assert_eq!(reason(&env.read::<Job>(&job)), JobEndReason::Accepted);
    let posted = default_params();
    let liar = env.node(&workers[2].key(), 0);
    assert_eq!(
        STAKE - liar.stake,
        STAKE * u64::from(posted.slash_bps) / 10_000,
        "slashed at the posted rate"
    );
    let honest = env.node(&workers[0].key(), 0);
    assert_eq!(
        honest.earnings,
        REWARD - REWARD * u64::from(posted.protocol_fee_bps) / 10_000,
        "fee at the posted rate"
    );
}

/// Finding 7: the expiry bounty could go to the operator whose no-show it is paid from.
#[test]
fn m7_the_penalised_operator_cannot_collect_the_expiry_bounty() {
    let env = TestEnv::new();
    let worker = env.staked_operator(STAKE);
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 1, REWARD))
        .unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    env.claim(&worker, 0, &job).unwrap();
    let j = env.read::<Job>(&job);
    env.chain.advance_time(
        j.reveal_deadline + i64::from(env.params.expiry_grace_secs)
            - env.chain.get_clock().unix_timestamp,
    );
    assert_tessera_error(
        env.expire_job(&job, &worker),
        TesseraError::BountyToPenalised,
    );
    let cranker = env.actor();
    env.expire_job(&job, &cranker).unwrap();
    assert!(
        env.balance(&cranker.token) > ACTOR_TOKENS,
        "a bystander earns it"
    );
}

/// Worker `worker` of `s` claims `job` and commits `root`.
fn claim_commit(s: &Spot, worker: usize, job: &Pubkey, root: [u8; 32]) {
    s.claim(worker, job);
    s.commit(worker, job, root);
}

/// Finding 2(a): a worker that committed a wrong root could read the draw off chain and,
/// when it would be audited, never draw: the job ended with a no-show (10 %) instead of a
/// slash (50 %). Committing and not revealing now costs a slash, whatever the audit state.
#[test]
fn h2a_a_worker_that_commits_and_never_draws_its_audit_is_slashed() {
    let s = Spot::new(1, None);
    let env = &s.env;
    let job = s.post(1);
    claim_commit(&s, 0, &job, LIE);
    // Nobody draws; the deadline passes; anyone settles.
    let j = env.read::<Job>(&job);
    assert_eq!(j.audit, AuditState::Pending);
    env.chain
        .advance_time(j.reveal_deadline - env.chain.get_clock().unix_timestamp);
    env.settle(&job).unwrap();
    let node = env.node(&s.workers[0].key(), 0);
    assert_eq!(
        STAKE - node.stake,
        STAKE * u64::from(env.params.slash_bps) / 10_000,
        "slashed as a wrong result, not charged as a no-show"
    );
}

/// Finding 2(b): a submitter with its own worker and auditors let the audit slot age out;
/// the forced audit was subsidized by the treasury, so each such job paid the coalition
/// (about 34,500 base units at the test defaults). Forced audits are not subsidized now:
/// the loop costs the coalition money.
#[test]
fn h2b_self_dealt_forced_audits_do_not_profit_the_coalition() {
    let s = Spot::new(3, None);
    let env = &s.env;
    // The treasury holds fees and penalties of other jobs.
    env.mint_to(&pda::treasury().0, 100 * SPOT_REWARD);
    let coalition_tokens = |s: &Spot| -> u64 {
        let tokens = s.env.balance(&s.submitter.token);
        let nodes: u64 = s
            .workers
            .iter()
            .map(|w| {
                let n = s.env.node(&w.key(), 0);
                n.stake + n.unstaking + n.earnings + s.env.balance(&w.token)
            })
            .sum();
        tokens + nodes
    };
    let before = coalition_tokens(&s);
    let treasury_before = env.treasury_balance();
    for nonce in 1..=4u64 {
        let job = s.post(nonce);
        claim_commit(&s, 0, &job, TRUTH);
        // Let the audit slot age out, then force the audit.
        env.age_out_slot(env.read::<Job>(&job).audit_slot);
        env.draw_audit_until_drawn(&job);
        assert_eq!(env.read::<Job>(&job).audit, AuditState::Drawn);
        for auditor in [1, 2] {
            claim_commit(&s, auditor, &job, TRUTH);
        }
        for worker in 0..3 {
            s.reveal(worker, &job, TRUTH);
        }
        env.settle(&job).unwrap();
        assert_eq!(reason(&env.read::<Job>(&job)), JobEndReason::Accepted);
        env.close_job(&s.submitter, nonce).unwrap();
    }
    let after = coalition_tokens(&s);
    assert!(
        after <= before,
        "the coalition gained {} base units from the treasury",
        after.saturating_sub(before)
    );
    assert!(env.treasury_balance() >= treasury_before, "nothing drained");
}

/// Finding 2(c): a forced audit's seed was `audit_seed(job seed, 0)`, known at posting, so
/// auditors could grind their tickets in advance. It now comes from the hash of a slot after
/// the forcing draw.
#[test]
fn h2c_a_forced_audit_is_seeded_by_a_slot_hash_nobody_knew_in_advance() {
    let s = Spot::new(3, None);
    let env = &s.env;
    let job = s.post(1);
    let posted_seed = env.read::<Job>(&job).seed;
    claim_commit(&s, 0, &job, TRUTH);
    env.age_out_slot(env.read::<Job>(&job).audit_slot);
    env.draw_audit_until_drawn(&job);
    let drawn = env.read::<Job>(&job);
    assert_eq!(drawn.audit, AuditState::Drawn);
    assert!(drawn.audit_forced);
    assert_ne!(
        drawn.seed,
        audit_seed(&posted_seed, &[0; 32]),
        "not the seed known at posting"
    );
    let sysvar = env.chain.get_account(&SLOT_HASHES_ID).unwrap().data;
    let hash = slot_hash(&sysvar, drawn.audit_slot).expect("the deciding slot's hash");
    assert_eq!(drawn.seed, audit_seed(&posted_seed, &hash));
    // The auditors' claims and the worker's slot still work on it.
    for auditor in [1, 2] {
        claim_commit(&s, auditor, &job, TRUTH);
    }
    assert!(env
        .read::<Job>(&job)
        .slots
        .iter()
        .all(|slot| slot.state == SlotState::Committed));
}

/// The hash of `slot` in SlotHashes sysvar data, if present.
fn slot_hash(data: &[u8], slot: u64) -> Option<[u8; 32]> {
    let len = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
    (0..len).find_map(|i| {
        let at = 8 + 40 * i;
        let s = u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
        (s == slot).then(|| data[at + 8..at + 40].try_into().unwrap())
    })
}

/// Finding 5: a deposit made just before `create_proposal` and withdrawn right after counted
/// in the proposal's quorum base without ever being able to vote on it, sinking the proposal
/// (its proposer's deposit forfeited). Deposits counted in an open proposal's base now stay
/// until its voting period ends.
#[test]
fn m5_a_deposit_in_a_quorum_base_cannot_leave_during_the_vote() {
    let env = TestEnv::new();
    env.init_governance(default_gov_params()).unwrap();
    let proposer = env.actor();
    env.gov_deposit(&proposer, 20_000_000).unwrap();
    env.hand_over().unwrap();
    let griefer = env.actor();
    env.gov_deposit(&griefer, 500_000_000).unwrap();
    let id = env
        .propose(
            &proposer,
            "Raise the slash rate",
            ProposalAction::UpdateParams(ParamChanges {
                slash_bps: Some(6_000),
                ..ParamChanges::default()
            }),
        )
        .unwrap();
    assert_tessera_error(
        env.gov_withdraw(&griefer, 500_000_000),
        TesseraError::DepositInQuorumBase,
    );
    // What is deposited after the proposal was created does not count for it, and may go.
    env.gov_deposit(&griefer, 1_000).unwrap();
    env.gov_withdraw(&griefer, 1_000).unwrap();
    // Once the voting period is over, everything may go.
    env.chain
        .advance_time(i64::from(default_gov_params().voting_period_secs));
    env.finalize(id).unwrap();
    env.gov_withdraw(&griefer, 500_000_000).unwrap();
}

/// Finding 8: reputation was free to farm with self-dealt jobs whose fee rounds to zero
/// (`bps_of(1, 250) = 0`). A governed `min_reward` makes every farmed slot pay the fee on at
/// least that much; and a fresh node (a reset reputation) weighs no more than an
/// established honest one.
#[test]
fn m8_farming_reputation_costs_the_fee_on_min_reward_and_a_reset_gains_no_weight() {
    let env = TestEnv::new();
    let params = Params {
        min_reward: 10_000,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let farmer = env.staked_operator(STAKE);
    let submitter = env.actor_from(Keypair::new(), ACTOR_TOKENS);
    let mut free = env.job_args(1, 1, 1);
    free.work_units = 1;
    assert_tessera_error(
        env.post_job(&submitter, free),
        TesseraError::RewardBelowMinimum,
    );
    // At the floor, the coalition of submitter and worker pays the fee on every farmed job.
    let before = env.balance(&submitter.token) + env.node(&farmer.key(), 0).earnings;
    for nonce in 2..5u64 {
        env.post_job(&submitter, env.job_args(nonce, 1, 10_000))
            .unwrap();
        let job = pda::job(&submitter.key(), nonce).0;
        env.claim(&farmer, 0, &job).unwrap();
        env.commit(&farmer, 0, &job, TRUTH, salt(&farmer)).unwrap();
        env.reveal(&farmer, 0, &job, TRUTH, salt(&farmer)).unwrap();
        env.settle(&job).unwrap();
        env.close_job(&submitter, nonce).unwrap();
    }
    let after = env.balance(&submitter.token) + env.node(&farmer.key(), 0).earnings;
    assert_eq!(
        before - after,
        3 * (10_000 * 250 / 10_000),
        "three fees paid"
    );
    // A fresh node weighs no more than the established honest one.
    let fresh = env.staked_operator(STAKE);
    let (established, new) = (env.node(&farmer.key(), 0), env.node(&fresh.key(), 0));
    assert!(established.reputation.score_bps > new.reputation.score_bps);
    assert!(new.weight() <= established.weight());
}

/// Finding 4: any signer could `initialize` the network first and become its authority.
/// Only the program's upgrade authority (its ProgramData account, upgradeable loader) may.
/// Run on the `.so` (loaded through the upgradeable loader); the native builtin has no
/// ProgramData, so the native run of this test only checks that the deployer can initialize.
#[test]
fn m4_only_the_upgrade_authority_initializes_the_network() {
    let env = TestEnv::boot();
    let params = env.params;
    if env.chain.program_is_bpf() {
        let squatter = env.actor_with(0);
        assert_tessera_error(
            env.initialize(&squatter.wallet, params),
            TesseraError::NotUpgradeAuthority,
        );
        // A ProgramData look-alike naming the squatter, at another address.
        let real = env
            .chain
            .get_account(&pda::program_data())
            .expect("ProgramData");
        let mut fake = real.clone();
        fake.data[13..45].copy_from_slice(squatter.key().as_ref());
        let fake_address = Pubkey::new_unique();
        env.chain.set_account(&fake_address, fake).unwrap();
        let forged = substitute(
            ix::initialize(&squatter.key(), &env.mint, params),
            &pda::program_data(),
            &fake_address,
        );
        assert_tessera_error(
            env.send_one(forged, &squatter.wallet),
            TesseraError::NotUpgradeAuthority,
        );
        assert!(!env.exists(&pda::config().0), "nothing was created");
    } else {
        eprintln!("native builtin: no ProgramData; the upgrade-authority check runs on the .so");
    }
    env.initialize(&env.authority, params).unwrap();
    assert_eq!(env.config().authority, env.authority.pubkey());
}
