//! Property test: random sequences of stake / request_unstake / withdraw / post / cancel (and
//! attacks) by four actors. After every operation the token supply is conserved, each vault
//! holds exactly what the program's accounts say, the outcome matches a model, and a failed
//! operation changes no balance.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use tessera::state::{Job, Node};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

const ACTORS: usize = 4;
/// Operations per generated sequence; with the default 16 cases that is 1,024 operations.
const OPS_PER_CASE: usize = 64;

#[derive(Clone, Debug)]
enum Op {
    Stake {
        actor: usize,
        amount: u64,
    },
    RequestUnstake {
        actor: usize,
        amount: u64,
    },
    Withdraw {
        actor: usize,
        amount: u64,
    },
    Post {
        actor: usize,
        replicas: u8,
        reward: u64,
    },
    Cancel {
        actor: usize,
        pick: usize,
    },
    CancelByStranger {
        actor: usize,
        stranger: usize,
        pick: usize,
    },
    Advance {
        seconds: i64,
    },
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        4 => 1u64..10_000_000,
        2 => 1u64..=ACTOR_TOKENS,
        1 => Just(u64::MAX),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let actor = 0..ACTORS;
    prop_oneof![
        3 => (actor.clone(), amount()).prop_map(|(actor, amount)| Op::Stake { actor, amount }),
        2 => (actor.clone(), amount())
            .prop_map(|(actor, amount)| Op::RequestUnstake { actor, amount }),
        2 => (actor.clone(), amount()).prop_map(|(actor, amount)| Op::Withdraw { actor, amount }),
        3 => (actor.clone(), 0u8..=6, prop_oneof![Just(0u64), 1u64..50_000_000, Just(u64::MAX / 3)])
            .prop_map(|(actor, replicas, reward)| Op::Post { actor, replicas, reward }),
        2 => (actor.clone(), 0usize..8).prop_map(|(actor, pick)| Op::Cancel { actor, pick }),
        1 => (actor.clone(), actor, 0usize..8)
            .prop_map(|(actor, stranger, pick)| Op::CancelByStranger { actor, stranger, pick }),
        1 => prop_oneof![Just(3_600i64), Just(86_400i64), 1i64..200_000]
            .prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// What the program should hold, tracked independently of it.
#[derive(Default)]
struct Model {
    stake: [u64; ACTORS],
    unstaking: [u64; ACTORS],
    available_at: [i64; ACTORS],
    /// Open jobs per actor: (nonce, escrow).
    jobs: [Vec<(u64, u64)>; ACTORS],
    next_nonce: [u64; ACTORS],
}

struct World {
    env: TestEnv,
    actors: Vec<Actor>,
    model: Model,
    supply: u64,
}

impl World {
    fn new() -> Self {
        let env = TestEnv::new();
        let actors: Vec<Actor> = (0..ACTORS)
            .map(|_| {
                let a = env.actor();
                env.register_node(&a, node_args(0)).expect("register");
                a
            })
            .collect();
        let supply = env.mint_supply();
        Self {
            env,
            actors,
            model: Model::default(),
            supply,
        }
    }

    fn balances(&self) -> BTreeMap<Pubkey, u64> {
        self.env.balances(self.actors.iter().map(|a| a.token))
    }

    /// Applies `op`; returns (did it succeed, the model's prediction, token delta of the actor).
    fn apply(&mut self, op: &Op) -> (bool, bool, i128) {
        let env = &self.env;
        let m = &mut self.model;
        let now = env.chain.get_clock().unix_timestamp;
        match *op {
            Op::Stake { actor, amount } => {
                let a = &self.actors[actor];
                let balance = env.balance(&a.token);
                let ok = env.stake(a, 0, amount).is_ok();
                let expect = amount > 0 && amount <= balance;
                if ok {
                    m.stake[actor] += amount;
                }
                (ok, expect, -i128::from(amount))
            }
            Op::RequestUnstake { actor, amount } => {
                let ok = env.request_unstake(&self.actors[actor], 0, amount).is_ok();
                let expect = amount > 0 && amount <= m.stake[actor];
                if ok {
                    m.stake[actor] -= amount;
                    m.unstaking[actor] += amount;
                    m.available_at[actor] = now + env.params.unstake_cooldown_secs;
                }
                (ok, expect, 0)
            }
            Op::Withdraw { actor, amount } => {
                let ok = env.withdraw_stake(&self.actors[actor], 0, amount).is_ok();
                let expect =
                    amount > 0 && amount <= m.unstaking[actor] && now >= m.available_at[actor];
                if ok {
                    m.unstaking[actor] -= amount;
                }
                (ok, expect, i128::from(amount))
            }
            Op::Post {
                actor,
                replicas,
                reward,
            } => {
                let a = &self.actors[actor];
                let balance = env.balance(&a.token);
                let nonce = m.next_nonce[actor];
                m.next_nonce[actor] += 1;
                let ok = env
                    .post_job(a, env.job_args(nonce, replicas, reward))
                    .is_ok();
                let escrow = (u64::from(replicas) + 2).checked_mul(reward);
                let expect = (1..=5).contains(&replicas)
                    && reward > 0
                    && escrow.is_some_and(|e| e <= balance);
                let escrow = escrow.unwrap_or(0);
                if ok {
                    m.jobs[actor].push((nonce, escrow));
                }
                (ok, expect, -i128::from(escrow))
            }
            Op::Cancel { actor, pick } => {
                let jobs = &mut m.jobs[actor];
                // Half the picks name a job that does not exist (never posted or cancelled).
                let target = jobs.get(pick).copied();
                let nonce = target.map_or(u64::MAX - pick as u64, |(n, _)| n);
                let ok = env.cancel_job(&self.actors[actor], nonce).is_ok();
                if ok {
                    jobs.retain(|(n, _)| *n != nonce);
                }
                (
                    ok,
                    target.is_some(),
                    target.map_or(0, |(_, e)| i128::from(e)),
                )
            }
            Op::CancelByStranger {
                actor,
                stranger,
                pick,
            } => {
                // Without a job to steal, or "stealing" one's own job, there is no attack.
                let Some(&(nonce, _)) = m.jobs[actor].get(pick).filter(|_| stranger != actor)
                else {
                    return (false, false, 0);
                };
                let owner = self.actors[actor].key();
                let thief = &self.actors[stranger];
                let attack = substitute(
                    ix::cancel_job(&thief.key(), nonce, &thief.token),
                    &pda::job(&thief.key(), nonce).0,
                    &pda::job(&owner, nonce).0,
                );
                (env.send_one(attack, &thief.wallet).is_ok(), false, 0)
            }
            Op::Advance { seconds } => {
                env.chain.advance_time(seconds);
                (true, true, 0)
            }
        }
    }

    fn actor_of(op: &Op) -> Option<usize> {
        match *op {
            Op::Stake { actor, .. }
            | Op::RequestUnstake { actor, .. }
            | Op::Withdraw { actor, .. }
            | Op::Post { actor, .. }
            | Op::Cancel { actor, .. } => Some(actor),
            Op::CancelByStranger { .. } | Op::Advance { .. } => None,
        }
    }

    fn check_invariants(&self) {
        let env = &self.env;
        env.assert_conserved(&self.balances(), self.supply);

        let nodes = env.all::<Node>();
        let locked: u64 = nodes.iter().map(|(_, n)| n.stake + n.unstaking).sum();
        assert_eq!(
            env.stake_vault_balance(),
            locked,
            "stake vault != sum of node stake"
        );
        let jobs = env.all::<Job>();
        let escrowed: u64 = jobs.iter().map(|(_, j)| j.escrow).sum();
        assert_eq!(
            env.escrow_vault_balance(),
            escrowed,
            "escrow vault != sum of job escrow"
        );
        assert_eq!(env.balance(&pda::treasury().0), 0);

        for (i, actor) in self.actors.iter().enumerate() {
            let node = env.node(&actor.key(), 0);
            assert_eq!(node.stake, self.model.stake[i], "stake of actor {i}");
            assert_eq!(
                node.unstaking, self.model.unstaking[i],
                "unstaking of actor {i}"
            );
        }
        let open: usize = self.model.jobs.iter().map(Vec::len).sum();
        assert_eq!(jobs.len(), open, "open jobs");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn tokens_are_conserved(ops in proptest::collection::vec(op(), OPS_PER_CASE)) {
        let mut world = World::new();
        world.check_invariants();
        for (step, op) in ops.iter().enumerate() {
            let before = world.balances();
            let (ok, expected, delta) = world.apply(op);
            prop_assert_eq!(ok, expected, "step {}: {:?}", step, op);
            let after = world.balances();
            if !ok {
                prop_assert_eq!(&before, &after, "failed op changed balances: {:?}", op);
            } else if let Some(actor) = World::actor_of(op) {
                let token = world.actors[actor].token;
                let change = i128::from(after[&token]) - i128::from(before[&token]);
                prop_assert_eq!(change, delta, "step {}: {:?}", step, op);
            }
            world.check_invariants();
        }
    }
}
