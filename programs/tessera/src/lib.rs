//! Tessera: a verifiable GPU compute network. This crate is the on-chain program: network
//! config, operator nodes and their stake, job escrow in one SPL token, and the verification
//! core (stake-weighted claims, commit–reveal, k-of-n settlement, escalation, slashing).
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
pub mod math;
pub mod referee;
pub mod settlement;
pub mod softfloat;
pub mod state;
#[cfg(any(test, feature = "test-fixtures"))]
pub mod test_fixtures;
mod token_transfer;

/// With the `heap-probe` feature the program gets a heap of `TESSERA_HEAP_PROBE_BYTES`
/// (set at build time) instead of 32 KiB; an instruction that needs more fails to allocate.
/// scripts/probe-sbf-limits.sh uses it to measure heap use. Never deploy such a build.
#[cfg(all(feature = "heap-probe", target_os = "solana"))]
#[global_allocator]
static HEAP_PROBE: anchor_lang::solana_program::entrypoint::BumpAllocator = {
    const fn parse(s: &str) -> usize {
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut n = 0;
        while i < bytes.len() {
            n = n * 10 + (bytes[i] - b'0') as usize;
            i += 1;
        }
        n
    }
    const BYTES: usize = match option_env!("TESSERA_HEAP_PROBE_BYTES") {
        Some(s) => parse(s),
        None => anchor_lang::solana_program::entrypoint::HEAP_LENGTH,
    };
    // SAFETY: the range lies inside the VM's heap region, which this program owns.
    unsafe {
        anchor_lang::solana_program::entrypoint::BumpAllocator::with_fixed_address_range(
            anchor_lang::solana_program::entrypoint::HEAP_START_ADDRESS as usize,
            BYTES,
        )
    }
};

use instructions::*;
use referee::Step;
use state::Move;

declare_id!("ERQ9LsLkw1E8jBFAGDJdryt4azHi9XnSUfenpcpNmium");

#[program]
pub mod tessera {
    use super::*;

    // ---- Admin (until the authority is handed to governance) ----

    /// Creates the network config and its three vaults for one token mint.
    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        instructions::initialize::handler(ctx, args)
    }

    /// Replaces the protocol parameters; authority only.
    pub fn update_params(ctx: Context<UpdateParams>, args: UpdateParamsArgs) -> Result<()> {
        instructions::update_params::handler(ctx, args)
    }

    /// Creates the governance PDA and its deposit vault; authority only.
    pub fn init_governance(ctx: Context<InitGovernance>, args: InitGovernanceArgs) -> Result<()> {
        instructions::init_governance::handler(ctx, args)
    }

    /// Makes the governance PDA the config's authority, irreversibly.
    pub fn hand_over_authority(ctx: Context<HandOverAuthority>) -> Result<()> {
        instructions::hand_over_authority::handler(ctx)
    }

    // ---- Governance ----

    /// Locks tokens as a governance deposit (voting power for later proposals).
    pub fn gov_deposit(ctx: Context<GovDeposit>, args: GovDepositArgs) -> Result<()> {
        instructions::gov_deposit::handler(ctx, args)
    }

    /// Withdraws a governance deposit once no vote it backs is open.
    pub fn gov_withdraw(ctx: Context<GovWithdraw>, args: GovWithdrawArgs) -> Result<()> {
        instructions::gov_withdraw::handler(ctx, args)
    }

    pub fn create_proposal(ctx: Context<CreateProposal>, args: CreateProposalArgs) -> Result<()> {
        instructions::create_proposal::handler(ctx, args)
    }

    /// Votes yes, no or abstain with the deposit and the stake of the nodes passed.
    pub fn cast_vote<'info>(
        ctx: Context<'info, CastVote<'info>>,
        args: CastVoteArgs,
    ) -> Result<()> {
        instructions::cast_vote::handler(ctx, args)
    }

    /// Counts a proposal's votes after its voting period (permissionless).
    pub fn finalize_proposal(ctx: Context<FinalizeProposal>) -> Result<()> {
        instructions::finalize_proposal::handler(ctx)
    }

    /// Executes a passed proposal after its timelock (permissionless).
    pub fn execute_proposal(ctx: Context<ExecuteProposal>) -> Result<()> {
        instructions::execute_proposal::handler(ctx)
    }

    /// Withdraws a proposal before anyone voted.
    pub fn cancel_proposal(ctx: Context<ProposerClose>) -> Result<()> {
        instructions::cancel_proposal::handler(ctx)
    }

    /// Closes an ended proposal: deposit and rent back to the proposer.
    pub fn close_proposal(ctx: Context<ProposerClose>) -> Result<()> {
        instructions::close_proposal::handler(ctx)
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

    pub fn withdraw_stake(ctx: Context<OperatorWithdrawal>, args: WithdrawStakeArgs) -> Result<()> {
        instructions::withdraw_stake::handler(ctx, args)
    }

    pub fn close_node(ctx: Context<CloseNode>) -> Result<()> {
        instructions::close_node::handler(ctx)
    }

    pub fn withdraw_earnings(
        ctx: Context<OperatorWithdrawal>,
        args: WithdrawEarningsArgs,
    ) -> Result<()> {
        instructions::withdraw_earnings::handler(ctx, args)
    }

    /// Takes a replica slot of a job's current round.
    pub fn claim(ctx: Context<Claim>) -> Result<()> {
        instructions::claim::handler(ctx)
    }

    pub fn commit(ctx: Context<SlotHolder>, args: CommitArgs) -> Result<()> {
        instructions::commit::handler(ctx, args)
    }

    pub fn reveal(ctx: Context<SlotHolder>, args: RevealArgs) -> Result<()> {
        instructions::reveal::handler(ctx, args)
    }

    /// Decides whether a spot-check job is audited, from a slot hash after its commit.
    pub fn draw_audit(ctx: Context<DrawAudit>) -> Result<()> {
        instructions::draw_audit::handler(ctx)
    }

    // ---- Submitter ----

    pub fn post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
        instructions::post_job::handler(ctx, args)
    }

    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        instructions::cancel_job::handler(ctx)
    }

    /// Collects a settled job's refund and the account's rent.
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        instructions::close_job::handler(ctx)
    }

    // ---- Permissionless crank ----

    /// Settles a job's round once it has fully revealed or its reveal deadline passed.
    pub fn settle<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
        instructions::settle::handler(ctx)
    }

    /// Settles a stalled job after its grace period, for a bounty out of the penalties.
    pub fn expire_job<'info>(ctx: Context<'info, ExpireJob<'info>>) -> Result<()> {
        instructions::expire_job::handler(ctx)
    }

    // ---- The referee (read-only) ----

    /// Executes one elementary step of a kernel as a dispute's referee does and returns the
    /// next state's bytes; changes nothing.
    pub fn referee_step(ctx: Context<RefereeStep>, step: Step) -> Result<Vec<u8>> {
        instructions::referee_step::handler(ctx, step)
    }

    /// Opens a `matmul` step's operands against a job's input root and executes the step, as
    /// a dispute's last move does; returns the next state's bytes; changes nothing.
    pub fn referee_check_step(
        ctx: Context<RefereeCheckStep>,
        args: RefereeCheckStepArgs,
    ) -> Result<Vec<u8>> {
        instructions::referee_check_step::handler(ctx, args)
    }

    // ---- Dispute games (docs/disputes.md) ----

    /// A player opens its game against another slot of a disputed job; deposits its bond.
    pub fn open_game(ctx: Context<OpenGame>, args: OpenGameArgs) -> Result<()> {
        instructions::open_game::handler(ctx, args)
    }

    /// A side posts its move of the current round; both posted → the round resolves.
    pub fn game_move(ctx: Context<GameMove>, mv: Move) -> Result<()> {
        instructions::game_move::handler(ctx, mv)
    }

    /// The last move: the referee executes the disputed step; whoever disagrees with it loses.
    pub fn game_step(ctx: Context<GameStep>, args: GameStepArgs) -> Result<()> {
        instructions::game_step::handler(ctx, args)
    }

    /// Permissionless: ends a game whose side ran out of clock; that side loses.
    pub fn game_timeout(ctx: Context<GameTimeout>) -> Result<()> {
        instructions::game_timeout::handler(ctx)
    }

    /// Permissionless: closes an ended game; rent and bonds to the winner.
    pub fn close_game(ctx: Context<CloseGame>) -> Result<()> {
        instructions::close_game::handler(ctx)
    }

    /// Opens the buffer a disputed render job's referee reads its scene from (anyone pays).
    pub fn open_input_buffer(ctx: Context<OpenInputBuffer>) -> Result<()> {
        instructions::open_input_buffer::handler(ctx)
    }

    /// Loads one piece of a job's input into its buffer, proven against the input root.
    pub fn load_input_piece(ctx: Context<LoadInputPiece>, args: LoadInputPieceArgs) -> Result<()> {
        instructions::load_input_piece::handler(ctx, args)
    }

    /// Permissionless: closes an input buffer once its job is over; rent to its payer.
    pub fn close_input_buffer(ctx: Context<CloseInputBuffer>) -> Result<()> {
        instructions::close_input_buffer::handler(ctx)
    }

    /// A staked node disputes a refereed job's accepted result within its challenge window,
    /// with the root it computed; it then plays the root's backers.
    pub fn challenge(ctx: Context<Challenge>, args: ChallengeArgs) -> Result<()> {
        instructions::challenge::handler(ctx, args)
    }
}
