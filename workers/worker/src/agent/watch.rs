//! The worker as a watcher (docs/disputes.md, "Challenge window"): a refereed job's accepted
//! result stays open to challenges for `challenge_window_secs`. A watcher recomputes a random
//! sample of the results it does not hold, and challenges one whose root differs from its
//! own; from then on it plays the job's games like any other slot holder (`play`), and the
//! result server serves its output if its root is accepted.
//!
//! The sample is drawn at random, once per job and process, so colluders cannot tell in
//! advance which results are checked; a job is watched only if catching a lie there would
//! pay for the recomputation.
use anchor_lang::prelude::Pubkey;
use tessera_kernels::{merkle, Job as KernelJob};
use tessera_sdk::chain::{Chain, ChainError};
use tessera_sdk::instructions as ix;
use tessera_sdk::tessera::settlement::bps_of;
use tessera_sdk::tessera::state::{Job, Params};
use tessera_sdk::verification::random_salt;

use super::{Agent, Pass};
use crate::db::{JobRecord, Phase};
use crate::metrics::Metrics;

/// Why a job in its challenge window is not worth watching, if it is not.
pub fn watch_refusal(
    job: &Job,
    node: &Pubkey,
    operator: &Pubkey,
    params: &Params,
    cost_per_unit: u64,
    max_input_bytes: u64,
    now: i64,
) -> Option<&'static str> {
    if !job.refereed || !job.dispute.challenge_open(now) {
        return Some("not open to challenges");
    }
    if job
        .slots
        .iter()
        .any(|s| s.node == *node || s.operator == *operator)
    {
        return Some("holds a slot of the job");
    }
    if usize::from(job.dispute.challengers) >= job.slots.len()
        || job.slots.len() >= tessera_sdk::tessera::constants::MAX_SLOTS
    {
        return Some("no room for a challenger");
    }
    if KernelJob::decode(job.kernel_id, &job.kernel_params).is_err() {
        return Some("unknown kernel or invalid params");
    }
    if job.input.size_bytes > max_input_bytes {
        return Some("input larger than this worker's limit");
    }
    // What a caught lie pays at least: the challengers' share of slashing every backer's
    // minimum stake.
    let backers = job
        .slots
        .iter()
        .enumerate()
        .filter(|(i, _)| job.computed_root(*i) == Some(job.dispute.proposed_root))
        .count() as u64;
    let slashed = bps_of(
        params.min_stake.saturating_mul(backers),
        job.rates.slash_bps,
    );
    let pays = bps_of(slashed, job.rates.challenge_reward_bps);
    let cost = u128::from(cost_per_unit) * u128::from(job.work_units);
    if u128::from(pays) <= cost {
        return Some("recomputing costs more than catching a lie pays");
    }
    None
}

/// Whether a uniform draw in basis points falls in a `bps` sample.
fn drawn(bps: u16) -> anyhow::Result<bool> {
    let bytes = random_salt()?;
    let draw = u16::from_le_bytes([bytes[0], bytes[1]]) % 10_000;
    Ok(draw < bps)
}

impl<C: Chain + 'static> Agent<C> {
    /// Picks jobs in their challenge window to watch: each job once, with probability
    /// `watch_bps`, if [`watch_refusal`] finds nothing against it; returns how many
    /// records it started.
    pub(crate) fn pick_watches(
        &self,
        jobs: &[(Pubkey, Job)],
        params: &Params,
        now: i64,
        capacity: usize,
    ) -> anyhow::Result<usize> {
        let mut started = 0;
        for (address, job) in jobs {
            if started >= capacity {
                break;
            }
            if self.settings.watch_bps == 0 || self.db.get(address)?.is_some() {
                continue;
            }
            if let Some(why) = watch_refusal(
                job,
                &self.node,
                &self.operator(),
                params,
                self.settings.cost_per_unit,
                self.settings.max_input_bytes,
                now,
            ) {
                tracing::debug!(job = %address, why, "not watching");
                continue;
            }
            // One draw per job: the decision is kept for as long as the process runs.
            let mut decided = self.watch_decided.lock().unwrap_or_else(|e| e.into_inner());
            if !decided.insert(*address) || !drawn(self.settings.watch_bps)? {
                continue;
            }
            drop(decided);
            let mut record = JobRecord::new(*address, job.kernel_id);
            record.phase = Phase::Watching;
            self.db.put(&record)?;
            Metrics::inc(&self.metrics.results_watched);
            tracing::info!(job = %address, "watching: recomputing the accepted result");
            started += 1;
        }
        Ok(started)
    }

    /// Moves one watched job forward: recompute, compare, challenge if the accepted root is
    /// not ours. Once the challenge has landed the record is a revealed slot like any other.
    pub(crate) async fn watch(
        &self,
        record: &mut JobRecord,
        job: &Job,
        now: i64,
        pass: &mut Pass,
    ) -> anyhow::Result<()> {
        let address = record.address();
        if job.slots.iter().any(|s| s.node == self.node()) {
            record.phase = Phase::Revealed;
            self.db.put(record)?;
            return Ok(());
        }
        let done = |record: &mut JobRecord, outcome: String| -> anyhow::Result<()> {
            tracing::info!(job = %address, outcome, "watch ended");
            record.outcome = Some(outcome);
            record.phase = Phase::Done;
            self.db.put(record)
        };
        if !job.dispute.challenge_open(now) {
            return done(record, "watched: the window closed before the check".into());
        }
        let root = match record.root {
            Some(root) => root,
            None => match self.run_kernel(job).await {
                Ok(output) => {
                    let root = merkle::root(&output);
                    self.results.put(&root, &output)?;
                    record.root = Some(root);
                    self.db.put(record)?;
                    root
                }
                Err(why) => return done(record, format!("watched: input unavailable ({why})")),
            },
        };
        if root == job.dispute.proposed_root {
            // Nothing to serve: the backers serve the accepted result.
            self.results.remove(&root)?;
            return done(record, "watched: the accepted result is correct".into());
        }
        tracing::warn!(job = %address, "the accepted result differs from ours: challenging");
        match self
            .send(ix::challenge(
                &self.operator(),
                self.settings.node_index,
                &address,
                root,
            ))
            .await
        {
            Ok(()) => {
                Metrics::inc(&self.metrics.challenges_sent);
                record.phase = Phase::Revealed;
                self.db.put(record)?;
                pass.challenged.push(address);
                Ok(())
            }
            // It may have landed: the next pass finds our slot, or tries again.
            Err(ChainError::Rpc(e)) => {
                tracing::warn!(job = %address, error = %e, "challenge not confirmed");
                Ok(())
            }
            Err(e) => {
                self.results.remove(&root)?;
                done(
                    record,
                    format!(
                        "challenge refused: {}",
                        e.to_string().lines().next().unwrap_or("")
                    ),
                )
            }
        }
    }
}
