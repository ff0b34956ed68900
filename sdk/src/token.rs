//! SPL Token set-up instructions the CLI, demo and tests need (create a mint, a token account,
//! mint to it). They wrap the token program's own builders.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token::spl_token;

use crate::chain::ChainError;

/// Bytes of an SPL Token mint account.
pub const MINT_LEN: usize = spl_token::state::Mint::LEN;
/// Bytes of an SPL Token account.
pub const TOKEN_ACCOUNT_LEN: usize = spl_token::state::Account::LEN;

/// Creates `mint` (a fresh keypair's address) with `decimals` and `authority`.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    rent_lamports: u64,
) -> Result<Vec<Instruction>, ChainError> {
    Ok(vec![
        system_instruction::create_account(
            payer,
            mint,
            rent_lamports,
            MINT_LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_mint2(&spl_token::ID, mint, authority, None, decimals)
            .map_err(|e| ChainError::Build(e.to_string()))?,
    ])
}

/// Creates `account` (a fresh keypair's address) as a token account of `mint` owned by `owner`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
    rent_lamports: u64,
) -> Result<Vec<Instruction>, ChainError> {
    Ok(vec![
        system_instruction::create_account(
            payer,
            account,
            rent_lamports,
            TOKEN_ACCOUNT_LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_account3(&spl_token::ID, account, mint, owner)
            .map_err(|e| ChainError::Build(e.to_string()))?,
    ])
}

pub fn mint_to(
    mint: &Pubkey,
    to: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> Result<Instruction, ChainError> {
    spl_token::instruction::mint_to(&spl_token::ID, mint, to, authority, &[], amount)
        .map_err(|e| ChainError::Build(e.to_string()))
}

pub fn transfer(
    from: &Pubkey,
    to: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<Instruction, ChainError> {
    spl_token::instruction::transfer(&spl_token::ID, from, to, owner, &[], amount)
        .map_err(|e| ChainError::Build(e.to_string()))
}

/// Decodes an SPL Token account's data.
pub fn decode_token_account(data: &[u8]) -> Result<spl_token::state::Account, ChainError> {
    spl_token::state::Account::unpack(data)
        .map_err(|e| ChainError::Decode(format!("token account: {e}")))
}

/// Decodes an SPL Token mint's data.
pub fn decode_mint(data: &[u8]) -> Result<spl_token::state::Mint, ChainError> {
    spl_token::state::Mint::unpack(data).map_err(|e| ChainError::Decode(format!("mint: {e}")))
}

/// Lets `delegate` move up to `amount` from `account` (owned by `owner`).
pub fn approve(
    account: &Pubkey,
    delegate: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<Instruction, ChainError> {
    spl_token::instruction::approve(&spl_token::ID, account, delegate, owner, &[], amount)
        .map_err(|e| ChainError::Build(e.to_string()))
}

/// The associated token account program (`ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`),
/// deployed on every cluster and loaded by the in-process bank.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey =
    anchor_lang::prelude::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// `owner`'s associated token account of `mint`: the address wallets use by default.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), spl_token::ID.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

/// Creates `owner`'s associated token account of `mint` if it does not exist yet (the
/// program's `CreateIdempotent`, instruction 1); `payer` pays its rent.
pub fn create_associated_token_account(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
) -> Instruction {
    use anchor_lang::solana_program::instruction::AccountMeta;
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated_token_address(owner, mint), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(anchor_lang::solana_program::system_program::ID, false),
            AccountMeta::new_readonly(spl_token::ID, false),
        ],
        data: vec![1],
    }
}
