//! Benchmark: in-process transactions per second, for the mix the tests and the demo send.
//!
//!   cargo run -p tessera-tests --bin throughput [-- <transactions>]
//!
//! Prints one line per instruction kind: transactions, seconds, transactions per second.
use std::time::Instant;

use anchor_lang::Space;
use tessera_tests::{node_args, TestEnv};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("transactions: a positive integer"))
        .unwrap_or(1_000);
    let env = TestEnv::new();
    println!("mode: {:?}", env.chain.mode());
    for (name, space) in [
        ("Config", 8 + tessera::state::Config::INIT_SPACE),
        ("Node", 8 + tessera::state::Node::INIT_SPACE),
        ("Job", 8 + tessera::state::Job::INIT_SPACE),
        ("token vault", tessera_sdk::token::TOKEN_ACCOUNT_LEN),
    ] {
        let rent = env.chain.rent_exempt_minimum(space);
        println!("{name:12} {space:5} bytes, rent-exempt minimum {rent} lamports");
    }

    let operator = env.actor();
    env.register_node(&operator, node_args(0))
        .expect("register");
    let started = Instant::now();
    for _ in 0..n {
        env.stake(&operator, 0, 1).expect("stake");
    }
    report("stake (token CPI)", n, started);
    assert_eq!(env.stake_vault_balance(), n, "every stake moved a token");

    let submitter = env.actor();
    let started = Instant::now();
    for nonce in 0..n {
        env.post_job(&submitter, env.job_args(nonce, 3, 10))
            .expect("post");
    }
    report("post_job (init + token CPI)", n, started);

    let started = Instant::now();
    for nonce in 0..n {
        env.cancel_job(&submitter, nonce).expect("cancel");
    }
    report("cancel_job (close + token CPI)", n, started);
}

fn report(what: &str, n: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{what:32} {n:6} tx {secs:8.3} s {:10.0} tx/s",
        n as f64 / secs
    );
}
