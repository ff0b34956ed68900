use anchor_lang::prelude::*;

use crate::constants::*;
use crate::events::NodeRegistered;
use crate::state::{
    validate_endpoint, validate_region, Config, HardwareProfile, LockedPower, Node, Reputation,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterNodeArgs {
    /// Index among the operator's nodes; part of the node's address.
    pub index: u16,
    pub hardware: HardwareProfile,
    pub region: u8,
    pub min_price_per_unit: u64,
    pub endpoint: String,
}

#[derive(Accounts)]
#[instruction(args: RegisterNodeArgs)]
pub struct RegisterNode<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        init,
        payer = operator,
        space = 8 + Node::INIT_SPACE,
        seeds = [NODE_SEED, operator.key().as_ref(), &args.index.to_le_bytes()],
        bump,
    )]
    pub node: Box<Account<'info, Node>>,

    pub system_program: Program<'info, System>,
}

pub(crate) fn handler(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
    args.hardware.validate()?;
    validate_region(args.region)?;
    validate_endpoint(&args.endpoint)?;

    let node = &mut ctx.accounts.node;
    node.version = ACCOUNT_VERSION;
    node.bump = ctx.bumps.node;
    node.operator = ctx.accounts.operator.key();
    node.index = args.index;
    node.hardware = args.hardware;
    node.region = args.region;
    node.min_price_per_unit = args.min_price_per_unit;
    node.endpoint = args.endpoint;
    node.accepting_jobs = true;
    node.stake = 0;
    node.unstaking = 0;
    node.unstake_available_at = 0;
    node.open_assignments = 0;
    node.earnings = 0;
    node.reputation = Reputation::default();
    let clock = Clock::get()?;
    node.registered_at = clock.unix_timestamp;
    node.registered_slot = clock.slot;
    node.warming_stake = 0;
    node.warming_since_slot = 0;
    node.older_warming_stake = 0;
    node.older_warming_since_slot = 0;
    node.gov_power = LockedPower::default();
    node.vote_lock_until = 0;
    node.reserved = [0; 8];
    node.invariant()?;

    emit!(NodeRegistered {
        node: node.key(),
        operator: node.operator,
        index: node.index,
        hardware: node.hardware.clone(),
        region: node.region,
        min_price_per_unit: node.min_price_per_unit,
        endpoint: node.endpoint.clone(),
    });
    Ok(())
}
