use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::ProposalCreated;
use crate::state::{Config, Governance, Proposal, ProposalAction, ProposalStatus};
use crate::token_transfer::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateProposalArgs {
    /// A short human title (printable ASCII, at most 80 bytes).
    pub title: String,
    pub action: ProposalAction,
}

#[derive(Accounts)]
pub struct CreateProposal<'info> {
    /// Pays the deposit and the proposal account's rent.
    #[account(mut)]
    pub proposer: Signer<'info>,

    #[account(
        mut,
        seeds = [CONFIG_SEED],
        bump = config.bump,
        constraint = config.authority == governance.key() @ TesseraError::GovernanceNotInControl,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [GOVERNANCE_SEED], bump = governance.bump)]
    pub governance: Box<Account<'info, Governance>>,

    #[account(
        init,
        payer = proposer,
        space = 8 + Proposal::INIT_SPACE,
        seeds = [PROPOSAL_SEED, &config.proposal_count.to_le_bytes()],
        bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// The deposit comes from here.
    #[account(
        mut,
        constraint = proposer_token.mint == config.mint @ TesseraError::WrongMint,
    )]
    pub proposer_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = governance.vault @ TesseraError::WrongVault)]
    pub gov_vault: Box<Account<'info, TokenAccount>>,

    /// Read for the total voting power (operator stake).
    #[account(address = config.stake_vault @ TesseraError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

/// Creates proposal number `config.proposal_count`. The change must be executable on the
/// network as it is now (parameters within their bounds); the proposer deposits
/// `proposal_deposit`. Voting opens at once and counts only tokens locked before this.
pub(crate) fn handler(ctx: Context<CreateProposal>, args: CreateProposalArgs) -> Result<()> {
    require!(
        args.title.len() <= MAX_PROPOSAL_TITLE_LEN
            && args.title.bytes().all(|b| (0x20..0x7f).contains(&b)),
        TesseraError::InvalidProposalTitle
    );
    let accounts = &mut *ctx.accounts;
    let gov = accounts.governance.params;
    args.action.validate(&accounts.config.params, &gov)?;
    let now = Clock::get()?.unix_timestamp;
    let voting_ends_at = now
        .checked_add(i64::from(gov.voting_period_secs))
        .ok_or(TesseraError::MathOverflow)?;
    let executable_at = voting_ends_at
        .checked_add(i64::from(gov.timelock_secs))
        .ok_or(TesseraError::MathOverflow)?;
    let expires_at = executable_at
        .checked_add(i64::from(gov.execution_window_secs))
        .ok_or(TesseraError::MathOverflow)?;
    let total_power = accounts
        .stake_vault
        .amount
        .checked_add(accounts.governance.voter_deposits)
        .ok_or(TesseraError::MathOverflow)?;

    let config = &mut accounts.config;
    let id = config.proposal_count;
    config.proposal_count = id.checked_add(1).ok_or(TesseraError::MathOverflow)?;

    let proposal = &mut accounts.proposal;
    proposal.version = ACCOUNT_VERSION;
    proposal.bump = ctx.bumps.proposal;
    proposal.id = id;
    proposal.proposer = accounts.proposer.key();
    proposal.title = args.title;
    proposal.action = args.action;
    proposal.status = ProposalStatus::Voting;
    proposal.deposit = gov.proposal_deposit;
    proposal.created_at = now;
    proposal.voting_ends_at = voting_ends_at;
    proposal.executable_at = executable_at;
    proposal.expires_at = expires_at;
    proposal.total_power = total_power;
    proposal.quorum_bps = gov.quorum_bps;
    proposal.pass_threshold_bps = gov.pass_threshold_bps;
    proposal.yes = 0;
    proposal.no = 0;
    proposal.abstain = 0;
    proposal.voters = 0;
    proposal.prev_votes_open_until = accounts.governance.votes_open_until;
    proposal.reserved = [0; 24];

    let governance = &mut accounts.governance;
    governance.votes_open_until = governance.votes_open_until.max(voting_ends_at);
    if gov.proposal_deposit > 0 {
        governance.proposal_deposits = governance
            .proposal_deposits
            .checked_add(gov.proposal_deposit)
            .ok_or(TesseraError::MathOverflow)?;
        pay_in(
            &accounts.token_program,
            &accounts.proposer_token,
            &accounts.gov_vault,
            &accounts.proposer,
            gov.proposal_deposit,
        )?;
    }

    let proposal = &accounts.proposal;
    emit!(ProposalCreated {
        proposal: proposal.key(),
        id,
        proposer: proposal.proposer,
        title: proposal.title.clone(),
        action: proposal.action,
        deposit: proposal.deposit,
        total_power,
        voting_ends_at,
        executable_at,
        expires_at,
    });
    Ok(())
}
