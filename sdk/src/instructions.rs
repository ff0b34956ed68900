//! One builder per program instruction. Nothing else in the workspace encodes an instruction.
//!
//! Builders take the wallets involved and derive every PDA themselves; token accounts that
//! belong to users are passed explicitly.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use tessera::instructions::{
    InitializeArgs, PostJobArgs, RegisterNodeArgs, RequestUnstakeArgs, StakeArgs, UpdateNodeArgs,
    UpdateParamsArgs, WithdrawStakeArgs,
};
use tessera::state::Params;
use tessera::{accounts, instruction};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: tessera::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Creates the network for `mint`, with `authority` paying and governing.
pub fn initialize(authority: &Pubkey, mint: &Pubkey, params: Params) -> Instruction {
    build(
        accounts::Initialize {
            authority: *authority,
            config: pda::config().0,
            mint: *mint,
            stake_vault: pda::stake_vault().0,
            escrow_vault: pda::escrow_vault().0,
            treasury: pda::treasury().0,
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        instruction::Initialize {
            args: InitializeArgs { params },
        },
    )
}

pub fn update_params(authority: &Pubkey, params: Params) -> Instruction {
    build(
        accounts::UpdateParams {
            authority: *authority,
            config: pda::config().0,
        },
        instruction::UpdateParams {
            args: UpdateParamsArgs { params },
        },
    )
}

pub fn register_node(operator: &Pubkey, args: RegisterNodeArgs) -> Instruction {
    build(
        accounts::RegisterNode {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, args.index).0,
            system_program: system_program::ID,
        },
        instruction::RegisterNode { args },
    )
}

pub fn update_node(operator: &Pubkey, index: u16, args: UpdateNodeArgs) -> Instruction {
    build(
        accounts::UpdateNode {
            operator: *operator,
            node: pda::node(operator, index).0,
        },
        instruction::UpdateNode { args },
    )
}

/// Stakes `amount` from `operator_token` on the operator's `index`-th node.
pub fn stake(operator: &Pubkey, index: u16, operator_token: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::Stake {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            operator_token: *operator_token,
            stake_vault: pda::stake_vault().0,
            token_program: spl_token::ID,
        },
        instruction::Stake {
            args: StakeArgs { amount },
        },
    )
}

pub fn request_unstake(operator: &Pubkey, index: u16, amount: u64) -> Instruction {
    build(
        accounts::RequestUnstake {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
        },
        instruction::RequestUnstake {
            args: RequestUnstakeArgs { amount },
        },
    )
}

/// Withdraws `amount` of cooled-down stake into `destination` (the operator's token account).
pub fn withdraw_stake(
    operator: &Pubkey,
    index: u16,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::WithdrawStake {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            destination: *destination,
            stake_vault: pda::stake_vault().0,
            token_program: spl_token::ID,
        },
        instruction::WithdrawStake {
            args: WithdrawStakeArgs { amount },
        },
    )
}

pub fn close_node(operator: &Pubkey, index: u16) -> Instruction {
    build(
        accounts::CloseNode {
            operator: *operator,
            node: pda::node(operator, index).0,
        },
        instruction::CloseNode {},
    )
}

/// Posts a job funded from `submitter_token`; the job's address comes from `args.nonce`.
pub fn post_job(submitter: &Pubkey, submitter_token: &Pubkey, args: PostJobArgs) -> Instruction {
    build(
        accounts::PostJob {
            submitter: *submitter,
            config: pda::config().0,
            job: pda::job(submitter, args.nonce).0,
            submitter_token: *submitter_token,
            escrow_vault: pda::escrow_vault().0,
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        instruction::PostJob { args },
    )
}

/// Cancels an unclaimed job and refunds its escrow into `refund_to`.
pub fn cancel_job(submitter: &Pubkey, nonce: u64, refund_to: &Pubkey) -> Instruction {
    build(
        accounts::CancelJob {
            submitter: *submitter,
            config: pda::config().0,
            job: pda::job(submitter, nonce).0,
            refund_to: *refund_to,
            escrow_vault: pda::escrow_vault().0,
            token_program: spl_token::ID,
        },
        instruction::CancelJob {},
    )
}
