//! Compute units of every instruction on the SBPF `.so` (always the `.so`, whatever
//! `TESSERA_PROGRAM_MODE` says: native execution has no meaningful compute units).
use std::path::Path;

use solana_keypair::Keypair;
use tessera::state::Params;
use tessera_sdk::in_process::{ProgramMode, TxOutcome};
use tessera_tests::*;

/// Hard ceiling for any instruction (issue "The real thing on chain").
const CEILING: u64 = 50_000;

/// Per-instruction budgets: the first measurement (2026-11-29) plus about 20%, at most the
/// ceiling.
const BUDGETS: &[(&str, u64)] = &[
    ("initialize", 43_900),
    // Params grew by `min_reward` (2026-12-05): 8,962 measured, plus about 20%.
    ("update_params", 10_700),
    ("register_node", 21_600),
    ("update_node", 11_700),
    ("stake", 21_000),
    ("request_unstake", 13_800),
    ("withdraw_stake", 21_400),
    ("close_node", 7_600),
    ("post_job", 28_800),
    ("cancel_job", 19_800),
    ("claim", 32_500),
    ("commit", 25_200),
    ("reveal", 25_500),
    ("settle", 34_200),
    ("close_job", 24_300),
    ("withdraw_earnings", 22_200),
    ("expire_job", 39_200),
    ("settle (escalate)", 26_900),
    // The costliest settlement: under the ceiling with less than 20% headroom; it is what
    // caps a job at eight slots (constants::MAX_REPLICAS_CEILING).
    ("settle (8 slots, 3 slashed)", 50_000),
    ("expire_job (8 slots)", 50_000),
    // Spot checks, measured 2026-12-05, plus about 20%.
    ("draw_audit", 17_600),
    ("draw_audit (aged out: forced, re-armed)", 17_600),
    ("settle (spot check, audited liar escalated)", 42_500),
    ("settle (spot check, forced audit)", 34_700),
    // Governance, measured 2026-12-04, plus about 20%.
    ("init_governance", 28_200),
    ("gov_deposit", 31_800),
    ("hand_over_authority", 12_000),
    ("create_proposal", 40_000),
    ("cast_vote", 23_500),
    // Each node a vote counts costs about 3,600 CU (its account is decoded): six, the most
    // a vote takes (constants::MAX_VOTE_NODES), stay under the ceiling.
    ("cast_vote (6 nodes)", 50_000),
    ("finalize_proposal", 26_500),
    ("execute_proposal", 28_800),
    ("close_proposal", 28_100),
    ("cancel_proposal", 27_900),
    ("gov_withdraw", 27_200),
];

/// Wallet seeds whose node (index 0) and job (nonce 1) PDAs have bump 254.
const OPERATOR_SEED: u8 = 11;
const SUBMITTER_SEED: u8 = 14;
/// Wallet seed of the governance measurements' holder.
const HOLDER_SEED: u8 = 21;
/// Wallet seed of the governance measurements' operator (its vote record's PDA bump is fixed).
const VOTING_OPERATOR_SEED: u8 = 22;

pub(crate) fn so_path() -> std::path::PathBuf {
    match std::env::var("TESSERA_PROGRAM_SO") {
        Ok(p) if !p.is_empty() => p.into(),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/tessera.so"),
    }
}

/// Runs every instruction once with realistic accounts and returns its compute units.
fn measure() -> Vec<(&'static str, u64)> {
    let so = so_path();
    assert!(
        so.exists(),
        "{} is missing: build it with scripts/build-sbf.sh",
        so.display()
    );
    let env = TestEnv::boot_with(ProgramMode::Sbf(so));
    assert!(env.chain.program_is_bpf());
    let mut cu = Vec::new();
    let mut record = |name: &'static str, outcome: tessera_sdk::in_process::TxOutcome| {
        cu.push((name, outcome.compute_units));
    };
    record(
        "initialize",
        env.initialize(&env.authority, env.params).unwrap(),
    );
    let new = Params {
        slash_bps: 6_000,
        ..env.params
    };
    record(
        "update_params",
        env.update_params(&env.authority, new).unwrap(),
    );
    // Fixed keys: `init` of a node or job PDA runs find_program_address, 1,500 CU per bump
    // tried, so the measurement depends on the key. The keys below give
    // both bump 254: two tries, the average case.
    let operator = env.actor_from(Keypair::new_from_array([OPERATOR_SEED; 32]), ACTOR_TOKENS);
    record(
        "register_node",
        env.register_node(&operator, node_args(0)).unwrap(),
    );
    let mut args = update_args(&env.node(&operator.key(), 0));
    args.endpoint = "https://another-host.example:8443/tessera".into();
    record("update_node", env.update_node(&operator, 0, args).unwrap());
    record("stake", env.stake(&operator, 0, 5_000_000).unwrap());
    record(
        "request_unstake",
        env.request_unstake(&operator, 0, 5_000_000).unwrap(),
    );
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    record(
        "withdraw_stake",
        env.withdraw_stake(&operator, 0, 5_000_000).unwrap(),
    );
    record("close_node", env.close_node(&operator, 0).unwrap());
    let submitter = env.actor_from(Keypair::new_from_array([SUBMITTER_SEED; 32]), ACTOR_TOKENS);
    let mut job = env.job_args(1, 3, 1_000_000);
    job.kernel_params = vec![0xab; 256];
    job.input.uri = format!("https://inputs.example/{}", "x".repeat(170));
    record("post_job", env.post_job(&submitter, job).unwrap());
    record("cancel_job", env.cancel_job(&submitter, 1).unwrap());
    measure_verification(&env, &submitter, &mut cu);
    measure_governance(&env, &mut cu);
    cu
}

/// The governance instructions; a vote at its costliest counts six nodes.
fn measure_governance(env: &TestEnv, cu: &mut Vec<(&'static str, u64)>) {
    use tessera::state::{ParamChanges, ProposalAction, VoteChoice};
    use tessera_sdk::instructions as ix;
    let mut record =
        |name: &'static str, outcome: TxOutcome| cu.push((name, outcome.compute_units));
    let gov = default_gov_params();
    record("init_governance", env.init_governance(gov).unwrap());
    let holder = env.actor_from(Keypair::new_from_array([HOLDER_SEED; 32]), ACTOR_TOKENS);
    record("gov_deposit", env.gov_deposit(&holder, 20_000_000).unwrap());
    let operator = env.actor_from(
        Keypair::new_from_array([VOTING_OPERATOR_SEED; 32]),
        ACTOR_TOKENS,
    );
    let nodes: Vec<u16> = (0..6).collect();
    for &i in &nodes {
        env.register_node(&operator, node_args(i)).unwrap();
        env.stake(&operator, i, 2_000_000).unwrap();
    }
    record("hand_over_authority", env.hand_over().unwrap());
    let action = ProposalAction::UpdateParams(ParamChanges {
        slash_bps: Some(7_000),
        min_stake: Some(2_000_000),
        ..ParamChanges::default()
    });
    let propose = |id: u64| {
        ix::create_proposal(
            &holder.key(),
            &holder.token,
            id,
            "Slash wrong results at 70% and raise the minimum stake",
            action,
        )
    };
    record(
        "create_proposal",
        env.send_one(propose(0), &holder.wallet).unwrap(),
    );
    record(
        "cast_vote",
        env.vote(&holder, 0, VoteChoice::Yes, &[]).unwrap(),
    );
    record(
        "cast_vote (6 nodes)",
        env.vote(&operator, 0, VoteChoice::No, &nodes).unwrap(),
    );
    env.chain.advance_time(i64::from(gov.voting_period_secs));
    record("finalize_proposal", env.finalize(0).unwrap());
    env.chain.advance_time(i64::from(gov.timelock_secs));
    record("execute_proposal", env.execute(0).unwrap());
    record("close_proposal", env.close_proposal(&holder, 0).unwrap());
    env.send_one(propose(1), &holder.wallet).unwrap();
    record("cancel_proposal", env.cancel_proposal(&holder, 1).unwrap());
    record(
        "gov_withdraw",
        env.gov_withdraw(&holder, 20_000_000).unwrap(),
    );
}

/// The verification instructions, each at its costliest: the last claim, commit and reveal
/// of a round scan the most slots; settlement is measured on a typical three-replica job and
/// on a job with all 8 slots, three of them slashed.
fn measure_verification(env: &TestEnv, submitter: &Actor, cu: &mut Vec<(&'static str, u64)>) {
    let mut record =
        |name: &'static str, outcome: TxOutcome| match cu.iter_mut().find(|(n, _)| *n == name) {
            Some((_, used)) => *used = (*used).max(outcome.compute_units),
            None => cu.push((name, outcome.compute_units)),
        };
    let workers: Vec<Actor> = (0..8).map(|_| env.staked_operator(10_000_000)).collect();
    let (truth, lie) = ([1u8; 32], [2u8; 32]);
    let salt = [3u8; 32];

    // A three-replica job, unanimous.
    env.post_job(submitter, env.job_args(2, 3, 1_000_000))
        .unwrap();
    let job = tessera_sdk::pda::job(&submitter.key(), 2).0;
    for w in &workers[..3] {
        record("claim", env.claim(w, 0, &job).unwrap());
    }
    for w in &workers[..3] {
        record("commit", env.commit(w, 0, &job, truth, salt).unwrap());
    }
    for w in &workers[..3] {
        record("reveal", env.reveal(w, 0, &job, truth, salt).unwrap());
    }
    record("settle", env.settle(&job).unwrap());
    record("close_job", env.close_job(submitter, 2).unwrap());
    record(
        "withdraw_earnings",
        env.withdraw_earnings(&workers[0], 0, 1).unwrap(),
    );

    // A three-replica job with a no-show, expired for the bounty.
    env.post_job(submitter, env.job_args(3, 3, 1_000_000))
        .unwrap();
    let job = tessera_sdk::pda::job(&submitter.key(), 3).0;
    for w in &workers[..3] {
        env.claim(w, 0, &job).unwrap();
        env.commit(w, 0, &job, truth, salt).unwrap();
    }
    for w in &workers[..2] {
        env.reveal(w, 0, &job, truth, salt).unwrap();
    }
    env.chain
        .advance_time(86_400 + i64::from(env.params.expiry_grace_secs));
    record("expire_job", env.expire_job(&job, &workers[0]).unwrap());

    // Eight slots: 6 replicas split 3/3, escalation of 2 siding with the first 3, and a
    // job of the largest input URI and kernel params (the costliest job to decode).
    let params = Params {
        max_replicas: 6,
        escalation_replicas: 2,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let eight_slots = |nonce: u64, record: &mut dyn FnMut(&'static str, TxOutcome)| {
        let mut args = env.job_args(nonce, 6, 1_000_000);
        args.kernel_params = vec![0xab; 256];
        args.input.uri = format!("https://inputs.example/{}", "x".repeat(177));
        env.post_job(submitter, args).unwrap();
        let job = tessera_sdk::pda::job(&submitter.key(), nonce).0;
        let root = |i: usize| if (3..6).contains(&i) { lie } else { truth };
        for w in &workers[..6] {
            record("claim", env.claim(w, 0, &job).unwrap());
        }
        for (i, w) in workers[..6].iter().enumerate() {
            record("commit", env.commit(w, 0, &job, root(i), salt).unwrap());
        }
        for (i, w) in workers[..6].iter().enumerate() {
            record("reveal", env.reveal(w, 0, &job, root(i), salt).unwrap());
        }
        record("settle (escalate)", env.settle(&job).unwrap());
        for (i, w) in workers.iter().enumerate().skip(6) {
            record("claim", env.claim(w, 0, &job).unwrap());
            record("commit", env.commit(w, 0, &job, root(i), salt).unwrap());
        }
        (job, root)
    };
    // Settled: five agree, three slashed.
    let (job, root) = eight_slots(4, &mut record);
    for (i, w) in workers.iter().enumerate().skip(6) {
        record("reveal", env.reveal(w, 0, &job, root(i), salt).unwrap());
    }
    record("settle (8 slots, 3 slashed)", env.settle(&job).unwrap());
    // Expired: the escalation replicas never reveal (two no-show penalties and a bounty).
    let (job, _) = eight_slots(5, &mut record);
    env.chain
        .advance_time(2 * 600 + i64::from(env.params.expiry_grace_secs));
    record(
        "expire_job (8 slots)",
        env.expire_job(&job, &workers[0]).unwrap(),
    );

    // Spot checks: a lying worker, audited (every job, for the measurement), outvoted by its
    // two auditors and two escalation replicas, and slashed: five slots.
    let params = Params {
        audit_bps: 10_000,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let spot_job = |nonce: u64, root: [u8; 32]| {
        let mut args = env.job_args(nonce, 1, 20_000);
        args.spot_check = true;
        args.kernel_params = vec![0xab; 256];
        args.input.uri = format!("https://inputs.example/{}", "x".repeat(177));
        env.post_job(submitter, args).unwrap();
        let job = tessera_sdk::pda::job(&submitter.key(), nonce).0;
        env.claim(&workers[0], 0, &job).unwrap();
        env.commit(&workers[0], 0, &job, root, salt).unwrap();
        // The audit slot passes with a transaction in it (in the bank, slots without one have
        // no hash), then becomes final.
        env.chain.advance_time(2);
        assert!(env.draw_audit(&job).is_err(), "not final yet");
        env.chain.advance_time(1);
        job
    };
    let job = spot_job(6, lie);
    record("draw_audit", env.draw_audit(&job).unwrap());
    for w in &workers[1..3] {
        env.claim(w, 0, &job).unwrap();
        env.commit(w, 0, &job, truth, salt).unwrap();
    }
    env.reveal(&workers[0], 0, &job, lie, salt).unwrap();
    for w in &workers[1..3] {
        env.reveal(w, 0, &job, truth, salt).unwrap();
    }
    record("settle (escalate)", env.settle(&job).unwrap());
    for w in &workers[3..5] {
        env.claim(w, 0, &job).unwrap();
        env.commit(w, 0, &job, truth, salt).unwrap();
    }
    for w in &workers[3..5] {
        env.reveal(w, 0, &job, truth, salt).unwrap();
    }
    record(
        "settle (spot check, audited liar escalated)",
        env.settle(&job).unwrap(),
    );
    // At the default 10%, an audit forced by an aged-out slot: the forcing call re-arms the
    // draw on a later slot, whose hash the deciding call reads; no treasury subsidy.
    env.update_params(&env.authority, env.params).unwrap();
    let job = spot_job(7, truth);
    env.age_out_slot(env.read::<tessera::state::Job>(&job).audit_slot);
    record(
        "draw_audit (aged out: forced, re-armed)",
        env.draw_audit(&job).unwrap(),
    );
    env.chain.advance_time(1);
    record("draw_audit", env.draw_audit_until_drawn(&job));
    for w in &workers[1..3] {
        env.claim(w, 0, &job).unwrap();
        env.commit(w, 0, &job, truth, salt).unwrap();
    }
    for w in &workers[..3] {
        env.reveal(w, 0, &job, truth, salt).unwrap();
    }
    record(
        "settle (spot check, forced audit)",
        env.settle(&job).unwrap(),
    );
}

fn table(cu: &[(&str, u64)]) -> String {
    let mut out = String::from("| instruction | compute units | budget |\n|---|---:|---:|\n");
    for (name, used) in cu {
        let budget = BUDGETS
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b);
        out.push_str(&format!("| `{name}` | {used} | {budget} |\n"));
    }
    out
}

#[test]
fn every_instruction_fits_its_compute_budget() {
    let cu = measure();
    let report = table(&cu);
    println!("{report}");
    if let Ok(path) = std::env::var("TESSERA_CU_REPORT") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        let doc = std::fs::read_to_string(&path).expect("read the report file");
        let (head, rest) = doc
            .split_once("<!-- cu-table -->")
            .expect("cu-table marker");
        let (_, tail) = rest
            .split_once("<!-- /cu-table -->")
            .expect("/cu-table marker");
        std::fs::write(
            &path,
            format!("{head}<!-- cu-table -->\n{report}<!-- /cu-table -->{tail}"),
        )
        .expect("write the report");
    }
    assert_eq!(cu.len(), BUDGETS.len(), "every instruction measured");
    for (name, used) in &cu {
        let (_, budget) = BUDGETS.iter().find(|(n, _)| n == name).expect("a budget");
        assert!(
            *used > 0,
            "{name}: no compute units metered (not on the VM?)"
        );
        assert!(
            *used <= CEILING,
            "{name}: {used} CU exceeds the {CEILING} CU ceiling"
        );
        assert!(
            *used <= *budget,
            "{name}: {used} CU exceeds its budget of {budget}"
        );
    }
}
