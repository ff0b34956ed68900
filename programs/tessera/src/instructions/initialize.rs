use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
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

    /// This program's account: its loader and, for the upgradeable loader, where its
    /// ProgramData lives.
    /// CHECK: the address is this program's; the data is read by `check_upgrade_authority`.
    #[account(address = crate::ID @ TesseraError::NotUpgradeAuthority)]
    pub program: UncheckedAccount<'info>,

    /// The program's ProgramData account (upgradeable loader), whose upgrade authority must
    /// sign: nobody but the deployer can initialize the network (no front-running).
    /// CHECK: its address is the one the program account names; read by
    /// `check_upgrade_authority`.
    pub program_data: UncheckedAccount<'info>,
}

/// Address of the upgradeable BPF loader (loader v3).
pub const BPF_LOADER_UPGRADEABLE_ID: Pubkey =
    pubkey!("BPFLoaderUpgradeab1e11111111111111111111111");
/// Address of the native loader (builtins: how the test suite runs the program natively).
pub const NATIVE_LOADER_ID: Pubkey = pubkey!("NativeLoader1111111111111111111111111111111");

/// Requires `authority` to be the program's upgrade authority: the program account (owned by
/// the upgradeable loader, bincode `Program { programdata_address }`, tag 2) names
/// `program_data`, whose state (`ProgramData { slot, upgrade_authority_address }`, tag 3)
/// holds `Some(authority)`. A program without an upgrade authority (immutable, or another
/// loader) cannot be initialized. Off chain only, the program loaded as a native builtin (the
/// test suite's native mode) has no ProgramData and is let through.
pub fn check_upgrade_authority(
    program: &AccountInfo,
    program_data: &AccountInfo,
    authority: &Pubkey,
) -> Result<()> {
    if *program.owner == NATIVE_LOADER_ID && cfg!(not(target_os = "solana")) {
        return Ok(());
    }
    require_keys_eq!(
        *program.owner,
        BPF_LOADER_UPGRADEABLE_ID,
        TesseraError::NotUpgradeAuthority
    );
    let named = {
        let data = program.try_borrow_data()?;
        match (data.get(..4), data.get(4..36)) {
            (Some([2, 0, 0, 0]), Some(address)) => {
                Pubkey::try_from(address).map_err(|_| error!(TesseraError::NotUpgradeAuthority))?
            }
            _ => return err!(TesseraError::NotUpgradeAuthority),
        }
    };
    require_keys_eq!(*program_data.key, named, TesseraError::NotUpgradeAuthority);
    require_keys_eq!(
        *program_data.owner,
        BPF_LOADER_UPGRADEABLE_ID,
        TesseraError::NotUpgradeAuthority
    );
    let data = program_data.try_borrow_data()?;
    // Tag (4), deployment slot (8), Option tag (1), authority (32).
    let holder = match (data.get(..4), data.get(12), data.get(13..45)) {
        (Some([3, 0, 0, 0]), Some(1), Some(key)) => {
            Pubkey::try_from(key).map_err(|_| error!(TesseraError::NotUpgradeAuthority))?
        }
        _ => return err!(TesseraError::NotUpgradeAuthority),
    };
    require_keys_eq!(holder, *authority, TesseraError::NotUpgradeAuthority);
    Ok(())
}

pub(crate) fn handler(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    check_upgrade_authority(
        &ctx.accounts.program,
        &ctx.accounts.program_data,
        ctx.accounts.authority.key,
    )?;
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
    config.reserved = [0; 74];
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
