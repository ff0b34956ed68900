//! Governance: voting power and its anti-flash-stake rule, proposals from creation to
//! execution, the handover, and the attacks on each instruction. Amounts to the base unit.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::solana_program::instruction::AccountMeta;
use tessera::error::TesseraError;
use tessera::state::{
    GovParamChanges, JobEndReason, JobStatus, ParamChanges, ProposalAction, ProposalStatus,
    VoteChoice,
};
use tessera_sdk::{instructions as ix, pda, token};
use tessera_tests::*;

const STAKE: u64 = 10_000_000;
const HOLDING: u64 = 20_000_000;
const DEPOSIT: u64 = 10_000_000;
const TRUTH: [u8; 32] = [0x11; 32];
const LIE: [u8; 32] = [0x66; 32];

/// A network with governance initialized: `operators` staked operators (node 0, [`STAKE`]
/// each) and `holders` holders with a [`HOLDING`] deposit each, all locked before anything
/// is proposed; handed over to governance if `hand_over`.
struct World {
    env: TestEnv,
    operators: Vec<Actor>,
    holders: Vec<Actor>,
}

impl World {
    fn new(operators: usize, holders: usize, hand_over: bool) -> Self {
        let env = TestEnv::new();
        Self::with_env(env, operators, holders, hand_over)
    }

    fn with_env(env: TestEnv, operators: usize, holders: usize, hand_over: bool) -> Self {
        env.init_governance(default_gov_params())
            .expect("init governance");
        let operators = (0..operators).map(|_| env.staked_operator(STAKE)).collect();
        let holders = (0..holders)
            .map(|_| {
                let h = env.actor();
                env.gov_deposit(&h, HOLDING).expect("deposit");
                h
            })
            .collect();
        if hand_over {
            env.hand_over().expect("hand over");
        }
        Self {
            env,
            operators,
            holders,
        }
    }

    fn vote_operator(&self, i: usize, id: u64, choice: VoteChoice) {
        self.env
            .vote(&self.operators[i], id, choice, &[0])
            .unwrap_or_else(|e| panic!("operator {i} votes: {e}"));
    }

    fn vote_holder(&self, i: usize, id: u64, choice: VoteChoice) {
        self.env
            .vote(&self.holders[i], id, choice, &[])
            .unwrap_or_else(|e| panic!("holder {i} votes: {e}"));
    }

    /// Waits out the voting period and the timelock, finalizing in between.
    fn finalize_and_wait(&self, id: u64) {
        let gov = default_gov_params();
        self.env
            .chain
            .advance_time(i64::from(gov.voting_period_secs));
        self.env.finalize(id).expect("finalize");
        self.env.chain.advance_time(i64::from(gov.timelock_secs));
    }

    /// Proposes `action` by holder 0, every holder votes yes, and it is executed.
    fn pass(&self, title: &str, action: ProposalAction) -> u64 {
        let id = self
            .env
            .propose(&self.holders[0], title, action)
            .expect("propose");
        for i in 0..self.holders.len() {
            self.vote_holder(i, id, VoteChoice::Yes);
        }
        self.finalize_and_wait(id);
        assert_eq!(self.env.proposal(id).status, ProposalStatus::Passed);
        self.env.execute(id).expect("execute");
        id
    }
}

fn slash_to(bps: u16) -> ProposalAction {
    ProposalAction::UpdateParams(ParamChanges {
        slash_bps: Some(bps),
        ..ParamChanges::default()
    })
}

#[test]
fn a_proposal_changes_the_slash_rate_and_settlement_uses_it() {
    let w = World::new(5, 1, true);
    let env = &w.env;
    let holder = &w.holders[0];
    let before = env.balance(&holder.token);
    let id = env
        .propose(holder, "Slash wrong results at 80%", slash_to(8_000))
        .unwrap();
    assert_eq!(id, 0);
    let p = env.proposal(id);
    assert_eq!(p.status, ProposalStatus::Voting);
    assert_eq!(p.total_power, 5 * STAKE + HOLDING);
    assert_eq!(
        (p.deposit, p.quorum_bps, p.pass_threshold_bps),
        (DEPOSIT, 2_000, 5_000)
    );
    assert_eq!(env.balance(&holder.token), before - DEPOSIT);
    assert_eq!(env.gov_vault_balance(), HOLDING + DEPOSIT);
    assert_eq!(env.config().proposal_count, 1);

    w.vote_holder(0, id, VoteChoice::Yes);
    w.vote_operator(0, id, VoteChoice::Yes);
    w.vote_operator(1, id, VoteChoice::No);
    w.vote_operator(2, id, VoteChoice::Abstain);
    let record = env.vote_record(id, &w.operators[0].key());
    assert_eq!((record.deposit_power, record.stake_power), (0, STAKE));
    assert_eq!(env.vote_record(id, &holder.key()).deposit_power, HOLDING);
    let p = env.proposal(id);
    assert_eq!(
        (p.yes, p.no, p.abstain, p.voters),
        (HOLDING + STAKE, STAKE, STAKE, 4)
    );

    assert_tessera_error(env.finalize(id), TesseraError::VotingNotEnded);
    env.chain.advance_time(600);
    assert_tessera_error(
        env.vote(&w.operators[3], id, VoteChoice::No, &[0]),
        TesseraError::VotingClosed,
    );
    env.finalize(id).unwrap();
    assert_eq!(env.proposal(id).status, ProposalStatus::Passed);
    assert_tessera_error(env.finalize(id), TesseraError::ProposalNotInState);
    assert_tessera_error(env.execute(id), TesseraError::TimelockNotElapsed);
    env.chain.advance_time(300);
    let old = env.config().params;
    env.execute(id).unwrap();
    let new = env.config().params;
    assert_eq!(new.slash_bps, 8_000);
    assert_eq!(
        tessera::state::Params {
            slash_bps: old.slash_bps,
            ..new
        },
        old
    );
    assert_eq!(env.proposal(id).status, ProposalStatus::Executed);
    assert_tessera_error(env.execute(id), TesseraError::ProposalNotInState);

    // A job with a liar settles under the new rate: it loses 80% of its stake.
    let submitter = env.actor();
    env.post_job(&submitter, env.job_args(1, 3, 1_000_000))
        .unwrap();
    let job = pda::job(&submitter.key(), 1).0;
    let roots = [TRUTH, TRUTH, LIE];
    let salt = |i: usize| w.operators[i].key().to_bytes();
    let round = |first: usize, roots: &[[u8; 32]]| {
        for i in 0..roots.len() {
            env.claim(&w.operators[first + i], 0, &job).unwrap();
        }
        for (i, root) in roots.iter().enumerate() {
            let o = first + i;
            env.commit(&w.operators[o], 0, &job, *root, salt(o))
                .unwrap();
        }
        for (i, root) in roots.iter().enumerate() {
            let o = first + i;
            env.reveal(&w.operators[o], 0, &job, *root, salt(o))
                .unwrap();
        }
        env.settle(&job).unwrap();
    };
    round(0, &roots);
    round(3, &[TRUTH, TRUTH]);
    let settled = env.read::<tessera::state::Job>(&job);
    assert!(matches!(
        settled.status,
        JobStatus::Ended {
            reason: JobEndReason::Accepted,
            ..
        }
    ));
    let liar = env.node(&w.operators[2].key(), 0);
    assert_eq!(liar.reputation.slashed_total, STAKE * 8 / 10);
    assert_eq!(liar.stake, STAKE - STAKE * 8 / 10);
    assert_eq!(env.node(&w.operators[0].key(), 0).stake, STAKE);

    // The proposer takes its deposit and the rent back.
    let before = env.balance(&holder.token);
    env.close_proposal(holder, id).unwrap();
    assert_eq!(env.balance(&holder.token), before + DEPOSIT);
    assert!(!env.exists(&pda::proposal(id).0));
    assert_eq!(env.gov_vault_balance(), HOLDING);
}

#[test]
fn a_proposal_without_quorum_forfeits_its_deposit() {
    let w = World::new(4, 1, true);
    let env = &w.env;
    // 10M of 60M voted: below the 20% quorum.
    let id = env
        .propose(&w.holders[0], "Raise the slash rate", slash_to(6_000))
        .unwrap();
    w.vote_operator(0, id, VoteChoice::Yes);
    let treasury = env.treasury_balance();
    env.chain.advance_time(600);
    env.finalize(id).unwrap();
    let p = env.proposal(id);
    assert_eq!((p.status, p.deposit), (ProposalStatus::QuorumNotReached, 0));
    assert_eq!(env.treasury_balance(), treasury + DEPOSIT);
    assert_eq!(env.gov_vault_balance(), HOLDING);
    assert_eq!(env.governance().proposal_deposits, 0);
    env.chain.advance_time(300);
    assert_tessera_error(env.execute(id), TesseraError::ProposalNotInState);
    assert_eq!(env.config().params.slash_bps, default_params().slash_bps);
    let before = env.balance(&w.holders[0].token);
    env.close_proposal(&w.holders[0], id).unwrap();
    assert_eq!(env.balance(&w.holders[0].token), before);
}

#[test]
fn a_rejected_proposal_cannot_be_executed() {
    let w = World::new(3, 1, true);
    let env = &w.env;
    let id = env
        .propose(&w.holders[0], "Raise the slash rate", slash_to(6_000))
        .unwrap();
    // 20M yes against 20M no: not more than half.
    w.vote_holder(0, id, VoteChoice::Yes);
    w.vote_operator(0, id, VoteChoice::No);
    w.vote_operator(1, id, VoteChoice::No);
    w.finalize_and_wait(id);
    assert_eq!(env.proposal(id).status, ProposalStatus::Rejected);
    assert_tessera_error(env.execute(id), TesseraError::ProposalNotInState);
    assert_eq!(env.config().params.slash_bps, default_params().slash_bps);
    let before = env.balance(&w.holders[0].token);
    env.close_proposal(&w.holders[0], id).unwrap();
    assert_eq!(env.balance(&w.holders[0].token), before + DEPOSIT);
}

#[test]
fn a_wallet_votes_once_per_proposal() {
    let w = World::new(1, 1, true);
    let env = &w.env;
    let id = env
        .propose(&w.holders[0], "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    w.vote_holder(0, id, VoteChoice::Yes);
    for choice in [VoteChoice::Yes, VoteChoice::No] {
        assert_custom_code(
            env.vote(&w.holders[0], id, choice, &[]),
            0,
            "AccountAlreadyInUse",
        );
    }
    // Nor can its nodes be counted by a second vote of the same wallet.
    w.vote_operator(0, id, VoteChoice::No);
    assert_custom_code(
        env.vote(&w.operators[0], id, VoteChoice::Yes, &[0]),
        0,
        "AccountAlreadyInUse",
    );
    let p = env.proposal(id);
    assert_eq!((p.yes, p.no, p.voters), (HOLDING, STAKE, 2));
}

#[test]
fn tokens_locked_after_creation_do_not_count() {
    let w = World::new(1, 1, true);
    let env = &w.env;
    let (operator, holder) = (&w.operators[0], &w.holders[0]);
    let id = env
        .propose(holder, "Pause", ProposalAction::SetPaused(true))
        .unwrap();

    // A deposit made after the proposal: no power for it.
    let late = env.actor();
    env.gov_deposit(&late, HOLDING).unwrap();
    assert_tessera_error(
        env.vote(&late, id, VoteChoice::Yes, &[]),
        TesseraError::NoVotingPower,
    );
    // Stake of a node registered and staked afterwards: none either.
    let newcomer = env.staked_operator(STAKE);
    assert_tessera_error(
        env.vote(&newcomer, id, VoteChoice::Yes, &[0]),
        TesseraError::NoVotingPower,
    );
    // Topping up after creation counts only what was there before.
    env.gov_deposit(holder, 5_000_000).unwrap();
    env.stake(operator, 0, 7_000_000).unwrap();
    w.vote_holder(0, id, VoteChoice::Yes);
    w.vote_operator(0, id, VoteChoice::Yes);
    assert_eq!(env.vote_record(id, &holder.key()).deposit_power, HOLDING);
    assert_eq!(env.vote_record(id, &operator.key()).stake_power, STAKE);
    assert_eq!(env.proposal(id).yes, HOLDING + STAKE);

    // The next proposal counts all of it.
    let next = env
        .propose(holder, "Resume", ProposalAction::SetPaused(false))
        .unwrap();
    env.vote(&late, next, VoteChoice::No, &[]).unwrap();
    env.vote(&newcomer, next, VoteChoice::No, &[0]).unwrap();
    w.vote_holder(0, next, VoteChoice::Yes);
    w.vote_operator(0, next, VoteChoice::Yes);
    let p = env.proposal(next);
    assert_eq!(p.no, HOLDING + STAKE);
    assert_eq!(p.yes, HOLDING + 5_000_000 + STAKE + 7_000_000);
    assert_eq!(
        p.total_power,
        2 * STAKE + 7_000_000 + 2 * HOLDING + 5_000_000
    );
}

#[test]
fn tokens_moved_after_a_vote_do_not_count_twice() {
    let env = TestEnv::boot();
    // A short cooldown, so that only the vote lock holds the stake.
    env.initialize(
        &env.authority,
        tessera::state::Params {
            unstake_cooldown_secs: 60,
            ..default_params()
        },
    )
    .unwrap();
    let w = World::with_env(env, 1, 1, true);
    let env = &w.env;
    let (operator, holder) = (&w.operators[0], &w.holders[0]);
    let first = env
        .propose(holder, "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    w.vote_operator(0, first, VoteChoice::Yes);
    w.vote_holder(0, first, VoteChoice::Yes);

    // Locked while the vote is open: cooldown may start, nothing leaves.
    env.request_unstake(operator, 0, STAKE).unwrap();
    env.chain.advance_time(100);
    assert_tessera_error(
        env.withdraw_stake(operator, 0, STAKE),
        TesseraError::VotesLocked,
    );
    assert_tessera_error(env.gov_withdraw(holder, HOLDING), TesseraError::VotesLocked);

    // A second proposal, created while those tokens are still locked.
    let second = env
        .propose(holder, "Resume", ProposalAction::SetPaused(false))
        .unwrap();

    // After the first vote closes, the stake leaves, moves to another wallet, and is locked
    // again there: it must not vote on the second proposal a second time. The holder's
    // deposit counts in the second proposal's quorum base, so it cannot leave at all while
    // that vote is open.
    env.chain.advance_time(500);
    env.withdraw_stake(operator, 0, STAKE).unwrap();
    assert_tessera_error(
        env.gov_withdraw(holder, HOLDING),
        TesseraError::DepositInQuorumBase,
    );
    let accomplice = env.actor_with(0);
    let transfer =
        token::transfer(&operator.token, &accomplice.token, &operator.key(), STAKE).unwrap();
    env.send_one(transfer, &operator.wallet).unwrap();
    env.register_node(&accomplice, node_args(0)).unwrap();
    env.stake(&accomplice, 0, STAKE).unwrap();
    assert_tessera_error(
        env.vote(&accomplice, second, VoteChoice::Yes, &[0]),
        TesseraError::NoVotingPower,
    );
    // And the wallet it left has nothing left to vote with.
    assert_tessera_error(
        env.vote(operator, second, VoteChoice::Yes, &[0]),
        TesseraError::NoVotingPower,
    );
    let p = env.proposal(second);
    assert_eq!((p.yes, p.no, p.abstain, p.voters), (0, 0, 0, 0));
    let p = env.proposal(first);
    assert_eq!(p.yes, STAKE + HOLDING);
}

#[test]
fn out_of_bounds_changes_are_refused_at_creation() {
    let w = World::new(1, 1, true);
    let env = &w.env;
    let holder = &w.holders[0];
    let params = |f: fn(&mut ParamChanges)| {
        let mut c = ParamChanges::default();
        f(&mut c);
        ProposalAction::UpdateParams(c)
    };
    let gov = |f: fn(&mut GovParamChanges)| {
        let mut c = GovParamChanges::default();
        f(&mut c);
        ProposalAction::UpdateGovernance(c)
    };
    let cases = [
        (
            params(|c| c.slash_bps = Some(0)),
            TesseraError::SlashOutOfBounds,
        ),
        (
            params(|c| c.protocol_fee_bps = Some(2_001)),
            TesseraError::ProtocolFeeOutOfBounds,
        ),
        (
            params(|c| c.max_replicas = Some(9)),
            TesseraError::MaxReplicasOutOfBounds,
        ),
        (
            params(|c| c.max_replicas = Some(7)),
            TesseraError::EscalationOutOfBounds,
        ),
        (
            params(|c| c.allowed_kernels = Some(0)),
            TesseraError::NoKernelsAllowed,
        ),
        (
            params(|c| c.commit_window_secs = Some(5)),
            TesseraError::PhaseWindowOutOfBounds,
        ),
        (params(|_| {}), TesseraError::EmptyProposal),
        // Changes under which spot-check cheating would pay in expectation: rarer audits,
        // lighter slashing, a smaller stake at risk, larger audited rewards.
        (
            params(|c| c.audit_bps = Some(500)),
            TesseraError::CheatingPays,
        ),
        (
            params(|c| c.slash_bps = Some(2_500)),
            TesseraError::CheatingPays,
        ),
        (
            params(|c| c.min_stake = Some(500_000)),
            TesseraError::CheatingPays,
        ),
        (
            params(|c| c.max_audited_reward = Some(1_000_000)),
            TesseraError::CheatingPays,
        ),
        (
            params(|c| c.audit_replicas = Some(6)),
            TesseraError::AuditParamsOutOfBounds,
        ),
        (
            ProposalAction::SetKernel {
                kernel_id: 32,
                allowed: true,
            },
            TesseraError::InvalidKernelId,
        ),
        (
            ProposalAction::TreasuryGrant {
                recipient: holder.token,
                amount: 0,
            },
            TesseraError::ZeroAmount,
        ),
        (
            gov(|c| c.quorum_bps = Some(0)),
            TesseraError::VoteThresholdOutOfBounds,
        ),
        (
            gov(|c| c.pass_threshold_bps = Some(4_999)),
            TesseraError::VoteThresholdOutOfBounds,
        ),
        (
            gov(|c| c.voting_period_secs = Some(5)),
            TesseraError::VotingPeriodOutOfBounds,
        ),
        (
            gov(|c| c.timelock_secs = Some(0)),
            TesseraError::TimelockOutOfBounds,
        ),
        (gov(|_| {}), TesseraError::EmptyProposal),
    ];
    let before = env.balance(&holder.token);
    for (action, error) in cases {
        assert_tessera_error(env.propose(holder, "bad", action), error);
    }
    assert_tessera_error(
        env.propose(holder, &"x".repeat(81), ProposalAction::SetPaused(true)),
        TesseraError::InvalidProposalTitle,
    );
    assert_eq!(env.config().proposal_count, 0);
    assert_eq!(env.balance(&holder.token), before);
}

#[test]
fn the_initial_authority_is_powerless_after_the_handover() {
    let w = World::new(1, 1, false);
    let env = &w.env;
    // Before the handover nothing can be proposed.
    assert_tessera_error(
        env.propose(&w.holders[0], "Pause", ProposalAction::SetPaused(true)),
        TesseraError::GovernanceNotInControl,
    );
    // A stranger cannot hand the network over.
    let stranger = env.actor();
    assert_tessera_error(
        env.send_one(ix::hand_over_authority(&stranger.key()), &stranger.wallet),
        TesseraError::Unauthorized,
    );
    env.hand_over().unwrap();
    let config = env.config();
    assert_eq!(config.authority, pda::governance().0);

    let mut params = env.params;
    params.slash_bps = 10_000;
    assert_tessera_error(
        env.update_params(&env.authority, params),
        TesseraError::Unauthorized,
    );
    assert_tessera_error(env.hand_over(), TesseraError::Unauthorized);
    // Governance exists once: a second one cannot be created (by anyone).
    assert_custom_code(
        env.init_governance(default_gov_params()),
        0,
        "AccountAlreadyInUse",
    );
    assert_eq!(env.config().params, env.params);
}

#[test]
fn governance_pauses_jobs_changes_kernels_and_grants_from_the_treasury() {
    let w = World::new(1, 2, true);
    let env = &w.env;
    let submitter = env.actor();

    w.pass("Pause new jobs", ProposalAction::SetPaused(true));
    assert!(env.config().paused);
    assert_tessera_error(
        env.post_job(&submitter, env.job_args(1, 1, 1_000)),
        TesseraError::NetworkPaused,
    );
    w.pass("Resume new jobs", ProposalAction::SetPaused(false));
    env.post_job(&submitter, env.job_args(1, 1, 1_000)).unwrap();

    let mask = env.config().params.allowed_kernels;
    w.pass(
        "Retire kernel 2",
        ProposalAction::SetKernel {
            kernel_id: 2,
            allowed: false,
        },
    );
    assert_eq!(env.config().params.allowed_kernels, mask & !(1 << 2));
    assert_tessera_error(
        env.post_job(&submitter, env.job_args(2, 1, 1_000)),
        TesseraError::KernelNotAllowed,
    );

    // A grant of 5 tokens out of a treasury holding 8.
    env.mint_to(&pda::treasury().0, 8_000_000);
    let grantee = env.actor_with(0);
    let action = ProposalAction::TreasuryGrant {
        recipient: grantee.token,
        amount: 5_000_000,
    };
    let id = env.propose(&w.holders[0], "Grant", action).unwrap();
    w.vote_holder(0, id, VoteChoice::Yes);
    w.finalize_and_wait(id);
    let other = env.actor_with(0);
    assert_tessera_error(
        env.send_one(ix::execute_proposal(id, Some(other.token)), &env.authority),
        TesseraError::WrongGrantRecipient,
    );
    assert_tessera_error(
        env.send_one(ix::execute_proposal(id, None), &env.authority),
        TesseraError::WrongGrantRecipient,
    );
    env.execute(id).unwrap();
    assert_eq!(env.balance(&grantee.token), 5_000_000);
    assert_eq!(env.balance(&other.token), 0);
    assert_eq!(env.treasury_balance(), 3_000_000);

    // Governance's own parameters: the quorum rises for proposals created afterwards only.
    let open = env
        .propose(&w.holders[1], "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    w.pass(
        "Quorum 60%",
        ProposalAction::UpdateGovernance(GovParamChanges {
            quorum_bps: Some(6_000),
            ..GovParamChanges::default()
        }),
    );
    assert_eq!(env.governance().params.quorum_bps, 6_000);
    assert_eq!(env.proposal(open).quorum_bps, 2_000);
}

#[test]
fn a_passed_proposal_expires_if_nobody_executes_it() {
    let w = World::new(1, 1, true);
    let env = &w.env;
    let id = env
        .propose(&w.holders[0], "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    w.vote_holder(0, id, VoteChoice::Yes);
    assert_tessera_error(
        env.close_proposal(&w.holders[0], id),
        TesseraError::ProposalNotEnded,
    );
    w.finalize_and_wait(id);
    assert_tessera_error(
        env.close_proposal(&w.holders[0], id),
        TesseraError::ProposalNotEnded,
    );
    env.chain.advance_time(3_600);
    assert_tessera_error(env.execute(id), TesseraError::ProposalExpired);
    assert!(!env.config().paused);
    let before = env.balance(&w.holders[0].token);
    env.close_proposal(&w.holders[0], id).unwrap();
    assert_eq!(env.balance(&w.holders[0].token), before + DEPOSIT);
}

#[test]
fn only_the_proposer_cancels_and_only_before_votes() {
    let w = World::new(1, 2, true);
    let env = &w.env;
    let (proposer, other) = (&w.holders[0], &w.holders[1]);
    let id = env
        .propose(proposer, "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    assert_tessera_error(env.cancel_proposal(other, id), TesseraError::Unauthorized);
    // The refund must go to the proposer's own account.
    assert_tessera_error(
        env.send_one(
            ix::cancel_proposal(&proposer.key(), id, &other.token),
            &proposer.wallet,
        ),
        TesseraError::WrongTokenOwner,
    );
    let before = env.balance(&proposer.token);
    let rent = env.lamports(&pda::proposal(id).0);
    let lamports = env.lamports(&proposer.key());
    env.cancel_proposal(proposer, id).unwrap();
    assert_eq!(env.balance(&proposer.token), before + DEPOSIT);
    assert!(!env.exists(&pda::proposal(id).0));
    assert!(env.lamports(&proposer.key()) + 10_000 >= lamports + rent);
    assert_eq!(env.governance().proposal_deposits, 0);

    let id = env
        .propose(proposer, "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    w.vote_holder(1, id, VoteChoice::No);
    assert_tessera_error(
        env.cancel_proposal(proposer, id),
        TesseraError::ProposalHasVotes,
    );
}

#[test]
fn votes_and_deposits_refuse_substituted_accounts() {
    let w = World::new(2, 2, true);
    let env = &w.env;
    let (a, b) = (&w.operators[0], &w.operators[1]);
    let id = env
        .propose(&w.holders[0], "Pause", ProposalAction::SetPaused(true))
        .unwrap();
    let with_nodes = |voter: &Actor, nodes: Vec<AccountMeta>| {
        let mut vote = ix::cast_vote(&voter.key(), id, VoteChoice::Yes, false, &[]);
        vote.accounts.extend(nodes);
        env.send_one(vote, &voter.wallet)
    };
    let node_a = pda::node(&a.key(), 0).0;
    let node_b = pda::node(&b.key(), 0).0;
    let cases = [
        // Another operator's node.
        vec![AccountMeta::new(node_b, false)],
        // The same node twice.
        vec![
            AccountMeta::new(node_a, false),
            AccountMeta::new(node_a, false),
        ],
        // A read-only node (its vote lock could not be written).
        vec![AccountMeta::new_readonly(node_a, false)],
        // An account that is not a node.
        vec![AccountMeta::new(pda::config().0, false)],
        // Too many nodes.
        (0..7)
            .map(|i| AccountMeta::new(pda::node(&a.key(), i).0, false))
            .collect(),
    ];
    for nodes in cases {
        assert_tessera_error(with_nodes(a, nodes), TesseraError::WrongVoteNodes);
    }
    // Another holder's deposit.
    let (h0, h1) = (&w.holders[0], &w.holders[1]);
    let attack = substitute(
        ix::cast_vote(&h1.key(), id, VoteChoice::Yes, true, &[]),
        &pda::voter(&h1.key()).0,
        &pda::voter(&h0.key()).0,
    );
    assert_anchor_error(
        env.send_one(attack, &h1.wallet),
        AnchorError::ConstraintSeeds,
    );
    // Another holder's withdrawal, more than the deposit, another vault.
    let attack = substitute(
        ix::gov_withdraw(&h1.key(), &h1.token, 1),
        &pda::voter(&h1.key()).0,
        &pda::voter(&h0.key()).0,
    );
    assert_anchor_error(
        env.send_one(attack, &h1.wallet),
        AnchorError::ConstraintSeeds,
    );
    assert_tessera_error(
        env.gov_withdraw(h1, HOLDING + 1),
        TesseraError::InsufficientDeposit,
    );
    let attack = substitute(
        ix::gov_withdraw(&h1.key(), &h1.token, 1),
        &pda::gov_vault().0,
        &pda::stake_vault().0,
    );
    assert_tessera_error(env.send_one(attack, &h1.wallet), TesseraError::WrongVault);
    assert_tessera_error(env.gov_deposit(h1, 0), TesseraError::ZeroAmount);
    // None of it counted.
    let p = env.proposal(id);
    assert_eq!((p.yes, p.voters), (0, 0));
    assert_eq!(env.gov_vault_balance(), 2 * HOLDING + DEPOSIT);
    // The honest votes still go through.
    env.vote(a, id, VoteChoice::Yes, &[0]).unwrap();
    env.vote(h1, id, VoteChoice::No, &[]).unwrap();
}
