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

    /// Fetches the input, runs the kernel, stores the output, and records root and salt —
    /// durably, before any commitment is sent.
    async fn compute(&self, record: &mut JobRecord, job: &Job) -> anyhow::Result<()> {
        let address = record.address();
        #[cfg(feature = "sim")]
        let skipped = match self.settings.behaviour {
            Behaviour::Lazy | Behaviour::Copycat => {
                tracing::warn!(job = %address, behaviour = ?self.settings.behaviour, "SIMULATION: committing a random root");
                Some(random_salt()?)
            }
            Behaviour::Colluder => {
                tracing::warn!(job = %address, "SIMULATION: committing the colluding group's root");
                Some(collusion_root(
                    &job.input.hash,
                    job.kernel_id,
                    &job.kernel_params,
                ))
            }
            _ => None,
        };
        #[cfg(not(feature = "sim"))]
        let skipped: Option<[u8; 32]> = None;
        let root = match skipped {
            Some(root) => root,
            None => match self.run_kernel(job).await {
                #[cfg_attr(not(feature = "sim"), allow(unused_mut))]
                Ok(mut output) => {
                    #[cfg(feature = "sim")]
                    if self.settings.behaviour == Behaviour::Liar {
                        tracing::warn!(job = %address, "SIMULATION: corrupting the output");
                        if let Some(b) = output.first_mut() {
                            *b ^= 0xff;
                        } else {
                            output.push(1);
                        }
                    }
                    let root = merkle::root(&output);
                    self.results.put(&root, &output)?;
                    root
                }
                Err(why) => {
                    Metrics::inc(&self.metrics.inputs_unavailable);
                    tracing::warn!(job = %address, why = %why, "input unavailable or invalid: committing the reserved root");
                    record.unavailable = Some(why);
                    INPUT_UNAVAILABLE_ROOT
                }
            },
        };
        record.root = Some(root);
        record.salt = Some(random_salt()?);
        record.phase = Phase::Computed;
        self.db.put(record)?;
        Ok(())
    }

    /// Downloads, checks and runs; `Err(reason)` means "input unavailable or invalid".
    async fn run_kernel(&self, job: &Job) -> Result<Vec<u8>, String> {
        let input = fetch::fetch(
            &job.input.uri,
            job.input.size_bytes,
            &job.input.hash,
            self.settings.max_input_bytes,
        )
        .await
        .map_err(|e| e.to_string())?;
        let kernel_job =
            KernelJob::decode(job.kernel_id, &job.kernel_params).map_err(|e| e.to_string())?;
        let backend = self.backend.clone();
        let started = Instant::now();
        let kernel = kernel_job.kernel();
        let output = tokio::task::spawn_blocking(move || kernel_job.run(&input, &backend))
            .await
            .map_err(|e| format!("kernel task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        let seconds = started.elapsed().as_secs_f64();
        Metrics::inc(&self.metrics.kernel_runs);
        let backend_name = match &*self.backend {
            Backend::Cpu(_) => "cpu",
            Backend::Cuda(_) => "cuda",
        };
        self.metrics
            .kernel_time(kernel.name(), backend_name, seconds);
        if job.work_units > 0 {
            let mut secs = self.secs_per_unit.lock().unwrap_or_else(|e| e.into_inner());
            *secs = 0.7 * *secs + 0.3 * (seconds / job.work_units as f64);
        }
        Ok(output)
    }

    // `job` is read by the simulation's copycat only.
    #[cfg_attr(not(feature = "sim"), allow(unused_variables))]
    async fn reveal(
        &self,
        record: &mut JobRecord,
        job: &Job,
        pass: &mut Pass,
    ) -> anyhow::Result<()> {
        let address = record.address();
        let (Some(root), Some(salt)) = (record.root, record.salt) else {
            anyhow::bail!("committed record without root and salt");
        };
        #[cfg(feature = "sim")]
        if self.settings.behaviour == Behaviour::Copycat && record.outcome.is_none() {
            if let Some(other) = job
                .slots
                .iter()
                .find(|s| s.node != self.node && s.state == SlotState::Revealed)
            {
                tracing::warn!(job = %address, "SIMULATION: revealing another node's root");
                let result = self
                    .send(ix::reveal(
                        &self.operator.pubkey(),
                        self.settings.node_index,
                        &address,
                        other.root,
                        salt,
                    ))
                    .await;
                record.outcome = Some(match result {
                    Ok(()) => "copycat reveal accepted".into(),
                    Err(e) => format!(
                        "copycat reveal refused: {}",
                        e.to_string().lines().next().unwrap_or("")
                    ),
                });
                self.db.put(record)?;
            }
            return Ok(());
        }
        self.send(ix::reveal(
            &self.operator.pubkey(),
            self.settings.node_index,
            &address,
            root,
            salt,
        ))
        .await
        .context("reveal")?;
        Metrics::inc(&self.metrics.jobs_revealed);
        tracing::info!(job = %address, "revealed");
        record.phase = Phase::Revealed;
        self.db.put(record)?;
        pass.revealed.push(address);
        Ok(())
    }

    /// Settles (or, past the grace period, expires) a job whose round is complete.
    async fn crank(
        &self,
        address: &Pubkey,
        job: &Job,
        params: &Params,
        now: i64,
        pass: &mut Pass,
    ) -> anyhow::Result<()> {
        let complete = job.round_all(SlotState::Revealed) || now >= job.reveal_deadline;
        // A dispute settles once its games are over and every pair opened (or the window
        // closed): a settle sent earlier would only fail and cost its fee.
        let games_pending = job.dispute.is_started() && !job.dispute_settleable(now);
        if !complete || games_pending || window_running(job, now) {
            return Ok(());
        }
        let nodes = ix::slot_nodes(job);
        let expired = now >= job.reveal_deadline + i64::from(params.expiry_grace_secs);
        let instruction = match (expired, self.settings.token_account) {
            (true, Some(token)) => ix::expire_job(address, &nodes, &token),
            _ => ix::settle(address, &nodes),
        };
        match self.send(instruction).await {
            Ok(()) => {
                Metrics::inc(&self.metrics.settlements_cranked);
                tracing::info!(job = %address, expired, "settled");
                pass.cranked.push(*address);
            }
            // Someone else settled first, or the round is not complete yet.
            Err(e) => {
                tracing::debug!(job = %address, error = %e.to_string().lines().next().unwrap_or(""), "settle not applied")
            }
        }
        Ok(())
    }

    /// Records how an ended job went for this node.
    fn finish(
        &self,
        record: &mut JobRecord,
        job: &Job,
        reason: JobEndReason,
    ) -> anyhow::Result<()> {
        let (outcome, payout) = settled_outcome(job, &self.node, reason);
        if let Some(payout) = payout {
            match payout.verdict {
                Verdict::Agreed => Metrics::inc(&self.metrics.jobs_agreed),
                Verdict::Disagreed | Verdict::Dispute => Metrics::inc(&self.metrics.jobs_disputed),
                Verdict::NoShow => {}
            }
            if payout.penalty_bps > 0 {
                Metrics::inc(&self.metrics.jobs_slashed);
            }
            Metrics::add(&self.metrics.earned_tokens, payout.net());
        }
        if job.dispute.is_started() && Some(job.input.hash) != record.root {
            // The input kept for the job's dispute games is no longer needed.
            self.results.remove(&job.input.hash)?;
        }
        tracing::info!(job = %record.job, outcome, "job ended");
        record.outcome = Some(outcome);
        record.phase = Phase::Done;
        self.db.put(record)?;
        Ok(())
    }
}

/// Whether settling `job` now would only meet its running challenge window: the window is
/// open and the root settlement would accept is the one it is open for (a challenger that
/// won gets its root a window of its own at once).
fn window_running(job: &Job, now: i64) -> bool {
    job.dispute.challenge_open(now)
        && match decide(job) {
            Decision::Final {
                reason: JobEndReason::Accepted,
                winner: Some(root),
            } => root == job.dispute.proposed_root,
            _ => true,
        }
}

/// How an ended job went for `node`: a line for the log, and the slot's payout as the
/// program computed it (its own `slot_terms` and `slot_payout`: one definition of who is
/// paid and slashed), `None` when the node held no slot.
pub fn settled_outcome(
    job: &Job,
    node: &Pubkey,
    reason: JobEndReason,
) -> (String, Option<SlotPayout>) {
    let Some((index, slot)) = job.slots.iter().enumerate().find(|(_, s)| s.node == *node) else {
        return ("no slot".to_string(), None);
    };
    let revealed = (slot.state == SlotState::Revealed).then_some(slot.root);
    let winner = match reason {
        JobEndReason::Accepted => job.result_root,
        JobEndReason::InputUnavailable => Some(INPUT_UNAVAILABLE_ROOT),
        _ => None,
    };
    let terms = slot_terms(job, index, slot.state);
    let lost = job.dispute.has_lost(index);
    let challenger = job.is_challenger(index);
    let reward = if challenger {
        0
    } else {
        job.reward_per_replica
    };
    let payout = slot_payout(revealed, reason, winner, reward, &terms, lost);
    let penalty = if payout.penalty_bps > 0 {
        format!(", penalized {} bps of stake", payout.penalty_bps)
    } else {
        String::new()
    };
    let line = match (payout.verdict, reason) {
        (Verdict::NoShow, _) => format!("no-show{penalty}"),
        (Verdict::Agreed, JobEndReason::InputUnavailable) => {
            format!("input unavailable agreed: compensated {}", payout.net())
        }
        (Verdict::Agreed, _) if challenger => {
            "won its challenge: paid its share of the slashed stake".into()
        }
        (Verdict::Agreed, _) => format!("agreed: earned {}", payout.net()),
        (Verdict::Disagreed, _) if lost => format!("lost a dispute game{penalty}"),
        (Verdict::Disagreed, _) => format!("disagreed with the accepted result{penalty}"),
        (Verdict::Dispute, reason) => format!("{reason:?}: not paid"),
    };
    (line, Some(payout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_sdk::tessera::state::{InputRef, JobRates, Requirements, Slot};

    const REWARD: u64 = 20_000;

    /// A job that ended for `reason`, with one slot held by `node` in `state` with `root`.
    fn ended_job(
        node: Pubkey,
        audit: AuditState,
        state: SlotState,
        root: [u8; 32],
        reason: JobEndReason,
    ) -> Job {
        Job {
            version: 1,
            bump: 255,
            submitter: Pubkey::new_unique(),
            nonce: 1,
            kernel_id: 2,
            input: InputRef {
                hash: [7; 32],
                uri: "file:///a.bin".into(),
                size_bytes: 1,
            },
            kernel_params: Vec::new(),
            work_units: 1,
            replicas: 1,
            reward_per_replica: REWARD,
            escrow: 0,
            deadline: 0,
            requirements: Requirements {
                gpu_required: false,
                min_vram_mib: 0,
                region_mask: u32::MAX,
            },
            posted_at: 0,
            escalation_replicas: 2,
            seed: [0; 32],
            escalated: false,
            round_started_at: 0,
            commit_deadline: 0,
            reveal_deadline: 0,
            slots: vec![Slot {
                node,
                operator: Pubkey::new_unique(),
                claimed_at: 0,
                commitment: [0; 32],
                root,
                state,
            }],
            result_root: None,
            status: JobStatus::Ended { at: 0, reason },
            audit,
            audit_bps: 1_000,
            audit_replicas: if audit == AuditState::None { 0 } else { 2 },
            audit_fee: 0,
            audit_slot: 0,
            round_start: 0,
            round_slot: 0,
            rates: JobRates {
                protocol_fee_bps: 250,
                slash_bps: 5_000,
                no_show_bps: 1_000,
                unavailable_comp_bps: 2_000,
                expiry_bounty_bps: 1_000,
                challenge_reward_bps: 5_000,
            },
            audit_forced: false,
            refereed: false,
            dispute: Default::default(),
            reserved: [0; 1],
        }
    }

    /// The worker's accounting is the program's: an unaudited spot-check job that ended
    /// "input unavailable" pays no compensation (the worker used to log and count 20 % of
    /// the reward, its own arithmetic); a full-redundancy one does; a spot-check worker that
    /// committed and never revealed is charged the slash rate, not the no-show rate.
    #[test]
    fn the_worker_reports_what_the_program_pays() {
        let node = Pubkey::new_unique();
        let unavailable = JobEndReason::InputUnavailable;
        let revealed = SlotState::Revealed;
        let spot = ended_job(
            node,
            AuditState::Skipped,
            revealed,
            INPUT_UNAVAILABLE_ROOT,
            unavailable,
        );
        let (line, payout) = settled_outcome(&spot, &node, unavailable);
        let payout = payout.expect("a slot");
        assert_eq!(
            (payout.verdict, payout.net()),
            (Verdict::Agreed, 0),
            "{line}"
        );
        assert_eq!(line, "input unavailable agreed: compensated 0");

        let full = ended_job(
            node,
            AuditState::None,
            revealed,
            INPUT_UNAVAILABLE_ROOT,
            unavailable,
        );
        let payout = settled_outcome(&full, &node, unavailable).1.unwrap();
        let comp = REWARD * 2_000 / 10_000;
        assert_eq!(payout.net(), comp - comp * 250 / 10_000);

        let silent = ended_job(
            node,
            AuditState::Pending,
            SlotState::Committed,
            [0; 32],
            JobEndReason::NoResult,
        );
        let (line, payout) = settled_outcome(&silent, &node, JobEndReason::NoResult);
        assert_eq!(payout.unwrap().penalty_bps, 5_000, "{line}");

        let other = Pubkey::new_unique();
        assert_eq!(settled_outcome(&spot, &other, unavailable).0, "no slot");
    }
}
