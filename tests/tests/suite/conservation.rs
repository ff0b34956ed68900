//! Property test: random sequences of stake / request_unstake / withdraw / post / cancel (and
//! attacks), and of governance deposits, withdrawals, proposals and votes, by four actors.
//! After every operation the token supply is conserved, each vault holds exactly what the
//! program's accounts say, the outcome matches a model, and a failed operation changes no
//! balance. Every vote counts at most the tokens its wallet had locked before the proposal
//! was created and still holds (the model tracks locks lot by lot, independently of the
//! program's two-bucket record), and a wallet with no such tokens cannot vote.
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use proptest::prelude::*;
use tessera::state::{Job, Node, ProposalAction, ProposalStatus, VoteChoice, VoteRecord, Voter};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

const ACTORS: usize = 4;
/// Operations per generated sequence; with the default 24 cases that is 1,536 operations.
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
    GovDeposit {
        actor: usize,
        amount: u64,
    },
    GovWithdraw {
        actor: usize,
        amount: u64,
    },
    Propose {
        actor: usize,
    },
    Vote {
        actor: usize,
        pick: usize,
        choice: u8,
        with_deposit: bool,
        with_node: bool,
    },
    Finalize {
        pick: usize,
    },
    Execute {
        pick: usize,
    },
    CancelProposal {
        actor: usize,
        pick: usize,
    },
    CloseProposal {
        actor: usize,
        pick: usize,
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
        1 => (actor.clone(), actor.clone(), 0usize..8)
            .prop_map(|(actor, stranger, pick)| Op::CancelByStranger { actor, stranger, pick }),
        1 => prop_oneof![Just(300i64), Just(3_600i64), Just(86_400i64), 1i64..200_000]
            .prop_map(|seconds| Op::Advance { seconds }),
        3 => (actor.clone(), amount()).prop_map(|(actor, amount)| Op::GovDeposit { actor, amount }),
        2 => (actor.clone(), amount()).prop_map(|(actor, amount)| Op::GovWithdraw { actor, amount }),
        2 => actor.clone().prop_map(|actor| Op::Propose { actor }),
        4 => (actor.clone(), 0usize..4, 0u8..3, any::<bool>(), any::<bool>()).prop_map(
            |(actor, pick, choice, with_deposit, with_node)| Op::Vote {
                actor,
                pick,
                choice,
                with_deposit,
                with_node,
            }
        ),
        1 => (0usize..4).prop_map(|pick| Op::Finalize { pick }),
        1 => (0usize..4).prop_map(|pick| Op::Execute { pick }),
        1 => (actor.clone(), 0usize..4).prop_map(|(actor, pick)| Op::CancelProposal { actor, pick }),
        1 => (actor, 0usize..4).prop_map(|(actor, pick)| Op::CloseProposal { actor, pick }),
    ]
}

/// Tokens locked in lots of (amount, proposal counter when locked); removals take the
/// newest first. The lots with counter ≤ k are exactly what was locked before proposal k
/// and has stayed locked since.
#[derive(Default, Clone)]
struct Lots(Vec<(u64, u64)>);

impl Lots {
    fn add(&mut self, amount: u64, epoch: u64) {
        self.0.push((amount, epoch));
    }
    fn total(&self) -> u64 {
        self.0.iter().map(|l| l.0).sum()
    }
    fn remove(&mut self, mut amount: u64) {
        while amount > 0 {
            let last = self.0.last_mut().expect("removing more than is locked");
            let take = amount.min(last.0);
            last.0 -= take;
            amount -= take;
            if last.0 == 0 {
                self.0.pop();
            }
        }
    }
    fn before(&self, proposal: u64) -> u64 {
        self.0.iter().filter(|l| l.1 <= proposal).map(|l| l.0).sum()
    }
}

struct ModelProposal {
    proposer: usize,
    deposit: u64,
    voting_ends_at: i64,
    executable_at: i64,
    expires_at: i64,
    total_power: u64,
    votes: u64,
    yes: u64,
    no: u64,
    voted: [bool; ACTORS],
    status: ProposalStatus,
    closed: bool,
}

const GOV_DEPOSIT: u64 = 10_000_000;

/// What the program should hold, tracked independently of it.
#[derive(Default)]
struct Model {
    stake: [u64; ACTORS],
    unstaking: [u64; ACTORS],
    available_at: [i64; ACTORS],
    /// Open jobs per actor: (nonce, escrow).
    jobs: [Vec<(u64, u64)>; ACTORS],
    next_nonce: [u64; ACTORS],
    deposits: [Lots; ACTORS],
    /// Stake and stake in cooldown, by lot.
    stake_lots: [Lots; ACTORS],
    deposit_locked_until: [i64; ACTORS],
    node_locked_until: [i64; ACTORS],
    has_voter: [bool; ACTORS],
    proposals: Vec<ModelProposal>,
    /// Proposal deposits forfeited to the treasury.
    forfeited: u64,
    /// The governance account's `votes_open_until`: deposits locked before the latest
    /// proposal stay until then.
    votes_open_until: i64,
    /// Its value before each proposal was created (restored when the latest is cancelled).
    prev_votes_open_until: Vec<i64>,
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
        env.init_governance(default_gov_params())
            .expect("init governance");
        env.hand_over().expect("hand over");
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
        self.env.balances(
            self.actors
                .iter()
                .map(|a| a.token)
                .chain([pda::gov_vault().0]),
        )
    }

    /// Applies `op`; returns (did it succeed, the model's prediction if it makes one, token
    /// delta of the actor).
    fn apply(&mut self, op: &Op) -> (bool, Option<bool>, i128) {
        let epoch = self.model.proposals.len() as u64;
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
                    m.stake_lots[actor].add(amount, epoch);
                }
                (ok, Some(expect), -i128::from(amount))
            }
            Op::RequestUnstake { actor, amount } => {
                let ok = env.request_unstake(&self.actors[actor], 0, amount).is_ok();
                let expect = amount > 0 && amount <= m.stake[actor];
                if ok {
                    m.stake[actor] -= amount;
                    m.unstaking[actor] += amount;
                    m.available_at[actor] = now + env.params.unstake_cooldown_secs;
                }
                (ok, Some(expect), 0)
            }
            Op::Withdraw { actor, amount } => {
                let ok = env.withdraw_stake(&self.actors[actor], 0, amount).is_ok();
                let expect = amount > 0
                    && amount <= m.unstaking[actor]
                    && now >= m.available_at[actor]
                    && now >= m.node_locked_until[actor];
                if ok {
                    m.unstaking[actor] -= amount;
                    m.stake_lots[actor].remove(amount);
                }
                (ok, Some(expect), i128::from(amount))
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
                (ok, Some(expect), -i128::from(escrow))
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
                    Some(target.is_some()),
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
                    return (false, Some(false), 0);
                };
                let owner = self.actors[actor].key();
                let thief = &self.actors[stranger];
                let attack = substitute(
                    ix::cancel_job(&thief.key(), nonce, &thief.token),
                    &pda::job(&thief.key(), nonce).0,
                    &pda::job(&owner, nonce).0,
                );
                (env.send_one(attack, &thief.wallet).is_ok(), Some(false), 0)
            }
            Op::Advance { seconds } => {
                env.chain.advance_time(seconds);
                (true, Some(true), 0)
            }
            Op::GovDeposit { actor, amount } => {
                let a = &self.actors[actor];
                let balance = env.balance(&a.token);
                let ok = env.gov_deposit(a, amount).is_ok();
                let expect = amount > 0 && amount <= balance;
                if ok {
                    m.deposits[actor].add(amount, epoch);
                    m.has_voter[actor] = true;
                }
                (ok, Some(expect), -i128::from(amount))
            }
            Op::GovWithdraw { actor, amount } => {
                let ok = env.gov_withdraw(&self.actors[actor], amount).is_ok();
                // While a vote is open, deposits counted in the latest proposal's quorum base
                // stay; only what was deposited after it may leave.
                let free = match m.proposals.len() {
                    n if n > 0 && now < m.votes_open_until => {
                        let deposits = &m.deposits[actor];
                        deposits.total() - deposits.before(n as u64 - 1)
                    }
                    _ => u64::MAX,
                };
                let expect = amount > 0
                    && amount <= m.deposits[actor].total()
                    && now >= m.deposit_locked_until[actor]
                    && amount <= free;
                if ok {
                    m.deposits[actor].remove(amount);
                }
                (ok, Some(expect), i128::from(amount))
            }
            Op::Propose { actor } => {
                let a = &self.actors[actor];
                let balance = env.balance(&a.token);
                let total_power =
                    env.stake_vault_balance() + m.deposits.iter().map(Lots::total).sum::<u64>();
                let ok = env
                    .propose(a, "Resume", ProposalAction::SetPaused(false))
                    .is_ok();
                let expect = balance >= GOV_DEPOSIT;
                if ok {
                    let gov = default_gov_params();
                    let voting_ends_at = now + i64::from(gov.voting_period_secs);
                    m.prev_votes_open_until.push(m.votes_open_until);
                    m.votes_open_until = m.votes_open_until.max(voting_ends_at);
                    let executable_at = voting_ends_at + i64::from(gov.timelock_secs);
                    m.proposals.push(ModelProposal {
                        proposer: actor,
                        deposit: GOV_DEPOSIT,
                        voting_ends_at,
                        executable_at,
                        expires_at: executable_at + i64::from(gov.execution_window_secs),
                        total_power,
                        votes: 0,
                        yes: 0,
                        no: 0,
                        voted: [false; ACTORS],
                        status: ProposalStatus::Voting,
                        closed: false,
                    });
                }
                (ok, Some(expect), -i128::from(GOV_DEPOSIT))
            }
            Op::Vote {
                actor,
                pick,
                choice,
                with_deposit,
                with_node,
            } => {
                let a = &self.actors[actor];
                let choice =
                    [VoteChoice::Yes, VoteChoice::No, VoteChoice::Abstain][choice as usize];
                let nodes: &[u16] = if with_node { &[0] } else { &[] };
                let vote = ix::cast_vote(&a.key(), pick as u64, choice, with_deposit, nodes);
                let ok = env.send_one(vote, &a.wallet).is_ok();
                let id = pick as u64;
                let Some(p) = m.proposals.get_mut(pick) else {
                    return (ok, Some(false), 0);
                };
                let allowed = !p.closed
                    && p.status == ProposalStatus::Voting
                    && now < p.voting_ends_at
                    && !p.voted[actor]
                    && (m.has_voter[actor] || !with_deposit);
                let truth = if with_deposit {
                    m.deposits[actor].before(id)
                } else {
                    0
                } + if with_node {
                    m.stake_lots[actor].before(id)
                } else {
                    0
                };
                if !ok {
                    // The program may count less than the truth (never more), so a vote
                    // with some truth behind it may still be refused as powerless.
                    let expect = if allowed && truth > 0 {
                        None
                    } else {
                        Some(false)
                    };
                    return (ok, expect, 0);
                }
                let record: VoteRecord = env.vote_record(id, &a.key());
                let counted = record.deposit_power + record.stake_power;
                assert!(allowed, "vote {op:?} should have been refused");
                assert!(
                    counted > 0 && counted <= truth,
                    "vote {op:?} counted {counted}, but only {truth} was locked before the proposal"
                );
                if with_deposit {
                    assert!(record.deposit_power <= m.deposits[actor].before(id));
                    m.deposit_locked_until[actor] =
                        m.deposit_locked_until[actor].max(p.voting_ends_at);
                }
                if with_node {
                    assert!(record.stake_power <= m.stake_lots[actor].before(id));
                    m.node_locked_until[actor] = m.node_locked_until[actor].max(p.voting_ends_at);
                }
                p.voted[actor] = true;
                p.votes += counted;
                match choice {
                    VoteChoice::Yes => p.yes += counted,
                    VoteChoice::No => p.no += counted,
                    VoteChoice::Abstain => {}
                }
                (ok, Some(true), 0)
            }
            Op::Finalize { pick } => {
                let ok = env.finalize(pick as u64).is_ok();
                let Some(p) = m.proposals.get_mut(pick) else {
                    return (ok, Some(false), 0);
                };
                let expect =
                    !p.closed && p.status == ProposalStatus::Voting && now >= p.voting_ends_at;
                if ok {
                    let quorum = (p.total_power / 10_000 * 2_000
                        + p.total_power % 10_000 * 2_000 / 10_000)
                        .max(1);
                    p.status = if p.votes < quorum {
                        m.forfeited += p.deposit;
                        p.deposit = 0;
                        ProposalStatus::QuorumNotReached
                    } else if u128::from(p.yes) * 10_000 > u128::from(p.yes + p.no) * 5_000 {
                        ProposalStatus::Passed
                    } else {
                        ProposalStatus::Rejected
                    };
                    assert_eq!(env.proposal(pick as u64).status, p.status);
                }
                (ok, Some(expect), 0)
            }
            Op::Execute { pick } => {
                // Every proposal of this world pauses nothing (SetPaused(false)): no grant.
                let execute = ix::execute_proposal(pick as u64, None);
                let ok = env.send_one(execute, &env.authority).is_ok();
                let Some(p) = m.proposals.get_mut(pick) else {
                    return (ok, Some(false), 0);
                };
                let expect = !p.closed
                    && p.status == ProposalStatus::Passed
                    && now >= p.executable_at
                    && now < p.expires_at;
                if ok {
                    p.status = ProposalStatus::Executed;
                }
                (ok, Some(expect), 0)
            }
            Op::CancelProposal { actor, pick } => {
                let a = &self.actors[actor];
                let ok = env.cancel_proposal(a, pick as u64).is_ok();
                let Some(p) = m.proposals.get_mut(pick) else {
                    return (ok, Some(false), 0);
                };
                let expect = !p.closed
                    && p.proposer == actor
                    && p.status == ProposalStatus::Voting
                    && !p.voted.iter().any(|v| *v);
                let refund = p.deposit;
                if ok && pick + 1 == m.prev_votes_open_until.len() {
                    m.votes_open_until = m.votes_open_until.min(m.prev_votes_open_until[pick]);
                }
                if ok {
                    let p = &mut m.proposals[pick];
                    p.closed = true;
                    p.deposit = 0;
                }
                (ok, Some(expect), i128::from(refund))
            }
            Op::CloseProposal { actor, pick } => {
                let a = &self.actors[actor];
                let ok = env.close_proposal(a, pick as u64).is_ok();
                let Some(p) = m.proposals.get_mut(pick) else {
                    return (ok, Some(false), 0);
                };
                let ended = match p.status {
                    ProposalStatus::Voting => false,
                    ProposalStatus::Passed => now >= p.expires_at,
                    _ => true,
                };
                let expect = !p.closed && p.proposer == actor && ended;
                let refund = p.deposit;
                if ok {
                    p.closed = true;
                    p.deposit = 0;
                }
                (ok, Some(expect), i128::from(refund))
            }
        }
    }

    fn actor_of(op: &Op) -> Option<usize> {
        match *op {
            Op::Stake { actor, .. }
            | Op::RequestUnstake { actor, .. }
            | Op::Withdraw { actor, .. }
            | Op::Post { actor, .. }
            | Op::Cancel { actor, .. }
            | Op::GovDeposit { actor, .. }
            | Op::GovWithdraw { actor, .. }
            | Op::Propose { actor }
            | Op::Vote { actor, .. }
            | Op::CancelProposal { actor, .. }
            | Op::CloseProposal { actor, .. } => Some(actor),
            Op::CancelByStranger { .. }
            | Op::Advance { .. }
            | Op::Finalize { .. }
            | Op::Execute { .. } => None,
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
        assert_eq!(env.balance(&pda::treasury().0), self.model.forfeited);

        // Governance: the vault holds the deposits and the proposals' deposits, nothing else.
        let governance = env.governance();
        let voters = env.all::<Voter>();
        let deposited: u64 = voters.iter().map(|(_, v)| v.power.total().unwrap()).sum();
        assert_eq!(governance.voter_deposits, deposited);
        let proposals = env.all::<tessera::state::Proposal>();
        let held: u64 = proposals.iter().map(|(_, p)| p.deposit).sum();
        assert_eq!(governance.proposal_deposits, held);
        assert_eq!(
            env.gov_vault_balance(),
            deposited + held,
            "gov vault != deposits"
        );
        let records = env.all::<VoteRecord>();
        for (address, p) in &proposals {
            let counted: u64 = records
                .iter()
                .filter(|(_, r)| r.proposal == *address)
                .map(|(_, r)| r.deposit_power + r.stake_power)
                .sum();
            assert_eq!(
                p.yes + p.no + p.abstain,
                counted,
                "tally of proposal {}",
                p.id
            );
        }
        for (i, actor) in self.actors.iter().enumerate() {
            let deposit = voters
                .iter()
                .find(|(_, v)| v.owner == actor.key())
                .map_or(0, |(_, v)| v.power.total().unwrap());
            assert_eq!(
                deposit,
                self.model.deposits[i].total(),
                "deposit of actor {i}"
            );
        }

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
        cases: 24,
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
            if let Some(expected) = expected {
                prop_assert_eq!(ok, expected, "step {}: {:?}", step, op);
            }
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
