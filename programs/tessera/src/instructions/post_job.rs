use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::error::TesseraError;
use crate::events::JobPosted;
use crate::state::sortition::{job_seed, latest_slot_hash};
use crate::state::{AuditState, Config, InputRef, Job, JobRates, JobStatus, Requirements};
use crate::token_transfer::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PostJobArgs {
    /// Client nonce: with the submitter, it makes the job's address.
    pub nonce: u64,
    pub kernel_id: u8,
    pub input: InputRef,
    pub kernel_params: Vec<u8>,
    pub work_units: u64,
    pub replicas: u8,
    pub reward_per_replica: u64,
    /// Unix time by which the job must be settled.
    pub deadline: i64,
    pub requirements: Requirements,
    /// Spot-check mode: one replica (`replicas` must be 1), audited with the network's
    /// probability `audit_bps` by `audit_replicas` auditors; the submitter prepays the
    /// expected audit cost as the audit fee. `false`: full redundancy.
    pub spot_check: bool,
}

impl PostJobArgs {
    fn validate(&self, config: &Config, now: i64) -> Result<()> {
        let params = &config.params;
        require!(!config.paused, TesseraError::NetworkPaused);
        require!(
            config.kernel_allowed(self.kernel_id),
            TesseraError::KernelNotAllowed
        );
        require!(
            !self.input.uri.is_empty() && self.input.uri.len() <= MAX_INPUT_URI_LEN,
            TesseraError::InvalidInputUri
        );
        require!(
            (1..=MAX_INPUT_BYTES).contains(&self.input.size_bytes),
            TesseraError::InvalidInputSize
        );
        require!(
            self.kernel_params.len() <= MAX_KERNEL_PARAMS_LEN,
            TesseraError::KernelParamsTooLong
        );
        require!(self.work_units > 0, TesseraError::ZeroWorkUnits);
        require!(
            (1..=params.max_replicas).contains(&self.replicas),
            TesseraError::InvalidReplicas
        );
        require!(self.reward_per_replica > 0, TesseraError::ZeroReward);
        require!(
            self.reward_per_replica >= params.min_reward,
            TesseraError::RewardBelowMinimum
        );
        if self.spot_check {
            require!(params.audit_replicas > 0, TesseraError::SpotCheckDisabled);
            require!(self.replicas == 1, TesseraError::SpotCheckNeedsOneReplica);
            require!(
                self.reward_per_replica <= params.max_audited_reward,
                TesseraError::RewardAboveAuditedMax
            );
        }
        require!(
            self.requirements.region_mask != 0,
            TesseraError::EmptyRegionMask
        );
        let earliest = now
            .checked_add(params.min_job_duration_secs())
            .ok_or(TesseraError::MathOverflow)?;
        let latest = now
            .checked_add(i64::from(params.max_job_duration_secs))
            .ok_or(TesseraError::MathOverflow)?;
        require!(self.deadline >= earliest, TesseraError::DeadlineTooSoon);
        require!(self.deadline <= latest, TesseraError::DeadlineTooFar);
        Ok(())
    }
}

#[derive(Accounts)]
#[instruction(args: PostJobArgs)]
pub struct PostJob<'info> {
    /// Funds the escrow and the job account's rent.
    #[account(mut)]
    pub submitter: Signer<'info>,

    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        init,
        payer = submitter,
        space = 8 + Job::INIT_SPACE,
        seeds = [JOB_SEED, submitter.key().as_ref(), &args.nonce.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,

    /// The submitter's token account the escrow comes from.
    #[account(
        mut,
        constraint = submitter_token.mint == config.mint @ TesseraError::WrongMint,
    )]
    pub submitter_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, address = config.escrow_vault @ TesseraError::WrongVault)]
    pub escrow_vault: Box<Account<'info, TokenAccount>>,

    /// SlotHashes sysvar: its latest hash seeds the job's sortition.
    /// CHECK: the address is checked and the data read by `sortition::latest_slot_hash`.
    pub slot_hashes: UncheckedAccount<'info>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub(crate) fn handler(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    args.validate(&ctx.accounts.config, now)?;
    let params = ctx.accounts.config.params;
    let refereed = ctx.accounts.config.kernel_refereed(args.kernel_id);
    if refereed {
        // A refereed job's game needs the shape of its output and input from its params.
        let kernel = crate::referee::Refereed::of(args.kernel_id, &args.kernel_params)
            .map_err(|_| error!(TesseraError::BadRefereedJob))?;
        require!(
            kernel.input_fits(args.input.size_bytes),
            TesseraError::BadRefereedJob
        );
    }
    let escalation_replicas = params.escalation_replicas;
    let (audit, audit_bps, audit_replicas, audit_fee) = if args.spot_check {
        let fee = params.audit_fee(args.reward_per_replica)?;
        (
            AuditState::Pending,
            params.audit_bps,
            params.audit_replicas,
            fee,
        )
    } else {
        (AuditState::None, 0, 0, 0)
    };
    let escrow = Job::full_escrow(
        args.replicas,
        audit_replicas,
        escalation_replicas,
        args.reward_per_replica,
        audit_fee,
    )?;
    let slot_hash = latest_slot_hash(&ctx.accounts.slot_hashes)?;
    let reveal_window = i64::from(ctx.accounts.config.params.reveal_window_secs);

    let accounts = &mut *ctx.accounts;
    let seed = job_seed(&accounts.job.key(), &slot_hash);
    let job = &mut accounts.job;
    job.version = ACCOUNT_VERSION;
    job.bump = ctx.bumps.job;
    job.submitter = accounts.submitter.key();
    job.nonce = args.nonce;
    job.kernel_id = args.kernel_id;
    job.input = args.input;
    job.kernel_params = args.kernel_params;
    job.work_units = args.work_units;
    job.replicas = args.replicas;
    job.reward_per_replica = args.reward_per_replica;
    job.escrow = escrow;
    job.deadline = args.deadline;
    job.requirements = args.requirements;
    job.posted_at = now;
    job.escalation_replicas = escalation_replicas;
    job.seed = seed;
    job.escalated = false;
    job.round_started_at = now;
    // validate() guarantees deadline >= now + commit window + reveal window.
    job.commit_deadline = args
        .deadline
        .checked_sub(reveal_window)
        .ok_or(TesseraError::MathOverflow)?;
    job.reveal_deadline = args.deadline;
    job.slots = Vec::new();
    job.result_root = None;
    job.status = JobStatus::Open;
    job.audit = audit;
    job.audit_bps = audit_bps;
    job.audit_replicas = audit_replicas;
    job.audit_fee = audit_fee;
    job.audit_slot = 0;
    job.round_start = 0;
    // The seed is public from this slot on: only nodes and stake older than it count.
    job.round_slot = clock.slot;
    job.rates = JobRates::of(&params);
    job.audit_forced = false;
    job.refereed = refereed;
    job.dispute = Default::default();
    job.reserved = [0; 1];
    job.invariant()?;

    pay_in(
        &accounts.token_program,
        &accounts.submitter_token,
        &accounts.escrow_vault,
        &accounts.submitter,
        escrow,
    )?;

    let job = &accounts.job;
    emit!(JobPosted {
        job: job.key(),
        submitter: job.submitter,
        nonce: job.nonce,
        kernel_id: job.kernel_id,
        input_hash: job.input.hash,
        work_units: job.work_units,
        replicas: job.replicas,
        reward_per_replica: job.reward_per_replica,
        escrow: job.escrow,
        escalation_replicas: job.escalation_replicas,
        seed: job.seed,
        deadline: job.deadline,
        requirements: job.requirements,
        spot_check: job.is_spot_check(),
        audit_bps: job.audit_bps,
        audit_replicas: job.audit_replicas,
        audit_fee: job.audit_fee,
    });
    Ok(())
}
