use anchor_lang::prelude::*;
use anchor_lang::system_program;

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::GameOpened;
use crate::referee::{Refereed, TensorShape, MAX_TENSORS};
use crate::state::{Config, Dispute, Game, GamePhase, Job, Node};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenGameArgs {
    /// The two slots, lower index first.
    pub slots: [u8; 2],
}

#[derive(Accounts)]
#[instruction(args: OpenGameArgs)]
pub struct OpenGame<'info> {
    /// The operator of one of the two slots' nodes; pays the game's rent and its own bond.
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        seeds = [NODE_SEED, node.operator.as_ref(), &node.index.to_le_bytes()],
        bump = node.bump,
        has_one = operator @ TesseraError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.submitter.as_ref(), &job.nonce.to_le_bytes()],
        bump = job.bump,
        constraint = job.is_open() @ TesseraError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        init,
        payer = operator,
        space = 8 + Game::INIT_SPACE,
        seeds = [GAME_SEED, job.key().as_ref(), &args.slots],
        bump,
    )]
    pub game: Box<Account<'info, Game>>,

    pub system_program: Program<'info, System>,
}

/// A player opens its game against another slot of a disputed job whose root differs from
/// its own, within the dispute's open window, and deposits its bond. Every pair plays once.
pub(crate) fn handler(ctx: Context<OpenGame>, args: OpenGameArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let [a, b] = args.slots.map(usize::from);
    let job = &ctx.accounts.job;
    require!(
        job.dispute.is_started() && now < job.dispute.open_until,
        TesseraError::GameOpenClosed
    );
    require!(job.disputes(a, b), TesseraError::NotInDispute);
    // The PDA's `init` already refuses a second opening; the job's record keeps it refused
    // after the game account is closed.
    require!(!job.dispute.opened(a, b), TesseraError::NotInDispute);
    let node_key = ctx.accounts.node.key();
    let slot = |i: usize| job.slots.get(i).ok_or(TesseraError::InvariantViolated);
    let (slot_a, slot_b) = (*slot(a)?, *slot(b)?);
    let opener = if slot_a.node == node_key {
        0u8
    } else if slot_b.node == node_key {
        1u8
    } else {
        return err!(TesseraError::NotAPlayer);
    };
    let refereed = Refereed::of(job.kernel_id, &job.kernel_params)?;
    let tensors = refereed.tensors();
    require!(
        (1..=MAX_TENSORS).contains(&tensors),
        TesseraError::InvariantViolated
    );
    let mut shapes = [TensorShape::default(); MAX_TENSORS];
    for (t, shape) in shapes.iter_mut().enumerate().take(tensors) {
        *shape = refereed.tensor(t);
    }
    let output = shapes[tensors - 1];
    let params = ctx.accounts.config.params;
    let bond = params.game_bond_lamports;
    let clock = i64::from(params.game_clock_secs);

    let game_key = ctx.accounts.game.key();
    let job_key = job.key();
    let submitter = job.submitter;
    let game = &mut ctx.accounts.game;
    game.version = ACCOUNT_VERSION;
    game.bump = ctx.bumps.game;
    game.job = job_key;
    game.submitter = submitter;
    game.slots = args.slots;
    game.nodes = [slot_a.node, slot_b.node];
    game.operators = [slot_a.operator, slot_b.operator];
    game.roots = [slot_a.root, slot_b.root];
    game.output_len = output.len;
    game.trace_len = output.trace_len;
    game.element_size = output.element_size;
    game.tensors = tensors as u8;
    game.tensor = (tensors - 1) as u8;
    game.shapes = shapes;
    game.chain_agreed = tessera_step::game::CHAIN_START;
    // A chain of tensors is bisected first; a single tensor (the output) is descended at once.
    game.phase = if tensors > 1 {
        GamePhase::Links
    } else {
        GamePhase::Top
    };
    game.claims = [[0; 32]; 2];
    game.agreed = [0; 32];
    game.posted = Default::default();
    game.round_started_at = now;
    game.clocks = [clock; 2];
    game.moves = [0; 2];
    game.bond = bond;
    game.bonds = [0; 2];
    game.bonds[usize::from(opener)] = bond;

    let job = &mut ctx.accounts.job;
    job.dispute.games_open = job
        .dispute
        .games_open
        .checked_add(1)
        .ok_or(TesseraError::MathOverflow)?;
    job.dispute.games_opened |= Dispute::pair_bit(a, b);

    if bond > 0 {
        system_program::transfer(
            CpiContext::new(
                ctx.accounts.system_program.key(),
                system_program::Transfer {
                    from: ctx.accounts.operator.to_account_info(),
                    to: ctx.accounts.game.to_account_info(),
                },
            ),
            bond,
        )?;
    }
    emit!(GameOpened {
        game: game_key,
        job: job_key,
        slots: args.slots,
        nodes: ctx.accounts.game.nodes,
        opener,
        clock_secs: clock,
        bond,
    });
    Ok(())
}
