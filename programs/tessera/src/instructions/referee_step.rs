use anchor_lang::prelude::*;

use crate::referee::{execute, Step};

/// No accounts: the step carries its operands.
#[derive(Accounts)]
pub struct RefereeStep {}

/// Read-only: executes one elementary step of a kernel as the referee of a dispute does and
/// returns the next state's bytes (as return data). Changes nothing, so it emits no event.
pub(crate) fn handler(_ctx: Context<RefereeStep>, step: Step) -> Result<Vec<u8>> {
    execute(&step)
}
