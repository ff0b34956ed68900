//! The work of one round for a held job: compute (fetch, run, store; root and salt on disk
//! before any commitment), reveal, settle, and what the node was paid once the job ended.
use super::*;

impl<C: Chain + 'static> Agent<C> {
    /// Fetches the input, runs the kernel, stores the output, and records root and salt —
    /// durably, before any commitment is sent.
    pub(super) async fn compute(&self, record: &mut JobRecord, job: &Job) -> anyhow::Result<()> {
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
    pub(super) async fn run_kernel(&self, job: &Job) -> Result<Vec<u8>, String> {
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
    pub(super) async fn reveal(
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
    pub(super) async fn crank(
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
    pub(super) fn finish(
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
    use tessera::test_fixtures::{job, with_reveals};

    const REWARD: u64 = 20_000;

    /// A job that ended for `reason`, with one slot held by `node` in `state` with `root`
    /// (the program's in-memory fixture).
    fn ended_job(
        node: Pubkey,
        audit: AuditState,
        state: SlotState,
        root: [u8; 32],
        reason: JobEndReason,
    ) -> Job {
        let mut j = with_reveals(job(1, 2), &[Some(root)]);
        j.reward_per_replica = REWARD;
        j.slots[0].node = node;
        j.slots[0].state = state;
        j.status = JobStatus::Ended { at: 0, reason };
        j.audit = audit;
        j.audit_bps = 1_000;
        j.audit_replicas = if audit == AuditState::None { 0 } else { 2 };
        j
    }

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
