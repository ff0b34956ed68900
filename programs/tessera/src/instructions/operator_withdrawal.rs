use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{Config, Node};

/// Accounts of `withdraw_stake` and `withdraw_earnings`: an operator taking tokens of its
/// node out of the stake vault into its own token account.
#[derive(Accounts)]
pub struct OperatorWithdrawal<'info> {
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

    /// Receives the tokens; must belong to the operator.
    #[account(
        mut,
        constraint = destination.mint == config.mint @ TesseraError::WrongMint,
        constraint = destination.owner == operator.key() @ TesseraError::WrongTokenOwner,
    )]
    pub destination: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}
