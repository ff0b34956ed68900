//! Property test extending `conservation` to the verification core: random sequences of
//! post (full redundancy or spot check) / claim / commit / reveal / draw the audit / force it
//! by letting its slot age out (the self-dealt audit) / settle / expire / close /
//! withdraw-earnings and time jumps, by five honest workers, one liar and one lazy worker,
//! plus the attacker's moves: a node registered, staked and claiming in one transaction after
//! the seed is public, and draws withheld (a draw is just another operation that may never
//! come). After every operation: the token supply is conserved, each vault holds exactly what
//! the program's accounts say, a failed operation changes no balance, no job credits its nodes
//! more than it escrowed, no node that revealed the true result is ever slashed, a truthful
//! reveal of an accepted true result is paid its reward, every successful claim sits in its
//! job's current round (so it can commit and reveal), and a fresh node never claims.
use std::collections::{BTreeMap, HashMap};

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use tessera::state::{AuditState, Job, JobEndReason, JobStatus, Node, SlotState};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

const STAKE: u64 = 10_000_000;
/// Operations per generated sequence; with 80 cases that is 10,240 operations.
const OPS_PER_CASE: usize = 128;
/// Cases per run.
const CASES: u32 = 80;
/// Reward of a spot-check job (within the test network's `max_audited_reward`).
const SPOT_REWARD: u64 = 20_000;
/// Unregistered wallets that try to capture jobs with nodes made after the seed.
const FRESH: usize = 2;
const LIE: [u8; 32] = [0x66; 32];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    /// Commits and reveals the job's true root.
    Honest,
    /// Commits and reveals the same wrong root on every job.
    Liar,
    /// Commits and reveals a random root.
    Lazy,
}

const WORKERS: [Behaviour; 7] = [
    Behaviour::Honest,
    Behaviour::Honest,
    Behaviour::Honest,
    Behaviour::Honest,
    Behaviour::Honest,
    Behaviour::Liar,
    Behaviour::Lazy,
];
const SUBMITTERS: usize = 2;

#[derive(Clone, Debug)]
enum Op {
    Post {
        submitter: usize,
        replicas: u8,
        reward: u64,
        spot_check: bool,
    },
    /// A fresh wallet registers a node, stakes and claims `job` in one transaction.
    FreshClaim {
        job: usize,
        attacker: usize,
    },
    /// Anyone draws `job`'s audit.
    Draw {
        job: usize,
    },
    /// `job`'s audit slot ages out of SlotHashes and the (forced) audit is drawn.
    AgeOut {
        job: usize,
    },
    /// `count` workers, from `first` on (wrapping), try to claim `job`.
    Claim {
        job: usize,
        first: usize,
        count: usize,
    },
    /// The holders of the slots of `job` picked by `mask` commit (each its behaviour's root).
    Commit {
        job: usize,
        mask: u8,
        lazy_root: [u8; 32],
    },
    /// The holders of the slots picked by `mask` reveal what they committed.
    Reveal {
        job: usize,
        mask: u8,
    },
    /// Claim, then commit and reveal by the picked slots, back to back.
    Work {
        job: usize,
        first: usize,
        count: usize,
        commit_mask: u8,
        reveal_mask: u8,
        lazy_root: [u8; 32],
    },
    Settle {
        job: usize,
    },
    Expire {
        job: usize,
    },
    Close {
        job: usize,
    },
    Withdraw {
        worker: usize,
    },
    Advance {
        seconds: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let worker = 0..WORKERS.len();
    let job = 0usize..4;
    let mask = prop_oneof![2 => Just(u8::MAX), 1 => any::<u8>()];
    prop_oneof![
        2 => (0..SUBMITTERS, 0u8..=6, prop_oneof![1 => Just(1u64), 4 => Just(1_000_000u64), 2 => 10_000u64..100_000_000], prop_oneof![3 => Just(false), 1 => Just(true)])
            .prop_map(|(submitter, replicas, reward, spot_check)| Op::Post { submitter, replicas, reward, spot_check }),
        1 => (job.clone(), 0..FRESH).prop_map(|(job, attacker)| Op::FreshClaim { job, attacker }),
        2 => job.clone().prop_map(|job| Op::Draw { job }),
        1 => job.clone().prop_map(|job| Op::AgeOut { job }),
        4 => (job.clone(), worker.clone(), 1..=WORKERS.len())
            .prop_map(|(job, first, count)| Op::Claim { job, first, count }),
        2 => (job.clone(), mask.clone(), any::<[u8; 32]>())
            .prop_map(|(job, mask, lazy_root)| Op::Commit { job, mask, lazy_root }),
        2 => (job.clone(), mask.clone()).prop_map(|(job, mask)| Op::Reveal { job, mask }),
        4 => (job.clone(), worker.clone(), 1..=WORKERS.len(), mask.clone(), mask.clone(), any::<[u8; 32]>())
            .prop_map(|(job, first, count, commit_mask, reveal_mask, lazy_root)| Op::Work {
                job, first, count, commit_mask, reveal_mask, lazy_root,
            }),
        2 => job.clone().prop_map(|job| Op::Settle { job }),
        1 => job.clone().prop_map(|job| Op::Expire { job }),
        1 => job.prop_map(|job| Op::Close { job }),
        1 => worker.prop_map(|worker| Op::Withdraw { worker }),
        2 => prop_oneof![4 => Just(60i64), 4 => Just(300), 3 => Just(600), 1 => Just(3_600), 1 => 1i64..100_000]
            .prop_map(|seconds| Op::Advance { seconds }),
    ]
}

struct PostedJob {
    submitter: usize,
    nonce: u64,
    address: Pubkey,
    escrow: u64,
    reward: u64,
    truth: [u8; 32],
}

struct World {
    env: TestEnv,
    workers: Vec<Actor>,
    submitters: Vec<Actor>,
    fresh: Vec<Actor>,
    crank: Actor,
    jobs: Vec<PostedJob>,
    /// Root each worker committed to, per job.
    committed: HashMap<(usize, Pubkey), [u8; 32]>,
    next_nonce: u64,
    supply: u64,
}

impl World {
    fn new() -> Self {
        let env = TestEnv::new();
        let workers = WORKERS.iter().map(|_| env.staked_operator(STAKE)).collect();
        let submitters = (0..SUBMITTERS).map(|_| env.actor()).collect();
        let fresh = (0..FRESH).map(|_| env.actor()).collect();
        let crank = env.actor_with(0);
        let supply = env.mint_supply();
        Self {
            env,
            workers,
            submitters,
            fresh,
            crank,
            jobs: Vec::new(),
            committed: HashMap::new(),
            next_nonce: 0,
            supply,
        }
    }

    fn balances(&self) -> BTreeMap<Pubkey, u64> {
        let wallets = self
            .workers
            .iter()
            .chain(&self.submitters)
            .chain(&self.fresh);
        self.env
            .balances(wallets.chain([&self.crank]).map(|a| a.token))
    }

    /// One of the four most recent jobs (older ones have usually ended).
    fn job(&self, pick: usize) -> Option<&PostedJob> {
        let recent = self.jobs.len().min(4);
        (recent > 0).then(|| &self.jobs[self.jobs.len() - 1 - pick % recent])
    }

    /// Workers holding the slots of `job` picked by `mask` (bit `i` = slot `i`).
    fn holders(&self, job: &PostedJob, mask: u8) -> Vec<usize> {
        let Some(account) = self.env.chain.get_account(&job.address) else {
            return Vec::new();
        };
        let state: Job = tessera_sdk::chain::decode(&job.address, &account.data).unwrap();
        state
            .slots
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .filter_map(|(_, slot)| {
                self.workers
                    .iter()
                    .position(|w| pda::node(&w.key(), 0).0 == slot.node)
            })
            .collect()
    }

    fn salt(&self, worker: usize) -> [u8; 32] {
        self.workers[worker].key().to_bytes()
    }

    /// Settles or expires `job`, checking what the settlement did to its nodes.
    fn settle(&self, job: &PostedJob, expire: bool) -> bool {
        let env = &self.env;
        let Some(account) = env.chain.get_account(&job.address) else {
            return false; // closed
        };
        let before: Job = tessera_sdk::chain::decode(&job.address, &account.data).unwrap();
        let nodes_before: Vec<Node> = before.slots.iter().map(|s| env.read(&s.node)).collect();
        let ok = if expire {
            env.expire_job(&job.address, &self.crank).is_ok()
        } else {
            env.settle(&job.address).is_ok()
        };
        if !ok {
            return false;
        }
        let after: Job = env.read(&job.address);
        let accepted_truth = matches!(
            after.status,
            JobStatus::Ended {
                reason: JobEndReason::Accepted,
                ..
            }
        ) && after.result_root == Some(job.truth);
        let mut credited = 0u64;
        let mut truthful = 0u64;
        for (slot, old) in before.slots.iter().zip(&nodes_before) {
            let new: Node = env.read(&slot.node);
            credited += new.earnings - old.earnings;
            let told_truth = slot.state == SlotState::Revealed && slot.root == job.truth;
            if told_truth && accepted_truth {
                assert_eq!(
                    new.earnings - old.earnings,
                    job.reward - job.reward * 250 / 10_000,
                    "a truthful reveal of the accepted result was not paid its reward"
                );
            }
            if told_truth {
                truthful += 1;
                assert_eq!(
                    new.stake, old.stake,
                    "a node that revealed the truth was slashed"
                );
                assert_eq!(new.unstaking, old.unstaking);
            }
        }
        assert!(
            credited <= job.escrow,
            "a job credited more than it escrowed"
        );
        // Only a lone reveal can win without the truth (honest workers are the majority of
        // this world), so at most one slot beyond the truthful ones is ever paid.
        assert!(
            credited <= truthful.max(1) * job.reward,
            "nodes were credited more than the rewards of the winning slots"
        );
        assert!(after.escrow <= job.escrow, "refund above the escrow");
        true
    }

    fn apply(&mut self, op: &Op) -> bool {
        let env = &self.env;
        match *op {
            Op::Post {
                submitter,
                replicas,
                reward,
                spot_check,
            } => {
                let nonce = self.next_nonce;
                self.next_nonce += 1;
                let s = &self.submitters[submitter];
                // Half an hour to the deadline: 20 minutes of claims and commits, 10 of
                // reveals, so the generated time jumps land in every phase.
                let (replicas, reward) = if spot_check {
                    (1, reward.min(SPOT_REWARD))
                } else {
                    (replicas, reward)
                };
                let mut args = env.job_args(nonce, replicas, reward);
                args.spot_check = spot_check;
                args.deadline = env.chain.get_clock().unix_timestamp + 1_800;
                let ok = env.post_job(s, args).is_ok();
                if ok {
                    let address = pda::job(&s.key(), nonce).0;
                    self.jobs.push(PostedJob {
                        submitter,
                        nonce,
                        address,
                        escrow: env.read::<Job>(&address).escrow,
                        reward,
                        truth: *Pubkey::new_unique().as_array(),
                    });
                }
                ok
            }
            Op::Claim { job, first, count } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                let mut any = false;
                for worker in (first..first + count).map(|w| w % WORKERS.len()) {
                    let ok = env.claim(&self.workers[worker], 0, &j.address).is_ok();
                    if ok {
                        // A successful claim sits in the job's current round: it can commit.
                        let state: Job = env.read(&j.address);
                        let node = pda::node(&self.workers[worker].key(), 0).0;
                        assert!(
                            state.round_slot_of(&node).is_some(),
                            "a claim landed outside its round"
                        );
                    }
                    any |= ok;
                }
                any
            }
            Op::FreshClaim { job, attacker } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                let a = &self.fresh[attacker];
                let capture = [
                    ix::register_node(&a.key(), node_args(0)),
                    ix::stake(&a.key(), 0, &a.token, STAKE),
                    ix::claim(&a.key(), 0, &j.address),
                ];
                let ok = env.send(&capture, &a.wallet, &[]).is_ok();
                assert!(!ok, "a node made after the seed claimed a slot");
                ok
            }
            Op::Draw { job } => self
                .job(job)
                .is_some_and(|j| env.draw_audit(&j.address).is_ok()),
            Op::AgeOut { job } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                let Some(account) = env.chain.get_account(&j.address) else {
                    return false;
                };
                let state: Job = tessera_sdk::chain::decode(&j.address, &account.data).unwrap();
                if state.audit != AuditState::Pending || state.audit_slot == 0 {
                    return false;
                }
                env.age_out_slot(state.audit_slot);
                // The forcing call re-arms the draw on a later slot; the next one decides.
                let forced = env.draw_audit(&j.address).is_ok();
                env.chain.advance_time(2);
                let _ = env.draw_audit(&j.address);
                forced
            }
            Op::Commit {
                job,
                mask,
                lazy_root,
            } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                let (address, truth, holders) = (j.address, j.truth, self.holders(j, mask));
                let mut any = false;
                for worker in holders {
                    let root = match WORKERS[worker] {
                        Behaviour::Honest => truth,
                        Behaviour::Liar => LIE,
                        Behaviour::Lazy => lazy_root,
                    };
                    let ok = env
                        .commit(&self.workers[worker], 0, &address, root, self.salt(worker))
                        .is_ok();
                    if ok {
                        self.committed.insert((worker, address), root);
                    }
                    any |= ok;
                }
                any
            }
            Op::Reveal { job, mask } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                let mut any = false;
                for worker in self.holders(j, mask) {
                    let root = self
                        .committed
                        .get(&(worker, j.address))
                        .copied()
                        .unwrap_or(j.truth);
                    any |= env
                        .reveal(
                            &self.workers[worker],
                            0,
                            &j.address,
                            root,
                            self.salt(worker),
                        )
                        .is_ok();
                }
                any
            }
            Op::Work {
                job,
                first,
                count,
                commit_mask,
                reveal_mask,
                lazy_root,
            } => {
                let claimed = self.apply(&Op::Claim { job, first, count });
                let committed = self.apply(&Op::Commit {
                    job,
                    mask: commit_mask,
                    lazy_root,
                });
                let revealed = self.apply(&Op::Reveal {
                    job,
                    mask: reveal_mask,
                });
                claimed || committed || revealed
            }
            Op::Settle { job } => self.job(job).is_some_and(|j| self.settle(j, false)),
            Op::Expire { job } => self.job(job).is_some_and(|j| self.settle(j, true)),
            Op::Close { job } => {
                let Some(j) = self.job(job) else {
                    return false;
                };
                env.close_job(&self.submitters[j.submitter], j.nonce)
                    .is_ok()
            }
            Op::Withdraw { worker } => {
                let w = &self.workers[worker];
                let earnings = env.node(&w.key(), 0).earnings;
                env.withdraw_earnings(w, 0, earnings).is_ok()
            }
            Op::Advance { seconds } => {
                env.chain.advance_time(seconds);
                true
            }
        }
    }

    fn check_invariants(&self) {
        let env = &self.env;
        env.assert_conserved(&self.balances(), self.supply);

        let nodes = env.all::<Node>();
        let held: u64 = nodes
            .iter()
            .map(|(_, n)| n.stake + n.unstaking + n.earnings)
            .sum();
        assert_eq!(
            env.stake_vault_balance(),
            held,
            "stake vault != stake + cooldown + earnings of all nodes"
        );
        let jobs = env.all::<Job>();
        let escrowed: u64 = jobs.iter().map(|(_, j)| j.escrow).sum();
        assert_eq!(
            env.escrow_vault_balance(),
            escrowed,
            "escrow vault != sum of job escrow"
        );
        let open: u32 = jobs
            .iter()
            .filter(|(_, j)| j.is_open())
            .flat_map(|(_, j)| j.slots.iter())
            .count() as u32;
        let assigned: u32 = nodes.iter().map(|(_, n)| n.open_assignments).sum();
        assert_eq!(assigned, open, "open assignments != slots of open jobs");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn verification_conserves_tokens_and_spares_the_honest(
        ops in proptest::collection::vec(op(), OPS_PER_CASE)
    ) {
        let mut world = World::new();
        world.check_invariants();
        for (step, op) in ops.iter().enumerate() {
            let before = world.balances();
            let ok = world.apply(op);
            if !ok {
                prop_assert_eq!(&before, &world.balances(), "step {}: failed {:?} moved tokens", step, op);
            }
            world.check_invariants();
        }
    }
}
