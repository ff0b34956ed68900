use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::events::NetworkInitialized;
use crate::state::{Config, Params};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    pub params: Params,
}

#[derive(Accounts)]
pub struct Initialize<'info> {
    /// Pays for the accounts and becomes the config's authority.
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = 8 + Config::INIT_SPACE,
        seeds = [CONFIG_SEED],
        bump,
    )]
    pub config: Box<Account<'info, Config>>,

    /// The token used for stake, escrow and fees.
    pub mint: Box<Account<'info, Mint>>,

    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = authority,
        seeds = [ESCROW_VAULT_SEED],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub escrow_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = authority,
        seeds = [TREASURY_SEED],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub treasury: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub(crate) fn handler(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    args.params.validate()?;
    let accounts = &mut *ctx.accounts;
    let config = &mut accounts.config;
    config.version = ACCOUNT_VERSION;
    config.bump = ctx.bumps.config;
    config.authority = accounts.authority.key();
    config.mint = accounts.mint.key();
    config.stake_vault = accounts.stake_vault.key();
    config.escrow_vault = accounts.escrow_vault.key();
    config.treasury = accounts.treasury.key();
    config.vault_bumps = [
        ctx.bumps.stake_vault,
        ctx.bumps.escrow_vault,
        ctx.bumps.treasury,
    ];
    config.params = args.params;
    config.paused = false;
    config.proposal_count = 0;
    config.reserved = [0; 100];
    config.invariant()?;

    emit!(NetworkInitialized {
        config: config.key(),
        authority: config.authority,
        mint: config.mint,
        stake_vault: config.stake_vault,
        escrow_vault: config.escrow_vault,
        treasury: config.treasury,
        params: config.params,
    });
    Ok(())
}
