//! One builder per program instruction. Nothing else in the workspace encodes an instruction.
//!
//! Builders take the wallets involved and derive every PDA themselves; token accounts that
//! belong to users are passed explicitly.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use tessera::instructions::{
    CastVoteArgs, ChallengeArgs, CommitArgs, CreateProposalArgs, GameStepArgs, GovDepositArgs,
    GovWithdrawArgs, InitGovernanceArgs, InitializeArgs, LoadInputPieceArgs, OpenGameArgs,
    PostJobArgs, RefereeCheckStepArgs, RegisterNodeArgs, RequestUnstakeArgs, RevealArgs, StakeArgs,
    UpdateNodeArgs, UpdateParamsArgs, WithdrawEarningsArgs, WithdrawStakeArgs,
};
use tessera::referee::Step;
use tessera::state::sortition::SLOT_HASHES_ID;
use tessera::state::{GovParams, Job, Move, Params, ProposalAction, VoteChoice};
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
            program: tessera::ID,
            program_data: pda::program_data(),
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
        accounts::OperatorWithdrawal {
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
            slot_hashes: SLOT_HASHES_ID,
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

/// Pays `amount` of the node's earnings into `destination` (the operator's token account).
pub fn withdraw_earnings(
    operator: &Pubkey,
    index: u16,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::OperatorWithdrawal {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            destination: *destination,
            stake_vault: pda::stake_vault().0,
            token_program: spl_token::ID,
        },
        instruction::WithdrawEarnings {
            args: WithdrawEarningsArgs { amount },
        },
    )
}

/// Claims a replica slot of `job` for the operator's `index`-th node.
pub fn claim(operator: &Pubkey, index: u16, job: &Pubkey) -> Instruction {
    build(
        accounts::Claim {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            job: *job,
        },
        instruction::Claim {},
    )
}

/// Commits `commitment` (see [`crate::verification::commitment`]) for the node's slot.
pub fn commit(operator: &Pubkey, index: u16, job: &Pubkey, commitment: [u8; 32]) -> Instruction {
    build(
        accounts::SlotHolder {
            operator: *operator,
            node: pda::node(operator, index).0,
            job: *job,
        },
        instruction::Commit {
            args: CommitArgs { commitment },
        },
    )
}

/// Reveals the root and salt behind the node's commitment.
pub fn reveal(
    operator: &Pubkey,
    index: u16,
    job: &Pubkey,
    result_root: [u8; 32],
    salt: [u8; 32],
) -> Instruction {
    build(
        accounts::SlotHolder {
            operator: *operator,
            node: pda::node(operator, index).0,
            job: *job,
        },
        instruction::Reveal {
            args: RevealArgs { result_root, salt },
        },
    )
}

/// Draws a spot-check job's audit once its worker has committed and the audit slot is final
/// (permissionless).
/// Asks the program what a dispute's referee computes for `step` (read-only): the next
/// state's bytes come back as the transaction's return data.
pub fn referee_step(step: Step) -> Instruction {
    build(accounts::RefereeStep {}, instruction::RefereeStep { step })
}

/// Asks the program to open a `matmul` step's operands against `job`'s input root and execute
/// the step (read-only; the next state comes back as return data).
pub fn referee_check_step(job: &Pubkey, args: RefereeCheckStepArgs) -> Instruction {
    build(
        accounts::RefereeCheckStep { job: *job },
        instruction::RefereeCheckStep { args },
    )
}

/// The operator of node `index` opens its game against the other slot of `slots` (lower
/// index first) of disputed `job`, paying the game's rent and its bond.
pub fn open_game(operator: &Pubkey, index: u16, job: &Pubkey, slots: [u8; 2]) -> Instruction {
    build(
        accounts::OpenGame {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            job: *job,
            game: pda::game(job, slots).0,
            system_program: system_program::ID,
        },
        instruction::OpenGame {
            args: OpenGameArgs { slots },
        },
    )
}

/// The operator of node `index` challenges refereed `job`'s accepted root, within its
/// challenge window, with `result_root`, the root the node computed.
pub fn challenge(
    operator: &Pubkey,
    index: u16,
    job: &Pubkey,
    result_root: [u8; 32],
) -> Instruction {
    build(
        accounts::Challenge {
            operator: *operator,
            config: pda::config().0,
            node: pda::node(operator, index).0,
            job: *job,
        },
        instruction::Challenge {
            args: ChallengeArgs { result_root },
        },
    )
}

/// The operator of node `index` posts its move in `game`.
pub fn game_move(operator: &Pubkey, index: u16, game: &Pubkey, mv: Move) -> Instruction {
    build(
        accounts::GameMove {
            operator: *operator,
            node: pda::node(operator, index).0,
            game: *game,
            system_program: system_program::ID,
        },
        instruction::GameMove { mv },
    )
}

/// Posts the last move of `game` over `job` (anyone may): the agreed state and the step's
/// operands opened against the job's input root.
pub fn game_step(
    caller: &Pubkey,
    job: &Pubkey,
    game: &Pubkey,
    args: GameStepArgs,
    with_input: bool,
) -> Instruction {
    build(
        accounts::GameStep {
            caller: *caller,
            job: *job,
            game: *game,
            input: with_input.then(|| pda::input_buffer(job).0),
        },
        instruction::GameStep { args },
    )
}

/// Opens `job`'s input buffer, `payer` paying its rent (returned by `close_input_buffer`).
pub fn open_input_buffer(payer: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::OpenInputBuffer {
            payer: *payer,
            job: *job,
            buffer: pda::input_buffer(job).0,
            system_program: system_program::ID,
        },
        instruction::OpenInputBuffer {},
    )
}

/// Loads piece `index` of `job`'s input (its bytes and the siblings proving it) into the
/// job's input buffer.
pub fn load_input_piece(
    caller: &Pubkey,
    job: &Pubkey,
    index: u32,
    bytes: Vec<u8>,
    siblings: Vec<[u8; 32]>,
) -> Instruction {
    build(
        accounts::LoadInputPiece {
            caller: *caller,
            job: *job,
            buffer: pda::input_buffer(job).0,
        },
        instruction::LoadInputPiece {
            args: LoadInputPieceArgs {
                index,
                bytes,
                siblings,
            },
        },
    )
}

/// Closes `job`'s input buffer once the job is over; the rent goes to `payer`, who paid it.
pub fn close_input_buffer(job: &Pubkey, payer: &Pubkey) -> Instruction {
    build(
        accounts::CloseInputBuffer {
            buffer: pda::input_buffer(job).0,
            payer: *payer,
            job: *job,
        },
        instruction::CloseInputBuffer {},
    )
}

/// Ends `game` over `job` whose side ran out of clock (permissionless).
pub fn game_timeout(job: &Pubkey, game: &Pubkey) -> Instruction {
    build(
        accounts::GameTimeout {
            job: *job,
            game: *game,
        },
        instruction::GameTimeout {},
    )
}

/// Closes an ended `game`; its lamports go to `payee` (the winner's operator, or the
/// submitter if both lost: `Game::payee`).
pub fn close_game(game: &Pubkey, payee: &Pubkey) -> Instruction {
    build(
        accounts::CloseGame {
            game: *game,
            payee: *payee,
        },
        instruction::CloseGame {},
    )
}

pub fn draw_audit(job: &Pubkey) -> Instruction {
    build(
        accounts::DrawAudit {
            config: pda::config().0,
            job: *job,
            slot_hashes: SLOT_HASHES_ID,
        },
        instruction::DrawAudit {},
    )
}

fn settle_accounts(job: &Pubkey) -> accounts::Settle {
    accounts::Settle {
        config: pda::config().0,
        job: *job,
        escrow_vault: pda::escrow_vault().0,
        stake_vault: pda::stake_vault().0,
        treasury: pda::treasury().0,
        slot_hashes: SLOT_HASHES_ID,
        token_program: spl_token::ID,
    }
}

fn with_slot_nodes(mut ix: Instruction, slot_nodes: &[Pubkey]) -> Instruction {
    ix.accounts
        .extend(slot_nodes.iter().map(|n| AccountMeta::new(*n, false)));
    ix
}

/// The node of every slot of `job`, in slot order: the remaining accounts of a settlement.
pub fn slot_nodes(job: &Job) -> Vec<Pubkey> {
    job.slots.iter().map(|s| s.node).collect()
}

/// Settles `job` (permissionless); `slot_nodes` is [`slot_nodes`] of the job's account.
pub fn settle(job: &Pubkey, slot_nodes: &[Pubkey]) -> Instruction {
    with_slot_nodes(
        build(settle_accounts(job), instruction::Settle {}),
        slot_nodes,
    )
}

/// Expires a stalled `job` (permissionless), paying the bounty into `bounty_to`.
pub fn expire_job(job: &Pubkey, slot_nodes: &[Pubkey], bounty_to: &Pubkey) -> Instruction {
    with_slot_nodes(
        build(
            accounts::ExpireJob {
                settle: settle_accounts(job),
                bounty_to: *bounty_to,
            },
            instruction::ExpireJob {},
        ),
        slot_nodes,
    )
}

/// Closes a settled job: its refund goes to `refund_to`, its rent to the submitter.
pub fn close_job(submitter: &Pubkey, nonce: u64, refund_to: &Pubkey) -> Instruction {
    build(
        accounts::CloseJob {
            submitter: *submitter,
            config: pda::config().0,
            job: pda::job(submitter, nonce).0,
            refund_to: *refund_to,
            escrow_vault: pda::escrow_vault().0,
            token_program: spl_token::ID,
        },
        instruction::CloseJob {},
    )
}

// ---- Governance ----

/// Creates the governance PDA and its vault with `params`; the config's authority signs.
pub fn init_governance(authority: &Pubkey, mint: &Pubkey, params: GovParams) -> Instruction {
    build(
        accounts::InitGovernance {
            authority: *authority,
            config: pda::config().0,
            governance: pda::governance().0,
            mint: *mint,
            gov_vault: pda::gov_vault().0,
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        instruction::InitGovernance {
            args: InitGovernanceArgs { params },
        },
    )
}

/// Hands the config to the governance PDA, for good.
pub fn hand_over_authority(authority: &Pubkey) -> Instruction {
    build(
        accounts::HandOverAuthority {
            authority: *authority,
            config: pda::config().0,
            governance: pda::governance().0,
        },
        instruction::HandOverAuthority {},
    )
}

/// Locks `amount` from `owner_token` as `owner`'s governance deposit.
pub fn gov_deposit(owner: &Pubkey, owner_token: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::GovDeposit {
            owner: *owner,
            config: pda::config().0,
            governance: pda::governance().0,
            voter: pda::voter(owner).0,
            owner_token: *owner_token,
            gov_vault: pda::gov_vault().0,
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        instruction::GovDeposit {
            args: GovDepositArgs { amount },
        },
    )
}

/// Withdraws `amount` of `owner`'s deposit into `destination` (the owner's token account).
pub fn gov_withdraw(owner: &Pubkey, destination: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::GovWithdraw {
            owner: *owner,
            config: pda::config().0,
            governance: pda::governance().0,
            voter: pda::voter(owner).0,
            destination: *destination,
            gov_vault: pda::gov_vault().0,
            token_program: spl_token::ID,
        },
        instruction::GovWithdraw {
            args: GovWithdrawArgs { amount },
        },
    )
}

/// Creates proposal number `id` (the config's `proposal_count`), its deposit paid from
/// `proposer_token`.
pub fn create_proposal(
    proposer: &Pubkey,
    proposer_token: &Pubkey,
    id: u64,
    title: &str,
    action: ProposalAction,
) -> Instruction {
    build(
        accounts::CreateProposal {
            proposer: *proposer,
            config: pda::config().0,
            governance: pda::governance().0,
            proposal: pda::proposal(id).0,
            proposer_token: *proposer_token,
            gov_vault: pda::gov_vault().0,
            stake_vault: pda::stake_vault().0,
            token_program: spl_token::ID,
            system_program: system_program::ID,
        },
        instruction::CreateProposal {
            args: CreateProposalArgs {
                title: title.to_string(),
                action,
            },
        },
    )
}

/// `voter` votes on proposal `id` with its deposit (if `with_deposit`) and the stake of its
/// nodes `node_indices`.
pub fn cast_vote(
    voter: &Pubkey,
    id: u64,
    choice: VoteChoice,
    with_deposit: bool,
    node_indices: &[u16],
) -> Instruction {
    let proposal = pda::proposal(id).0;
    let mut ix = build(
        accounts::CastVote {
            voter: *voter,
            proposal,
            vote_record: pda::vote_record(&proposal, voter).0,
            deposit: with_deposit.then(|| pda::voter(voter).0),
            system_program: system_program::ID,
        },
        instruction::CastVote {
            args: CastVoteArgs { choice },
        },
    );
    ix.accounts.extend(
        node_indices
            .iter()
            .map(|i| AccountMeta::new(pda::node(voter, *i).0, false)),
    );
    ix
}

/// Counts proposal `id`'s votes after its voting period (permissionless).
pub fn finalize_proposal(id: u64) -> Instruction {
    build(
        accounts::FinalizeProposal {
            config: pda::config().0,
            governance: pda::governance().0,
            proposal: pda::proposal(id).0,
            gov_vault: pda::gov_vault().0,
            treasury: pda::treasury().0,
            token_program: spl_token::ID,
        },
        instruction::FinalizeProposal {},
    )
}

/// Executes passed proposal `id` (permissionless); `grant_recipient` is the token account
/// of a treasury grant, `None` for every other action.
pub fn execute_proposal(id: u64, grant_recipient: Option<Pubkey>) -> Instruction {
    build(
        accounts::ExecuteProposal {
            config: pda::config().0,
            governance: pda::governance().0,
            proposal: pda::proposal(id).0,
            treasury: pda::treasury().0,
            grant_recipient,
            token_program: spl_token::ID,
        },
        instruction::ExecuteProposal {},
    )
}

/// The grant recipient a proposal's action needs at execution.
pub fn grant_recipient(action: &ProposalAction) -> Option<Pubkey> {
    match action {
        ProposalAction::TreasuryGrant { recipient, .. } => Some(*recipient),
        _ => None,
    }
}

fn proposer_close(proposer: &Pubkey, id: u64, refund_to: &Pubkey) -> accounts::ProposerClose {
    accounts::ProposerClose {
        proposer: *proposer,
        config: pda::config().0,
        governance: pda::governance().0,
        proposal: pda::proposal(id).0,
        refund_to: *refund_to,
        gov_vault: pda::gov_vault().0,
        token_program: spl_token::ID,
    }
}

/// Withdraws proposal `id` before any vote; the deposit goes to `refund_to`.
pub fn cancel_proposal(proposer: &Pubkey, id: u64, refund_to: &Pubkey) -> Instruction {
    build(
        proposer_close(proposer, id, refund_to),
        instruction::CancelProposal {},
    )
}

/// Closes ended proposal `id`; the deposit still held goes to `refund_to`.
pub fn close_proposal(proposer: &Pubkey, id: u64, refund_to: &Pubkey) -> Instruction {
    build(
        proposer_close(proposer, id, refund_to),
        instruction::CloseProposal {},
    )
}
