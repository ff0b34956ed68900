//! The two token movements of the program: a user paying into a vault, and a vault paying out
//! under the config PDA's signature.
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::state::Config;

/// Moves `amount` from a user's token account into a vault; the user signs.
pub fn pay_in<'info>(
    token_program: &Program<'info, Token>,
    from: &Account<'info, TokenAccount>,
    vault: &Account<'info, TokenAccount>,
    owner: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    let accounts = Transfer {
        from: from.to_account_info(),
        to: vault.to_account_info(),
        authority: owner.to_account_info(),
    };
    token::transfer(CpiContext::new(token_program.key(), accounts), amount)
}

/// Moves `amount` out of a vault; the config PDA, the vaults' token authority, signs.
/// The token program checks both accounts; callers check the vault's address.
pub fn pay_out<'info>(
    token_program: &Program<'info, Token>,
    vault: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    config: &Account<'info, Config>,
    amount: u64,
) -> Result<()> {
    let accounts = Transfer {
        from: vault.clone(),
        to: to.clone(),
        authority: config.to_account_info(),
    };
    let seeds = config.signer_seeds();
    let signer: &[&[&[u8]]] = &[&seeds];
    token::transfer(
        CpiContext::new_with_signer(token_program.key(), accounts, signer),
        amount,
    )
}
