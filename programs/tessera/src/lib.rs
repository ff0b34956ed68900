//! Tessera: a verifiable GPU compute network. This crate is the on-chain program: network
//! config, operator nodes and their stake, and job escrow in one SPL token.
//!
//! `lib.rs` only dispatches; each instruction lives in its own file under `instructions/`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
// Upstream rustc's BPF target has no compiler-builtins of its own: memcpy, memset and the
// other libcalls come from this crate (see scripts/build-sbf.sh).
#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod state;
mod token_transfer;

use instructions::*;

declare_id!("ERQ9LsLkw1E8jBFAGDJdryt4azHi9XnSUfenpcpNmium");

#[program]
pub mod tessera {
    use super::*;

    // ---- Admin (governance takes these over later) ----

    /// Creates the network config and its three vaults for one token mint.
    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        instructions::initialize::handler(ctx, args)
    }

    /// Replaces the protocol parameters; authority only.
    pub fn update_params(ctx: Context<UpdateParams>, args: UpdateParamsArgs) -> Result<()> {
        instructions::update_params::handler(ctx, args)
    }

    // ---- Operator ----

    pub fn register_node(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
        instructions::register_node::handler(ctx, args)
    }

    pub fn update_node(ctx: Context<UpdateNode>, args: UpdateNodeArgs) -> Result<()> {
        instructions::update_node::handler(ctx, args)
    }

    pub fn stake(ctx: Context<Stake>, args: StakeArgs) -> Result<()> {
        instructions::stake::handler(ctx, args)
    }

    pub fn request_unstake(ctx: Context<RequestUnstake>, args: RequestUnstakeArgs) -> Result<()> {
        instructions::request_unstake::handler(ctx, args)
    }

    pub fn withdraw_stake(ctx: Context<WithdrawStake>, args: WithdrawStakeArgs) -> Result<()> {
        instructions::withdraw_stake::handler(ctx, args)
    }

    pub fn close_node(ctx: Context<CloseNode>) -> Result<()> {
        instructions::close_node::handler(ctx)
    }

    // ---- Submitter ----

    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job::handler(ctx, args)
    }

    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job::handler(ctx)
    }
}
