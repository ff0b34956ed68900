use anchor_lang::prelude::*;

use crate::referee::{check_matmul_step, OpenedOperand};
use crate::state::Job;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct RefereeCheckStepArgs {
    /// The output element (row-major index).
    pub element: u64,
    /// The step `position → position + 1` of its trace.
    pub position: u64,
    /// The state before the step (4 bytes).
    pub state: [u8; 4],
    /// `A[i][position]` and `B[position][j]`, each opened against the job's input root.
    pub operands: Vec<OpenedOperand>,
}

#[derive(Accounts)]
pub struct RefereeCheckStep<'info> {
    /// Any job: its kernel, params and input reference define the step.
    pub job: Box<Account<'info, Job>>,
}

/// Read-only: a dispute's last move without the game — opens the step's operands against the
/// job's input root and executes the step; returns the next state (as return data). Changes
/// nothing, so it emits no event.
pub(crate) fn handler(
    ctx: Context<RefereeCheckStep>,
    args: RefereeCheckStepArgs,
) -> Result<Vec<u8>> {
    let job = &ctx.accounts.job;
    check_matmul_step(
        job.kernel_id,
        &job.kernel_params,
        &job.input,
        args.element,
        args.position,
        args.state,
        &args.operands,
    )
    .map(|state| state.to_vec())
}
