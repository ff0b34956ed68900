use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::NodeUpdated;
use crate::state::{validate_endpoint, validate_region, HardwareProfile, Node};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateNodeArgs {
    pub hardware: HardwareProfile,
    pub region: u8,
    pub min_price_per_unit: u64,
    pub endpoint: String,
    pub accepting_jobs: bool,
}

#[derive(Accounts)]
pub struct UpdateNode<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,
}

pub(crate) fn handler(ctx: Context<UpdateNode>, args: UpdateNodeArgs) -> Result<()> {
    args.hardware.validate()?;
    validate_region(args.region)?;
    validate_endpoint(&args.endpoint)?;

    let node = &mut ctx.accounts.node;
    let event = NodeUpdated {
        node: node.key(),
        old_hardware: std::mem::replace(&mut node.hardware, args.hardware),
        new_hardware: node.hardware.clone(),
        old_region: std::mem::replace(&mut node.region, args.region),
        new_region: args.region,
        old_min_price_per_unit: std::mem::replace(
            &mut node.min_price_per_unit,
            args.min_price_per_unit,
        ),
        new_min_price_per_unit: args.min_price_per_unit,
        old_endpoint: std::mem::replace(&mut node.endpoint, args.endpoint),
        new_endpoint: node.endpoint.clone(),
        old_accepting_jobs: std::mem::replace(&mut node.accepting_jobs, args.accepting_jobs),
        new_accepting_jobs: args.accepting_jobs,
    };
    node.invariant()?;
    emit!(event);
    Ok(())
}
