//! The network tests' shared fixture: temporary storage, agent settings, workers that can
//! crash and restart, jobs posted with real input files, and a driving loop.
pub use std::path::PathBuf;
pub use std::sync::Arc;

pub use anchor_lang::prelude::Pubkey;
pub use solana_keypair::Keypair;
pub use tessera_kernels::backend::Cpu;
pub use tessera_kernels::kernels::MatmulParams;
pub use tessera_kernels::{merkle, Backend, Job as KernelJob};
pub use tessera_sdk::in_process::InProcessChain;
pub use tessera_sdk::tessera::constants::INPUT_UNAVAILABLE_ROOT;
pub use tessera_sdk::tessera::state::{JobEndReason, JobStatus, Params};
pub use tessera_sdk::{pda, RpcChain};
pub use tessera_tests::{Actor, TestEnv};
pub use tessera_worker::behaviour::Behaviour;
pub use tessera_worker::db::{Db, Phase};
pub use tessera_worker::metrics::Metrics;
pub use tessera_worker::retry::Backoff;
pub use tessera_worker::server::{router, ServerState};
pub use tessera_worker::store::{hex, ResultStore};
pub use tessera_worker::{fetch, hardware, status, Agent, AgentSettings};

pub const STAKE: u64 = 10_000_000;
pub const REWARD: u64 = 1_000_000;

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tessera-worker-{name}-{}-{}",
        std::process::id(),
        Pubkey::new_unique()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn settings(actor: &Actor, behaviour: Behaviour, watch_bps: u16) -> AgentSettings {
    AgentSettings {
        node_index: 0,
        token_account: Some(actor.token),
        concurrency: 2,
        region: 3,
        min_price_per_unit: 1,
        cost_per_unit: 0,
        stake: STAKE,
        endpoint: "http://127.0.0.1:8650".into(),
        max_input_bytes: 1 << 20,
        behaviour,
        backoff: Backoff {
            attempts: 3,
            first: std::time::Duration::from_millis(5),
            max: std::time::Duration::from_millis(20),
        },
        initial_secs_per_unit: 0.01,
        safety_secs: 30,
        watch_bps,
    }
}

/// A worker: its operator, its storage, and an agent that can be dropped and rebuilt (a crash).
pub struct Worker {
    pub actor: Actor,
    pub dir: PathBuf,
    pub behaviour: Behaviour,
    pub watch_bps: u16,
    pub agent: Option<Agent<InProcessChain>>,
    pub metrics: Arc<Metrics>,
    pub db: Option<Arc<Db>>,
    pub results: Arc<ResultStore>,
}

impl Worker {
    pub async fn start(env: &TestEnv, behaviour: Behaviour) -> Self {
        Self::start_watching(env, behaviour, 0).await
    }

    /// A worker that watches `watch_bps` of the results in a challenge window.
    pub async fn start_watching(env: &TestEnv, behaviour: Behaviour, watch_bps: u16) -> Self {
        let actor = env.actor();
        let dir = temp_dir("node");
        let results = Arc::new(ResultStore::open(&dir.join("results")).unwrap());
        let mut w = Worker {
            actor,
            dir,
            behaviour,
            watch_bps,
            agent: None,
            metrics: Arc::new(Metrics::default()),
            db: None,
            results,
        };
        w.boot(env);
        w.agent()
            .ensure_registered()
            .await
            .expect("register and stake");
        w
    }

    /// (Re)starts the agent from the worker's database, as a restarted process does.
    pub fn boot(&mut self, env: &TestEnv) {
        let backend = Backend::Cpu(Cpu::new(1).unwrap());
        let hardware = hardware::profile(&backend);
        let db = Arc::new(Db::open(&self.dir.join("worker.redb")).unwrap());
        let keypair = Keypair::from_base58_string(&self.actor.wallet.to_base58_string());
        self.db = Some(db.clone());
        self.agent = Some(Agent::new(
            env.chain.clone(),
            keypair,
            settings(&self.actor, self.behaviour, self.watch_bps),
            Arc::new(backend),
            hardware,
            db,
            self.results.clone(),
            self.metrics.clone(),
        ));
    }

    /// `kill -9`: the agent and its database handle vanish mid-job.
    pub fn kill(&mut self) {
        self.agent = None;
        self.db = None;
    }

    pub fn agent(&self) -> &Agent<InProcessChain> {
        self.agent.as_ref().expect("running")
    }

    pub fn node(&self) -> Pubkey {
        pda::node(&self.actor.key(), 0).0
    }
}

/// Posts a matmul_f32 job whose input is a real file; `corrupt` makes the named hash wrong.
pub fn post_matmul(
    env: &TestEnv,
    submitter: &Actor,
    nonce: u64,
    replicas: u8,
    corrupt: bool,
) -> (Pubkey, [u8; 32]) {
    let job = KernelJob::MatmulF32(MatmulParams { m: 8, n: 12, k: 10 });
    post_kernel(env, submitter, nonce, replicas, job, corrupt)
}

/// Posts a job of `job`'s kernel whose input is a real file; `corrupt` makes the named hash
/// wrong. Returns the job and the root of its true result.
pub fn post_kernel(
    env: &TestEnv,
    submitter: &Actor,
    nonce: u64,
    replicas: u8,
    job: KernelJob,
    corrupt: bool,
) -> (Pubkey, [u8; 32]) {
    let input = job.random_input(nonce);
    let path = temp_dir("input").join("a.bin");
    std::fs::write(&path, &input).unwrap();
    let mut hash = fetch::input_root(&input);
    if corrupt {
        hash[0] ^= 1;
    }
    let mut args = env.job_args(nonce, replicas, REWARD);
    args.kernel_id = job.kernel() as u8;
    args.kernel_params = job.encode_params();
    args.work_units = job.work_units().max(1);
    args.input.uri = format!("file://{}", path.display());
    args.input.size_bytes = input.len() as u64;
    args.input.hash = hash;
    args.requirements.gpu_required = false;
    args.requirements.min_vram_mib = 0;
    env.post_job(submitter, args).unwrap();
    let expected = merkle::root(
        &job.run(&input, &Backend::Cpu(Cpu::new(1).unwrap()))
            .unwrap(),
    );
    (pda::job(&submitter.key(), nonce).0, expected)
}

/// Runs passes of every running worker until `done` or a pass limit.
pub async fn run_until(env: &TestEnv, workers: &[&Worker], mut done: impl FnMut(&TestEnv) -> bool) {
    for _ in 0..12 {
        if done(env) {
            return;
        }
        for w in workers {
            if let Some(agent) = &w.agent {
                agent.tick().await.expect("pass");
            }
        }
    }
    assert!(done(env), "the network did not get there in 12 passes");
}

pub fn ended(env: &TestEnv, job: &Pubkey) -> Option<JobEndReason> {
    match env.read::<tessera_sdk::tessera::state::Job>(job).status {
        JobStatus::Ended { reason, .. } => Some(reason),
        JobStatus::Open => None,
    }
}

pub fn network() -> TestEnv {
    let env = TestEnv::new();
    // Three replicas and one escalation replica: four workers can fill a disputed job.
    let params = Params {
        escalation_replicas: 1,
        ..env.params
    };
    env.update_params(&env.authority, params).unwrap();
    env
}
