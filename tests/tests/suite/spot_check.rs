//! Spot-check mode: one replica, audited with probability `audit_bps` from a slot hash that
//! did not exist when the worker claimed or committed; auditors drawn stake-weighted (never
//! the worker's operator) and paid from the audit fee; disagreement escalates; withholding a
//! reveal once audited is slashed as a wrong result. Amounts are checked to the base unit.
use anchor_lang::prelude::Pubkey;
use tessera::error::TesseraError;
use tessera::state::sortition::{audit_drawn, SLOT_HASHES_ID};
use tessera::state::{AuditState, Job, JobEndReason, JobStatus, Node, Params, SlotState};
use tessera_sdk::{instructions as ix, pda};
use tessera_tests::*;

const STAKE: u64 = 10_000_000;
/// Within [`default_params`]'s `max_audited_reward` (25,000) and the nodes' price (10 × 1,000
/// work units).
const REWARD: u64 = 20_000;
const FEE: u64 = REWARD * 250 / 10_000;
const NET: u64 = REWARD - FEE;
const TRUTH: [u8; 32] = [0x11; 32];
const LIE: [u8; 32] = [0x66; 32];

/// `⌈audit_bps × audit_replicas × REWARD / 10,000⌉`.
fn audit_fee(params: &Params) -> u64 {
    (u64::from(params.audit_bps) * u64::from(params.audit_replicas) * REWARD).div_ceil(10_000)
}

/// A spot-check network: workers staked before any job (shared with `attacks`).
pub(crate) struct Spot {
    pub(crate) env: TestEnv,
    pub(crate) submitter: Actor,
    pub(crate) workers: Vec<Actor>,
}

impl Spot {
    /// A network with `workers` staked operators; `audit_bps` replaces the default.
    pub(crate) fn new(workers: usize, audit_bps: Option<u16>) -> Self {
        let env = TestEnv::new();
        if let Some(audit_bps) = audit_bps {
            let params = Params {
                audit_bps,
                ..env.params
            };
            env.update_params(&env.authority, params).unwrap();
        }
        let submitter = env.actor();
        let workers = (0..workers).map(|_| env.staked_operator(STAKE)).collect();
        Self {
            env,
            submitter,
            workers,
        }
    }

    pub(crate) fn post(&self, nonce: u64) -> Pubkey {
        let mut args = self.env.job_args(nonce, 1, REWARD);
        args.spot_check = true;
        self.env.post_job(&self.submitter, args).unwrap();
        pda::job(&self.submitter.key(), nonce).0
    }

    pub(crate) fn job(&self, job: &Pubkey) -> Job {
        self.env.read(job)
    }

    pub(crate) fn node(&self, worker: usize) -> Node {
        self.env.node(&self.workers[worker].key(), 0)
    }

    pub(crate) fn salt(&self, worker: usize) -> [u8; 32] {
        self.workers[worker].key().to_bytes()
    }

    pub(crate) fn claim(&self, worker: usize, job: &Pubkey) {
        self.env
            .claim(&self.workers[worker], 0, job)
            .unwrap_or_else(|e| panic!("worker {worker} claims: {e}"));
    }

    pub(crate) fn commit(&self, worker: usize, job: &Pubkey, root: [u8; 32]) {
        self.env
            .commit(&self.workers[worker], 0, job, root, self.salt(worker))
            .unwrap_or_else(|e| panic!("worker {worker} commits: {e}"));
    }

    pub(crate) fn reveal(&self, worker: usize, job: &Pubkey, root: [u8; 32]) {
        self.env
            .reveal(&self.workers[worker], 0, job, root, self.salt(worker))
            .unwrap_or_else(|e| panic!("worker {worker} reveals: {e}"));
    }

    /// Workers 1 and 2 claim the audit round and commit `root`.
    pub(crate) fn audit(&self, job: &Pubkey, root: [u8; 32]) {
        for auditor in [1, 2] {
            self.claim(auditor, job);
            self.commit(auditor, job, root);
        }
    }

    /// Worker 0 claims and commits the truth, its audit slot ages out of SlotHashes, and the
    /// (forced) audit is drawn, seeded by a slot after the forcing call.
    fn work_and_age_out(&self, job: &Pubkey) {
        self.claim(0, job);
        self.commit(0, job, TRUTH);
        self.env.age_out_slot(self.job(job).audit_slot);
        self.env.draw_audit_until_drawn(job);
    }

    /// Posts jobs (from `nonce` on) whose worker 0 commits `root`, until one is audited by
    /// the draw (not forced); returns it.
    fn post_until_audited(&self, nonce: u64, root: [u8; 32]) -> Pubkey {
        for nonce in nonce..nonce + 40 {
            let job = self.post(nonce);
            if self.work_and_draw(&job, root).audit == AuditState::Drawn {
                return job;
            }
        }
        panic!("40 jobs in a row were not audited");
    }

    /// Worker 0 claims and commits `root`; the audit slot becomes final; the audit is drawn.
    /// Returns the job after the draw.
    fn work_and_draw(&self, job: &Pubkey, root: [u8; 32]) -> Job {
        self.claim(0, job);
        self.commit(0, job, root);
        let audit_slot = self.job(job).audit_slot;
        assert!(
            audit_slot > self.env.chain.get_clock().slot,
            "a future slot"
        );
        // The hash that decides does not exist yet.
        assert_tessera_error(self.env.draw_audit(job), TesseraError::AuditNotReady);
        self.env.chain.advance_time(2);
        // A transaction lands in the slot after the audit slot's, so the hash is final.
        assert_tessera_error(self.env.draw_audit(job), TesseraError::AuditNotReady);
        self.env.chain.advance_time(1);
        self.env.draw_audit(job).expect("draw the audit");
        let drawn = self.job(job);
        assert!(
            drawn.audit_slot >= audit_slot,
            "decided by the audit slot or a later one"
        );
        drawn
    }
}

fn reason(job: &Job) -> JobEndReason {
    match job.status {
        JobStatus::Ended { reason, .. } => reason,
        other => panic!("job has not ended: {other:?}"),
    }
}

fn slash(stake: u64) -> u64 {
    stake * u64::from(default_params().slash_bps) / 10_000
}

#[test]
fn posting_a_spot_check_job() {
    let s = Spot::new(0, None);
    let env = &s.env;
    let params = env.params;
    let before = env.balance(&s.submitter.token);
    let job = s.post(1);
    let j = s.job(&job);
    let fee = audit_fee(&params);
    assert_eq!(fee, 4_000, "10% × 2 auditors × 20,000");
    assert_eq!(j.audit, AuditState::Pending);
    assert_eq!(
        (j.audit_bps, j.audit_replicas, j.audit_fee),
        (1_000, 2, fee)
    );
    assert_eq!(j.audit_slot, 0);
    // The worker's reward, the audit reserve, the dispute reserve and the fee.
    assert_eq!(j.escrow, 5 * REWARD + fee);
    assert_eq!(before - env.balance(&s.submitter.token), 5 * REWARD + fee);
    assert_eq!(env.escrow_vault_balance(), 5 * REWARD + fee);

    let spot = |nonce: u64, replicas: u8, reward: u64| {
        let mut args = env.job_args(nonce, replicas, reward);
        args.spot_check = true;
        env.post_job(&s.submitter, args)
    };
    assert_tessera_error(spot(2, 3, REWARD), TesseraError::SpotCheckNeedsOneReplica);
    assert_tessera_error(spot(2, 1, 25_001), TesseraError::RewardAboveAuditedMax);
    spot(2, 1, 25_000).unwrap();
    let off = Params {
        audit_replicas: 0,
        ..params
    };
    env.update_params(&env.authority, off).unwrap();
    assert_tessera_error(spot(3, 1, REWARD), TesseraError::SpotCheckDisabled);
    // A full-redundancy job has no audit.
    env.post_job(&s.submitter, env.job_args(4, 1, REWARD))
        .unwrap();
    let full = env.job(&s.submitter.key(), 4);
    assert_eq!((full.audit, full.audit_fee), (AuditState::None, 0));
    assert_tessera_error(
        env.draw_audit(&pda::job(&s.submitter.key(), 4).0),
        TesseraError::AuditNotPending,
    );
    // Cancelling before a claim refunds the fee too.
    let tokens = env.balance(&s.submitter.token);
    env.cancel_job(&s.submitter, 1).unwrap();
    assert_eq!(env.balance(&s.submitter.token), tokens + 5 * REWARD + fee);
}

#[test]
fn an_unaudited_job_pays_its_worker_and_the_fee_funds_the_treasury() {
    // 10% audits: post jobs until one is not audited (each is audited with probability 0.1,
    // and the test checks every draw against the slot hash it came from).
    let s = Spot::new(3, None);
    let env = &s.env;
    let params = env.params;
    let fee = audit_fee(&params);
    for nonce in 1..=20u64 {
        let job = s.post(nonce);
        // Nothing to draw before the worker commits, and the worker cannot reveal before
        // the draw.
        assert_tessera_error(env.draw_audit(&job), TesseraError::AuditNotPending);
        let seed = s.job(&job).seed;
        let drawn = s.work_and_draw(&job, TRUTH);
        let slot_hashes = env.chain.get_account(&SLOT_HASHES_ID).unwrap().data;
        let hash = slot_hash_of(&slot_hashes, drawn.audit_slot);
        let audited = drawn.audit == AuditState::Drawn;
        assert_eq!(audited, audit_drawn(&seed, &hash, params.audit_bps));
        // Replay.
        assert_tessera_error(env.draw_audit(&job), TesseraError::AuditNotPending);
        if audited {
            continue; // covered by the audited tests; try another job
        }
        assert_eq!(drawn.audit, AuditState::Skipped);
        assert_eq!(drawn.seed, seed, "no new round");
        // The round is full: nobody else may claim.
        assert_tessera_error(env.claim(&s.workers[1], 0, &job), TesseraError::RoundFull);
        let treasury = env.treasury_balance();
        let submitter = env.balance(&s.submitter.token);
        let earnings = s.node(0).earnings;
        s.reveal(0, &job, TRUTH);
        env.settle(&job).unwrap();
        let j = s.job(&job);
        assert_eq!(reason(&j), JobEndReason::Accepted);
        assert_eq!(j.result_root, Some(TRUTH));
        assert_eq!(s.node(0).earnings - earnings, NET);
        assert_eq!(env.treasury_balance() - treasury, FEE + fee);
        // The audit and dispute reserves come back; the reward and the fee do not.
        assert_eq!(j.escrow, 4 * REWARD);
        env.close_job(&s.submitter, nonce).unwrap();
        assert_eq!(env.balance(&s.submitter.token) - submitter, 4 * REWARD);
        return;
    }
    panic!("20 jobs in a row were audited at p = 0.1");
}

/// The hash of `slot` in SlotHashes data (bincode: length, then (slot, hash) pairs).
fn slot_hash_of(data: &[u8], slot: u64) -> [u8; 32] {
    let len = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
    (0..len)
        .map(|i| &data[8 + 40 * i..8 + 40 * (i + 1)])
        .find(|e| u64::from_le_bytes(e[..8].try_into().unwrap()) == slot)
        .map(|e| e[8..].try_into().unwrap())
        .expect("the slot is in SlotHashes")
}

#[test]
fn an_audited_job_waits_for_its_auditors_then_pays_everyone() {
    // Every spot-check job audited: the fee is the whole audit.
    let s = Spot::new(4, Some(10_000));
    let env = &s.env;
    let fee = audit_fee(&s.env.config().params);
    assert_eq!(fee, 2 * REWARD);
    let job = s.post(1);
    let before = s.job(&job);
    let j = s.work_and_draw(&job, TRUTH);
    assert_eq!(j.audit, AuditState::Drawn);
    assert_ne!(j.audit_slot, 0, "not forced");
    assert_ne!(
        j.seed, before.seed,
        "a fresh seed for the auditors' sortition"
    );
    assert_eq!(j.round_capacity(), 3);
    let now = env.chain.get_clock().unix_timestamp;
    assert_eq!(j.round_started_at, now);
    assert_eq!(j.commit_deadline, now + 600);
    assert_eq!(j.reveal_deadline, now + 1_200);
    // The worker's root stays hidden until the auditors have committed.
    assert_tessera_error(
        env.reveal(&s.workers[0], 0, &job, TRUTH, s.salt(0)),
        TesseraError::RevealNotOpen,
    );
    // Never an auditor of the worker's own operator.
    let own = &s.workers[0];
    env.register_node(own, node_args(1)).unwrap();
    env.stake(own, 1, STAKE).unwrap();
    assert_tessera_error(
        env.claim(own, 1, &job),
        TesseraError::OperatorAlreadyAssigned,
    );
    s.claim(1, &job);
    s.claim(2, &job);
    assert_tessera_error(env.claim(&s.workers[3], 0, &job), TesseraError::RoundFull);
    s.commit(1, &job, TRUTH);
    assert_tessera_error(
        env.reveal(&s.workers[0], 0, &job, TRUTH, s.salt(0)),
        TesseraError::RevealNotOpen,
    );
    s.commit(2, &job, TRUTH);
    for worker in 0..3 {
        s.reveal(worker, &job, TRUTH);
    }
    let treasury = env.treasury_balance();
    env.settle(&job).unwrap();
    let j = s.job(&job);
    assert_eq!(reason(&j), JobEndReason::Accepted);
    assert!(!j.escalated);
    // The fee (2 rewards) paid both auditors: the treasury keeps only the protocol fees.
    for worker in 0..3 {
        assert_eq!(s.node(worker).earnings, NET);
    }
    assert_eq!(env.treasury_balance() - treasury, 3 * FEE);
    // The audit and dispute reserves come back: the submitter paid the reward and the fee.
    assert_eq!(j.escrow, 4 * REWARD);
}

#[test]
fn an_audited_liar_is_outvoted_escalated_and_slashed() {
    let s = Spot::new(5, Some(10_000));
    let env = &s.env;
    let job = s.post(1);
    assert_eq!(s.work_and_draw(&job, LIE).audit, AuditState::Drawn);
    s.audit(&job, TRUTH);
    s.reveal(0, &job, LIE);
    s.reveal(1, &job, TRUTH);
    s.reveal(2, &job, TRUTH);
    env.settle(&job).unwrap();
    // Any disagreement escalates.
    let j = s.job(&job);
    assert!(j.escalated && j.is_open());
    assert_eq!((j.round_start_index(), j.round_capacity()), (3, 2));
    for escalation in [3, 4] {
        s.claim(escalation, &job);
        s.commit(escalation, &job, TRUTH);
    }
    s.reveal(3, &job, TRUTH);
    s.reveal(4, &job, TRUTH);
    let treasury = env.treasury_balance();
    env.settle(&job).unwrap();
    let j = s.job(&job);
    assert_eq!(reason(&j), JobEndReason::Accepted);
    assert_eq!(j.result_root, Some(TRUTH));
    let liar = s.node(0);
    assert_eq!(liar.stake, STAKE - slash(STAKE));
    assert_eq!(liar.earnings, 0);
    for honest in 1..5 {
        let node = s.node(honest);
        assert_eq!((node.stake, node.earnings), (STAKE, NET));
    }
    // Loser pays: the penalty reimburses the four extra rewards; the fee stays charged and
    // the treasury keeps the rest of the penalty with the four protocol fees.
    assert_eq!(
        env.treasury_balance() - treasury,
        4 * FEE + 2 * REWARD + slash(STAKE) - 4 * REWARD
    );
    // Escrow 5 rewards + the fee (2 rewards at p = 1), less 4 rewards paid, plus the 4
    // reimbursed, less the fee: the submitter paid only the fee.
    assert_eq!(j.escrow, 5 * REWARD);
}

#[test]
fn withholding_the_reveal_once_audited_is_slashed_as_a_wrong_result() {
    let s = Spot::new(3, Some(10_000));
    let env = &s.env;
    let job = s.post(1);
    assert_eq!(s.work_and_draw(&job, LIE).audit, AuditState::Drawn);
    s.audit(&job, TRUTH);
    s.reveal(1, &job, TRUTH);
    s.reveal(2, &job, TRUTH);
    // The worker sees it would lose and stays silent.
    assert_tessera_error(env.settle(&job), TesseraError::RoundNotComplete);
    env.chain.advance_time(1_200);
    env.settle(&job).unwrap();
    let j = s.job(&job);
    assert_eq!(reason(&j), JobEndReason::Accepted, "2 of 3 agree");
    assert_eq!(j.slots[0].state, SlotState::Committed);
    assert_eq!(
        s.node(0).stake,
        STAKE - slash(STAKE),
        "slash_bps, not no_show_bps"
    );
    assert_eq!(s.node(1).earnings, NET);
}

#[test]
fn an_aged_out_audit_slot_forces_the_audit_and_its_submitter_pays_it() {
    // Waiting does not escape the audit; the forced audit's auditors are drawn from a slot
    // hash after the forcing call, and the treasury does not subsidize it (a subsidy would
    // pay a submitter that forces audits on its own jobs with its own auditors).
    let s = Spot::new(3, None);
    let env = &s.env;
    let fee = audit_fee(&env.params);
    let job = s.post(1);
    s.work_and_age_out(&job);
    let drawn = s.job(&job);
    assert_eq!(drawn.audit, AuditState::Drawn);
    assert!(drawn.audit_forced);
    assert_ne!(
        drawn.audit_slot, 0,
        "the slot whose hash seeded the auditors"
    );
    let treasury = pda::treasury().0;
    env.mint_to(&treasury, 10 * REWARD);
    s.audit(&job, TRUTH);
    for worker in 0..3 {
        s.reveal(worker, &job, TRUTH);
    }
    let before = env.treasury_balance();
    env.settle(&job).unwrap();
    assert_eq!(reason(&s.job(&job)), JobEndReason::Accepted);
    assert_eq!(
        env.treasury_balance(),
        before + 3 * FEE + fee,
        "the treasury took three fees and the audit fee, and paid no subsidy"
    );
    let tokens = env.balance(&s.submitter.token);
    env.close_job(&s.submitter, 1).unwrap();
    assert_eq!(
        ACTOR_TOKENS - env.balance(&s.submitter.token),
        3 * REWARD + fee,
        "the submitter paid the worker, both auditors and the fee (refund {})",
        env.balance(&s.submitter.token) - tokens
    );
}

#[test]
fn an_empty_treasury_subsidizes_only_what_it_receives() {
    // Half the jobs are audited by the draw; the fee covers half of two auditors.
    let s = Spot::new(3, Some(5_000));
    let env = &s.env;
    let fee = audit_fee(&env.config().params);
    let job = s.post_until_audited(1, TRUTH);
    s.audit(&job, TRUTH);
    s.reveal(0, &job, TRUTH);
    s.reveal(1, &job, TRUTH);
    s.reveal(2, &job, TRUTH);
    let treasury = env.treasury_balance();
    env.settle(&job).unwrap();
    // The treasury can only hand on what this settlement brings it: three protocol fees and
    // the audit fee (plus the fees of the unaudited jobs before, which it already held).
    let subsidy = treasury + 3 * FEE + fee - env.treasury_balance();
    assert_eq!(subsidy, (2 * REWARD).min(treasury + 3 * FEE + fee));
    assert_eq!(treasury, 0, "the unaudited jobs before are not settled");
    // The escrow (five rewards and the fee) less three rewards and the fee, plus the subsidy.
    assert_eq!(s.job(&job).escrow, 2 * REWARD + subsidy);
}

#[test]
fn draw_audit_attacks() {
    let s = Spot::new(1, Some(10_000));
    let env = &s.env;
    let job = s.post(1);
    s.claim(0, &job);
    s.commit(0, &job, TRUTH);
    env.chain.advance_time(3);
    // A fake SlotHashes account.
    let fake = env.actor().key();
    assert_tessera_error(
        env.send_one(
            substitute(ix::draw_audit(&job), &SLOT_HASHES_ID, &fake),
            &env.authority,
        ),
        TesseraError::WrongSlotHashes,
    );
    // Past the first round's reveal deadline the draw is closed. The worker committed and
    // never revealed: slashed as a wrong result (not drawing must not be a way out of an
    // audit); the fee is not charged.
    env.chain.advance_time(86_400);
    assert_tessera_error(env.draw_audit(&job), TesseraError::RevealWindowClosed);
    let submitter = env.balance(&s.submitter.token);
    env.settle(&job).unwrap();
    let j = s.job(&job);
    assert_eq!(reason(&j), JobEndReason::NoResult);
    assert_eq!(s.node(0).stake, STAKE - slash(STAKE));
    env.close_job(&s.submitter, 1).unwrap();
    let fee = audit_fee(&env.config().params);
    assert_eq!(
        env.balance(&s.submitter.token) - submitter,
        5 * REWARD + fee,
        "everything back, the fee included"
    );
}
