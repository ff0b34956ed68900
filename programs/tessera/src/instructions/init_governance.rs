use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GovernanceInitialized;
use crate::state::{Config, GovParams, Governance};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitGovernanceArgs {
    pub params: GovParams,
}

#[derive(Accounts)]
pub struct InitGovernance<'info> {
    /// The config's authority; pays for the accounts.
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = authority @ TesseraError::Unauthorized,
        has_one = mint @ TesseraError::WrongMint,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(
        init,
        payer = authority,
        space = 8 + Governance::INIT_SPACE,
        seeds = [GOVERNANCE_SEED],
        bump,
    )]
    pub governance: Box<Account<'info, Governance>>,

    pub mint: Box<Account<'info, Mint>>,

    /// Holds governance deposits and proposal deposits; the config is its token authority.
    #[account(
        init,
        payer = authority,
        seeds = [GOV_VAULT_SEED],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

/// Creates the governance PDA and its vault. Holders can lock deposits from now on; the
/// authority hands the network over with `hand_over_authority`.
pub(crate) fn handler(ctx: Context<InitGovernance>, args: InitGovernanceArgs) -> Result<()> {
    args.params.validate()?;
    let accounts = &mut *ctx.accounts;
    let governance = &mut accounts.governance;
    governance.version = ACCOUNT_VERSION;
    governance.bump = ctx.bumps.governance;
    governance.vault = accounts.gov_vault.key();
    governance.vault_bump = ctx.bumps.gov_vault;
    governance.params = args.params;
    governance.voter_deposits = 0;
    governance.proposal_deposits = 0;
    governance.votes_open_until = 0;
    governance.reserved = [0; 56];
    emit!(GovernanceInitialized {
        governance: governance.key(),
        vault: governance.vault,
        params: governance.params,
    });
    Ok(())
}
