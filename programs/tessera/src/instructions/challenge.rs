use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ResultChallenged;
use crate::state::{Config, Job, Node, Slot, SlotState};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ChallengeArgs {
    /// The root the challenger computed, which differs from the accepted one.
    pub result_root: [u8; 32],
}

#[derive(Accounts)]
pub struct Challenge<'info> {
    pub operator: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
}

/// A staked node disputes a refereed job's accepted result within its challenge window: it
/// takes a slot holding the root it computed and plays one game against every backer of the
/// accepted root (docs/disputes.md). It risks what a replica risks: losing a game slashes its
/// stake and forfeits its bond; winning takes a share of the slashed stake.
pub(crate) fn handler(ctx: Context<Challenge>, args: ChallengeArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let params = ctx.accounts.config.params;
    let node_key = ctx.accounts.node.key();
    let operator = ctx.accounts.node.operator;
    require!(
        ctx.accounts.node.stake >= params.min_stake,
        TesseraError::StakeBelowMinimum
    );
    let job = &mut ctx.accounts.job;
    require!(
        job.refereed && job.dispute.challenge_open(now),
        TesseraError::ChallengeWindowClosed
    );
    require!(
        args.result_root != job.dispute.proposed_root && args.result_root != INPUT_UNAVAILABLE_ROOT,
        TesseraError::ChallengeSameRoot
    );
    require!(
        job.slots.iter().all(|s| s.node != node_key),
        TesseraError::NodeAlreadyAssigned
    );
    require!(
        job.slots.iter().all(|s| s.operator != operator),
        TesseraError::OperatorAlreadyAssigned
    );
    require!(job.slots.len() < MAX_SLOTS, TesseraError::NoRoomToChallenge);

    let index = job.slots.len();
    job.slots.push(Slot {
        node: node_key,
        operator,
        claimed_at: now,
        commitment: [0; 32],
        root: args.result_root,
        state: SlotState::Revealed,
    });
    job.dispute.challengers = job
        .dispute
        .challengers
        .checked_add(1)
        .ok_or(TesseraError::MathOverflow)?;
    // The challenger's games may be opened for a full open window from now.
    if !job.dispute.is_started() {
        job.dispute.started_at = now;
    }
    let open_until = now
        .checked_add(i64::from(params.game_open_window_secs))
        .ok_or(TesseraError::MathOverflow)?;
    job.dispute.open_until = job.dispute.open_until.max(open_until);
    job.invariant()?;

    let node = &mut ctx.accounts.node;
    node.open_assignments = node
        .open_assignments
        .checked_add(1)
        .ok_or(TesseraError::MathOverflow)?;
    node.invariant()?;

    let job = &ctx.accounts.job;
    emit!(ResultChallenged {
        job: job.key(),
        node: node_key,
        operator,
        slot: index as u8,
        root: args.result_root,
        accepted_root: job.dispute.proposed_root,
        open_until: job.dispute.open_until,
    });
    Ok(())
}
