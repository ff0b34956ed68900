//! The verification core: claims, commit–reveal, settlement, escalation, slashing,
//! reputation, expiry and closing. Amounts are checked to the base unit.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::AccountMeta;
use tessera::constants::INPUT_UNAVAILABLE_ROOT;
use tessera::error::TesseraError;
use tessera::state::{HardwareKind, Job, JobEndReason, JobStatus, Node, Params, SlotState};
use tessera_sdk::verification::{holds_priority, ticket};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

const STAKE: u64 = 10_000_000;
const REWARD: u64 = 1_000_000;
/// Reward after the 2.5% protocol fee of [`default_params`].
const NET: u64 = REWARD - REWARD * 250 / 10_000;
const FEE: u64 = REWARD * 250 / 10_000;
const TRUTH: [u8; 32] = [0x11; 32];
const LIE: [u8; 32] = [0x66; 32];

/// A submitter, a posted job and the operators that will work on it.
struct Scenario {
    env: TestEnv,
    submitter: Actor,
    nonce: u64,
    job: Pubkey,
    workers: Vec<Actor>,
}

impl Scenario {
    /// A job of `replicas` × [`REWARD`] and `workers` staked operators (one node each).
    fn new(replicas: u8, workers: usize) -> Self {
        Self::with_env(TestEnv::new(), replicas, workers)
    }

    fn with_env(env: TestEnv, replicas: u8, workers: usize) -> Self {
        // The operators stake before the job is posted: only nodes and stake older than a
        // round's seed count for it.
        let workers = (0..workers).map(|_| env.staked_operator(STAKE)).collect();
        let submitter = env.actor();
        let nonce = 77;
        env.post_job(&submitter, env.job_args(nonce, replicas, REWARD))
            .unwrap();
        Self {
            job: pda::job(&submitter.key(), nonce).0,
            env,
            submitter,
            nonce,
            workers,
        }
    }

    fn job(&self) -> Job {
        self.env.read(&self.job)
    }

    fn node(&self, worker: usize) -> Node {
        self.env.node(&self.workers[worker].key(), 0)
    }

    fn salt(&self, worker: usize) -> [u8; 32] {
        self.workers[worker].key().to_bytes()
    }

    fn claim(&self, worker: usize) {
        self.env
            .claim(&self.workers[worker], 0, &self.job)
            .unwrap_or_else(|e| panic!("worker {worker} claims: {e}"));
    }

    fn commit(&self, worker: usize, root: [u8; 32]) {
        self.env
            .commit(&self.workers[worker], 0, &self.job, root, self.salt(worker))
            .unwrap_or_else(|e| panic!("worker {worker} commits: {e}"));
    }

    fn reveal(&self, worker: usize, root: [u8; 32]) {
        self.env
            .reveal(&self.workers[worker], 0, &self.job, root, self.salt(worker))
            .unwrap_or_else(|e| panic!("worker {worker} reveals: {e}"));
    }

    /// Workers `[i]` claim, commit `roots[i]`, then all reveal: 3 transactions each.
    fn round(&self, first: usize, roots: &[[u8; 32]]) {
        for i in 0..roots.len() {
            self.claim(first + i);
        }
        for (i, root) in roots.iter().enumerate() {
            self.commit(first + i, *root);
        }
        for (i, root) in roots.iter().enumerate() {
            self.reveal(first + i, *root);
        }
    }

    fn settle(&self) {
        self.env.settle(&self.job).expect("settle");
    }

    fn status(&self) -> JobStatus {
        self.job().status
    }

    fn reason(&self) -> JobEndReason {
        match self.status() {
            JobStatus::Ended { reason, .. } => reason,
            other => panic!("job has not ended: {other:?}"),
        }
    }

    /// Tokens the submitter gets back when closing the job.
    fn refund(&self) -> u64 {
        self.job().escrow
    }
}

fn slash(stake: u64) -> u64 {
    stake * u64::from(default_params().slash_bps) / 10_000
}

fn no_show_penalty(stake: u64) -> u64 {
    stake * u64::from(default_params().no_show_bps) / 10_000
}

#[test]
fn unanimous_lifecycles_for_one_three_and_five_replicas() {
    for replicas in [1u8, 3, 5] {
        let s = Scenario::new(replicas, usize::from(replicas));
        let env = &s.env;
        let treasury_before = env.treasury_balance();
        let roots = vec![TRUTH; usize::from(replicas)];
        s.round(0, &roots);
        for i in 0..usize::from(replicas) {
            assert_eq!(s.node(i).open_assignments, 1);
        }
        s.settle();

        let job = s.job();
        assert_eq!(s.reason(), JobEndReason::Accepted, "R = {replicas}");
        assert_eq!(job.result_root, Some(TRUTH));
        assert!(job
            .slots
            .iter()
            .all(|slot| slot.state == SlotState::Revealed));
        // The dispute reserve was not needed: it is the refund.
        assert_eq!(s.refund(), 2 * REWARD);
        assert_eq!(
            env.treasury_balance() - treasury_before,
            u64::from(replicas) * FEE
        );
        for i in 0..usize::from(replicas) {
            let node = s.node(i);
            assert_eq!((node.earnings, node.stake), (NET, STAKE));
            assert_eq!(node.open_assignments, 0);
            let rep = node.reputation;
            assert_eq!((rep.assigned, rep.agreed, rep.earned_total), (1, 1, NET));
            assert!(rep.score_bps > 5_000, "agreeing raises the score");
        }
        // Vaults hold exactly what the accounts say.
        assert_eq!(
            env.stake_vault_balance(),
            u64::from(replicas) * (STAKE + NET)
        );
        assert_eq!(env.escrow_vault_balance(), 2 * REWARD);

        // The submitter closes the job: refund and rent come back.
        let rent = env.lamports(&s.job);
        let lamports = env.lamports(&s.submitter.key());
        let tokens = env.balance(&s.submitter.token);
        env.close_job(&s.submitter, s.nonce).unwrap();
        assert_eq!(env.balance(&s.submitter.token), tokens + 2 * REWARD);
        assert_eq!(env.lamports(&s.submitter.key()), lamports + rent - 5_000);
        assert!(!env.exists(&s.job));
        assert_eq!(env.escrow_vault_balance(), 0);
        assert_eq!(
            ACTOR_TOKENS - env.balance(&s.submitter.token),
            u64::from(replicas) * REWARD,
            "the submitter paid exactly the agreeing replicas"
        );

        // Each operator withdraws its earnings.
        let worker = &s.workers[0];
        env.withdraw_earnings(worker, 0, NET).unwrap();
        assert_eq!(env.balance(&worker.token), ACTOR_TOKENS - STAKE + NET);
        assert_eq!(s.node(0).earnings, 0);
    }
}

#[test]
fn two_colluding_liars_are_outvoted_by_escalation_and_slashed() {
    let s = Scenario::new(3, 5);
    let env = &s.env;
    let treasury_before = env.treasury_balance();
    s.round(0, &[TRUTH, LIE, LIE]);
    s.settle();
    // Disagreement: escalation, nothing paid or slashed yet.
    let job = s.job();
    assert!(job.escalated);
    assert_eq!(job.status, JobStatus::Open);
    assert_eq!(job.round_capacity(), 2);
    assert_ne!(job.seed, [0; 32]);
    assert_eq!(s.node(1).stake, STAKE);
    // Settling again before the escalation round is done is refused.
    assert_tessera_error(env.settle(&s.job), TesseraError::RoundNotComplete);
    // A first-round node cannot take an escalation slot.
    assert_tessera_error(
        env.claim(&s.workers[0], 0, &s.job),
        TesseraError::NodeAlreadyAssigned,
    );

    s.round(3, &[TRUTH, TRUTH]);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::Accepted);
    assert_eq!(s.job().result_root, Some(TRUTH));

    for honest in [0, 3, 4] {
        let node = s.node(honest);
        assert_eq!((node.stake, node.earnings), (STAKE, NET));
        assert_eq!(node.reputation.agreed, 1);
    }
    for liar in [1, 2] {
        let node = s.node(liar);
        assert_eq!(node.stake, STAKE - slash(STAKE));
        assert_eq!(node.earnings, 0);
        let rep = node.reputation;
        assert_eq!((rep.disagreed, rep.slashed_total), (1, slash(STAKE)));
        assert!(rep.score_bps < 5_000);
    }
    // Loser pays: the slashes give the submitter back the two escalation rewards.
    let penalties = 2 * slash(STAKE);
    assert_eq!(s.refund(), 5 * REWARD - 3 * REWARD + 2 * REWARD);
    assert_eq!(
        env.treasury_balance() - treasury_before,
        3 * FEE + penalties - 2 * REWARD
    );
    env.close_job(&s.submitter, s.nonce).unwrap();
    assert_eq!(env.balance(&s.submitter.token), ACTOR_TOKENS - REWARD);
}

#[test]
fn a_lazy_workers_random_root_is_slashed() {
    let s = Scenario::new(3, 5);
    let lazy_root = *Pubkey::new_unique().as_array();
    s.round(0, &[TRUTH, TRUTH, lazy_root]);
    s.settle();
    assert!(s.job().escalated, "two of three agreeing is not unanimous");
    s.round(3, &[TRUTH, TRUTH]);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::Accepted);
    assert_eq!(s.node(2).stake, STAKE - slash(STAKE));
    for honest in [0, 1, 3, 4] {
        assert_eq!(s.node(honest).earnings, NET);
    }
}

#[test]
fn a_copier_can_neither_reveal_an_uncommitted_root_nor_reuse_a_commitment() {
    let s = Scenario::new(3, 3);
    let env = &s.env;
    for i in 0..3 {
        s.claim(i);
    }
    s.commit(0, TRUTH);
    s.commit(1, TRUTH);
    // Worker 2 copies worker 0's commitment from the chain instead of computing.
    let copied = s.job().slots[0].commitment;
    env.commit_raw(&s.workers[2], 0, &s.job, copied).unwrap();
    s.reveal(0, TRUTH);
    // Worker 0's root and salt are now public, but they open only worker 0's commitment.
    assert_tessera_error(
        env.reveal(&s.workers[2], 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::CommitmentMismatch,
    );
    assert_tessera_error(
        env.reveal(&s.workers[2], 0, &s.job, TRUTH, s.salt(2)),
        TesseraError::CommitmentMismatch,
    );
    s.reveal(1, TRUTH);

    // A copier who never committed cannot reveal either.
    let t = Scenario::new(2, 2);
    t.claim(0);
    t.claim(1);
    t.commit(0, TRUTH);
    t.env.chain.advance_time(86_400 - 600);
    t.reveal(0, TRUTH);
    assert_tessera_error(
        t.env.reveal(&t.workers[1], 0, &t.job, TRUTH, t.salt(0)),
        TesseraError::NotCommitted,
    );

    // The copier is a no-show. The two reveals agree and are a majority of the three
    // replicas: accepted, and the copier loses its no-show penalty.
    env.chain.advance_time(86_400);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::Accepted);
    let copier = s.node(2);
    assert_eq!(copier.stake, STAKE - no_show_penalty(STAKE));
    assert_eq!((copier.earnings, copier.reputation.no_shows), (0, 1));
}

#[test]
fn no_shows_are_penalized_and_their_reward_refunded() {
    let s = Scenario::new(5, 5);
    let env = &s.env;
    for i in 0..5 {
        s.claim(i);
    }
    // Worker 3 commits and never reveals; worker 4 never commits.
    for i in 0..4 {
        s.commit(i, TRUTH);
    }
    // Worker 4 holds up the reveal phase until the commit deadline.
    assert_tessera_error(
        env.reveal(&s.workers[0], 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::RevealNotOpen,
    );
    env.chain.advance_time(86_400 - 600);
    for i in 0..3 {
        s.reveal(i, TRUTH);
    }
    assert_tessera_error(env.settle(&s.job), TesseraError::RoundNotComplete);
    env.chain.advance_time(600);
    s.settle();
    // Three of five agree, none disagrees: accepted without escalation.
    assert_eq!(s.reason(), JobEndReason::Accepted);
    for i in 0..3 {
        assert_eq!(s.node(i).earnings, NET);
    }
    for i in 3..5 {
        let node = s.node(i);
        assert_eq!(
            (node.stake, node.earnings),
            (STAKE - no_show_penalty(STAKE), 0)
        );
        assert_eq!(node.reputation.no_shows, 1);
        assert_eq!(node.open_assignments, 0);
    }
    // Two unpaid rewards and the reserve come back; penalties go to the treasury.
    assert_eq!(s.refund(), 7 * REWARD - 3 * REWARD);
}

#[test]
fn a_minority_of_reveals_escalates_even_when_they_agree() {
    let s = Scenario::new(3, 5);
    s.claim(0);
    s.claim(1);
    s.claim(2);
    s.commit(0, TRUTH);
    s.env.chain.advance_time(86_400 - 600);
    s.reveal(0, TRUTH);
    s.env.chain.advance_time(600);
    s.settle();
    assert!(s.job().escalated, "one reveal of three is no quorum");
}

#[test]
fn expiry_pays_a_bounty_out_of_the_penalties() {
    let s = Scenario::new(3, 3);
    let env = &s.env;
    let caller = env.actor_with(0);
    for i in 0..3 {
        s.claim(i);
        s.commit(i, TRUTH);
    }
    s.reveal(0, TRUTH);
    s.reveal(1, TRUTH);
    // Worker 2 never reveals, and nobody settles.
    env.chain.advance_time(86_400);
    assert_tessera_error(env.expire_job(&s.job, &caller), TesseraError::NotExpired);
    env.chain
        .advance_time(i64::from(default_params().expiry_grace_secs));
    // A bounty account of another mint: the token program refuses the transfer, nothing
    // moves and the job stays open.
    let other_mint = env.other_mint();
    let foreign = env.token_account(&caller.key(), &other_mint);
    let nodes = ix::slot_nodes(&s.job());
    let wrong_mint = ix::expire_job(&s.job, &nodes, &foreign);
    const TOKEN_MINT_MISMATCH: u32 = 3;
    assert_custom_code(
        env.send_one(wrong_mint, &caller.wallet),
        TOKEN_MINT_MISMATCH,
        "token program: MintMismatch",
    );
    assert_eq!(s.status(), JobStatus::Open);
    let treasury_before = env.treasury_balance();
    env.expire_job(&s.job, &caller).unwrap();
    // Two of three agree, one no-show: accepted.
    assert_eq!(s.reason(), JobEndReason::Accepted);
    let penalty = no_show_penalty(STAKE);
    let bounty = penalty * u64::from(default_params().expiry_bounty_bps) / 10_000;
    assert_eq!(env.balance(&caller.token), bounty);
    assert_eq!(
        env.treasury_balance() - treasury_before,
        2 * FEE + penalty - bounty
    );
    assert_eq!(s.refund(), 5 * REWARD - 2 * REWARD);
    // Expired once: the job is over.
    assert_tessera_error(env.expire_job(&s.job, &caller), TesseraError::JobNotOpen);
    assert_tessera_error(env.settle(&s.job), TesseraError::JobNotOpen);
}

#[test]
fn a_job_nobody_claims_expires_to_a_full_refund() {
    let s = Scenario::new(3, 0);
    let env = &s.env;
    let caller = env.actor_with(0);
    env.chain.advance_time(86_400 + 3_600);
    env.expire_job(&s.job, &caller).unwrap();
    assert_eq!(s.reason(), JobEndReason::NoResult);
    assert_eq!(env.balance(&caller.token), 0);
    env.close_job(&s.submitter, s.nonce).unwrap();
    assert_eq!(env.balance(&s.submitter.token), ACTOR_TOKENS);
}

#[test]
fn no_majority_after_escalation_is_no_quorum() {
    let s = Scenario::new(3, 5);
    let env = &s.env;
    let treasury_before = env.treasury_balance();
    s.round(0, &[[1; 32], [2; 32], [3; 32]]);
    s.settle();
    s.round(3, &[[1; 32], [2; 32]]);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::NoQuorum);
    assert_eq!(s.job().result_root, None);
    for i in 0..5 {
        let node = s.node(i);
        assert_eq!((node.stake, node.earnings), (STAKE, 0), "nobody slashed");
        assert_eq!(
            (node.reputation.disputes, node.reputation.score_bps),
            (1, 5_000)
        );
    }
    assert_eq!(env.treasury_balance(), treasury_before);
    env.close_job(&s.submitter, s.nonce).unwrap();
    assert_eq!(env.balance(&s.submitter.token), ACTOR_TOKENS);
}

#[test]
fn agreed_unavailable_input_compensates_and_refunds_the_rest() {
    let s = Scenario::new(3, 3);
    s.round(0, &[INPUT_UNAVAILABLE_ROOT; 3]);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::InputUnavailable);
    assert_eq!(s.job().result_root, None);
    let comp = REWARD * u64::from(default_params().unavailable_comp_bps) / 10_000;
    let comp_fee = comp * 250 / 10_000;
    for i in 0..3 {
        let node = s.node(i);
        assert_eq!((node.stake, node.earnings), (STAKE, comp - comp_fee));
    }
    assert_eq!(s.refund(), 5 * REWARD - 3 * comp);
}

#[test]
fn a_minority_claiming_unavailable_input_is_not_slashed() {
    let s = Scenario::new(3, 5);
    s.round(0, &[TRUTH, TRUTH, INPUT_UNAVAILABLE_ROOT]);
    s.settle();
    s.round(3, &[TRUTH, TRUTH]);
    s.settle();
    assert_eq!(s.reason(), JobEndReason::Accepted);
    let node = s.node(2);
    assert_eq!((node.stake, node.earnings), (STAKE, 0));
    assert_eq!(node.reputation.disagreed, 1);
}

#[test]
fn commit_reveal_and_settle_out_of_order_or_out_of_time() {
    let s = Scenario::new(2, 3);
    let env = &s.env;
    let (a, b) = (&s.workers[0], &s.workers[1]);
    // Commit or reveal without a slot.
    assert_tessera_error(
        env.commit(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::NotAssigned,
    );
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::NotAssigned,
    );
    s.claim(0);
    // Reveal before committing, and before the round has committed.
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::RevealNotOpen,
    );
    s.commit(0, TRUTH);
    assert_tessera_error(
        env.commit(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::AlreadyCommitted,
    );
    // Slot 1 is still empty: the reveal phase has not started.
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::RevealNotOpen,
    );
    s.claim(1);
    assert_tessera_error(env.claim(&s.workers[2], 0, &s.job), TesseraError::RoundFull);
    assert_tessera_error(
        env.reveal(b, 0, &s.job, TRUTH, s.salt(1)),
        TesseraError::RevealNotOpen,
    );
    assert_tessera_error(env.settle(&s.job), TesseraError::RoundNotComplete);
    // The commit deadline passes: late commits are refused, reveals open.
    env.chain.advance_time(86_400 - 600);
    assert_tessera_error(
        env.commit(b, 0, &s.job, TRUTH, s.salt(1)),
        TesseraError::CommitWindowClosed,
    );
    assert_tessera_error(
        env.reveal(b, 0, &s.job, TRUTH, s.salt(1)),
        TesseraError::NotCommitted,
    );
    // A wrong salt does not open the commitment.
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, [0; 32]),
        TesseraError::CommitmentMismatch,
    );
    s.reveal(0, TRUTH);
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::AlreadyRevealed,
    );
    assert_tessera_error(env.settle(&s.job), TesseraError::RoundNotComplete);
    // The reveal deadline passes: reveals are refused, settlement opens.
    env.chain.advance_time(600);
    assert_tessera_error(
        env.reveal(a, 0, &s.job, TRUTH, s.salt(0)),
        TesseraError::RevealWindowClosed,
    );
    s.settle();
    // One reveal of two: escalation, whose claims close with its own commit window.
    assert!(s.job().escalated);
    env.chain.advance_time(600);
    assert_tessera_error(
        env.claim(&s.workers[2], 0, &s.job),
        TesseraError::ClaimWindowClosed,
    );
}

#[test]
fn settling_twice_never_pays_twice() {
    let s = Scenario::new(2, 2);
    let env = &s.env;
    s.round(0, &[TRUTH, TRUTH]);
    s.settle();
    let stake_vault = env.stake_vault_balance();
    let escrow_vault = env.escrow_vault_balance();
    let treasury = env.treasury_balance();
    assert_tessera_error(env.settle(&s.job), TesseraError::JobNotOpen);
    let caller = env.actor_with(0);
    env.chain.advance_time(2 * 86_400);
    assert_tessera_error(env.expire_job(&s.job, &caller), TesseraError::JobNotOpen);
    assert_eq!(
        (
            env.stake_vault_balance(),
            env.escrow_vault_balance(),
            env.treasury_balance()
        ),
        (stake_vault, escrow_vault, treasury)
    );
    assert_eq!(s.node(0).earnings, NET);
    // Closed jobs cannot be settled or reclaimed again.
    env.close_job(&s.submitter, s.nonce).unwrap();
    assert_anchor_error(
        env.close_job(&s.submitter, s.nonce),
        AnchorError::AccountNotInitialized,
    );
}

#[test]
fn one_operator_gets_one_slot_per_job() {
    let s = Scenario::new(3, 1);
    let env = &s.env;
    let operator = &s.workers[0];
    env.register_node(operator, node_args(1)).unwrap();
    env.stake(operator, 1, STAKE).unwrap();
    s.claim(0);
    assert_tessera_error(
        env.claim(operator, 0, &s.job),
        TesseraError::NodeAlreadyAssigned,
    );
    assert_tessera_error(
        env.claim(operator, 1, &s.job),
        TesseraError::OperatorAlreadyAssigned,
    );
    assert_eq!(s.job().slots.len(), 1);
}

/// A change to a node's registration arguments.
type NodeTweak = Box<dyn Fn(&mut tessera::instructions::RegisterNodeArgs)>;

#[test]
fn claims_check_the_node_against_the_job() {
    let s = Scenario::new(3, 0);
    let env = &s.env;
    let cases: Vec<(NodeTweak, u64, TesseraError)> = vec![
        (
            Box::new(|_| {}),
            env.params.min_stake - 1,
            TesseraError::StakeBelowMinimum,
        ),
        (
            Box::new(|a| a.hardware = cpu_profile()),
            STAKE,
            TesseraError::HardwareMismatch,
        ),
        (
            Box::new(|a| a.hardware.vram_mib = 4_096),
            STAKE,
            TesseraError::HardwareMismatch,
        ),
        (
            Box::new(|a| a.min_price_per_unit = 1_001),
            STAKE,
            TesseraError::PriceBelowNodeMinimum,
        ),
    ];
    for (tweak, stake, error) in cases {
        let operator = env.actor();
        let mut args = node_args(0);
        tweak(&mut args);
        env.register_node(&operator, args).unwrap();
        env.stake(&operator, 0, stake).unwrap();
        assert_tessera_error(env.claim(&operator, 0, &s.job), error);
    }
    // Region: a job for region 5 only.
    let t = TestEnv::new();
    let operator = t.staked_operator(STAKE);
    let submitter = t.actor();
    let mut args = t.job_args(1, 1, REWARD);
    args.requirements.region_mask = 1 << 5;
    t.post_job(&submitter, args).unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    assert_tessera_error(t.claim(&operator, 0, &job), TesseraError::RegionMismatch);
    // A paused node.
    let mut update = update_args(&t.node(&operator.key(), 0));
    update.region = 5;
    update.accepting_jobs = false;
    t.update_node(&operator, 0, update.clone()).unwrap();
    assert_tessera_error(t.claim(&operator, 0, &job), TesseraError::NodeNotAccepting);
    update.accepting_jobs = true;
    t.update_node(&operator, 0, update).unwrap();
    t.claim(&operator, 0, &job).unwrap();
    assert_eq!(t.node(&operator.key(), 0).hardware.kind, HardwareKind::Gpu);
    assert_eq!(s.job().slots.len(), 0);
}

#[test]
fn wrong_signers_and_substituted_accounts_are_refused() {
    let s = Scenario::new(2, 2);
    let env = &s.env;
    let (a, b) = (&s.workers[0], &s.workers[1]);
    let node_a = pda::node(&a.key(), 0).0;
    // b claims with a's node.
    let stolen = substitute(
        ix::claim(&b.key(), 0, &s.job),
        &pda::node(&b.key(), 0).0,
        &node_a,
    );
    assert_tessera_error(env.send_one(stolen, &b.wallet), TesseraError::Unauthorized);
    // a's node named, a not signing.
    let unsigned = unsign(ix::claim(&a.key(), 0, &s.job), &a.key());
    assert_anchor_error(
        env.send_one(unsigned, &b.wallet),
        AnchorError::AccountNotSigner,
    );
    s.claim(0);
    s.claim(1);
    // b commits for a's slot.
    let forged = substitute(
        ix::commit(&b.key(), 0, &s.job, [0; 32]),
        &pda::node(&b.key(), 0).0,
        &node_a,
    );
    assert_tessera_error(env.send_one(forged, &b.wallet), TesseraError::Unauthorized);
    s.commit(0, TRUTH);
    s.commit(1, TRUTH);
    let forged = substitute(
        ix::reveal(&b.key(), 0, &s.job, TRUTH, s.salt(0)),
        &pda::node(&b.key(), 0).0,
        &node_a,
    );
    assert_tessera_error(env.send_one(forged, &b.wallet), TesseraError::Unauthorized);
    s.reveal(0, TRUTH);
    s.reveal(1, TRUTH);

    // Settlement with wrong slot nodes: missing, substituted, out of order, read-only.
    let nodes = ix::slot_nodes(&s.job());
    let stranger = env.staked_operator(STAKE);
    let stranger_node = pda::node(&stranger.key(), 0).0;
    let attempts = [
        ix::settle(&s.job, &nodes[..1]),
        ix::settle(&s.job, &[nodes[0], stranger_node]),
        ix::settle(&s.job, &[nodes[1], nodes[0]]),
        {
            let mut ix = ix::settle(&s.job, &nodes);
            let last = ix.accounts.len() - 1;
            ix.accounts[last] = AccountMeta::new_readonly(nodes[1], false);
            ix
        },
    ];
    for attempt in attempts {
        assert_tessera_error(
            env.send_one(attempt, &env.authority),
            TesseraError::WrongSlotNodes,
        );
    }
    // A substituted treasury.
    let decoy = env.token_account(&pda::config().0, &env.mint);
    let wrong_treasury = substitute(ix::settle(&s.job, &nodes), &pda::treasury().0, &decoy);
    assert_tessera_error(
        env.send_one(wrong_treasury, &env.authority),
        TesseraError::WrongVault,
    );
    // A fake SlotHashes account is refused where the seed is read (escalation, posting).
    let fake = env.actor().token;
    let args = env.job_args(2, 1, REWARD);
    let post = substitute(
        ix::post_job(&s.submitter.key(), &s.submitter.token, args),
        &tessera::state::sortition::SLOT_HASHES_ID,
        &fake,
    );
    assert_tessera_error(
        env.send_one(post, &s.submitter.wallet),
        TesseraError::WrongSlotHashes,
    );
    s.settle();
    assert_eq!(s.reason(), JobEndReason::Accepted);

    // Closing: not by a stranger, and not before the job ends.
    let other = Scenario::new(1, 0);
    assert_tessera_error(
        other.env.close_job(&other.submitter, other.nonce),
        TesseraError::JobNotEnded,
    );
    let attack = substitute(
        ix::close_job(&stranger.key(), s.nonce, &stranger.token),
        &pda::job(&stranger.key(), s.nonce).0,
        &s.job,
    );
    assert_tessera_error(
        env.send_one(attack, &stranger.wallet),
        TesseraError::Unauthorized,
    );
}

#[test]
fn earnings_are_withdrawn_by_their_operator_only() {
    let s = Scenario::new(1, 2);
    let env = &s.env;
    s.round(0, &[TRUTH]);
    s.settle();
    let (a, b) = (&s.workers[0], &s.workers[1]);
    assert_tessera_error(
        env.withdraw_earnings(a, 0, NET + 1),
        TesseraError::InsufficientEarnings,
    );
    assert_tessera_error(env.withdraw_earnings(a, 0, 0), TesseraError::ZeroAmount);
    let stolen = substitute(
        ix::withdraw_earnings(&b.key(), 0, &b.token, NET),
        &pda::node(&b.key(), 0).0,
        &pda::node(&a.key(), 0).0,
    );
    assert_tessera_error(env.send_one(stolen, &b.wallet), TesseraError::Unauthorized);
    let redirected = ix::withdraw_earnings(&a.key(), 0, &b.token, NET);
    assert_tessera_error(
        env.send_one(redirected, &a.wallet),
        TesseraError::WrongTokenOwner,
    );
    // A node with earnings cannot be closed, even with no stake.
    env.request_unstake(a, 0, STAKE).unwrap();
    env.chain.advance_time(env.params.unstake_cooldown_secs);
    env.withdraw_stake(a, 0, STAKE).unwrap();
    assert_tessera_error(env.close_node(a, 0), TesseraError::NodeHasEarnings);
    env.withdraw_earnings(a, 0, NET).unwrap();
    env.close_node(a, 0).unwrap();
    assert_eq!(env.balance(&a.token), ACTOR_TOKENS + NET);
}

#[test]
fn the_priority_window_follows_the_stake_weighted_sortition() {
    let env = TestEnv::new();
    // Total weight of about 100 stakes of STAKE: a node of STAKE holds a ticket for a
    // one-slot job with chance 3 × 1 / 100.
    let params = Params {
        sortition_weight: 100 * STAKE,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    // Nodes and stake older than the job (only those count for its round).
    let operators: Vec<Actor> = (0..8).map(|_| env.staked_operator(STAKE)).collect();
    let whale = env.staked_operator(ACTOR_TOKENS / 2);
    let s = Scenario::with_env(env, 1, 0);
    let env = &s.env;
    let job = s.job();
    let mut losers = 0;
    for operator in &operators {
        let address = pda::node(&operator.key(), 0).0;
        let node = env.node(&operator.key(), 0);
        let wins = holds_priority(&job, &address, &node, &params);
        assert_eq!(
            wins,
            u128::from(ticket(&job.seed, &address)) * 100 < 3 * (1u128 << 64)
        );
        if !wins {
            losers += 1;
            assert_tessera_error(
                env.claim(operator, 0, &s.job),
                TesseraError::NotPrioritySelected,
            );
        }
    }
    assert!(
        losers > 0,
        "with chance 3% each, eight nodes do not all win"
    );
    // A node with the whole network's weight always holds a ticket.
    let params = Params {
        sortition_weight: ACTOR_TOKENS / 2,
        ..params
    };
    env.update_params(&env.authority, params).unwrap();
    env.claim(&whale, 0, &s.job).unwrap();
    assert_eq!(s.job().slots.len(), 1);

    // After the priority window anyone eligible may claim.
    let env = TestEnv::new();
    let params = Params {
        sortition_weight: u64::MAX,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    let u = Scenario::with_env(env, 1, 1);
    assert_tessera_error(
        u.env.claim(&u.workers[0], 0, &u.job),
        TesseraError::NotPrioritySelected,
    );
    u.env.chain.advance_time(60);
    u.claim(0);
}
