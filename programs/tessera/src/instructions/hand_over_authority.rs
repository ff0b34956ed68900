use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::AuthorityHandedOver;
use crate::state::{Config, Governance};

#[derive(Accounts)]
pub struct HandOverAuthority<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ TesseraError::Unauthorized,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,
}

/// Makes the governance PDA the config's authority, for good: no key can sign as it, so from
/// now on `update_params` and every other change happen only through executed proposals.
pub(crate) fn handler(ctx: Context<HandOverAuthority>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old_authority = config.authority;
    config.authority = ctx.accounts.governance.key();
    emit!(AuthorityHandedOver {
        old_authority,
        new_authority: config.authority,
    });
    Ok(())
}
