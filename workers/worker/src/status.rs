//! `tessera-worker status`: the node's stake, reputation, and an earnings statement — totals
//! from the node account (written only by settlements, i.e. the sum of its on-chain receipts)
//! and one line per job this worker took part in, from its database and the job accounts.
use std::fmt::Write;

use anchor_lang::prelude::Pubkey;
use tessera_sdk::chain::{fetch, Chain};
use tessera_sdk::tessera::state::{Job, JobStatus, Node};

use crate::db::Db;

pub async fn statement<C: Chain + ?Sized>(
    chain: &C,
    node: &Pubkey,
    db: &Db,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let Some(n) = fetch::<Node, _>(chain, node).await? else {
        writeln!(out, "node {node}: not registered")?;
        return Ok(out);
    };
    let r = &n.reputation;
    writeln!(
        out,
        "node {node} (operator {}, index {})",
        n.operator, n.index
    )?;
    writeln!(out, "  stake            {:>16}", n.stake)?;
    writeln!(out, "  in cooldown      {:>16}", n.unstaking)?;
    writeln!(out, "  earnings         {:>16}  (withdrawable)", n.earnings)?;
    writeln!(out, "  open assignments {:>16}", n.open_assignments)?;
    writeln!(
        out,
        "  reputation       score {:.2}%  ({} assigned: {} agreed, {} disagreed, {} no-shows, {} disputes)",
        f64::from(r.score_bps) / 100.0,
        r.assigned,
        r.agreed,
        r.disagreed,
        r.no_shows,
        r.disputes
    )?;
    writeln!(
        out,
        "earnings statement (on-chain totals from settlement receipts)"
    )?;
    writeln!(out, "  earned after fees {:>15}", r.earned_total)?;
    writeln!(out, "  slashed          {:>16}", r.slashed_total)?;
    writeln!(
        out,
        "  net              {:>16}",
        i128::from(r.earned_total) - i128::from(r.slashed_total)
    )?;
    writeln!(out, "jobs")?;
    let mut records = db.all()?;
    records.sort_by(|a, b| a.job.cmp(&b.job));
    for record in records {
        let status = match fetch::<Job, _>(chain, &record.address()).await? {
            None => "closed".to_string(),
            Some(job) => match job.status {
                JobStatus::Open if job.escalated => "open (escalated)".to_string(),
                JobStatus::Open => "open".to_string(),
                JobStatus::Ended { reason, .. } => format!("{reason:?}"),
            },
        };
        writeln!(
            out,
            "  {}  kernel {}  {:?}  {}  {}",
            record.job,
            record.kernel_id,
            record.phase,
            status,
            record.outcome.as_deref().unwrap_or("-")
        )?;
    }
    Ok(out)
}
