//! The agent: one pass ([`Agent::tick`]) moves every job the worker holds as far as the chain
//! allows, then discovers and claims new work. The daemon runs passes on a timer; tests call
//! them directly. Every decision is re-derived from the chain and the database, so a pass can
//! be interrupted at any point (crash, `kill -9`) and the next one resumes.
use std::sync::Arc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tessera_kernels::{merkle, Backend, Job as KernelJob};
use tessera_sdk::chain::{fetch, list, Chain, ChainError};
use tessera_sdk::tessera::constants::INPUT_UNAVAILABLE_ROOT;
use tessera_sdk::tessera::instructions::{RegisterNodeArgs, UpdateNodeArgs};
use tessera_sdk::tessera::settlement::{decide, slot_payout, slot_terms, Decision, SlotPayout};
use tessera_sdk::tessera::state::{
    AuditState, Config as NetworkConfig, HardwareKind, HardwareProfile, Job, JobEndReason,
    JobStatus, Node, Params, SlotState, Verdict,
};
use tessera_sdk::verification::{commitment, holds_priority, random_salt};
use tessera_sdk::{instructions as ix, pda};

#[cfg(feature = "sim")]
use crate::behaviour::collusion_root;
use crate::behaviour::Behaviour;
use crate::db::{Db, JobRecord, Phase};
use crate::fetch;
use crate::metrics::Metrics;
use crate::retry::{retry, Backoff};
use crate::store::ResultStore;

mod play;
mod round;
mod watch;

pub use watch::watch_refusal;

/// What the agent needs besides the chain.
pub struct AgentSettings {
    pub node_index: u16,
    pub token_account: Option<Pubkey>,
    pub concurrency: usize,
    pub region: u8,
    pub min_price_per_unit: u64,
    pub cost_per_unit: u64,
    pub stake: u64,
    pub endpoint: String,
    pub max_input_bytes: u64,
    pub behaviour: Behaviour,
    pub backoff: Backoff,
    /// Seconds of compute per work unit assumed before the first measurement.
    pub initial_secs_per_unit: f64,
    /// Seconds kept in hand between the estimated finish and the commit deadline.
    pub safety_secs: i64,
    /// Share, in basis points, of others' refereed results in their challenge window that
    /// the worker recomputes, challenging any it finds wrong (0: never watches).
    pub watch_bps: u16,
}

/// One operator's worker.
pub struct Agent<C: Chain> {
    chain: Arc<C>,
    operator: Keypair,
    node: Pubkey,
    settings: AgentSettings,
    backend: Arc<Backend>,
    hardware: HardwareProfile,
    db: Arc<Db>,
    results: Arc<ResultStore>,
    metrics: Arc<Metrics>,
    /// Measured seconds per work unit (moving average), for deadline feasibility.
    secs_per_unit: std::sync::Mutex<f64>,
    /// Jobs whose watch has been drawn (watched or not), so each is drawn once.
    watch_decided: std::sync::Mutex<std::collections::HashSet<Pubkey>>,
    /// Disputed jobs whose output this node does not have (it cannot play), warned once each.
    undefended: std::sync::Mutex<std::collections::HashSet<Pubkey>>,
}

/// What one pass did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub claimed: Vec<Pubkey>,
    pub committed: Vec<Pubkey>,
    pub revealed: Vec<Pubkey>,
    pub cranked: Vec<Pubkey>,
    pub finished: Vec<Pubkey>,
    /// Accepted results this node challenged (as a watcher).
    pub challenged: Vec<Pubkey>,
}

impl<C: Chain + 'static> Agent<C> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        chain: Arc<C>,
        operator: Keypair,
        settings: AgentSettings,
        backend: Arc<Backend>,
        hardware: HardwareProfile,
        db: Arc<Db>,
        results: Arc<ResultStore>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let node = pda::node(&operator.pubkey(), settings.node_index).0;
        let secs = settings.initial_secs_per_unit;
        Self {
            chain,
            operator,
            node,
            settings,
            backend,
            hardware,
            db,
            results,
            metrics,
            secs_per_unit: std::sync::Mutex::new(secs),
            watch_decided: Default::default(),
            undefended: Default::default(),
        }
    }

    pub fn node(&self) -> Pubkey {
        self.node
    }

    pub fn operator(&self) -> Pubkey {
        self.operator.pubkey()
    }

    async fn read<T: anchor_lang::AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, ChainError> {
        retry(self.settings.backoff, &self.metrics, "read account", || {
            fetch::<T, _>(&*self.chain, address)
        })
        .await
    }

    /// Sends one instruction once. A failure is not retried blindly: the next pass re-reads
    /// the chain, so a transaction that did land is never sent twice.
    async fn send(
        &self,
        instruction: anchor_lang::solana_program::instruction::Instruction,
    ) -> Result<(), ChainError> {
        let result = self.chain.send(&[instruction], &self.operator, &[]).await;
        if let Err(ChainError::Rpc(_)) = &result {
            Metrics::inc(&self.metrics.rpc_errors);
        }
        result.map(|_| ())
    }

    /// Sends the instructions of one transaction once (see [`Agent::send`]).
    async fn send_all(
        &self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
    ) -> Result<(), ChainError> {
        let result = self.chain.send(instructions, &self.operator, &[]).await;
        if let Err(ChainError::Rpc(_)) = &result {
            Metrics::inc(&self.metrics.rpc_errors);
        }
        result.map(|_| ())
    }

    /// Registers the node on first start, updates its profile if it changed, and tops its
    /// stake up to the configured amount. Idempotent.
    pub async fn ensure_registered(&self) -> anyhow::Result<()> {
        let existing: Option<Node> = self.read(&self.node).await?;
        match existing {
            None => {
                tracing::info!(node = %self.node, "registering the node");
                self.send(ix::register_node(
                    &self.operator.pubkey(),
                    RegisterNodeArgs {
                        index: self.settings.node_index,
                        hardware: self.hardware.clone(),
                        region: self.settings.region,
                        min_price_per_unit: self.settings.min_price_per_unit,
                        endpoint: self.settings.endpoint.clone(),
                    },
                ))
                .await
                .context("register_node")?;
            }
            Some(node)
                if node.hardware != self.hardware
                    || node.region != self.settings.region
                    || node.min_price_per_unit != self.settings.min_price_per_unit
                    || node.endpoint != self.settings.endpoint
                    || !node.accepting_jobs =>
            {
                tracing::info!(node = %self.node, "updating the node's profile");
                self.send(ix::update_node(
                    &self.operator.pubkey(),
                    self.settings.node_index,
                    UpdateNodeArgs {
                        hardware: self.hardware.clone(),
                        region: self.settings.region,
                        min_price_per_unit: self.settings.min_price_per_unit,
                        endpoint: self.settings.endpoint.clone(),
                        accepting_jobs: true,
                    },
                ))
                .await
                .context("update_node")?;
            }
            Some(_) => {}
        }
        let node: Node = self
            .read(&self.node)
            .await?
            .context("the node account is missing after registration")?;
        if node.stake < self.settings.stake {
            let token = self
                .settings
                .token_account
                .context("stake is configured but token_account is not")?;
            let amount = self.settings.stake - node.stake;
            tracing::info!(amount, "staking");
            self.send(ix::stake(
                &self.operator.pubkey(),
                self.settings.node_index,
                &token,
                amount,
            ))
            .await
            .context("stake")?;
        }
        Ok(())
    }

    /// One pass: advance every held job, then claim new ones.
    pub async fn tick(&self) -> anyhow::Result<Pass> {
        let mut pass = Pass::default();
        let network: NetworkConfig = self
            .read(&pda::config().0)
            .await?
            .context("the network is not initialized")?;
        let params = network.params;
        for record in self.db.all()? {
            if record.phase == Phase::Done {
                continue;
            }
            let job = record.address();
            if let Err(e) = self.advance(record, &params, &mut pass).await {
                tracing::warn!(%job, error = %format!("{e:#}"), "could not advance the job");
            }
        }
        self.discover(&params, &mut pass).await?;
        Ok(pass)
    }

    fn in_flight(&self) -> anyhow::Result<usize> {
        Ok(self
            .db
            .all()?
            .iter()
            .filter(|r| {
                matches!(
                    r.phase,
                    Phase::Claiming | Phase::Claimed | Phase::Computed | Phase::Watching
                )
            })
            .count())
    }

    /// Finds open jobs this node may and should take, best first, and claims them.
    async fn discover(&self, params: &Params, pass: &mut Pass) -> anyhow::Result<()> {
        let capacity = self.settings.concurrency.saturating_sub(self.in_flight()?);
        if capacity == 0 {
            return Ok(());
        }
        let Some(node) = self.read::<Node>(&self.node).await? else {
            return Ok(());
        };
        let now = retry(self.settings.backoff, &self.metrics, "clock", || {
            self.chain.clock()
        })
        .await?
        .unix_timestamp;
        let jobs: Vec<(Pubkey, Job)> =
            retry(self.settings.backoff, &self.metrics, "list jobs", || {
                list::<Job, _>(&*self.chain, &[])
            })
            .await?;
        let watching = self.pick_watches(&jobs, params, now, capacity)?;
        let capacity = capacity - watching;
        let mut candidates: Vec<(u64, Pubkey, Job)> = Vec::new();
        for (address, job) in jobs {
            if job.status != JobStatus::Open {
                continue;
            }
            Metrics::inc(&self.metrics.jobs_seen);
            if let Some(record) = self.db.get(&address)? {
                if record.phase != Phase::Done {
                    continue;
                }
            }
            match self.choose(&job, &node, params, now) {
                Ok(profit) => candidates.push((profit, address, job)),
                Err(why) => tracing::debug!(job = %address, why, "not taking the job"),
            }
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, address, job) in candidates.into_iter().take(capacity) {
            let mut record = JobRecord::new(address, job.kernel_id);
            self.db.put(&record)?;
            match self
                .send(ix::claim(
                    &self.operator.pubkey(),
                    self.settings.node_index,
                    &address,
                ))
                .await
            {
                Ok(()) => {
                    record.phase = Phase::Claimed;
                    self.db.put(&record)?;
                    Metrics::inc(&self.metrics.jobs_claimed);
                    tracing::info!(job = %address, kernel = job.kernel_id, "claimed a slot");
                    pass.claimed.push(address);
                }
                Err(ChainError::Rpc(e)) => {
                    // It may have landed: the next pass reads the job and knows.
                    tracing::warn!(job = %address, error = %e, "claim not confirmed");
                }
                Err(e) => {
                    record.phase = Phase::Done;
                    record.outcome = Some(format!("claim refused: {e}"));
                    self.db.put(&record)?;
                    tracing::info!(job = %address, error = %e.to_string().lines().next().unwrap_or(""), "claim refused");
                }
            }
        }
        Ok(())
    }

    /// The job-choice policy: `Ok(expected profit)` if the job is eligible, profitable,
    /// feasible before its commit deadline at the measured speed, and (in its priority window)
    /// our ticket wins; otherwise why not.
    pub fn choose(
        &self,
        job: &Job,
        node: &Node,
        params: &Params,
        now: i64,
    ) -> Result<u64, &'static str> {
        if job.round_slots().len() >= usize::from(job.round_capacity()) {
            return Err("round full");
        }
        if now >= job.commit_deadline {
            return Err("claims closed");
        }
        if job
            .slots
            .iter()
            .any(|s| s.node == self.node || s.operator == self.operator.pubkey())
        {
            return Err("already holds a slot (this node or another of the operator's)");
        }
        if !node.accepting_jobs || node.stake < params.min_stake {
            return Err("node not accepting or stake below the minimum");
        }
        if node.round_stake(job.round_slot) < params.min_stake {
            return Err("node or stake newer than the round's seed (counts from the next round)");
        }
        let req = &job.requirements;
        if req.gpu_required
            && (self.hardware.kind != HardwareKind::Gpu
                || self.hardware.vram_mib < req.min_vram_mib)
        {
            return Err("hardware");
        }
        if req.region_mask & (1u32 << node.region) == 0 {
            return Err("region");
        }
        let asked = u128::from(node.min_price_per_unit) * u128::from(job.work_units);
        if u128::from(job.reward_per_replica) < asked {
            return Err("price below the node's minimum");
        }
        let cost = u128::from(self.settings.cost_per_unit) * u128::from(job.work_units);
        let profit = u128::from(job.reward_per_replica).saturating_sub(cost);
        if profit == 0 {
            return Err("not profitable at this worker's cost");
        }
        if KernelJob::decode(job.kernel_id, &job.kernel_params).is_err() {
            return Err("unknown kernel or invalid params");
        }
        let secs = *self.secs_per_unit.lock().unwrap_or_else(|e| e.into_inner());
        let estimate = (job.work_units as f64 * secs).ceil() as i64;
        if now + estimate + self.settings.safety_secs >= job.commit_deadline {
            return Err("cannot finish before the commit deadline");
        }
        if job.input.size_bytes > self.settings.max_input_bytes {
            return Err("input larger than this worker's limit");
        }
        let priority_ends = job.round_started_at + i64::from(params.priority_window_secs);
        if now < priority_ends && !holds_priority(job, &self.node, node, params) {
            return Err("no priority ticket; waiting for the priority window to end");
        }
        Ok(u64::try_from(profit).unwrap_or(u64::MAX))
    }

    /// Moves one held job forward as far as the chain allows now.
    async fn advance(
        &self,
        mut record: JobRecord,
        params: &Params,
        pass: &mut Pass,
    ) -> anyhow::Result<()> {
        let address = record.address();
        let Some(job) = self.read::<Job>(&address).await? else {
            record.phase = Phase::Done;
            record.outcome.get_or_insert_with(|| "job closed".into());
            self.db.put(&record)?;
            pass.finished.push(address);
            return Ok(());
        };
        if let JobStatus::Ended { reason, .. } = job.status {
            if job.dispute.is_started() {
                if let Err(e) = self.close_input_if_ours(&address).await {
                    tracing::debug!(job = %address, error = %format!("{e:#}"), "input buffer not closed");
                }
            }
            self.finish(&mut record, &job, reason)?;
            if let Ok(mut warned) = self.undefended.lock() {
                warned.remove(&address);
            }
            pass.finished.push(address);
            return Ok(());
        }
        if record.phase == Phase::Watching {
            let now = retry(self.settings.backoff, &self.metrics, "clock", || {
                self.chain.clock()
            })
            .await?
            .unix_timestamp;
            return self.watch(&mut record, &job, now, pass).await;
        }
        let Some(slot) = job.slots.iter().find(|s| s.node == self.node).copied() else {
            if record.phase == Phase::Claiming {
                record.phase = Phase::Done;
                record.outcome = Some("claim did not land".into());
                self.db.put(&record)?;
            }
            return Ok(());
        };
        let now = retry(self.settings.backoff, &self.metrics, "clock", || {
            self.chain.clock()
        })
        .await?
        .unix_timestamp;
        if record.phase == Phase::Claiming {
            record.phase = Phase::Claimed;
            self.db.put(&record)?;
        }
        if record.phase == Phase::Claimed {
            #[cfg(feature = "sim")]
            if self.settings.behaviour == Behaviour::Flaky {
                return Ok(()); // claimed, and gone
            }
            self.compute(&mut record, &job).await?;
        }
        if record.phase == Phase::Computed {
            match slot.state {
                SlotState::Claimed if now < job.commit_deadline => {
                    let (Some(root), Some(salt)) = (record.root, record.salt) else {
                        anyhow::bail!("computed record without root and salt");
                    };
                    let c = commitment(&root, &self.node, &salt);
                    self.send(ix::commit(
                        &self.operator.pubkey(),
                        self.settings.node_index,
                        &address,
                        c,
                    ))
                    .await
                    .context("commit")?;
                    Metrics::inc(&self.metrics.jobs_committed);
                    tracing::info!(job = %address, "committed");
                    pass.committed.push(address);
                }
                SlotState::Claimed => return Ok(()), // too late to commit: a no-show
                _ => {}
            }
            record.phase = Phase::Committed;
            self.db.put(&record)?;
            return Ok(()); // reveal in a later pass, once the phase opens
        }
        if record.phase == Phase::Committed {
            if job.audit == AuditState::Pending && job.round_all(SlotState::Committed) {
                // A spot-check job we work alone: draw its audit (anyone may; we care most).
                match self.send(ix::draw_audit(&address)).await {
                    Ok(()) => {
                        Metrics::inc(&self.metrics.audits_drawn);
                        tracing::info!(job = %address, "drew the audit");
                    }
                    // Not final yet, or someone else drew it: the next pass reads the job.
                    Err(e) => {
                        tracing::debug!(job = %address, error = %e.to_string().lines().next().unwrap_or(""), "audit not drawn yet")
                    }
                }
                return Ok(());
            }
            let reveal_open = job.reveal_open(now);
            let in_round = job.round_slot_of(&self.node).is_some();
            if slot.state == SlotState::Revealed {
                record.phase = Phase::Revealed;
                self.db.put(&record)?;
            } else if in_round && reveal_open && now < job.reveal_deadline {
                self.reveal(&mut record, &job, pass).await?;
            }
            return Ok(());
        }
        if record.phase == Phase::Revealed {
            if job.dispute.is_started() {
                if let Some(root) = record.root {
                    self.play_games(&address, &job, &root, now).await?;
                }
            }
            self.crank(&address, &job, params, now, pass).await?;
        }
        Ok(())
    }
}
