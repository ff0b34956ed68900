use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::SlotClaimed;
use crate::state::sortition::{ticket, wins_priority};
use crate::state::{Config, HardwareKind, Job, Node, Slot, SlotState};

#[derive(Accounts)]
pub struct Claim<'info> {
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

impl Claim<'_> {
    /// The node offers what the job asks for.
    fn check_node(&self) -> Result<()> {
        let (node, job) = (&self.node, &self.job);
        require!(node.accepting_jobs, TesseraError::NodeNotAccepting);
        require!(
            node.stake >= self.config.params.min_stake,
            TesseraError::StakeBelowMinimum
        );
        let req = &job.requirements;
        require!(
            !req.gpu_required
                || (node.hardware.kind == HardwareKind::Gpu
                    && node.hardware.vram_mib >= req.min_vram_mib),
            TesseraError::HardwareMismatch
        );
        require!(
            req.region_mask & (1u32 << node.region) != 0,
            TesseraError::RegionMismatch
        );
        let asked = u128::from(node.min_price_per_unit) * u128::from(job.work_units);
        require!(
            u128::from(job.reward_per_replica) >= asked,
            TesseraError::PriceBelowNodeMinimum
        );
        Ok(())
    }
}

/// Takes a replica slot of the job's current round.
pub(crate) fn handler(ctx: Context<Claim>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.check_node()?;
    let accounts = &mut *ctx.accounts;
    let params = accounts.config.params;
    let node_key = accounts.node.key();
    let job = &mut accounts.job;

    require!(now < job.commit_deadline, TesseraError::ClaimWindowClosed);
    require!(
        job.round_slots().len() < usize::from(job.round_capacity()),
        TesseraError::RoundFull
    );
    require!(
        job.slots.iter().all(|s| s.node != node_key),
        TesseraError::NodeAlreadyAssigned
    );
    require!(
        job.slots
            .iter()
            .all(|s| s.operator != accounts.node.operator),
        TesseraError::OperatorAlreadyAssigned
    );
    // Only a node, and stake, that predate the round's seed may take its slots.
    require!(
        accounts.node.round_stake(job.round_slot) >= params.min_stake,
        TesseraError::StakeNotWarm
    );
    let priority_ends = job
        .round_started_at
        .checked_add(i64::from(params.priority_window_secs))
        .ok_or(TesseraError::MathOverflow)?;
    let by_priority = now < priority_ends;
    if by_priority {
        require!(
            wins_priority(
                ticket(&job.seed, &node_key),
                accounts.node.round_weight(job.round_slot),
                job.round_capacity(),
                params.sortition_weight,
            ),
            TesseraError::NotPrioritySelected
        );
    }

    let index = job.slots.len();
    job.slots.push(Slot {
        node: node_key,
        operator: accounts.node.operator,
        claimed_at: now,
        commitment: [0; 32],
        root: [0; 32],
        state: SlotState::Claimed,
    });
    job.invariant()?;
    let node = &mut accounts.node;
    node.open_assignments = node
        .open_assignments
        .checked_add(1)
        .ok_or(TesseraError::MathOverflow)?;
    node.invariant()?;

    emit!(SlotClaimed {
        job: job.key(),
        node: node_key,
        operator: node.operator,
        slot: index as u8,
        escalation: job.escalated,
        by_priority,
    });
    Ok(())
}
