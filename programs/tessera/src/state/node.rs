use anchor_lang::prelude::*;

use crate::constants::*;
use crate::error::TesseraError;
use crate::state::{sortition, Reputation};

/// A worker machine run by an operator: what it offers, and the stake that backs it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Node {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA (`[NODE_SEED, operator, index LE]`).
    pub bump: u8,
    /// Wallet that registered the node, owns its stake and receives its earnings.
    pub operator: Pubkey,
    /// Index among the operator's nodes (an operator may run several machines).
    pub index: u16,
    /// What the machine can run.
    pub hardware: HardwareProfile,
    /// Region code (0..32) used by jobs' region masks.
    pub region: u8,
    /// Lowest reward per work unit the node accepts (token base units).
    pub min_price_per_unit: u64,
    /// Where the node serves results after their reveal phase (http:// or https://).
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    /// Whether the operator wants new work; a paused node keeps its stake and assignments.
    pub accepting_jobs: bool,
    /// Active stake: counts for eligibility and weight, and is slashable.
    pub stake: u64,
    /// Stake in cooldown after `request_unstake`: no weight, still slashable.
    pub unstaking: u64,
    /// Unix time from which `unstaking` may be withdrawn.
    pub unstake_available_at: i64,
    /// Replica slots held by this node whose jobs have not ended.
    pub open_assignments: u32,
    /// Rewards credited by settlement, held in the stake vault until withdrawn. Never
    /// slashed and not part of the stake.
    pub earnings: u64,
    /// Track record and score, written only by settlement.
    pub reputation: Reputation,
    /// Unix time of registration.
    pub registered_at: i64,
    /// Room for fields added by later versions.
    pub reserved: [u8; 64],
}

impl Node {
    /// All tokens of this node held in the stake vault.
    pub fn total_locked(&self) -> Result<u64> {
        self.stake
            .checked_add(self.unstaking)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// All tokens of this node held in the stake vault: stake, cooldown and earnings.
    pub fn vault_balance(&self) -> Result<u64> {
        self.total_locked()?
            .checked_add(self.earnings)
            .ok_or_else(|| error!(TesseraError::MathOverflow))
    }

    /// Sortition weight: active stake × reputation factor.
    pub fn weight(&self) -> u64 {
        sortition::weight(self.stake, self.reputation.weight_factor_bps())
    }

    /// Takes `bps` of the node's stake (active first, then cooling down) and returns the
    /// amount taken. Earnings are not stake and are never slashed.
    pub fn slash(&mut self, bps: u16) -> Result<u64> {
        let locked = u128::from(self.total_locked()?);
        let amount = u64::try_from(locked * u128::from(bps) / u128::from(MAX_BPS))
            .map_err(|_| error!(TesseraError::MathOverflow))?;
        let from_stake = amount.min(self.stake);
        self.stake -= from_stake;
        let from_unstaking = amount - from_stake;
        self.unstaking = self
            .unstaking
            .checked_sub(from_unstaking)
            .ok_or_else(|| error!(TesseraError::MathOverflow))?;
        if self.unstaking == 0 {
            self.unstake_available_at = 0;
        }
        Ok(amount)
    }

    pub fn invariant(&self) -> Result<()> {
        self.vault_balance()?;
        self.hardware.validate()?;
        validate_region(self.region)?;
        validate_endpoint(&self.endpoint)?;
        require!(
            self.unstaking > 0 || self.unstake_available_at == 0,
            TesseraError::InvariantViolated
        );
        Ok(())
    }
}

/// GPU machine or CPU-only machine.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum HardwareKind {
    CpuOnly,
    Gpu,
}

/// The hardware a node declares; jobs' requirements are matched against it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct HardwareProfile {
    /// GPU or CPU-only.
    pub kind: HardwareKind,
    /// GPU model label (empty for CPU-only), printable ASCII.
    #[max_len(MAX_GPU_MODEL_LEN)]
    pub gpu_model: String,
    /// GPU memory in MiB (0 for CPU-only).
    pub vram_mib: u32,
    /// CUDA compute capability as major * 10 + minor, e.g. 90 (0 for CPU-only).
    pub compute_capability: u16,
    /// CPU cores available to the worker.
    pub cpu_cores: u16,
}

impl HardwareProfile {
    pub fn validate(&self) -> Result<()> {
        require!(self.cpu_cores >= 1, TesseraError::InvalidCpuCores);
        match self.kind {
            HardwareKind::CpuOnly => require!(
                self.gpu_model.is_empty() && self.vram_mib == 0 && self.compute_capability == 0,
                TesseraError::InvalidHardwareProfile
            ),
            HardwareKind::Gpu => {
                require!(
                    !self.gpu_model.is_empty()
                        && self.gpu_model.len() <= MAX_GPU_MODEL_LEN
                        && self.gpu_model.bytes().all(|b| (0x20..0x7f).contains(&b)),
                    TesseraError::InvalidGpuModel
                );
                require!(
                    self.vram_mib > 0
                        && (MIN_COMPUTE_CAPABILITY..=MAX_COMPUTE_CAPABILITY)
                            .contains(&self.compute_capability),
                    TesseraError::InvalidHardwareProfile
                );
            }
        }
        Ok(())
    }
}

pub fn validate_region(region: u8) -> Result<()> {
    require!(region < REGION_COUNT, TesseraError::InvalidRegion);
    Ok(())
}

pub fn validate_endpoint(endpoint: &str) -> Result<()> {
    let has_scheme = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty());
    require!(
        has_scheme
            && endpoint.len() <= MAX_ENDPOINT_LEN
            && endpoint.bytes().all(|b| (0x21..0x7f).contains(&b)),
        TesseraError::InvalidEndpoint
    );
    Ok(())
}
