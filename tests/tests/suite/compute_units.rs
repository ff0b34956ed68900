//! Compute units of every instruction on the SBPF `.so` (always the `.so`, whatever
//! `TESSERA_PROGRAM_MODE` says: native execution has no meaningful compute units).
use std::path::Path;

use solana_keypair::Keypair;
use tessera::state::Params;
use tessera_sdk::in_process::ProgramMode;
use tessera_tests::*;

/// Hard ceiling for any instruction (issue "The real thing on chain").
const CEILING: u64 = 50_000;

/// Per-instruction budgets: the first measurement (2026-11-29) plus about 20%.
const BUDGETS: &[(&str, u64)] = &[
    ("initialize", 43_900),
    ("update_params", 8_900),
    ("register_node", 21_600),
    ("update_node", 11_700),
    ("stake", 21_000),
    ("request_unstake", 13_800),
    ("withdraw_stake", 21_400),
    ("close_node", 7_600),
    ("post_job", 28_800),
    ("cancel_job", 19_800),
];

/// Wallet seeds whose node (index 0) and job (nonce 1) PDAs have bump 254.
const OPERATOR_SEED: u8 = 11;
const SUBMITTER_SEED: u8 = 14;

fn so_path() -> std::path::PathBuf {
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
    cu
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
