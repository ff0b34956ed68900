//! The worker's durable state (redb): what it claimed, the salt and root of what it computed,
//! and how far each job got. Every record is written, and committed to disk, before the
//! transaction that depends on it is sent.
use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::Context;
use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const JOBS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("jobs");
const ROOTS: TableDefinition<&[u8; 32], &[u8; 32]> = TableDefinition::new("roots");

/// How far the worker got with one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// About to send `claim` (it may or may not have landed).
    Claiming,
    /// The slot is ours; the result is not computed yet.
    Claimed,
    /// Root and salt are on disk; `commit` may or may not have landed.
    Computed,
    /// The commitment is on chain.
    Committed,
    /// The root is revealed on chain.
    Revealed,
    /// The job ended (or the slot was never ours); nothing more to do.
    Done,
    /// Watching another node's accepted result: recomputing it, to challenge it if it is
    /// wrong (`root` is ours once computed).
    Watching,
}

/// One job the worker took part in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job: String,
    pub phase: Phase,
    /// Root committed to (set with the salt, before `commit` is sent).
    pub root: Option<[u8; 32]>,
    pub salt: Option<[u8; 32]>,
    pub kernel_id: u8,
    /// Why the root is the reserved "input unavailable" root, if it is.
    pub unavailable: Option<String>,
    /// How the job ended for this node, once settled.
    pub outcome: Option<String>,
}

impl JobRecord {
    pub fn new(job: Pubkey, kernel_id: u8) -> Self {
        Self {
            job: job.to_string(),
            phase: Phase::Claiming,
            root: None,
            salt: None,
            kernel_id,
            unavailable: None,
            outcome: None,
        }
    }

    pub fn address(&self) -> Pubkey {
        self.job.parse().unwrap_or_default()
    }
}

pub struct Db {
    db: Database,
}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let db = Database::create(path)
            .with_context(|| format!("cannot open the worker database {}", path.display()))?;
        let tx = db.begin_write()?;
        tx.open_table(JOBS)?;
        tx.open_table(ROOTS)?;
        tx.commit()?;
        Ok(Self { db })
    }

    /// Writes `record` durably (redb fsyncs on commit).
    pub fn put(&self, record: &JobRecord) -> anyhow::Result<()> {
        let key = record.address().to_bytes();
        let value = serde_json::to_vec(record)?;
        let tx = self.db.begin_write()?;
        {
            let mut jobs = tx.open_table(JOBS)?;
            jobs.insert(&key, value.as_slice())?;
            if let Some(root) = record.root {
                tx.open_table(ROOTS)?.insert(&root, &key)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn get(&self, job: &Pubkey) -> anyhow::Result<Option<JobRecord>> {
        let tx = self.db.begin_read()?;
        let jobs = tx.open_table(JOBS)?;
        let found = jobs.get(&job.to_bytes())?;
        Ok(match found {
            Some(v) => Some(serde_json::from_slice(v.value())?),
            None => None,
        })
    }

    pub fn all(&self) -> anyhow::Result<Vec<JobRecord>> {
        let tx = self.db.begin_read()?;
        let jobs = tx.open_table(JOBS)?;
        let mut out = Vec::new();
        for entry in jobs.iter()? {
            let (_, v) = entry?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    /// The job whose result has this root.
    pub fn job_of_root(&self, root: &[u8; 32]) -> anyhow::Result<Option<Pubkey>> {
        let tx = self.db.begin_read()?;
        let roots = tx.open_table(ROOTS)?;
        let found = roots.get(root)?;
        Ok(found.map(|v| Pubkey::new_from_array(*v.value())))
    }
}
