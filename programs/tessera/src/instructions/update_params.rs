use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ParamsUpdated;
use crate::state::{Config, Params};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateParamsArgs {
    pub params: Params,
}

#[derive(Accounts)]
pub struct UpdateParams<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ TesseraError::Unauthorized,
    )]
    pub config: Box<Account<'info, Config>>,
}

pub(crate) fn handler(ctx: Context<UpdateParams>, args: UpdateParamsArgs) -> Result<()> {
    args.params.validate()?;
    let config = &mut ctx.accounts.config;
    let old = config.params;
    config.params = args.params;
    config.invariant()?;
    emit!(ParamsUpdated {
        authority: config.authority,
        old,
        new: config.params,
    });
    Ok(())
}
