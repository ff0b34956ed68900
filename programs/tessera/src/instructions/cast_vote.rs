use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::VoteCast;
use crate::state::{Node, Proposal, ProposalStatus, VoteChoice, VoteRecord, Voter};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CastVoteArgs {
    pub choice: VoteChoice,
}

/// Remaining accounts: the voter's nodes whose stake counts (writable, distinct, at most
/// [`MAX_VOTE_NODES`]).
#[derive(Accounts)]
pub struct CastVote<'info> {
    /// The voting wallet: owner of the deposit and operator of the nodes. Pays the record.
    #[account(mut)]
    pub voter: Signer<'info>,

    #[account(
        mut,
        seeds = [PROPOSAL_SEED, &proposal.id.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// One vote per wallet per proposal: a second `init` fails.
    #[account(
        init,
        payer = voter,
        space = 8 + VoteRecord::INIT_SPACE,
        seeds = [VOTE_SEED, proposal.key().as_ref(), voter.key().as_ref()],
        bump,
    )]
    pub vote_record: Box<Account<'info, VoteRecord>>,

    /// The wallet's governance deposit, if it has one.
    #[account(
        mut,
        seeds = [VOTER_SEED, voter.key().as_ref()],
        bump = deposit.bump,
        constraint = deposit.owner == voter.key() @ TesseraError::Unauthorized,
    )]
    pub deposit: Option<Box<Account<'info, Voter>>>,

    pub system_program: Program<'info, System>,
}

/// Votes with everything the wallet had locked before the proposal was created: its deposit
/// and the stake of the nodes passed. Those tokens stay locked until voting ends.
pub(crate) fn handler<'info>(
    ctx: Context<'info, CastVote<'info>>,
    args: CastVoteArgs,
) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let proposal = &mut accounts.proposal;
    require!(
        proposal.status == ProposalStatus::Voting && now < proposal.voting_ends_at,
        TesseraError::VotingClosed
    );
    let (id, lock_until) = (proposal.id, proposal.voting_ends_at);
    let voter = accounts.voter.key();

    let mut deposit_power = 0u64;
    if let Some(deposit) = accounts.deposit.as_mut() {
        deposit_power = deposit.power.power_for(id);
        deposit.vote_lock_until = deposit.vote_lock_until.max(lock_until);
    }

    require!(
        ctx.remaining_accounts.len() <= MAX_VOTE_NODES,
        TesseraError::WrongVoteNodes
    );
    let mut stake_power = 0u64;
    for (i, info) in ctx.remaining_accounts.iter().enumerate() {
        require!(
            info.is_writable
                && ctx.remaining_accounts[..i]
                    .iter()
                    .all(|other| other.key != info.key),
            TesseraError::WrongVoteNodes
        );
        let mut node: Account<'info, Node> =
            Account::try_from(info).map_err(|_| error!(TesseraError::WrongVoteNodes))?;
        require_keys_eq!(node.operator, voter, TesseraError::WrongVoteNodes);
        stake_power = stake_power
            .checked_add(node.voting_power(id)?)
            .ok_or(TesseraError::MathOverflow)?;
        node.vote_lock_until = node.vote_lock_until.max(lock_until);
        node.exit(&crate::ID)?;
    }

    let power = deposit_power
        .checked_add(stake_power)
        .ok_or(TesseraError::MathOverflow)?;
    require!(power > 0, TesseraError::NoVotingPower);
    let tally = match args.choice {
        VoteChoice::Yes => &mut proposal.yes,
        VoteChoice::No => &mut proposal.no,
        VoteChoice::Abstain => &mut proposal.abstain,
    };
    *tally = tally.checked_add(power).ok_or(TesseraError::MathOverflow)?;
    proposal.voters = proposal
        .voters
        .checked_add(1)
        .ok_or(TesseraError::MathOverflow)?;

    let record = &mut accounts.vote_record;
    record.version = ACCOUNT_VERSION;
    record.bump = ctx.bumps.vote_record;
    record.proposal = proposal.key();
    record.voter = voter;
    record.choice = args.choice;
    record.deposit_power = deposit_power;
    record.stake_power = stake_power;
    record.cast_at = now;

    emit!(VoteCast {
        proposal: proposal.key(),
        voter,
        choice: args.choice,
        deposit_power,
        stake_power,
        yes: proposal.yes,
        no: proposal.no,
        abstain: proposal.abstain,
    });
    Ok(())
}
